"""The Teams app package: valid for Teams, uploadable as built, and matching what the bot does.

Validation uses Microsoft's own schemas from `../shared/schemas/` (beside the repository). They
declare draft-04 but use `const` (for manifestVersion), which a draft-04 validator silently
ignores, so they are applied with Draft7Validator, which honours it. The manifest is also checked,
relabelled, against the newer v1.25 schema, so an upgrade will not find a surprise.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import uuid
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft7Validator
from PIL import Image, ImageDraw

from bot.channels.teams import manifest as manifest_module
from bot.channels.teams.manifest import (
    PLACEHOLDER_ID,
    PLACEHOLDER_URL,
    build_manifest,
    build_package,
    check_icons,
    manifest_dir,
)
from bot.runtime import Runtime
from dialogs.home import (
    ASK_POLICY,
    COLLEAGUE_MISUSE,
    MEDIA_ENQUIRY,
    MY_REPORTS,
    REQUEST_ACCOUNT,
    REQUEST_POST,
    START_REPORT,
    WEBSITE_BLOCK,
    intent,
)
from dialogs.services.messages import MessageKind
from tests.support import Person, last_prompt

SCHEMAS = Path(__file__).resolve().parents[3].parent / "shared" / "schemas"
CURRENT = "1.19"
NEWER = "1.25"
PUBLIC = "https://bot.school.example"
# A uuid4, fixed so that test ids (which show it) are the same on every run.
APP_ID = "b23c9c9a-6599-488e-90df-fdddc912b0d4"


def checked_in() -> dict[str, Any]:
    loaded = json.loads((manifest_dir() / "manifest.json").read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def schema_url(version: str) -> str:
    return (
        f"https://developer.microsoft.com/en-us/json-schemas/teams/v{version}/"
        "MicrosoftTeams.schema.json"
    )


def validator_for(version: str) -> Draft7Validator:
    path = SCHEMAS / f"teams-manifest-v{version}.MicrosoftTeams.schema.json"
    if not path.is_file():
        reason = (
            f"Microsoft's Teams manifest schema v{version} is not at {path}: it lives in "
            "../shared/schemas beside the repository, which this checkout does not have"
        )
        if os.environ.get("CI") == "true":
            pytest.fail(reason + "; under CI=true this is a failure, not a skip")
        pytest.skip(reason)
    return Draft7Validator(json.loads(path.read_text(encoding="utf-8")))


@pytest.fixture(scope="module")
def current() -> Draft7Validator:
    return validator_for(CURRENT)


@pytest.fixture(scope="module")
def newer() -> Draft7Validator:
    return validator_for(NEWER)


def problems(validator: Draft7Validator, manifest: dict[str, Any]) -> list[str]:
    """Every failure, with where it is, so a failing test says what to fix."""
    return [
        f"{'/'.join(str(p) for p in error.absolute_path) or '(root)'}: {error.message[:300]}"
        for error in validator.iter_errors(manifest)
    ]


MANIFESTS = [
    pytest.param(checked_in, id="the checked-in file"),
    pytest.param(lambda: build_manifest(app_id=APP_ID), id="built"),
    pytest.param(lambda: build_manifest(app_id=APP_ID, public_url=PUBLIC), id="with a public url"),
]


# -- validation against Microsoft's schemas --------------------------------------------------------


@pytest.mark.parametrize("manifest", MANIFESTS)
def test_the_manifest_is_valid_for_teams(
    current: Draft7Validator, manifest: Callable[[], dict[str, Any]]
) -> None:
    made = manifest()

    assert made["manifestVersion"] == CURRENT
    assert made["$schema"] == schema_url(CURRENT)
    found = problems(current, made)
    assert not found, "\n".join(found)


@pytest.mark.parametrize("manifest", MANIFESTS)
def test_the_manifest_would_still_be_valid_in_a_newer_schema(
    newer: Draft7Validator, manifest: Callable[[], dict[str, Any]]
) -> None:
    relabelled = manifest()
    relabelled["manifestVersion"] = NEWER
    relabelled["$schema"] = schema_url(NEWER)

    found = problems(newer, relabelled)
    assert not found, "\n".join(found)


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("manifestVersion",), "1.18"),
        (("bots", 0, "botId"), "policybot"),
        (("id",), "not-a-guid"),
        (("accentColor",), "teal"),
        (("bots", 0, "scopes"), ["personal", "everywhere"]),
    ],
)
def test_the_schema_really_checks_what_it_is_given(
    current: Draft7Validator, path: tuple[str | int, ...], value: Any
) -> None:
    broken = build_manifest(app_id=APP_ID)
    node: Any = broken
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value

    found = "\n".join(problems(current, broken))

    assert "/".join(str(p) for p in path) in found


def test_a_valid_manifest_without_a_required_field_is_refused(current: Draft7Validator) -> None:
    broken = build_manifest(app_id=APP_ID)
    del broken["developer"]["privacyUrl"]

    assert "'privacyUrl' is a required property" in "\n".join(problems(current, broken))


# -- the checked-in file ---------------------------------------------------------------------------


def test_the_checked_in_file_holds_placeholders_only() -> None:
    manifest = checked_in()

    assert manifest["id"] == PLACEHOLDER_ID
    assert manifest["bots"][0]["botId"] == PLACEHOLDER_ID
    assert manifest["version"] == "0.2.0"
    assert manifest["developer"] == {
        "name": "policybot",
        "websiteUrl": PLACEHOLDER_URL,
        "privacyUrl": PLACEHOLDER_URL + "/privacy",
        "termsOfUseUrl": PLACEHOLDER_URL + "/terms",
    }
    assert manifest["validDomains"] == []


def test_the_app_is_named_and_described_as_it_is() -> None:
    manifest = checked_in()

    assert manifest["name"] == {
        "short": "policybot",
        "full": "policybot: social media policy assistant",
    }
    short, full = manifest["description"]["short"], manifest["description"]["full"]
    assert "privately" in short
    assert "social media policy" in short
    for promise in (
        "cyberbullying or online abuse",
        "safeguarding lead",
        "my reports",
        "999",
        "Ask it about the policy",
        "doesn't say",
    ):
        assert promise in full
    assert "approval of a post" in full
    # Nothing that is not built yet: comment deadlines, the accounts register.
    for not_yet in ("deadline", "register of accounts"):
        assert not_yet not in (short + " " + full).lower()
    assert manifest["accentColor"] == "#1F4E5F"
    assert manifest["icons"] == {"color": "color.png", "outline": "outline.png"}


def test_the_bot_talks_privately_and_in_the_safeguarding_team_only() -> None:
    manifest = checked_in()

    (bot,) = manifest["bots"]
    assert bot["scopes"] == ["personal", "team"]  # never groupChat: reports are private
    assert bot["supportsFiles"] is True  # screenshots arrive as files in the personal chat
    assert bot["isNotificationOnly"] is False
    assert manifest["permissions"] == ["identity", "messageTeamMembers"]
    assert set(manifest) <= {
        "$schema",
        "manifestVersion",
        "version",
        "id",
        "developer",
        "name",
        "description",
        "icons",
        "accentColor",
        "bots",
        "permissions",
        "validDomains",
        "supportedChannelTypes",
    }


@pytest.mark.parametrize("manifest", MANIFESTS)
def test_the_app_can_be_added_to_private_and_shared_channels(
    current: Draft7Validator, manifest: Callable[[], dict[str, Any]]
) -> None:
    """The safeguarding channel should be private (README); without this Teams offers the app
    only to standard channels, and the bot could not be added where the cases go."""
    made = manifest()
    assert made["supportedChannelTypes"] == ["privateChannels", "sharedChannels"]
    assert problems(current, made) == []


# -- the commands Teams offers, and what the bot makes of them -------------------------------------


def commands_by_scope() -> dict[str, list[tuple[str, str]]]:
    (bot,) = checked_in()["bots"]
    found: dict[str, list[tuple[str, str]]] = {}
    for command_list in bot["commandLists"]:
        (scope,) = command_list["scopes"]
        found[scope] = [(c["title"], c["description"]) for c in command_list["commands"]]
    return found


def test_the_command_lists_are_the_ones_the_bot_offers() -> None:
    assert commands_by_scope() == {
        "personal": [
            ("report", "Report cyberbullying or online abuse"),
            ("ask", "Ask about the social media policy, e.g. ask can I post photos?"),
            ("post", "Ask for approval of a post on an official school account"),
            ("my reports", "See your reports and their status"),
            ("comment", "Moderators: log a comment on an official account"),
            ("comments", "Moderators: see comments waiting for an answer"),
            ("new account", "Ask for a new official school account"),
            ("journalist", "A journalist contacted me: what to do now"),
            ("website", "Report a website to block on school equipment"),
            ("help", "Show what policybot can do"),
        ],
        "team": [("help", "Show what policybot can do")],
    }


def test_the_command_titles_are_words_the_bot_understands() -> None:
    assert intent("report") == START_REPORT
    assert intent("my reports") == MY_REPORTS
    assert intent("ask") == ASK_POLICY
    assert intent("help") is None  # outside a report, anything else brings up the menu


async def test_each_personal_command_does_what_it_says(runtime: Runtime) -> None:
    titles = [title for title, _ in commands_by_scope()["personal"]]
    assert titles == [
        "report",
        "ask",
        "post",
        "my reports",
        "comment",
        "comments",
        "new account",
        "journalist",
        "website",
        "help",
    ]
    sam = Person(runtime, channel="teams")

    helped = await sam.say("help")
    assert helped[-1].kind is MessageKind.MENU
    assert [b.value for b in helped[-1].buttons] == [
        START_REPORT,
        ASK_POLICY,
        REQUEST_POST,
        MY_REPORTS,
        COLLEAGUE_MISUSE,
        MEDIA_ENQUIRY,
        WEBSITE_BLOCK,
        REQUEST_ACCOUNT,
    ]

    asking = await sam.say("ask")
    assert "What would you like to know" in last_prompt(asking).text
    answered = await sam.say("can I post a photo of my class?")
    assert answered[0].kind is MessageKind.ANSWER

    listed = await sam.say("my reports")
    assert listed[0].kind is MessageKind.STATUS
    assert listed[0].text == "You haven't made any reports."

    started = await sam.say("report")
    assert last_prompt(started).text == "Who is being targeted?"
    await sam.say("cancel")
    await sam.say("yes")

    jo = Person(runtime, person_id="jo", channel="teams")  # a moderator
    logging = await jo.say("comment")
    assert last_prompt(logging).text == "Which official account is the comment on?"
    await jo.say("cancel")
    await jo.say("yes")
    waiting = await jo.say("comments")
    assert waiting[0].text == "No comments are waiting for an answer."

    for title, first_question in [
        ("new account", "Which platform is it on?"),
        ("journalist", "Who contacted you? Their name and who they write for, if you know."),
        (
            "website",
            "What is the web address? (Type it as you saw it; please don't open it again.)",
        ),
    ]:
        started = await sam.say(title)
        assert last_prompt(started).text == first_question
        await sam.say("cancel")
        await sam.say("yes")


# -- building the manifest for one deployment ------------------------------------------------------


def test_the_app_id_becomes_the_app_and_the_bot_id() -> None:
    assert uuid.UUID(APP_ID).version == 4  # what Azure issues
    manifest = build_manifest(app_id=APP_ID)

    assert manifest["id"] == APP_ID
    assert manifest["bots"][0]["botId"] == APP_ID
    assert manifest["version"] == "0.2.0"
    assert manifest["developer"]["websiteUrl"] == PLACEHOLDER_URL
    assert manifest["validDomains"] == []


@pytest.mark.parametrize(
    "app_id",
    [
        "",
        "policybot",
        APP_ID[:-1],
        APP_ID + "0",
        APP_ID.replace("-", ""),
        "{" + APP_ID + "}",
        "urn:uuid:" + APP_ID,
        APP_ID + "\n",
        " " + APP_ID,
        "g" + APP_ID[1:],
        PLACEHOLDER_ID,
    ],
)
def test_an_app_id_that_is_not_a_real_guid_is_refused(app_id: str) -> None:
    with pytest.raises(ValueError, match="app id") as raised:
        build_manifest(app_id=app_id)
    assert "Microsoft App ID" in str(raised.value)


def test_an_upper_case_guid_is_accepted() -> None:
    assert build_manifest(app_id=APP_ID.upper())["bots"][0]["botId"] == APP_ID.upper()


def test_the_version_can_be_raised_for_a_new_upload() -> None:
    assert build_manifest(app_id=APP_ID, version="1.2.3")["version"] == "1.2.3"


@pytest.mark.parametrize("version", ["1.2", "v1.2.3", "1.2.3-beta", "01.2.3", ""])
def test_a_version_teams_would_refuse_is_refused(version: str) -> None:
    with pytest.raises(ValueError, match="three numbers"):
        build_manifest(app_id=APP_ID, version=version)


@pytest.mark.parametrize(
    ("public_url", "base", "domain"),
    [
        (PUBLIC, PUBLIC, "bot.school.example"),
        (PUBLIC + "/", PUBLIC, "bot.school.example"),
        ("https://Bot.School.Example", PUBLIC, "bot.school.example"),
        (PUBLIC + "/policybot/", PUBLIC + "/policybot", "bot.school.example"),
        (
            "https://bot.school.example:8443",
            "https://bot.school.example:8443",
            "bot.school.example:8443",
        ),
    ],
)
def test_a_public_url_moves_the_developer_links_and_is_a_valid_domain(
    public_url: str, base: str, domain: str
) -> None:
    manifest = build_manifest(app_id=APP_ID, public_url=public_url)

    assert manifest["developer"] == {
        "name": "policybot",
        "websiteUrl": base,
        "privacyUrl": base + "/privacy",
        "termsOfUseUrl": base + "/terms",
    }
    assert manifest["validDomains"] == [domain]
    assert PLACEHOLDER_URL not in json.dumps(manifest)


@pytest.mark.parametrize(
    "public_url",
    [
        "http://bot.school.example",
        "http://localhost:3978",
        "ftp://bot.school.example",
        "https://",
        "bot.school.example",
        "",
        "https://user:secret@bot.school.example",
        "https://bot.school.example/?next=elsewhere",
        "https://bot.school.example/#fragment",
        "https://bot.school.example:99999",
        "https://bot.school.example/\n",
        " https://bot.school.example",
    ],
)
def test_a_public_url_that_is_not_plain_https_is_refused(public_url: str) -> None:
    with pytest.raises(ValueError, match="can't be used"):
        build_manifest(app_id=APP_ID, public_url=public_url)


def test_each_call_starts_from_the_file_afresh() -> None:
    first = build_manifest(app_id=APP_ID, public_url=PUBLIC)
    first["name"]["short"] = "changed"

    second = build_manifest(app_id=APP_ID)
    assert second["name"]["short"] == "policybot"
    assert second["validDomains"] == []


def test_a_missing_manifest_is_explained(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(manifest_module, "REPOSITORY", tmp_path)

    with pytest.raises(FileNotFoundError, match="checkout of the policybot repository"):
        manifest_dir()
    with pytest.raises(FileNotFoundError, match="checkout of the policybot repository"):
        build_manifest(app_id=APP_ID)


# -- the package an administrator uploads ----------------------------------------------------------


def test_the_package_holds_the_three_files_at_its_root(tmp_path: Path) -> None:
    out = tmp_path / "policybot-teams.zip"

    assert build_package(app_id=APP_ID, out=out, public_url=PUBLIC) == out

    with zipfile.ZipFile(out) as archive:
        assert archive.testzip() is None
        assert sorted(archive.namelist()) == ["color.png", "manifest.json", "outline.png"]
        packaged = json.loads(archive.read("manifest.json"))
        icons = {name: archive.read(name) for name in ("color.png", "outline.png")}
    assert packaged == build_manifest(app_id=APP_ID, public_url=PUBLIC)
    assert packaged["id"] == APP_ID
    assert packaged["bots"][0]["botId"] == APP_ID
    for name, data in icons.items():
        assert data == (manifest_dir() / name).read_bytes()


def test_the_package_is_valid_for_teams(current: Draft7Validator, tmp_path: Path) -> None:
    out = build_package(app_id=APP_ID, out=tmp_path / "app.zip")

    with zipfile.ZipFile(out) as archive:
        packaged = json.loads(archive.read("manifest.json"))
    assert not problems(current, packaged)


def test_building_twice_gives_the_same_bytes(tmp_path: Path) -> None:
    first = build_package(app_id=APP_ID, out=tmp_path / "one.zip")
    second = build_package(app_id=APP_ID, out=tmp_path / "two.zip")

    assert first.read_bytes() == second.read_bytes()


def test_an_existing_file_is_never_overwritten(tmp_path: Path) -> None:
    out = tmp_path / "app.zip"
    out.write_bytes(b"someone's earlier package")

    with pytest.raises(FileExistsError, match="already exists"):
        build_package(app_id=APP_ID, out=out)
    assert out.read_bytes() == b"someone's earlier package"


def test_a_bad_app_id_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "app.zip"

    with pytest.raises(ValueError, match="app id"):
        build_package(app_id=PLACEHOLDER_ID, out=out)
    assert not out.exists()


def test_icons_teams_would_refuse_are_not_packaged(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    copy_of = tmp_path / "repo"
    shutil.copytree(manifest_dir(), copy_of / "manifests" / "teams")
    outline_on(copy_of / "manifests" / "teams" / "outline.png", colour=(255, 0, 0, 255))
    monkeypatch.setattr(manifest_module, "REPOSITORY", copy_of)
    out = tmp_path / "app.zip"

    with pytest.raises(ValueError, match=r"outline\.png has .* neither white nor transparent"):
        build_package(app_id=APP_ID, out=out)
    assert not out.exists()


# -- the icons -------------------------------------------------------------------------------------


def outline_on(path: Path, *, colour: tuple[int, int, int, int], size: int = 32) -> Path:
    image = Image.new("RGBA", (size, size), (255, 255, 255, 0))
    ImageDraw.Draw(image).ellipse([4, 4, size - 5, size - 5], outline=colour, width=2)
    image.save(path, format="PNG")
    return path


@pytest.fixture
def icons(tmp_path: Path) -> Path:
    """A copy of the real icons, for a test to spoil one of them."""
    folder = tmp_path / "icons"
    folder.mkdir()
    for name in ("color.png", "outline.png"):
        shutil.copy(manifest_dir() / name, folder / name)
    return folder


def test_the_real_icons_are_what_teams_asks_for() -> None:
    assert check_icons(manifest_dir()) == []
    with Image.open(manifest_dir() / "color.png") as color:
        assert (color.format, color.size) == ("PNG", (192, 192))
    with Image.open(manifest_dir() / "outline.png") as outline:
        assert (outline.format, outline.size) == ("PNG", (32, 32))
        rgba = outline.convert("RGBA")
    alphas = rgba.getchannel("A").tobytes()
    assert 0 in alphas  # a transparent background
    assert max(alphas) == 255  # and a mark that can be seen
    for name in ("color.png", "outline.png"):
        assert (manifest_dir() / name).stat().st_size < 16_000


def test_the_copied_icons_pass(icons: Path) -> None:
    assert check_icons(icons) == []


def test_a_coloured_outline_is_refused(icons: Path) -> None:
    outline_on(icons / "outline.png", colour=(31, 78, 95, 255))

    (problem,) = check_icons(icons)
    assert problem.startswith("outline.png has ")
    assert "neither white nor transparent" in problem


def test_a_faintly_coloured_outline_is_refused_too(icons: Path) -> None:
    outline_on(icons / "outline.png", colour=(255, 255, 254, 40))

    (problem,) = check_icons(icons)
    assert "neither white nor transparent" in problem


def test_an_outline_with_no_transparent_background_is_refused(icons: Path) -> None:
    Image.new("RGB", (32, 32), "white").save(icons / "outline.png", format="PNG")

    (problem,) = check_icons(icons)
    assert problem == "outline.png has no transparent background; Teams needs one"


def test_a_white_outline_on_transparency_is_accepted(icons: Path) -> None:
    outline_on(icons / "outline.png", colour=(255, 255, 255, 255))

    assert check_icons(icons) == []


def test_a_colour_icon_of_the_wrong_size_is_refused(icons: Path) -> None:
    Image.new("RGB", (96, 96), "#1F4E5F").save(icons / "color.png", format="PNG")

    assert check_icons(icons) == ["color.png is 96x96 pixels; Teams needs 192x192"]


def test_an_outline_of_the_wrong_size_is_refused(icons: Path) -> None:
    outline_on(icons / "outline.png", colour=(255, 255, 255, 255), size=48)

    assert check_icons(icons) == ["outline.png is 48x48 pixels; Teams needs 32x32"]


def test_an_icon_that_is_not_a_png_is_refused(icons: Path) -> None:
    Image.new("RGB", (192, 192), "#1F4E5F").save(icons / "color.png", format="JPEG")

    assert check_icons(icons) == ["color.png is a JPEG image, not a PNG"]


def test_an_icon_that_is_not_an_image_is_refused(icons: Path) -> None:
    (icons / "outline.png").write_bytes(b"<svg xmlns='http://www.w3.org/2000/svg'/>")

    (problem,) = check_icons(icons)
    assert problem.startswith("outline.png is not a PNG image that can be read")


def test_a_missing_icon_is_reported(icons: Path) -> None:
    (icons / "color.png").unlink()

    assert check_icons(icons) == [f"color.png is missing from {icons}"]


def test_the_manifest_file_is_left_as_it_was() -> None:
    before = copy.deepcopy(checked_in())
    build_manifest(app_id=APP_ID, public_url=PUBLIC, version="9.9.9")

    assert checked_in() == before

"""The Slack app manifest: valid for Slack, pointing where the deployment says, matching the code.

Validation uses Slack's own schema from `../shared/schemas/slack-manifest/` (beside the
repository). Its top file refers to the two version files by their GitHub URLs; the local copies
are registered under those URLs, so nothing is fetched from the network.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.channels.slack import ids
from bot.channels.slack import manifest as manifest_module
from bot.channels.slack.manifest import (
    MANIFEST_PATH,
    events_url,
    manifest_yaml,
    render_manifest,
)

SCHEMAS = Path(__file__).resolve().parents[3].parent / "shared" / "schemas" / "slack-manifest"
PUBLIC = "https://bot.school.example"
PLACEHOLDER = "https://policybot.example.org"
URL_KEYS = {"url", "request_url", "message_menu_options_url"}


def checked_in() -> dict[str, Any]:
    loaded = yaml.safe_load(MANIFEST_PATH.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def urls(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key in URL_KEYS:
                yield value
            yield from urls(value)
    elif isinstance(node, list):
        for item in node:
            yield from urls(item)


def refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            yield node["$ref"]
        for value in node.values():
            yield from refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from refs(item)


# -- validation against Slack's schema -----------------------------------------------------------


@pytest.fixture(scope="module")
def validator() -> Any:
    if not (SCHEMAS / "manifest.schema.json").is_file():
        reason = (
            f"Slack's manifest schema is not at {SCHEMAS}: it lives in ../shared/schemas beside "
            "the repository, which this checkout does not have"
        )
        if os.environ.get("CI") == "true":
            pytest.fail(reason + "; under CI=true this is a failure, not a skip")
        pytest.skip(reason)
    jsonschema = pytest.importorskip(
        "jsonschema", reason="jsonschema is needed to validate the manifest and is not installed"
    )
    referencing = pytest.importorskip(
        "referencing", reason="referencing is needed to resolve the schema's version files"
    )
    drafts = pytest.importorskip("referencing.jsonschema")

    top = json.loads((SCHEMAS / "manifest.schema.json").read_text(encoding="utf-8"))
    remote = sorted({ref for ref in refs(top) if ref.startswith("https://")})
    # The local copies are named after the URL's last part: schemas_<file name>.
    local = {url: SCHEMAS / f"schemas_{url.rsplit('/', 1)[1]}" for url in remote}
    assert sorted(path.name for path in local.values()) == [
        "schemas_manifest.schema.1.0.0.json",
        "schemas_manifest.schema.2.0.0.json",
    ]
    registry = referencing.Registry().with_resources(
        (
            url,
            referencing.Resource.from_contents(
                json.loads(path.read_text(encoding="utf-8")),
                default_specification=drafts.DRAFT7,
            ),
        )
        for url, path in local.items()
    )
    validator_class = jsonschema.validators.validator_for(top)
    validator_class.check_schema(top)
    return validator_class(top, registry=registry)


def problems(validator: Any, manifest: dict[str, Any]) -> list[str]:
    """Every failure, down to the innermost reasons (a oneOf hides them in `context`)."""
    found: list[str] = []

    def describe(error: Any, depth: int) -> None:
        where = "/".join(str(p) for p in error.absolute_path) or "(root)"
        message = error.message if len(error.message) <= 300 else error.message[:300] + "…"
        found.append(f"{'  ' * depth}{where}: {message}")
        for inner in error.context or ():
            describe(inner, depth + 1)

    for error in validator.iter_errors(manifest):
        describe(error, 0)
    return found


@pytest.mark.parametrize(
    "manifest",
    [
        pytest.param(checked_in, id="the checked-in file"),
        pytest.param(lambda: render_manifest(public_url=PUBLIC), id="over https"),
        pytest.param(lambda: render_manifest(public_url=None), id="socket mode"),
    ],
)
def test_the_manifest_is_valid_for_slack(validator: Any, manifest: Any) -> None:
    found = problems(validator, manifest())
    assert not found, "\n".join(found)


def test_the_schema_really_checks_what_it_is_given(validator: Any) -> None:
    broken = render_manifest(public_url=PUBLIC)
    broken["features"]["shortcuts"][0]["name"] = "A shortcut name far too long for Slack"
    broken["settings"]["interactivity"]["request_url"] = "ftp://nope"

    found = "\n".join(problems(validator, broken))

    assert "features/shortcuts/0/name" in found
    assert "settings/interactivity/request_url" in found


# -- where Slack sends requests ------------------------------------------------------------------


def test_the_checked_in_file_points_at_the_placeholder_over_http() -> None:
    manifest = checked_in()
    assert set(urls(manifest)) == {PLACEHOLDER + "/slack/events"}
    assert manifest["settings"]["socket_mode_enabled"] is False


@pytest.mark.parametrize(
    ("public_url", "expected"),
    [
        (PUBLIC, PUBLIC + "/slack/events"),
        (PUBLIC + "/", PUBLIC + "/slack/events"),
        (PUBLIC + "/policybot/", PUBLIC + "/policybot/slack/events"),
        ("https://bot.school.example:8443", "https://bot.school.example:8443/slack/events"),
        ("http://localhost:3000", "http://localhost:3000/slack/events"),
        ("http://127.0.0.1", "http://127.0.0.1/slack/events"),
    ],
)
def test_every_url_points_at_the_public_events_endpoint(public_url: str, expected: str) -> None:
    manifest = render_manifest(public_url=public_url)

    found = list(urls(manifest))
    assert len(found) == 3  # events, interactivity, the slash command
    assert all(url == expected for url in found)
    assert all(url.startswith(public_url.rstrip("/")) for url in found)
    assert all(url.endswith(ids.EVENTS_PATH) for url in found)
    assert manifest["settings"]["socket_mode_enabled"] is False


def test_without_a_public_url_socket_mode_is_on_and_no_url_is_left() -> None:
    manifest = render_manifest(public_url=None)

    assert list(urls(manifest)) == []
    assert manifest["settings"]["socket_mode_enabled"] is True
    assert manifest["settings"]["interactivity"] == {"is_enabled": True}
    assert manifest["settings"]["event_subscriptions"]["bot_events"]


@pytest.mark.parametrize(
    "public_url",
    [
        "http://evil.example",
        "http://bot.school.example",
        "http://localhost.evil.example",
        "ftp://bot.school.example",
        "https://",
        "bot.school.example",
        "",
        "https://user:secret@bot.school.example",
        "https://bot.school.example/?next=elsewhere",
        "https://bot.school.example/#fragment",
        "https://bot.school.example:99999",
        "https://bot.school.example/\n# injected: true",
        " https://bot.school.example",
    ],
)
def test_an_unsafe_public_url_is_refused(public_url: str) -> None:
    with pytest.raises(ValueError, match="can't be used"):
        render_manifest(public_url=public_url)
    with pytest.raises(ValueError, match="can't be used"):
        events_url(public_url)


# -- matching the code ---------------------------------------------------------------------------


def test_the_shortcut_and_the_command_are_the_ones_the_listeners_use() -> None:
    features = render_manifest(public_url=PUBLIC)["features"]

    (shortcut,) = features["shortcuts"]
    assert shortcut["callback_id"] == ids.REPORT_SHORTCUT
    assert shortcut["type"] == "message"
    assert shortcut["name"] == "Report this message"
    (command,) = features["slash_commands"]
    assert command["command"] == ids.SLASH_COMMAND
    assert command["usage_hint"] == (
        "report | ask [your question] | post | approvals | comment | comments | my reports"
        " | new account | journalist | website | help"
    )
    assert command["should_escape"] is False


def test_the_bot_hears_direct_messages_and_home_tab_visits() -> None:
    settings = render_manifest(public_url=PUBLIC)["settings"]

    assert set(settings["event_subscriptions"]["bot_events"]) == {"message.im", "app_home_opened"}
    assert settings["interactivity"]["is_enabled"] is True
    assert settings["org_deploy_enabled"] is False
    assert settings["token_rotation_enabled"] is False


def test_the_app_home_and_bot_user() -> None:
    manifest = render_manifest(public_url=PUBLIC)

    assert manifest["display_information"]["name"] == "policybot"
    assert manifest["features"]["bot_user"] == {"display_name": "policybot", "always_online": True}
    assert manifest["features"]["app_home"] == {
        "home_tab_enabled": True,
        "messages_tab_enabled": True,
        "messages_tab_read_only_enabled": False,
    }


def test_the_bot_asks_for_no_more_than_it_uses() -> None:
    scopes = render_manifest(public_url=PUBLIC)["oauth_config"]["scopes"]

    assert set(scopes) == {"bot"}  # no user token: the bot never acts as a person
    assert sorted(scopes["bot"]) == sorted(
        [
            "chat:write",
            "commands",
            "files:read",
            "files:write",
            "im:history",
            "im:write",
            "users:read",
            "users:read.email",
        ]
    )


def test_each_scope_is_explained_in_the_file() -> None:
    lines = MANIFEST_PATH.read_text(encoding="utf-8").splitlines()
    for scope in checked_in()["oauth_config"]["scopes"]["bot"]:
        (index,) = [n for n, line in enumerate(lines) if line.strip() == f"- {scope}"]
        assert lines[index - 1].strip().startswith("#"), f"{scope} has no comment saying why"


# -- the YAML a person pastes into Slack -----------------------------------------------------------


@pytest.mark.parametrize("public_url", [PUBLIC, None])
def test_the_yaml_says_the_same_as_the_dictionary(public_url: str | None) -> None:
    text = manifest_yaml(public_url=public_url)

    assert text.startswith("# policybot's Slack app manifest for ")
    assert yaml.safe_load(text) == render_manifest(public_url=public_url)


def test_each_call_starts_from_the_file_afresh() -> None:
    first = render_manifest(public_url=None)
    first["display_information"]["name"] = "changed"

    assert render_manifest(public_url=PUBLIC)["display_information"]["name"] == "policybot"


def test_a_missing_manifest_file_is_explained(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(manifest_module, "MANIFEST_PATH", tmp_path / "manifest.yaml")

    with pytest.raises(FileNotFoundError, match="checkout of the policybot repository"):
        render_manifest(public_url=None)

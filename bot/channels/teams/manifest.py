"""The Microsoft Teams app package for one deployment, built from the one checked-in manifest.

`manifests/teams/manifest.json` stays the single source of truth (reviewed, and validated by the
tests against Microsoft's own schema); deployments differ only in their bot's Microsoft App ID and,
optionally, the public address the developer links point at. A Teams administrator uploads the
ZIP this module writes ("Upload a custom app"), so every check that Teams would make on upload is
made here first, where the message can say what to fix.

Why the manifest asks for what it does:

- Scopes `personal` and `team` only. Reports are made in the private chat with the bot, which no
  one else can read; the bot joins a team so it can post new cases in the school's private
  safeguarding channel, where the lead and deputy act on them. Not `groupChat`: a report must
  never be started where other people can see it.
- `supportsFiles`: screenshots are sent as files in the personal chat (Teams offers file
  attachments to bots in that scope only), and they are the report's evidence.
- Permissions `identity` (the bot must know who is writing, to match them to a person in the
  school's configuration) and `messageTeamMembers` (it messages people who have not just written
  to it: a lead told of a new case, a reporter told their report has moved on).
- `validDomains` is empty: the bot has no tabs or web content for Teams to load. A deployment's
  public host is added so the developer links may point at it.

The app ID is used for both the app's `id` and the bot's `botId`: one registration to manage,
and the checked-in file's all-zero placeholder can never be shipped by mistake.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit, urlunsplit

from PIL import Image, UnidentifiedImageError

REPOSITORY: Final = Path(__file__).resolve().parents[3]

MANIFEST_FILE: Final = "manifest.json"
COLOR_ICON: Final = "color.png"
OUTLINE_ICON: Final = "outline.png"
COLOR_SIZE: Final = (192, 192)
OUTLINE_SIZE: Final = (32, 32)

PLACEHOLDER_ID: Final = "00000000-0000-0000-0000-000000000000"
PLACEHOLDER_URL: Final = "https://policybot.example.org"

# The patterns of Microsoft's schema (definitions/guid and definitions/semver).
_GUID: Final = re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")
_SEMVER: Final = re.compile(r"(?:0|[1-9][0-9]*)\.(?:0|[1-9][0-9]*)\.(?:0|[1-9][0-9]*)")
_DEVELOPER_URLS: Final = ("websiteUrl", "privacyUrl", "termsOfUseUrl")
_WHITE: Final = (255, 255, 255)
# Same timestamp on every entry, so building twice from the same input gives the same bytes.
_ZIP_TIME: Final = (1980, 1, 1, 0, 0, 0)


def manifest_dir() -> Path:
    """Where the package's source lives; only a checkout has it, not an installed package."""
    folder = REPOSITORY / "manifests" / "teams"
    if not (folder / MANIFEST_FILE).is_file():
        raise FileNotFoundError(
            f"The Teams app manifest is not at {folder / MANIFEST_FILE}. It is read from the "
            "source tree (manifests/teams/, next to the bot/ folder), which an installed package "
            "does not include: run this from a checkout of the policybot repository."
        )
    return folder


def build_manifest(
    *, app_id: str, public_url: str | None = None, version: str | None = None
) -> dict[str, Any]:
    """The checked-in manifest made ready for one bot registration and, optionally, one server.

    Each call reads the file afresh, so callers may change what they get back freely.
    """
    _check_app_id(app_id)
    manifest = _load()
    manifest["id"] = app_id
    manifest["bots"][0]["botId"] = app_id
    if version is not None:
        if not _SEMVER.fullmatch(version):
            raise ValueError(
                f"The app version {version!r} can't be used: Teams needs three numbers such as "
                "1.2.3, and a higher one each time the package changes."
            )
        manifest["version"] = version
    if public_url is not None:
        base, domain = _public_base(public_url)
        developer = manifest["developer"]
        for key in _DEVELOPER_URLS:
            value = developer.get(key)
            if isinstance(value, str) and (
                value == PLACEHOLDER_URL or value.startswith(PLACEHOLDER_URL + "/")
            ):
                developer[key] = base + value[len(PLACEHOLDER_URL) :]
        domains = manifest.setdefault("validDomains", [])
        if domain not in domains:
            domains.append(domain)
    return manifest


def build_package(*, app_id: str, out: Path, public_url: str | None = None) -> Path:
    """Writes the ZIP to upload to Teams, refusing to replace a package someone may rely on.

    Teams looks for the manifest and both icons at the root of the ZIP; in a folder they are
    not found. The icons are checked first because Teams refuses them with a vaguer message.
    """
    manifest = build_manifest(app_id=app_id, public_url=public_url)
    folder = manifest_dir()
    problems = check_icons(folder)
    if problems:
        raise ValueError("The Teams app icons can't be packaged: " + "; ".join(problems))
    if out.exists():
        raise FileExistsError(f"{out} already exists: choose another name or remove it first.")

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        entries = [(MANIFEST_FILE, (json.dumps(manifest, indent=2) + "\n").encode("utf-8"))]
        entries += [(name, (folder / name).read_bytes()) for name in _icon_names(manifest)]
        for name, data in entries:
            info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)
    try:
        handle = out.open("xb")  # "x": never replace a file that appeared meanwhile
    except FileExistsError:
        raise FileExistsError(
            f"{out} already exists: choose another name or remove it first."
        ) from None
    with handle:
        try:
            handle.write(buffer.getvalue())
        except BaseException:
            handle.close()
            out.unlink(missing_ok=True)  # a half-written package would only fail on upload
            raise
    return out


def check_icons(folder: Path) -> list[str]:
    """What Teams would object to in the icons, found before an administrator tries to upload.

    The outline icon is drawn by Teams in the colour of its surroundings, so it may hold only
    white and transparency; anything else is refused on upload.
    """
    problems: list[str] = []
    for name, size in ((COLOR_ICON, COLOR_SIZE), (OUTLINE_ICON, OUTLINE_SIZE)):
        path = folder / name
        if not path.is_file():
            problems.append(f"{name} is missing from {folder}")
            continue
        try:
            with Image.open(path) as image:
                image_format = image.format
                found = image.size
                rgba = image.convert("RGBA") if name == OUTLINE_ICON else None
        except (UnidentifiedImageError, OSError) as exc:
            problems.append(f"{name} is not a PNG image that can be read ({exc})")
            continue
        if image_format != "PNG":
            problems.append(f"{name} is a {image_format} image, not a PNG")
        if found != size:
            problems.append(
                f"{name} is {found[0]}x{found[1]} pixels; Teams needs {size[0]}x{size[1]}"
            )
        if rgba is not None:
            problems.extend(_outline_problems(name, rgba))
    return problems


def _outline_problems(name: str, image: Image.Image) -> list[str]:
    data = image.tobytes()
    red, green, blue, alpha = data[0::4], data[1::4], data[2::4], data[3::4]
    coloured = sum(
        1 for r, g, b, a in zip(red, green, blue, alpha, strict=True) if a and (r, g, b) != _WHITE
    )
    problems: list[str] = []
    if coloured:
        problems.append(
            f"{name} has {coloured} pixel(s) that are neither white nor transparent; Teams "
            "needs a white outline on a transparent background"
        )
    if 0 not in alpha:
        problems.append(f"{name} has no transparent background; Teams needs one")
    return problems


def _check_app_id(app_id: str) -> None:
    """Refuses anything Teams would reject, and the placeholder, which no bot answers to."""
    if not isinstance(app_id, str) or not _GUID.fullmatch(app_id):
        raise ValueError(
            f"The app id {app_id!r} can't be used: it must be the bot's Microsoft App ID, a GUID "
            "such as 3f2504e0-4f89-11d3-9a0c-0305e82c3301 (from the Azure Bot resource's "
            "Configuration page)."
        )
    if app_id == PLACEHOLDER_ID:
        raise ValueError(
            "The app id can't be the all-zero placeholder from manifests/teams/manifest.json: "
            "give the bot's Microsoft App ID (from the Azure Bot resource's Configuration page)."
        )


def _public_base(public_url: str) -> tuple[str, str]:
    """The base for the developer links and the domain to allow, from an https address only.

    Teams accepts only https links, and a user name, password, query or fragment would be
    copied into every link, so those are refused rather than passed on.
    """
    problem = (
        f"The public URL {public_url!r} can't be used: it must be https://your.server (with an "
        "optional port and path), with no user name, password, query or fragment."
    )
    if not public_url or any(c.isspace() or not c.isprintable() for c in public_url):
        raise ValueError(problem)
    parts = urlsplit(public_url)
    try:
        port = parts.port  # reading it is what checks the port is a number in range
    except ValueError:
        raise ValueError(problem) from None
    host = (parts.hostname or "").lower()
    extras = parts.username or parts.password or parts.query or parts.fragment
    if parts.scheme.lower() != "https" or not host or extras or "?" in public_url:
        raise ValueError(problem)
    if "#" in public_url or "@" in parts.netloc:
        raise ValueError(problem)
    if ":" in host:  # an IPv6 address keeps its brackets in a URL
        host = f"[{host}]"
    domain = host if port is None else f"{host}:{port}"
    return urlunsplit(("https", domain, parts.path.rstrip("/"), "", "")), domain


def _icon_names(manifest: dict[str, Any]) -> list[str]:
    icons = manifest["icons"]
    names = [icons["color"], icons["outline"]]
    if names != [COLOR_ICON, OUTLINE_ICON]:
        raise ValueError(
            f"The manifest's icons are {names}; the package expects {COLOR_ICON} and "
            f"{OUTLINE_ICON} at its root."
        )
    return names


def _load() -> dict[str, Any]:
    path = manifest_dir() / MANIFEST_FILE
    loaded = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(loaded, dict) or not isinstance(loaded.get("bots"), list):
        raise ValueError(f"{path} does not hold a Teams app manifest with a bot.")
    return loaded

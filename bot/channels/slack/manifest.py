"""The Slack app manifest for one deployment, generated from the one checked-in file.

`manifests/slack/manifest.yaml` stays the single source of truth (reviewed, commented, and
validated by the tests against Slack's own schema); deployments differ only in where Slack sends
requests. Over HTTP that is `<public_url>/slack/events` for events, interactivity and the slash
command alike, because Bolt serves them all on one path. Without a public URL the app uses
Socket Mode, which needs no URL at all, so the placeholders are removed rather than left pointing
at a server that does not exist.

A public URL must be https: Slack sends signed requests carrying what people report, and those
must not cross the internet in clear. Plain http is accepted only for localhost and 127.0.0.1,
for a local tunnel or a test double.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit, urlunsplit

import yaml

from bot.channels.slack.ids import EVENTS_PATH

MANIFEST_PATH: Final = Path(__file__).parents[3] / "manifests" / "slack" / "manifest.yaml"

_URL_KEYS: Final = frozenset({"request_url", "url", "message_menu_options_url"})
_LOCAL_HOSTS: Final = frozenset({"localhost", "127.0.0.1"})


def render_manifest(*, public_url: str | None) -> dict[str, Any]:
    manifest = _load()
    settings = manifest.setdefault("settings", {})
    if public_url is None:
        _replace_urls(manifest, None)
        settings["socket_mode_enabled"] = True
    else:
        _replace_urls(manifest, events_url(public_url))
        settings["socket_mode_enabled"] = False
    return manifest


def manifest_yaml(*, public_url: str | None) -> str:
    where = events_url(public_url) if public_url is not None else "Socket Mode"
    header = (
        f"# policybot's Slack app manifest for {where}, generated from manifests/slack/"
        "manifest.yaml.\n"
    )
    body = yaml.safe_dump(
        render_manifest(public_url=public_url), sort_keys=False, allow_unicode=True, width=100
    )
    return header + body


def events_url(public_url: str) -> str:
    """Where Slack should send everything, refusing any address that could leak a report."""
    problem = (
        f"The public URL {public_url!r} can't be used: it must be https://your.server (with an "
        "optional path), or http://localhost or http://127.0.0.1 for local testing, with no "
        "user name, password, query or fragment."
    )
    if not public_url or any(c.isspace() or not c.isprintable() for c in public_url):
        raise ValueError(problem)
    parts = urlsplit(public_url)
    try:
        _ = parts.port  # reading it is what checks the port is a number in range
    except ValueError:
        raise ValueError(problem) from None
    host = parts.hostname or ""
    secure = parts.scheme == "https" and bool(host)
    local = parts.scheme == "http" and host in _LOCAL_HOSTS
    extras = parts.username or parts.password or parts.query or parts.fragment
    if not (secure or local) or extras or "?" in public_url or "#" in public_url:
        raise ValueError(problem)
    path = parts.path.rstrip("/") + EVENTS_PATH
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def _load() -> dict[str, Any]:
    if not MANIFEST_PATH.is_file():
        raise FileNotFoundError(
            f"The Slack app manifest is not at {MANIFEST_PATH}. It is read from the source tree "
            "(manifests/slack/manifest.yaml, next to the bot/ folder), which an installed "
            "package does not include: run this from a checkout of the policybot repository."
        )
    loaded = yaml.safe_load(MANIFEST_PATH.read_text(encoding="utf-8"))
    if not isinstance(loaded, dict):
        raise ValueError(f"{MANIFEST_PATH} does not hold a manifest (a YAML mapping).")
    return loaded


def _replace_urls(node: Any, url: str | None) -> None:
    """Sets every request URL to `url`, or removes them all when it is None."""
    if isinstance(node, dict):
        for key in [k for k in node if k in _URL_KEYS]:
            if url is None:
                del node[key]
            else:
                node[key] = url
        for value in node.values():
            _replace_urls(value, url)
    elif isinstance(node, list):
        for item in node:
            _replace_urls(item, url)

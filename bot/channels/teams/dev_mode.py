"""Teams' local development mode: no Bot Framework tokens, so only this machine may use it.

Without a token, nothing on /api/messages says who is calling: an activity naming a lead's
Entra object id would be taken as the lead. The mode exists for the Microsoft 365 Agents
Playground, which runs beside the bot and sends no tokens, and it is safe only while every
caller really is on this machine. So it is on only when POLICYBOT_TEAMS_DEV=1 asks for it, the
server will not start with it while listening beyond loopback, and a request is refused when
anything about it says it came from elsewhere:

* its peer address is not loopback;
* it carries a header a proxy adds (behind nginx or Caddy on the same host every peer is
  loopback, whoever the real caller is);
* its Host is not this machine's name (a web page whose name was re-pointed at 127.0.0.1 can
  make a browser on this machine post to the bot; its Host still names the page's site).

Replies go only to a service on this machine too (bot/channels/teams/service_urls.py).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from urllib.parse import urlsplit

from bot.config import TeamsSettings
from dialogs.services.errors import ConfigError

# Headers that reverse proxies and load balancers add for the address they received a
# request from; none of them comes from the Agents Playground itself.
PROXY_HEADERS = frozenset(
    {
        "forwarded",
        "via",
        "x-real-ip",
        "x-client-ip",
        "x-cluster-client-ip",
        "x-original-forwarded-for",
        "client-ip",
        "true-client-ip",
        "cf-connecting-ip",
        "fastly-client-ip",
        "x-azure-clientip",
        "x-appengine-user-ip",
    }
)

WARNING = (
    "Teams: POLICYBOT_TEAMS_DEV=1, so /api/messages runs in LOCAL DEVELOPMENT MODE: Bot "
    "Framework tokens are NOT checked. Only requests from this machine, not through a proxy, "
    "are accepted, and replies go only to a service on this machine. Never use it on a server "
    "that holds real reports."
)


def is_local_host(host: str | None) -> bool:
    """Whether a host name or address is this machine: localhost or a loopback address."""
    if not host:
        return False
    name = host.strip().strip("[]").lower().rstrip(".")
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name.split("%", 1)[0]).is_loopback
    except ValueError:
        return False


def is_local_url(url: str | None) -> bool:
    """Whether a URL points at a service on this machine."""
    if not url:
        return False
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and is_local_host(parts.hostname)


def refuse_exposed(teams: TeamsSettings, listen_host: str) -> None:
    """Refuse to start the development mode on a server others can reach."""
    if teams.development_mode and not is_local_host(listen_host):
        raise ConfigError(
            f"POLICYBOT_TEAMS_DEV=1 turns off Teams' token checks, so the server must listen on "
            f"this machine only, not on {listen_host!r}: run `policybot serve --host 127.0.0.1`, "
            "or set MICROSOFT_APP_ID and MICROSOFT_APP_PASSWORD instead."
        )


def refusal(remote: str | None, host: str | None, headers: Mapping[str, str]) -> str | None:
    """Why a request may not use the development mode, or None when it comes from here."""
    if not is_local_host(remote):
        return "development mode accepts callers on this machine only"
    forwarded = [
        name
        for name in headers
        if name.lower() in PROXY_HEADERS or name.lower().startswith("x-forwarded-")
    ]
    if forwarded:
        return "development mode does not accept requests through a proxy"
    if not is_local_host(_host_name(host)):
        return "development mode accepts requests addressed to this machine only"
    return None


def _host_name(host: str | None) -> str | None:
    """The name in a Host header, without its port."""
    if not host:
        return None
    try:
        return urlsplit(f"//{host}").hostname
    except ValueError:
        return None

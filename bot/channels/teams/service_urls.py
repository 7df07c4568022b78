"""Which Bot Connector addresses the bot may call, and so send its own token to.

Every activity names the service the bot should answer at (`serviceUrl`). With credentials,
Teams signs that address into the activity's token and botbuilder checks it, so an address is
trusted once an authenticated activity has given it, or when it is in an address saved from
one (only authenticated activities are saved). Any other address is refused before a
connection is made: otherwise a forged or stale address would receive the bot's Entra token
and whatever the bot was about to say, such as a case's details.

In the local development mode nothing is authenticated, so only a service on this machine
(the Agents Playground) is ever called.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from bot.channels.teams.dev_mode import is_local_url

__all__ = ["ServiceUrls", "UntrustedService"]

# Teams has a handful of service addresses per deployment (one per region); the bound keeps
# memory flat whatever arrives. An address dropped is trusted again when next seen.
_MOST_KEPT = 256


class UntrustedService(Exception):
    """The bot was about to call a service no authenticated activity gave."""


def _key(url: str) -> str | None:
    """The address as compared: scheme, host and port as written in any case, path without its
    trailing slash. None for something that is not an http(s) address."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    if parts.username is not None or parts.password is not None:
        return None
    scheme = parts.scheme.lower()
    port = port or (443 if scheme == "https" else 80)
    return f"{scheme}://{parts.hostname.lower()}:{port}{parts.path.rstrip('/')}"


class ServiceUrls:
    """The service addresses the bot may call: those trusted, or (local_only) this machine."""

    def __init__(self, *, local_only: bool) -> None:
        self.local_only = local_only
        self._trusted: dict[str, None] = {}

    def trust(self, url: str | None) -> None:
        """Remember an address an authenticated activity (or an address saved from one) gave."""
        key = _key(url or "")
        if key is None or self.local_only:
            return
        self._trusted.pop(key, None)
        if len(self._trusted) >= _MOST_KEPT:
            self._trusted.pop(next(iter(self._trusted)))
        self._trusted[key] = None

    def allows(self, url: str | None) -> bool:
        if self.local_only:
            return is_local_url(url)
        key = _key(url or "")
        return key is not None and key in self._trusted

    def check(self, url: str | None) -> None:
        if not self.allows(url):
            # The address itself is not logged: it may be an attacker's, and the log is not
            # the place to collect them.
            raise UntrustedService(
                "the bot will not call a Bot Connector address that no authenticated activity gave"
            )

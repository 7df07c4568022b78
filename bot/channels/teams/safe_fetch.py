"""Fetching a file a Teams message points at, from the public internet only.

A shared file's download URL and a pasted image's content URL arrive in the activity, so
whoever can get an activity to the bot chooses them. Fetched blindly, they would make the bot
read the server's own network for them (an admin page on localhost, a cloud metadata service,
a database's HTTP port) and keep the answer as "evidence" (server-side request forgery). So:

* only https, to addresses that are public: loopback, private, link-local, shared, reserved
  and multicast addresses are refused, including IPv4 addresses wrapped in IPv6 forms;
* a name is checked on the addresses it resolves to, by the resolver of the very connection
  that is made, so a name cannot resolve to one address for the check and another for the
  connection;
* redirects are followed by hand, each new address checked the same way, at most a few, and
  the bot's token (sent only to the activity's own service) never follows a redirect to
  another host.

Tests run their stand-ins for Teams' file servers on 127.0.0.1; a FetchPolicy names each of
them (address and port) as an exception. Nothing in production makes one with exceptions.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver
from yarl import URL

__all__ = [
    "MOST_REDIRECTS",
    "FetchPolicy",
    "GuardedResolver",
    "RefusedAddress",
    "guarded_session",
    "is_public",
    "open_url",
]

MOST_REDIRECTS = 5
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
# The well-known prefix that NAT64 gateways use to reach IPv4 addresses (RFC 6052).
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class RefusedAddress(Exception):
    """The URL leads somewhere the bot does not fetch files from."""


def _inner_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries (mapped, 6to4, Teredo, NAT64), if any."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def is_public(address: str) -> bool:
    """Whether an IP address is on the public internet (not this machine, not a private or
    otherwise special network)."""
    try:
        parsed = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(parsed, ipaddress.IPv6Address):
        inner = _inner_ipv4(parsed)
        if inner is not None:
            return is_public(str(inner))
    return parsed.is_global and not parsed.is_multicast


@dataclass(frozen=True)
class FetchPolicy:
    """Where files may be fetched from: public https addresses, and the (address, port) pairs
    in `exceptions`, which tests use for their local stand-ins of Teams' file servers."""

    exceptions: frozenset[tuple[str, int]] = field(default_factory=frozenset)

    def allows(self, address: str, port: int) -> bool:
        return (address, port) in self.exceptions or is_public(address)

    def allowing(self, url: str) -> FetchPolicy:
        """This policy, with the server at `url` (an IP address and port) allowed as well."""
        parsed = URL(url)
        if parsed.host is None or parsed.port is None:
            raise ValueError("an exception needs an address and a port")
        return FetchPolicy(self.exceptions | {(parsed.host, parsed.port)})

    def check_url(self, url: URL) -> None:
        """Refuse what can be refused before connecting: the scheme, and an address written
        in the URL (aiohttp connects to those without asking the resolver)."""
        host, port = url.host, url.port
        if host is None or port is None or url.scheme not in ("https", "http"):
            raise RefusedAddress("not an http(s) address")
        literal = _literal(host)
        if literal is not None and (literal, port) in self.exceptions:
            return
        if url.scheme != "https":
            raise RefusedAddress("files are fetched over https only")
        if literal is not None and not is_public(literal):
            raise RefusedAddress("the address is not public")


def _literal(host: str) -> str | None:
    try:
        return str(ipaddress.ip_address(host.strip("[]").split("%", 1)[0]))
    except ValueError:
        return None


class GuardedResolver(AbstractResolver):
    """A resolver that refuses names resolving to addresses the policy does not allow.

    Every address a name resolves to must be allowed: a name that also points inside the
    network is refused outright rather than trusted for its public half.
    """

    def __init__(
        self, policy: Callable[[], FetchPolicy], inner: AbstractResolver | None = None
    ) -> None:
        self._policy = policy
        self._inner = inner or DefaultResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        found = await self._inner.resolve(host, port, family)
        policy = self._policy()
        if not found or not all(policy.allows(r["host"], r["port"]) for r in found):
            raise RefusedAddress("the name leads to an address that is not public")
        return found

    async def close(self) -> None:
        await self._inner.close()


def guarded_session(
    policy: Callable[[], FetchPolicy], *, total_seconds: float
) -> aiohttp.ClientSession:
    """A session whose every connection goes through the policy's resolver."""
    connector = aiohttp.TCPConnector(resolver=GuardedResolver(policy))
    return aiohttp.ClientSession(
        connector=connector, timeout=aiohttp.ClientTimeout(total=total_seconds)
    )


async def open_url(
    session: aiohttp.ClientSession,
    url: str,
    policy: FetchPolicy,
    headers: Mapping[str, str],
) -> aiohttp.ClientResponse:
    """GET `url` under the policy, following redirects by hand; the caller reads and releases
    the response. `headers` go to the first host only.

    Raises RefusedAddress for an address the policy refuses (and for too many redirects), and
    aiohttp's errors as they come.
    """
    current = URL(url)
    sent = dict(headers)
    for _ in range(MOST_REDIRECTS + 1):
        policy.check_url(current)
        response = await session.get(current, headers=sent, allow_redirects=False)
        location = response.headers.get("Location")
        if response.status not in _REDIRECTS or not location:
            return response
        response.release()
        following = current.join(URL(location))
        if (following.scheme, following.host, following.port) != (
            current.scheme,
            current.host,
            current.port,
        ):
            sent = {}
        current = following
    raise RefusedAddress("too many redirects")

"""A file's download URL in a Teams message cannot make the bot fetch from inside the network.

The URL comes in the activity, so whoever can get an activity to the bot chooses it. Fetching
whatever it names would let them read the server's own services (an admin page on localhost,
a cloud metadata endpoint, a database's HTTP port) and keep the answer as "evidence". So the
bot fetches only from public addresses, checked on the addresses a name resolves to, and
checks again at every redirect.

Everything in a test runs on 127.0.0.1, so the Teams file servers a test stands in for are
allowed by name (their address and port) in the channel's fetch policy, as the harness does
for the fake connector; every other local address stays refused.
"""

from __future__ import annotations

import hashlib
import socket
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.test_utils import TestServer
from yarl import URL

from bot.channels.teams.safe_fetch import FetchPolicy, GuardedResolver, RefusedAddress, is_public
from storage.models import Evidence
from tests.channels.teams.harness import SAM, TeamsHarness, allow_file_host, text_of
from tests.channels.teams.test_teams_report import FILE_DOWNLOAD_INFO, answer_up_to_evidence
from tests.security.support import rows
from tests.support import phone_screenshot

SECRET = phone_screenshot("internal", megabytes=0.2)


class Internal:
    """A service on the bot's own machine that only the machine should reach."""

    def __init__(self) -> None:
        self.hits: list[str] = []
        app = web.Application()
        app.router.add_get("/{tail:.*}", self._get)
        self.server = TestServer(app)

    async def _get(self, request: web.Request) -> web.Response:
        self.hits.append(request.path)
        return web.Response(body=SECRET, content_type="image/png")

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.server.port}{path}"


class Redirector:
    """A file host that sends every download on to `target` (as a file server may)."""

    def __init__(self) -> None:
        self.target = ""
        app = web.Application()
        app.router.add_get("/{tail:.*}", self._get)
        self.server = TestServer(app)

    async def _get(self, request: web.Request) -> web.Response:
        raise web.HTTPFound(self.target)

    def url(self, path: str) -> str:
        return str(self.server.make_url(path))


@pytest.fixture
async def internal() -> AsyncIterator[Internal]:
    service = Internal()
    await service.server.start_server()
    try:
        yield service
    finally:
        await service.server.close()


@pytest.fixture
async def redirector(teams: TeamsHarness) -> AsyncIterator[Redirector]:
    host = Redirector()
    await host.server.start_server()
    allow_file_host(teams, host.url("/"))
    try:
        yield host
    finally:
        await host.server.close()


def attachment(name: str, url: str) -> dict[str, object]:
    return {
        "contentType": FILE_DOWNLOAD_INFO,
        "name": name,
        "contentUrl": f"https://oakfield.sharepoint.com/personal/sam/{name}",
        "content": {"downloadUrl": url, "uniqueId": name, "fileType": "png"},
    }


async def send(teams: TeamsHarness, name: str, url: str) -> str:
    await answer_up_to_evidence(teams)
    said = await teams.replies(SAM, teams.say(SAM, "", attachments=[attachment(name, url)]))
    return text_of(said)


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "127.0.0.2"])
async def test_a_download_url_on_this_machine_is_not_fetched(
    teams: TeamsHarness, internal: Internal, host: str
) -> None:
    said = await send(teams, "shot.png", internal.url("/admin/backup.png", host))
    assert internal.hits == []
    assert "I couldn't fetch “shot.png” from Teams" in said
    assert await rows(teams.runtime, Evidence) == []


async def test_a_redirect_to_this_machine_is_not_followed(
    teams: TeamsHarness, internal: Internal, redirector: Redirector
) -> None:
    redirector.target = internal.url("/admin/backup.png")
    said = await send(teams, "shot.png", redirector.url("/download/shot.png"))
    assert internal.hits == []
    assert "I couldn't fetch “shot.png” from Teams" in said
    assert await rows(teams.runtime, Evidence) == []


async def test_a_redirect_to_another_allowed_file_server_is_followed(
    teams: TeamsHarness, redirector: Redirector
) -> None:
    shot = phone_screenshot("moved", megabytes=0.5)
    redirector.target = teams.fake.add_file("moved.png", shot, "image/png")
    said = await send(teams, "moved.png", redirector.url("/download/moved.png"))
    assert "“moved.png” (512 KB) is saved as evidence" in said
    kept = await rows(teams.runtime, Evidence)
    assert [e.sha256 for e in kept] == [hashlib.sha256(shot).hexdigest()]


INTERNAL_ADDRESSES = [
    "127.0.0.1",
    "10.1.2.3",
    "172.16.0.1",
    "192.168.1.20",
    "169.254.169.254",  # cloud metadata
    "100.64.0.1",  # shared address space
    "0.0.0.0",
    "224.0.0.1",
    "::1",
    "fe80::1",
    "fd00::1",
    "::ffff:127.0.0.1",
    "::ffff:169.254.169.254",
    "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
    "2002:7f00:1::1",  # 6to4 of 127.0.0.1
]


@pytest.mark.parametrize("address", INTERNAL_ADDRESSES)
def test_internal_addresses_are_not_public(address: str) -> None:
    assert not is_public(address)
    host = f"[{address}]" if ":" in address else address
    with pytest.raises(RefusedAddress):
        FetchPolicy().check_url(URL(f"https://{host}/f.png"))


@pytest.mark.parametrize("address", ["52.112.0.1", "13.107.6.152", "2603:1020::1"])
def test_public_addresses_are_public(address: str) -> None:
    assert is_public(address)


def test_only_https_is_fetched_from_the_internet() -> None:
    with pytest.raises(RefusedAddress):
        FetchPolicy().check_url(URL("http://oakfield.sharepoint.com/f.png"))
    with pytest.raises(RefusedAddress):
        FetchPolicy().check_url(URL("file:///etc/passwd"))
    FetchPolicy().check_url(URL("https://oakfield.sharepoint.com/f.png"))


class _Answers(AbstractResolver):
    """A resolver that answers every name with fixed addresses."""

    def __init__(self, *addresses: str) -> None:
        self.addresses = addresses

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        return [
            ResolveResult(hostname=host, host=a, port=port, family=family, proto=0, flags=0)
            for a in self.addresses
        ]

    async def close(self) -> None:
        return None


async def test_a_name_that_also_points_inside_the_network_is_refused() -> None:
    policy = FetchPolicy()
    mixed = GuardedResolver(lambda: policy, _Answers("52.112.0.1", "10.0.0.7"))
    with pytest.raises(RefusedAddress):
        await mixed.resolve("files.attacker.example", 443)
    public = GuardedResolver(lambda: policy, _Answers("52.112.0.1"))
    assert [r["host"] for r in await public.resolve("oakfield.sharepoint.com", 443)] == [
        "52.112.0.1"
    ]

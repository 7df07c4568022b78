"""Teams' requests reach the bot through a reverse proxy, as on a school's server.

The proxy (tests/fakes/reverse_proxy.py) forwards each activity in small chunked pieces with the
X-Forwarded-* headers added; the token is still checked, and a whole report with phone-sized
screenshots goes through as it does without it.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from storage.models import Evidence
from tests.channels.teams.harness import SAM, TeamsHarness
from tests.channels.teams.test_teams_report import file_a_report, rows, submit
from tests.fakes.reverse_proxy import reverse_proxy
from tests.support import phone_screenshot


@pytest.fixture
async def proxied(teams: TeamsHarness) -> AsyncIterator[TeamsHarness]:
    upstream = teams.client.make_url("/")
    proxy: TestClient[web.Request, web.Application] = TestClient(
        TestServer(reverse_proxy(upstream))
    )
    await proxy.start_server()
    direct, teams.client = teams.client, proxy
    try:
        yield teams
    finally:
        teams.client = direct
        await proxy.close()


async def test_a_report_with_screenshots_goes_through_a_reverse_proxy(
    proxied: TeamsHarness,
) -> None:
    shots = [phone_screenshot("shared", megabytes=1.5), phone_screenshot("pasted", megabytes=1.5)]
    await file_a_report(proxied, shots=shots)
    await submit(proxied)
    kept = await rows(proxied, Evidence)
    assert sorted(e.sha256 for e in kept) == sorted(hashlib.sha256(s).hexdigest() for s in shots)


async def test_an_activity_without_a_token_is_still_refused_behind_the_proxy(
    proxied: TeamsHarness,
) -> None:
    status, _ = await proxied.post(proxied.message(SAM, "hello"), headers={})
    assert status == 401

"""Slack's requests reach the bot through a reverse proxy, as on a school's server.

The proxy (tests/fakes/reverse_proxy.py) forwards each request in small chunked pieces with the
X-Forwarded-* headers added: the signature is still checked on the exact body, and a whole
report with phone-sized screenshots goes through as it does without it.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlmodel import select

from storage.models import Evidence
from tests.channels.slack.harness import SAFEGUARDING, SlackHarness, text_of_calls
from tests.channels.slack.test_slack_report import SAM, file_a_report
from tests.fakes.reverse_proxy import reverse_proxy
from tests.fakes.slack_api import signed_headers
from tests.support import phone_screenshot


@pytest.fixture
async def proxied(slack: SlackHarness) -> AsyncIterator[SlackHarness]:
    proxy = TestClient(TestServer(reverse_proxy(slack.client.make_url("/"))))
    await proxy.start_server()
    direct, slack.client = slack.client, proxy
    try:
        yield slack
    finally:
        slack.client = direct
        await proxy.close()


async def test_a_report_with_screenshots_goes_through_a_reverse_proxy(
    proxied: SlackHarness,
) -> None:
    slack = proxied
    shots = phone_screenshot("one", megabytes=1.5), phone_screenshot("two", megabytes=1.5)
    await file_a_report(slack, *shots)
    done = await slack.reply_to(SAM, slack.click(SAM, "submit", label="Send it"))
    assert "Report sent: CB-2026-0001" in text_of_calls(done)
    async with slack.runtime.db.session() as session:
        kept = (await session.execute(select(Evidence))).scalars().all()
    assert sorted(e.sha256 for e in kept) == sorted(hashlib.sha256(s).hexdigest() for s in shots)
    await slack.deliver()
    assert "Report CB-2026-0001" in text_of_calls(slack.posts_to(SAFEGUARDING))


async def test_a_body_changed_on_the_way_is_still_refused_behind_the_proxy(
    proxied: SlackHarness,
) -> None:
    body = '{"type": "event_callback", "event": {"type": "message", "text": "hello"}}'
    headers = signed_headers(body, "not-the-secret")
    assert await proxied.post(body, headers=headers) == 401

"""The same bot over Slack Socket Mode: no public URL, events arrive over a websocket."""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.app import SLACK
from bot.config import Settings
from tests.channels.slack.harness import (
    SAFEGUARDING,
    SlackHarness,
    button_press,
    buttons_of,
    dm,
    slack_harness,
    text_of_calls,
)
from tests.conftest import Clock
from tests.fakes.slack_api import FakeSlack
from tests.support import png

SAM, DANA = "U0SAM", "U0DANA"
_ids = itertools.count(1)


@pytest.fixture
async def socket_slack(
    settings: Settings, clock: Clock, fake_slack: FakeSlack
) -> AsyncIterator[SlackHarness]:
    async with slack_harness(
        settings, clock, fake_slack, app_token=fake_slack.app_token
    ) as harness:
        await fake_slack.wait_for_socket_client()
        yield harness


async def socket_event(fake: FakeSlack, event: dict[str, Any]) -> dict[str, Any]:
    return await fake.socket_send(
        {
            "type": "event_callback",
            "team_id": "T0001",
            "api_app_id": "A0001",
            "event_id": f"EvS{next(_ids):06d}",
            "event_time": int(time.time()),
            "event": event,
        }
    )


async def socket_say(
    harness: SlackHarness, text: str, files: list[dict[str, Any]] | None = None
) -> list[Any]:
    before = len(harness.posts_to(dm(SAM)))
    event: dict[str, Any] = {
        "type": "message",
        "channel": dm(SAM),
        "channel_type": "im",
        "user": SAM,
        "text": text,
        "ts": f"{time.time():.6f}",
    }
    if files:
        event.update(subtype="file_share", files=files)
    ack = await socket_event(harness.fake, event)
    assert "envelope_id" in ack
    return await harness.settle(dm(SAM), before)


async def socket_click(
    harness: SlackHarness, user: str, value: str, channel: str
) -> dict[str, Any]:
    return await harness.fake.socket_send(
        button_press(user, value, label=value, channel=channel), type="interactive"
    )


async def test_no_http_endpoint_is_served_in_socket_mode(socket_slack: SlackHarness) -> None:
    response = await socket_slack.client.post("/slack/events", data="{}")
    assert response.status == 404
    assert (await socket_slack.client.get("/healthz")).status == 200


async def test_a_report_and_its_handling_over_socket_mode(socket_slack: SlackHarness) -> None:
    slack = socket_slack
    assert "Who is being targeted?" in text_of_calls(await socket_say(slack, "report"))
    for answer in [
        "me",
        "no",
        "Instagram",
        "skip",
        "yesterday 4pm",
        "Someone keeps posting my photo with cruel comments.",
    ]:
        await socket_say(slack, answer)
    shared = slack.fake.add_file("FS1", name="shot.png", data=png(), mimetype="image/png")
    assert "is saved as evidence" in text_of_calls(await socket_say(slack, "", files=[shared]))
    for answer in ["done", "unknown", "other"]:
        await socket_say(slack, answer)
    before = len(slack.posts_to(dm(SAM)))
    await socket_click(slack, SAM, "submit", dm(SAM))
    done = await slack.settle(dm(SAM), before)
    assert "Report sent: CB-2026-0001" in text_of_calls(done)

    await slack.deliver()
    card = slack.posts_to(SAFEGUARDING)[0]
    ack = next(b for b in buttons_of(card) if b["text"]["text"] == "Acknowledge")
    await socket_click(slack, DANA, ack["value"], SAFEGUARDING)
    confirmation = await slack.fake.wait_for("chat.postEphemeral")
    assert "You acknowledged CB-2026-0001" in json.dumps(confirmation[0].body)
    await slack.deliver()
    assert "Update on your report CB-2026-0001" in text_of_calls(slack.posts_to(dm(SAM))[-1:])


async def test_the_socket_closes_cleanly_on_shutdown(
    settings: Settings, clock: Clock, fake_slack: FakeSlack
) -> None:
    async with slack_harness(
        settings, clock, fake_slack, app_token=fake_slack.app_token
    ) as harness:
        await fake_slack.wait_for_socket_client()
        assert harness.runtime_app is not None
        assert SLACK in harness.runtime_app
    # Leaving the block ran the app's clean-up: nothing is left connected.
    with pytest.raises(AssertionError):
        await fake_slack.socket_send({"type": "event_callback"}, timeout=0.5)


async def test_turns_yield_while_a_socket_mode_request_is_answered(
    socket_slack: SlackHarness,
) -> None:
    """Over HTTP the route holds turns back while Slack's request is answered
    (dialogs.turn_slots); over the websocket Slack waits for its acknowledgement just the same."""
    slots = socket_slack.runtime.runner.inbox.turn_slots
    seen: list[int] = []
    admitting = slots.admitting

    def recorded() -> Any:
        seen.append(1)
        return admitting()

    slots.admitting = recorded  # type: ignore[method-assign]
    await socket_say(socket_slack, "report")
    assert seen

"""POST /slack/events with bad input: every kind of request Slack sends (events, button presses,
slash commands, view submissions, message shortcuts), forged, stale, replayed, oversized,
malformed or mislabelled. Each must get a clear 4xx and change nothing; a genuine delivery sent
twice must be acted on once.

What tests/channels/slack/test_slack_report.py already shows (a forged, stale or unsigned event
is 401; a retried event is acted on once) is extended here to the other kinds of request.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import io
import json
import time
from urllib.parse import urlencode

import pytest

from bot.channels.slack import ids
from bot.channels.slack.inbound import MAX_BODY_BYTES
from bot.channels.slack.modals import note_modal
from dialogs.home import START_REPORT
from storage.models import CaseEvent, Evidence
from tests.channels.slack.harness import SAFEGUARDING, SECRET, SlackHarness, button_press, dm
from tests.fakes.slack_api import signed_headers
from tests.security.support import Counts, changed, counts, file_case, rows

SAM, DANA = "U0SAM", "U0DANA"
FIVE_MINUTES = 5 * 60


# -- bodies of each kind, as Slack sends them ---------------------------------------------------


def event_body(text: str = "report", *, event_id: str = "EvSecurity1") -> str:
    return json.dumps(
        {
            "token": "unused",
            "team_id": "T0001",
            "api_app_id": "A0001",
            "type": "event_callback",
            "event_id": event_id,
            "event_time": int(time.time()),
            "event": {
                "type": "message",
                "channel": dm(SAM),
                "channel_type": "im",
                "user": SAM,
                "text": text,
                "ts": "1763724600.000100",
            },
        }
    )


def button_body() -> str:
    payload = button_press(SAM, START_REPORT, label="Report online abuse")
    payload["actions"][0]["action_ts"] = "1763724600.000200"
    return urlencode({"payload": json.dumps(payload)})


def command_body(text: str = "report") -> str:
    return urlencode(
        {
            "token": "unused",
            "team_id": "T0001",
            "team_domain": "example",
            "channel_id": "C123",
            "channel_name": "c123",
            "user_id": SAM,
            "user_name": "sam",
            "command": ids.SLASH_COMMAND,
            "text": text,
            "api_app_id": "A0001",
            "response_url": "https://hooks.slack.com/commands/T0001/1/x",
            "trigger_id": "trigger-security-1",
        }
    )


def view_body(reference: str, note: str = "Called the parent.") -> str:
    metadata = json.dumps({"reference": reference, "school": "oakfield", "channel": SAFEGUARDING})
    view = note_modal(reference, metadata)
    payload = {
        "type": "view_submission",
        "team": {"id": "T0001"},
        "user": {"id": DANA},
        "api_app_id": "A0001",
        "trigger_id": "trigger-security-2",
        "view": {
            "id": "VSECURITY1",
            "team_id": "T0001",
            **view,
            "state": {"values": {"text": {"value": {"type": "plain_text_input", "value": note}}}},
        },
    }
    return urlencode({"payload": json.dumps(payload)})


def shortcut_body() -> str:
    payload = {
        "type": "message_action",
        "token": "unused",
        "action_ts": "1763724600.000300",
        "team": {"id": "T0001", "domain": "example"},
        "user": {"id": SAM, "name": "sam"},
        "channel": {"id": "C0STAFFROOM", "name": "staffroom"},
        "callback_id": ids.REPORT_SHORTCUT,
        "trigger_id": "trigger-security-3",
        "message_ts": "1763724500.000100",
        "message": {
            "type": "message",
            "text": "you're a disgrace <@U0SAM>",
            "user": "U0TROLL",
            "ts": "1763724500.000100",
        },
        "response_url": "https://hooks.slack.com/app/T0001/1/x",
    }
    return urlencode({"payload": json.dumps(payload)})


def sign(body: str | bytes, *, secret: str = SECRET, timestamp: int | None = None) -> str:
    stamp = int(time.time()) if timestamp is None else timestamp
    raw = body.encode() if isinstance(body, str) else body
    base = f"v0:{stamp}:".encode() + raw
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


async def post(slack: SlackHarness, body: str | bytes, headers: dict[str, str]) -> tuple[int, str]:
    data = io.BytesIO(body.encode() if isinstance(body, str) else body)
    response = await slack.client.post(ids.EVENTS_PATH, data=data, headers=headers)
    return response.status, await response.text()


async def settle(slack: SlackHarness, quiet: float = 0.1) -> None:
    """Let Bolt's background listeners finish (they run after the 200 is sent): wait until no
    Slack call has been made for `quiet` seconds."""
    loop = asyncio.get_running_loop()
    count, since = len(slack.fake.calls), loop.time()
    while loop.time() - since < quiet:
        await asyncio.sleep(0.01)
        if len(slack.fake.calls) != count:
            count, since = len(slack.fake.calls), loop.time()


REPLIES = ("chat.postMessage", "chat.postEphemeral")


async def acted_on(slack: SlackHarness, before: Counts, calls: int) -> Counts:
    """Wait until a delivery (sent when there were `calls` Slack calls) has changed the database
    and its replies, which every kind of request here posts after its change, have gone out."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 10
    while not changed(before, await counts(slack.runtime)) or not any(
        call.method in REPLIES for call in slack.fake.calls[calls:]
    ):
        assert loop.time() < deadline, "the delivery was not acted on"
        await asyncio.sleep(0.01)
    await settle(slack, quiet=0.15)
    return await counts(slack.runtime)


# -- 1. signatures ----------------------------------------------------------------------------

# Refusals at the HTTP gate happen before any database is touched, so those tests run on SQLite
# only (it still counts the rows); everything that reaches storage runs on both databases.
GATE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

KINDS = ["event", "button press", "slash command", "view submission", "message shortcut"]


def _faults(body: str, content_type: str) -> list[tuple[str, dict[str, str]]]:
    now = int(time.time())
    stamp = {"Content-Type": content_type, "X-Slack-Request-Timestamp": str(now)}
    genuine = sign(body)

    def signed(signature: str) -> dict[str, str]:
        return {**stamp, "X-Slack-Signature": signature}

    def captured(at: int) -> dict[str, str]:
        """A genuine signature, replayed when its time is no longer now."""
        return {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": str(at),
            "X-Slack-Signature": sign(body, timestamp=at),
        }

    return [
        ("signed with another secret", signed(sign(body, secret="guessed"))),
        ("no signature headers", {"Content-Type": content_type}),
        ("no signature", stamp),
        ("no timestamp", {"Content-Type": content_type, "X-Slack-Signature": genuine}),
        ("signature of another body", signed(sign(body + "&x=1"))),
        ("v1 scheme", signed(genuine.replace("v0=", "v1="))),
        ("empty signature", signed("")),
        ("six minutes old", captured(now - FIVE_MINUTES - 60)),
        ("six minutes ahead", captured(now + FIVE_MINUTES + 60)),
    ]


async def _body_of(kind: str, slack: SlackHarness) -> str:
    if kind == "event":
        return event_body()
    if kind == "button press":
        return button_body()
    if kind == "slash command":
        return command_body()
    if kind == "message shortcut":
        return shortcut_body()
    return view_body(await file_case(slack.runtime))


@GATE_ONLY
@pytest.mark.parametrize("kind", KINDS)
async def test_a_slack_request_without_a_genuine_current_signature_gets_401_and_changes_nothing(
    slack: SlackHarness, kind: str
) -> None:
    body = await _body_of(kind, slack)
    content_type = "application/json" if kind == "event" else "application/x-www-form-urlencoded"
    before, calls = await counts(slack.runtime), len(slack.fake.calls)

    for fault, headers in _faults(body, content_type):
        status, answer = await post(slack, body, headers)
        assert (status, json.loads(answer)) == (401, {"error": "invalid request"}), fault

    await asyncio.sleep(0.05)
    assert changed(before, await counts(slack.runtime)) == {}
    assert len(slack.fake.calls) == calls  # nobody was messaged, nothing was opened
    # The same body, genuinely signed now, is acted on: the refusals above were the signature's.
    status, _ = await post(slack, body, signed_headers(body, SECRET))
    assert status == 200
    assert changed(before, await acted_on(slack, before, calls)) != {}


# -- 2. size, form and type ------------------------------------------------------------------


@GATE_ONLY
async def test_a_slack_request_over_the_limit_is_refused_with_413_before_anything_reads_it(
    slack: SlackHarness,
) -> None:
    body = event_body("x" * MAX_BODY_BYTES)
    before = await counts(slack.runtime)

    status, answer = await post(slack, body, signed_headers(body, SECRET))

    assert status == 413
    assert json.loads(answer) == {
        "error": f"Slack requests are at most {MAX_BODY_BYTES // 1024} KB"
    }
    await asyncio.sleep(0.05)
    assert changed(before, await counts(slack.runtime)) == {}
    assert slack.fake.calls_to("chat.postMessage") == []


def _stamped(body: str | bytes, content_type: str, *, signed: bool) -> dict[str, str]:
    headers = {"Content-Type": content_type, "X-Slack-Request-Timestamp": str(int(time.time()))}
    headers["X-Slack-Signature"] = sign(body) if signed else "v0=" + "0" * 64
    return headers


JSON, FORM = "application/json", "application/x-www-form-urlencoded"
UNREADABLE: list[tuple[str, str | bytes, str, bool]] = [
    # (case, body, content type, signed?)
    ("unsigned, not JSON", "{not json", JSON, False),
    ("signed, not JSON", "{not json", JSON, True),
    ("unsigned, not UTF-8", b'{"type": "\xff\xfe"}', JSON, False),
    ("signed, a JSON list", "[1, 2]", JSON, True),
    ("signed, form payload not JSON", "payload=not-json", FORM, True),
    ("unsigned, authorizations not a list", '{"authorizations": true}', JSON, False),
]


def _unreadable(case: str) -> tuple[str | bytes, dict[str, str]]:
    if case == "unsigned, timestamp not a number":
        headers = {"Content-Type": JSON, "X-Slack-Request-Timestamp": "soon"}
        return "{}", {**headers, "X-Slack-Signature": "v0=00"}
    [(body, content_type, signed)] = [(b, t, s) for c, b, t, s in UNREADABLE if c == case]
    return body, _stamped(body, content_type, signed=signed)


@GATE_ONLY
@pytest.mark.parametrize(
    "case", [case for case, *_ in UNREADABLE] + ["unsigned, timestamp not a number"]
)
async def test_a_slack_request_that_cannot_be_read_gets_a_clear_4xx_not_a_500(
    slack: SlackHarness, case: str
) -> None:
    body, headers = _unreadable(case)
    before = await counts(slack.runtime)

    status, answer = await post(slack, body, headers)

    await asyncio.sleep(0.05)
    assert changed(before, await counts(slack.runtime)) == {}
    assert slack.fake.calls_to("chat.postMessage") == []
    assert status in (400, 401), (status, answer)


@GATE_ONLY
@pytest.mark.parametrize(
    ("body", "content_type"),
    [(event_body(), "text/plain"), (command_body(), "application/json")],
    ids=["event as text/plain", "slash command as application/json"],
)
async def test_a_signed_slack_request_with_the_wrong_content_type_gets_415_and_changes_nothing(
    slack: SlackHarness, body: str, content_type: str
) -> None:
    before = await counts(slack.runtime)

    status, _ = await post(
        slack, body, {**signed_headers(body, SECRET), "Content-Type": content_type}
    )

    await settle(slack)
    assert changed(before, await counts(slack.runtime)) == {}
    assert slack.fake.calls_to("chat.postMessage") == []
    assert status == 415


# -- 3. the same genuine delivery twice ----------------------------------------------------------


async def _twice(slack: SlackHarness, body: str) -> tuple[Counts, Counts, list[str]]:
    """Deliver a signed body, let it be handled, deliver it again; returns what the first and
    the second delivery changed, and the Slack calls the second one made."""
    before, calls = await counts(slack.runtime), len(slack.fake.calls)
    status, _ = await post(slack, body, signed_headers(body, SECRET))
    assert status == 200
    first = await acted_on(slack, before, calls)
    calls = len(slack.fake.calls)
    status, _ = await post(slack, body, signed_headers(body, SECRET))
    assert status == 200
    await asyncio.sleep(0.05)
    await settle(slack)
    again = [call.method for call in slack.fake.calls[calls:]]
    return changed(before, first), changed(first, await counts(slack.runtime)), again


async def test_a_button_press_delivered_twice_is_acted_on_once(slack: SlackHarness) -> None:
    first, second, calls = await _twice(slack, button_body())

    assert first["processed_event"] == 1
    assert first["conversation"] == 1
    assert second == {}
    # The second press may only take the (already removed) buttons off the message again.
    assert calls in ([], ["chat.update"])
    intros = [p for p in slack.posts_to(dm(SAM)) if "Who is being targeted?" in json.dumps(p.body)]
    assert len(intros) == 1


async def test_a_slash_command_delivered_twice_is_acted_on_once(slack: SlackHarness) -> None:
    first, second, _ = await _twice(slack, command_body())

    assert first["processed_event"] == 1
    assert second == {}
    intros = [p for p in slack.posts_to(dm(SAM)) if "Who is being targeted?" in json.dumps(p.body)]
    assert len(intros) == 1


async def test_a_message_shortcut_delivered_twice_keeps_the_flagged_message_once(
    slack: SlackHarness,
) -> None:
    first, second, _ = await _twice(slack, shortcut_body())

    assert first["evidence"] == 1
    assert second == {}
    assert len(await rows(slack.runtime, Evidence)) == 1


async def test_a_view_submission_delivered_twice_adds_the_note_once(slack: SlackHarness) -> None:
    reference = await file_case(slack.runtime)

    first, second, _ = await _twice(slack, view_body(reference))

    assert first["case_event"] == 1
    notes = [e.text for e in await rows(slack.runtime, CaseEvent) if e.kind == "note"]
    assert notes == ["Called the parent."]
    assert second == {}


async def test_an_event_retried_with_a_fresh_signature_is_acted_on_once(
    slack: SlackHarness,
) -> None:
    """Slack retries with the same event_id, a new timestamp and X-Slack-Retry-Num."""
    body = event_body(event_id="EvRetried1")
    before, calls = await counts(slack.runtime), len(slack.fake.calls)
    assert (await post(slack, body, signed_headers(body, SECRET)))[0] == 200
    first = await acted_on(slack, before, calls)
    retry = {
        **signed_headers(body, SECRET, timestamp=int(time.time()) + 2),
        "X-Slack-Retry-Num": "1",
        "X-Slack-Retry-Reason": "http_timeout",
    }
    assert (await post(slack, body, retry))[0] == 200
    await settle(slack)

    assert changed(before, first)["processed_event"] == 1
    assert changed(first, await counts(slack.runtime)) == {}

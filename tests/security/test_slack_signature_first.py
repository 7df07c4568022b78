"""POST /slack/events reads nothing a stranger sent until Slack's signature says it is Slack's.

Anyone can send the endpoint a body. Before the signature and its timestamp are checked, the
body is only counted and hashed: no JSON is decoded and no form is split, however the body is
built (deeply nested, huge, or a form wrapping JSON). The body's size is capped before it is
read (bot.channels.slack.inbound), while the largest requests Slack genuinely sends still
pass: a flagged 40,000-character message in a non-Latin script.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
import urllib.parse
from collections.abc import AsyncIterator, Callable
from typing import Any
from urllib.parse import urlencode

import pytest

from bot.channels.slack import ids
from bot.channels.slack.inbound import MAX_BODY_BYTES
from storage.models import Evidence
from tests.channels.slack.harness import SECRET, SlackHarness, dm
from tests.fakes.slack_api import signed_headers
from tests.security.support import changed, counts, rows
from tests.security.test_slack_endpoint_bad_input import event_body, post, sign

GATE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
JSON, FORM = "application/json", "application/x-www-form-urlencoded"
MARK = "stranger-body-7f3a"


class Parsed:
    """Every text handed to the JSON decoder or the form parser while a test runs, wherever in
    the process the call comes from (our code, Bolt, the standard library)."""

    def __init__(self) -> None:
        self.texts: list[str] = []

    def saw(self, mark: str) -> bool:
        return any(mark in text for text in self.texts)


@pytest.fixture
def parsed(monkeypatch: pytest.MonkeyPatch) -> Parsed:
    seen = Parsed()
    decode = json.JSONDecoder.raw_decode
    split = urllib.parse.parse_qsl

    def raw_decode(self: json.JSONDecoder, s: str, *args: Any, **kwargs: Any) -> Any:
        seen.texts.append(s)
        return decode(self, s, *args, **kwargs)

    def parse_qsl(qs: Any, *args: Any, **kwargs: Any) -> Any:
        seen.texts.append(qs.decode(errors="replace") if isinstance(qs, bytes) else str(qs))
        return split(qs, *args, **kwargs)

    monkeypatch.setattr(json.JSONDecoder, "raw_decode", raw_decode)
    # `from urllib.parse import parse_qsl` binds the function in each module that does it.
    for module in [urllib.parse, *sys.modules.values()]:
        if getattr(module, "parse_qsl", None) is split:
            monkeypatch.setattr(module, "parse_qsl", parse_qsl)
    return seen


def deep_json() -> str:
    """Half a megabyte of nesting: costly to decode, and a RecursionError for a naive parser."""
    depth = 250_000
    return (
        '{"type": "event_callback", "note": "' + MARK + '", "x": ' + "[" * depth + "]" * depth + "}"
    )


def many_numbers() -> str:
    return json.dumps({"type": "event_callback", "note": MARK, "x": list(range(100_000))})


def form_wrapping_json() -> str:
    payload = {"type": "block_actions", "note": MARK, "actions": [{"value": "x"}] * 5_000}
    return urlencode({"payload": json.dumps(payload)})


STRANGERS: list[tuple[str, Callable[[], str], str]] = [
    ("deeply nested JSON", deep_json, JSON),
    ("a hundred thousand numbers", many_numbers, JSON),
    ("a form wrapping JSON", form_wrapping_json, FORM),
]


def forged(body: str, content_type: str) -> list[tuple[str, dict[str, str]]]:
    now = int(time.time())
    stale = now - 6 * 60
    return [
        ("unsigned", {"Content-Type": content_type}),
        (
            "signed with a guessed secret",
            {
                "Content-Type": content_type,
                "X-Slack-Request-Timestamp": str(now),
                "X-Slack-Signature": sign(body, secret="guessed"),
            },
        ),
        (
            "a genuine signature six minutes old",
            {
                "Content-Type": content_type,
                "X-Slack-Request-Timestamp": str(stale),
                "X-Slack-Signature": sign(body, timestamp=stale),
            },
        ),
    ]


@GATE_ONLY
@pytest.mark.parametrize(("kind", "make", "content_type"), STRANGERS, ids=[s[0] for s in STRANGERS])
async def test_a_request_slack_did_not_sign_is_refused_without_its_body_being_parsed(
    slack: SlackHarness, parsed: Parsed, kind: str, make: Callable[[], str], content_type: str
) -> None:
    body = make()
    assert len(body) < MAX_BODY_BYTES, kind  # refused for its signature, not its size
    before = await counts(slack.runtime)

    for fault, headers in forged(body, content_type):
        status, answer = await post(slack, body, headers)
        assert (status, json.loads(answer)) == (401, {"error": "invalid request"}), fault
        assert not parsed.saw(MARK), f"{kind}, {fault}: parsed before its signature was checked"

    assert changed(before, await counts(slack.runtime)) == {}
    assert slack.fake.calls_to("chat.postMessage") == []


@GATE_ONLY
async def test_a_signed_request_is_still_parsed_and_answered(
    slack: SlackHarness, parsed: Parsed
) -> None:
    body = event_body(f"report {MARK}", event_id="EvSignedStill1")

    status, _ = await post(slack, body, signed_headers(body, SECRET))

    assert status == 200
    assert parsed.saw(MARK)  # the recorder above does see what is parsed
    await slack.wait_posts(dm("U0SAM"), 1)


@GATE_ONLY
async def test_slacks_certificate_check_is_answered_unsigned_and_nothing_else_is(
    slack: SlackHarness, parsed: Parsed
) -> None:
    """Slack checks the certificate with a short unsigned form; the same words in a larger
    body, or as JSON, are just an unsigned request."""
    check = {"Content-Type": FORM}
    status, answer = await post(slack, "ssl_check=1&token=legacy-verification-token", check)
    assert (status, answer) == (200, "")

    padded = "ssl_check=1&token=x&note=" + MARK + "&pad=" + "x" * 1000
    status, _ = await post(slack, padded, check)
    assert status == 401
    assert not parsed.saw(MARK)
    status, _ = await post(slack, '{"ssl_check": "1"}', {"Content-Type": JSON})
    assert status == 401
    assert slack.fake.calls_to("chat.postMessage") == []


# -- the size cap -------------------------------------------------------------------------------


async def _raw_request(slack: SlackHarness, head: str, first: bytes) -> bytes:
    """Send a request's head and the start of its body over a plain socket, and read the status
    line of whatever the server answers, without ever sending the rest."""
    server = slack.client.server
    reader, writer = await asyncio.open_connection(server.host, server.port)
    try:
        writer.write(head.encode() + first)
        await writer.drain()
        return await asyncio.wait_for(reader.readline(), timeout=30)
    finally:
        writer.close()


@GATE_ONLY
async def test_a_body_declared_over_the_limit_gets_413_before_it_is_read(
    slack: SlackHarness, parsed: Parsed
) -> None:
    declared = 50 * 1024 * 1024
    head = (
        f"POST {ids.EVENTS_PATH} HTTP/1.1\r\nHost: slack.test\r\nContent-Type: {JSON}\r\n"
        f"Content-Length: {declared}\r\nX-Slack-Request-Timestamp: {int(time.time())}\r\n"
        "X-Slack-Signature: v0=" + "0" * 64 + "\r\n\r\n"
    )

    # Only 64 KB of the 50 MB are ever sent: the answer cannot wait for the rest.
    status_line = await _raw_request(
        slack, head, b'{"note": "' + MARK.encode() + b'"' + b" " * 65_536
    )

    assert status_line.startswith(b"HTTP/1.1 413"), status_line
    assert not parsed.saw(MARK)


async def _chunks(body: bytes, size: int = 64 * 1024) -> AsyncIterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start : start + size]


@GATE_ONLY
@pytest.mark.parametrize("signed", [False, True], ids=["unsigned", "signed"])
async def test_a_body_over_the_limit_without_a_length_gets_413_and_changes_nothing(
    slack: SlackHarness, parsed: Parsed, signed: bool
) -> None:
    text = "x" * MAX_BODY_BYTES + MARK
    body = event_body(text).encode()
    headers = signed_headers(body.decode(), SECRET if signed else "guessed")
    before = await counts(slack.runtime)

    # Sent in pieces without a Content-Length (chunked), so only counting what arrives can tell.
    response = await slack.client.post(ids.EVENTS_PATH, data=_chunks(body), headers=headers)
    answer = await response.json()

    assert response.status == 413
    assert answer == {"error": f"Slack requests are at most {MAX_BODY_BYTES // 1024} KB"}
    assert not parsed.saw(MARK)
    assert changed(before, await counts(slack.runtime)) == {}


async def test_the_largest_message_slack_lets_someone_flag_is_within_the_limit(
    slack: SlackHarness,
) -> None:
    """40,000 characters (the most a Slack message holds) in Arabic script, in its text and its
    rich-text block, escaped as Slack escapes it and form-encoded: about 640 KB."""
    words = "\u0639" * 40_000
    message: dict[str, Any] = {
        "text": words,
        "user": "U0TROLL",
        "ts": "1700000000.000100",
        "blocks": [
            {
                "type": "rich_text",
                "block_id": "r1",
                "elements": [
                    {"type": "rich_text_section", "elements": [{"type": "text", "text": words}]}
                ],
            }
        ],
    }
    channel = {"id": "C0STAFFROOM", "name": "staffroom"}

    status = await slack.flag_message("U0SAM", message, channel, ids.REPORT_SHORTCUT)

    assert status == 200
    await slack.wait_posts(dm("U0SAM"), 1, timeout=15)
    [kept] = await rows(slack.runtime, Evidence)
    assert kept.media_type == "application/json"

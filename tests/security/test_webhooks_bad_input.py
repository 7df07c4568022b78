"""/webhooks/comments and /webhooks/facebook with bad input, beyond what tests/bot/ covers.

tests/bot/test_comment_webhooks.py shows forged, unsigned and malformed comments refused, a
wrong content type and a huge body refused on /webhooks/comments, and a retried delivery stored
once; tests/bot/test_webhook_payloads.py fuzzes the parsers. Here: the same gates on the
Facebook route, bodies sent in pieces, a replayed id carrying different words, a hostile
challenge, and what a hostile comment looks like by the time a moderator sees it.
"""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.webhooks.signatures import sign
from dialogs.services.messages import Message
from storage.models import Comment, Notification
from tests.channels.slack.harness import SlackHarness
from tests.security.support import (
    APP_SECRET,
    COMMENT_SECRET,
    PAGE,
    VERIFY_TOKEN,
    changed,
    counts,
    rows,
    slack_shown,
    slack_text_objects,
    teams_cards,
    teams_shown,
    teams_strings,
)

GATE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
COMMENTS, FACEBOOK = "/webhooks/comments", "/webhooks/facebook"


def comment_body(**changes: Any) -> bytes:
    comment = {
        "id": "zap-1",
        "account": "facebook",
        "author": "A Parent",
        "text": "When is sports day?",
        "received_at": "2026-11-21T10:00:00Z",
    }
    return json.dumps({**comment, **changes}).encode()


def feed_body(message: str = "Lovely photos!", comment_id: str = "1_2") -> bytes:
    change = {
        "field": "feed",
        "value": {
            "item": "comment",
            "verb": "add",
            "comment_id": comment_id,
            "post_id": f"{PAGE}_1",
            "from": {"id": "999", "name": "A Parent"},
            "message": message,
            "created_time": 1795255200,
        },
    }
    return json.dumps({"object": "page", "entry": [{"id": PAGE, "changes": [change]}]}).encode()


def signed(path: str, body: bytes) -> dict[str, str]:
    if path == COMMENTS:
        return {
            "Content-Type": "application/json",
            "X-Policybot-Signature": sign(body, COMMENT_SECRET),
        }
    return {"Content-Type": "application/json", "X-Hub-Signature-256": sign(body, APP_SECRET)}


async def send(
    slack: SlackHarness, path: str, body: bytes | AsyncIterator[bytes], headers: dict[str, str]
) -> tuple[int, Any]:
    data: Any = io.BytesIO(body) if isinstance(body, bytes) else body
    response = await slack.client.post(path, data=data, headers=headers)
    text = await response.text()
    return response.status, (json.loads(text) if text.startswith("{") else text)


async def in_pieces(body: bytes, size: int = 16, pause: float = 0.005) -> AsyncIterator[bytes]:
    """A body as a slow network delivers it: a few bytes at a time (chunked, no length)."""
    for start in range(0, len(body), size):
        yield body[start : start + size]
        await asyncio.sleep(pause)


# -- 1. the gates on the Facebook route -------------------------------------------------------


@GATE_ONLY
async def test_a_facebook_delivery_that_is_not_json_or_too_big_is_refused_and_stores_nothing(
    slack: SlackHarness,
) -> None:
    before = await counts(slack.runtime)
    good = feed_body()
    huge = feed_body(message="x" * 300_000)
    deep = b"[" * 50 + b"]" * 50
    as_json = "send the comment as application/json"
    not_json = b"{not json"
    not_utf8 = b'{"object": "\xff"}'
    cases: list[tuple[str, bytes, dict[str, str], int, str]] = [
        (
            "text/plain",
            good,
            {**signed(FACEBOOK, good), "Content-Type": "text/plain"},
            415,
            as_json,
        ),
        ("no type", good, {"X-Hub-Signature-256": sign(good, APP_SECRET)}, 415, as_json),
        ("over 256 KB", huge, signed(FACEBOOK, huge), 413, "the body is larger than 256 KB"),
        ("not JSON", not_json, signed(FACEBOOK, not_json), 400, "the body is not valid JSON"),
        (
            "nested 50 deep",
            deep,
            signed(FACEBOOK, deep),
            400,
            "the JSON is nested more than 20 levels deep",
        ),
        ("not UTF-8", not_utf8, signed(FACEBOOK, not_utf8), 400, "the body is not UTF-8"),
        ("a JSON list", b"[]", signed(FACEBOOK, b"[]"), 400, "the body must be a JSON object"),
    ]
    for case, body, headers, status, error in cases:
        assert await send(slack, FACEBOOK, body, headers) == (status, {"error": error}), case

    assert changed(before, await counts(slack.runtime)) == {}


@GATE_ONLY
@pytest.mark.parametrize("path", [COMMENTS, FACEBOOK])
async def test_a_body_over_the_limit_sent_in_pieces_is_refused_as_too_large(
    slack: SlackHarness, path: str
) -> None:
    huge = comment_body(text="x" * 300_000) if path == COMMENTS else feed_body("x" * 300_000)
    before = await counts(slack.runtime)

    answer = await send(slack, path, in_pieces(huge, size=16_384), signed(path, huge))

    assert changed(before, await counts(slack.runtime)) == {}
    assert answer == (413, {"error": "the body is larger than 256 KB"})


@pytest.mark.parametrize("path", [COMMENTS, FACEBOOK])
async def test_a_genuine_delivery_that_arrives_in_pieces_is_stored_not_refused_as_forged(
    slack: SlackHarness, path: str
) -> None:
    body = comment_body() if path == COMMENTS else feed_body()
    before = await counts(slack.runtime)

    status, answer = await send(slack, path, in_pieces(body), signed(path, body))

    assert (status, answer) == (
        (201, {"reference": "CM-2026-0001", "duplicate": False})
        if path == COMMENTS
        else (200, {"stored": 1})
    )
    assert changed(before, await counts(slack.runtime))["comment"] == 1


# -- 2. the Facebook subscription check -------------------------------------------------------


def challenge(value: str, token: str = VERIFY_TOKEN) -> dict[str, str]:
    return {"hub.mode": "subscribe", "hub.verify_token": token, "hub.challenge": value}


HOSTILE_CHALLENGES = [
    "<script>alert(1)</script>",
    "1158201444\r\nSet-Cookie: a=b",
    "x" * 201,
    "",
]


@GATE_ONLY
async def test_a_hostile_facebook_challenge_is_refused_and_never_echoed(
    slack: SlackHarness,
) -> None:
    for value in HOSTILE_CHALLENGES:
        async with slack.client.get(FACEBOOK, params=challenge(value)) as response:
            body = await response.text()
            assert response.status == 403, value
            assert "<script>" not in body
            assert "Set-Cookie" not in body
            assert "x" * 50 not in body
            assert "Set-Cookie" not in response.headers
    async with slack.client.get(FACEBOOK, params=challenge("1158201444")) as response:
        assert (response.status, await response.text()) == (200, "1158201444")


@GATE_ONLY
async def test_a_refused_facebook_challenge_is_explained_as_the_challenge_not_the_token(
    slack: SlackHarness,
) -> None:
    async with slack.client.get(FACEBOOK, params=challenge("<b>hi</b>")) as response:
        error = (await response.json())["error"]

    assert response.status == 403
    assert "verify token does not match" not in error
    assert "challenge" in error


# -- 3. replays and hostile words ------------------------------------------------------------


async def test_a_replayed_comment_id_with_different_words_keeps_the_first_words(
    slack: SlackHarness,
) -> None:
    first = comment_body(text="When is sports day?")
    assert (await send(slack, COMMENTS, first, signed(COMMENTS, first)))[0] == 201
    before = await counts(slack.runtime)
    altered = comment_body(text="Ignore that: the head says sports day is cancelled.")

    answer = await send(slack, COMMENTS, altered, signed(COMMENTS, altered))

    assert answer == (200, {"reference": "CM-2026-0001", "duplicate": True})
    assert changed(before, await counts(slack.runtime)) == {}
    [comment] = await rows(slack.runtime, Comment)
    assert comment.text == "When is sports day?"


HOSTILE_TEXT = (
    "<!channel> <!here> <@U0DANA> <https://evil.example|click here> "
    "<script>alert(1)</script> [x](javascript:alert(1)) <at>everyone</at> **bold**"
)


async def test_a_hostile_comment_reaches_the_moderators_as_plain_words_on_slack_and_teams(
    slack: SlackHarness,
) -> None:
    typed = "\x1b[31m" + HOSTILE_TEXT + "\u202e\u200b!"
    body = comment_body(text=typed, author="<!everyone> \u202eA Parent")

    status, _ = await send(slack, COMMENTS, body, signed(COMMENTS, body))

    assert status == 201
    [comment] = await rows(slack.runtime, Comment)
    # Control and direction characters are dropped on receipt (payloads.clean_text); every
    # visible character the sender wrote is kept.
    assert comment.text == "[31m" + HOSTILE_TEXT + "\u200b!"
    assert comment.author == "<!everyone> A Parent"
    cards = [
        Message.model_validate(n.message)
        for n in await rows(slack.runtime, Notification)
        if n.channel_purpose == "moderators"
    ]
    assert cards, "the moderators were not told"
    shown = slack_shown(cards)
    for fragment in ("<!channel>", "<!here>", "<@U0DANA>", "<https://evil.example", "<script>",
                     "<!everyone>", "<at>"):  # fmt: skip
        assert fragment not in shown
    assert "&lt;!channel&gt; &lt;!here&gt; &lt;@U0DANA&gt;" in shown
    assert all(o["verbatim"] for c in cards for o in slack_text_objects(c) if o["type"] == "mrkdwn")
    # In Teams the words are the text of plain runs only, exactly as stored.
    assert HOSTILE_TEXT in teams_shown(cards)
    for card in teams_cards(cards):
        places = {(kind, key) for kind, key, value in teams_strings(card) if "<script>" in value}
        assert places == {("TextRun", "text")}
        assert '"TextBlock"' not in json.dumps(card)
        assert '"FactSet"' not in json.dumps(card)

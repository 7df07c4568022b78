"""The comment webhooks over real HTTP: signed comments are stored once; anything forged,
unsigned or malformed is refused and stores nothing."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlmodel import select

from bot.app import create_app
from bot.config import Settings, WebhookSettings
from bot.runtime import build_runtime
from bot.webhooks.signatures import sign
from storage.models import Comment, Notification
from tests.conftest import Clock

SECRET = "a-long-enough-secret-for-oakfield"
APP_SECRET = "meta-app-secret-0123456789"
VERIFY_TOKEN = "verify-me-please"
PAGE = "100000000000001"
COMMENT = {
    "id": "zap-123",
    "account": "facebook",
    "author": "A Parent",
    "text": "When is sports day?",
    "link": "https://facebook.com/oakfield/posts/1?comment_id=2",
    "received_at": "2026-11-21T10:00:00Z",
}


@dataclasses.dataclass
class Server:
    client: TestClient  # type: ignore[type-arg]
    settings: Settings

    async def comments(self) -> list[Comment]:
        runtime = build_runtime(self.settings)
        try:
            async with runtime.db.session() as session:
                return list((await session.execute(select(Comment))).scalars().all())
        finally:
            await runtime.close()

    async def cards(self) -> int:
        runtime = build_runtime(self.settings)
        try:
            async with runtime.db.session() as session:
                return len((await session.execute(select(Notification))).scalars().all())
        finally:
            await runtime.close()

    async def post(
        self, path: str, body: bytes, headers: dict[str, str] | None = None
    ) -> tuple[int, Any]:
        sent = {"Content-Type": "application/json", **(headers or {})}
        async with self.client.post(path, data=body, headers=sent) as response:
            text = await response.text()
            return response.status, (json.loads(text) if text.startswith("{") else text)


@pytest.fixture
async def server(settings: Settings, clock: Clock) -> AsyncIterator[Server]:
    configured = dataclasses.replace(
        settings,
        webhooks=WebhookSettings(
            comment_secrets={"oakfield": SECRET},
            facebook_app_secret=APP_SECRET,
            facebook_verify_token=VERIFY_TOKEN,
        ),
    )
    app = create_app(build_runtime(configured, clock=clock), run_jobs=False)
    async with TestClient(TestServer(app)) as client:
        yield Server(client, configured)


def body_of(**changes: Any) -> bytes:
    return json.dumps({**COMMENT, **changes}).encode()


async def test_a_signed_comment_is_stored_once_however_often_it_is_sent(server: Server) -> None:
    body = body_of()
    status, answer = await server.post(
        "/webhooks/comments", body, {"X-Policybot-Signature": sign(body, SECRET)}
    )
    assert (status, answer) == (201, {"reference": "CM-2026-0001", "duplicate": False})
    status, answer = await server.post(
        "/webhooks/comments", body, {"X-Policybot-Signature": sign(body, SECRET)}
    )
    assert (status, answer) == (200, {"reference": "CM-2026-0001", "duplicate": True})
    [comment] = await server.comments()
    assert (comment.account_id, comment.author, comment.text) == (
        "facebook",
        "A Parent",
        "When is sports day?",
    )
    assert await server.cards() == 1


@pytest.mark.parametrize(
    "signature",
    [
        None,
        "",
        "sha256=",
        sign(b"another body", SECRET),
        sign(body_of(), "the-wrong-secret-entirely"),
        sign(body_of(), SECRET).replace("sha256=", "sha1="),
    ],
)
async def test_an_unsigned_or_forged_comment_is_refused_and_nothing_is_stored(
    server: Server, signature: str | None
) -> None:
    headers = {"X-Policybot-Signature": signature} if signature is not None else {}
    status, answer = await server.post("/webhooks/comments", body_of(), headers)
    assert status == 401
    assert "does not match" in answer["error"]
    assert await server.comments() == []
    assert await server.cards() == 0


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"{not json", 400),
        (json.dumps({**COMMENT, "text": ""}).encode(), 400),
        (json.dumps({**COMMENT, "link": "javascript:alert(1)"}).encode(), 400),
        (json.dumps({**COMMENT, "account": "tiktok"}).encode(), 400),  # not one of ours
        (json.dumps([COMMENT]).encode(), 400),
    ],
)
async def test_a_signed_but_malformed_comment_is_refused_and_nothing_is_stored(
    server: Server, body: bytes, expected: int
) -> None:
    status, answer = await server.post(
        "/webhooks/comments", body, {"X-Policybot-Signature": sign(body, SECRET)}
    )
    assert status == expected
    assert answer["error"]
    assert "alert" not in answer["error"]  # nothing the sender wrote is echoed back
    assert await server.comments() == []


async def test_the_wrong_content_type_or_a_huge_body_is_refused(server: Server) -> None:
    body = body_of()
    signed = {"X-Policybot-Signature": sign(body, SECRET)}
    status, _ = await server.post(
        "/webhooks/comments", body, {**signed, "Content-Type": "text/plain"}
    )
    assert status == 415
    huge = body_of(text="x" * 300_000)
    status, _ = await server.post(
        "/webhooks/comments", huge, {"X-Policybot-Signature": sign(huge, SECRET)}
    )
    assert status == 413
    assert await server.comments() == []


async def test_facebook_checks_the_webhook_with_the_verify_token(server: Server) -> None:
    query = {
        "hub.mode": "subscribe",
        "hub.verify_token": VERIFY_TOKEN,
        "hub.challenge": "1158201444",
    }
    async with server.client.get("/webhooks/facebook", params=query) as response:
        assert (response.status, await response.text()) == (200, "1158201444")
    query["hub.verify_token"] = "guessed"
    async with server.client.get("/webhooks/facebook", params=query) as response:
        assert response.status == 403


def feed(*changes: dict[str, Any], page: str = PAGE) -> bytes:
    return json.dumps(
        {"object": "page", "entry": [{"id": page, "time": 1795255200, "changes": list(changes)}]}
    ).encode()


def comment_change(comment_id: str, message: str, sender: str = "999") -> dict[str, Any]:
    return {
        "field": "feed",
        "value": {
            "item": "comment",
            "verb": "add",
            "comment_id": comment_id,
            "post_id": f"{PAGE}_1",
            "parent_id": f"{PAGE}_1",
            "from": {"id": sender, "name": "A Parent"},
            "message": message,
            "created_time": 1795255200,
        },
    }


async def test_facebook_comments_are_stored_for_the_page_s_account(server: Server) -> None:
    like = {"field": "feed", "value": {"item": "reaction", "verb": "add", "post_id": "1_1"}}
    body = feed(
        comment_change("1_2", "Lovely photos!"),
        like,
        comment_change("1_3", "Thanks all", sender=PAGE),  # the page answering itself
    )
    status, answer = await server.post(
        "/webhooks/facebook", body, {"X-Hub-Signature-256": sign(body, APP_SECRET)}
    )
    assert (status, answer) == (200, {"stored": 1})
    [comment] = await server.comments()
    assert (comment.account_id, comment.source, comment.external_id, comment.text) == (
        "facebook",
        "facebook",
        "1_2",
        "Lovely photos!",
    )
    # Facebook retries what it thinks failed: the same delivery changes nothing.
    status, answer = await server.post(
        "/webhooks/facebook", body, {"X-Hub-Signature-256": sign(body, APP_SECRET)}
    )
    assert (status, answer) == (200, {"stored": 0})
    assert len(await server.comments()) == 1


async def test_a_forged_facebook_delivery_is_refused(server: Server) -> None:
    body = feed(comment_change("1_2", "Lovely photos!"))
    for headers in ({}, {"X-Hub-Signature-256": sign(body, "not-the-app-secret")}):
        status, _ = await server.post("/webhooks/facebook", body, headers)
        assert status == 401
    assert await server.comments() == []


async def test_a_page_this_server_does_not_know_is_acknowledged_but_not_stored(
    server: Server,
) -> None:
    body = feed(comment_change("9_2", "Hello"), page="555")
    status, answer = await server.post(
        "/webhooks/facebook", body, {"X-Hub-Signature-256": sign(body, APP_SECRET)}
    )
    assert (status, answer) == (200, {"stored": 0})
    assert await server.comments() == []


async def test_without_secrets_the_webhooks_are_not_there(settings: Settings, clock: Clock) -> None:
    app = create_app(build_runtime(settings, clock=clock), run_jobs=False)
    async with TestClient(TestServer(app)) as client:
        body = body_of()
        headers = {"Content-Type": "application/json", "X-Policybot-Signature": sign(body, SECRET)}
        async with client.post("/webhooks/comments", data=body, headers=headers) as response:
            assert response.status == 404
        async with client.get("/webhooks/facebook") as response:
            assert response.status == 404

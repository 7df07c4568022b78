"""FakeSlack against the real slack_sdk clients.

The fake is only worth having if slack_sdk, as the app uses it, cannot tell it from Slack: these
tests drive it with AsyncWebClient and the aiohttp SocketModeClient rather than hand-built
requests, so a change in how slack_sdk talks to Slack shows up here first.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.signature import SignatureVerifier
from slack_sdk.socket_mode.aiohttp import SocketModeClient
from slack_sdk.socket_mode.async_client import AsyncBaseSocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse
from slack_sdk.web.async_client import AsyncWebClient

from tests.fakes.slack_api import FakeSlack, signed_headers

BLOCKS: list[dict[str, Any]] = [
    {"type": "section", "text": {"type": "mrkdwn", "text": "*Report received*"}},
    {"type": "actions", "elements": [{"type": "button", "action_id": "ok", "text": {}}]},
]


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as server:
        yield server


def client_for(fake: FakeSlack, token: str | None = None) -> AsyncWebClient:
    return AsyncWebClient(token=token or fake.bot_token, base_url=fake.base_url)


async def test_post_message_records_blocks_and_answers_like_slack(fake: FakeSlack) -> None:
    client = client_for(fake)

    first = await client.chat_postMessage(channel="C123", text="hello", blocks=BLOCKS)
    second = await client.chat_postMessage(channel="U42", text="in a DM", thread_ts=first["ts"])

    assert first["channel"] == "C123"
    assert first["ts"] == "1700000000.000100"
    assert first["message"]["blocks"] == BLOCKS
    assert second["channel"] == "D" + "U42"
    assert second["ts"] > first["ts"]
    [call, _] = fake.calls_to("chat.postMessage")
    assert call.body["blocks"] == BLOCKS
    assert call.body["text"] == "hello"
    assert call.headers["Authorization"] == f"Bearer {fake.bot_token}"


async def test_form_and_query_parameters_are_decoded(fake: FakeSlack) -> None:
    client = client_for(fake)

    await client.api_call(
        "chat.postMessage",
        data={"channel": "C1", "text": "form", "blocks": json.dumps(BLOCKS)},
    )
    user = await client.users_info(user="U42")
    permalink = await client.chat_getPermalink(channel="C1", message_ts="1700000000.000100")

    [form_call] = fake.calls_to("chat.postMessage")
    assert form_call.headers["Content-Type"].startswith("application/x-www-form-urlencoded")
    assert form_call.body == {"channel": "C1", "text": "form", "blocks": BLOCKS}
    assert fake.calls_to("users.info")[0].body["user"] == "U42"
    assert user["user"]["id"] == "U42"
    assert user["user"]["profile"]["real_name"] == user["user"]["real_name"]
    assert permalink["permalink"] == "https://example.slack.com/archives/C1/p1700000000000100"


async def test_views_and_conversations(fake: FakeSlack) -> None:
    client = client_for(fake)
    view = {"type": "modal", "title": {"type": "plain_text", "text": "Report"}, "blocks": BLOCKS}

    opened = await client.views_open(trigger_id="123.456", view=view)
    updated = await client.views_update(view_id=opened["view"]["id"], view=view)
    published = await client.views_publish(user_id="U42", view={"type": "home", "blocks": []})
    dm = await client.conversations_open(users="U42")
    info = await client.conversations_info(channel=dm["channel"]["id"])

    assert opened["view"]["id"].startswith("V")
    assert opened["view"]["blocks"] == BLOCKS
    assert updated["view"]["id"] == opened["view"]["id"]
    assert published["view"]["type"] == "home"
    assert fake.calls_to("views.open")[0].body["view"] == view
    assert dm["channel"]["id"] == "DU42"
    assert info["channel"]["is_im"] is True


async def test_wrong_token_is_invalid_auth(fake: FakeSlack) -> None:
    with pytest.raises(SlackApiError) as wrong:
        await client_for(fake, token="xoxb-wrong").auth_test()
    with pytest.raises(SlackApiError) as bot_token_for_socket:
        await client_for(fake).apps_connections_open(app_token=fake.bot_token)

    assert wrong.value.response["error"] == "invalid_auth"
    assert bot_token_for_socket.value.response["error"] == "invalid_auth"
    assert [call.method for call in fake.calls] == ["auth.test", "apps.connections.open"]
    assert (await client_for(fake).auth_test())["user_id"] == "UBOT"


async def test_rate_limit_is_retried_after_retry_after(fake: FakeSlack) -> None:
    client = AsyncWebClient(
        token=fake.bot_token,
        base_url=fake.base_url,
        retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=1)],
    )
    fake.fail_next("chat.postMessage", status=429, retry_after=1)

    started = time.monotonic()
    response = await client.chat_postMessage(channel="C1", text="hello")

    assert response["ok"] is True
    assert len(fake.calls_to("chat.postMessage")) == 2
    assert time.monotonic() - started >= 1


async def test_fail_next_with_error_and_status(fake: FakeSlack) -> None:
    client = client_for(fake)
    fake.fail_next("chat.postMessage", error="channel_not_found")
    fake.fail_next("chat.update", status=503, times=2)

    with pytest.raises(SlackApiError) as refused:
        await client.chat_postMessage(channel="C1", text="hello")
    for _ in range(2):
        with pytest.raises(SlackApiError) as down:
            await client.chat_update(channel="C1", ts="1.2", text="edit")

    assert refused.value.response.status_code == 200
    assert refused.value.response["error"] == "channel_not_found"
    assert down.value.response.status_code == 503
    assert (await client.chat_postMessage(channel="C1", text="hello"))["ok"] is True
    assert (await client.chat_update(channel="C1", ts="1.2", text="edit"))["ok"] is True


async def test_unknown_methods_answer_ok_and_wait_for_reports_what_it_saw(
    fake: FakeSlack,
) -> None:
    await client_for(fake).api_call("reactions.add", json={"channel": "C1", "name": "eyes"})

    [call] = await fake.wait_for("reactions.add")
    assert call.body == {"channel": "C1", "name": "eyes"}
    with pytest.raises(AssertionError, match=r"chat\.postMessage.*methods seen: reactions\.add"):
        await fake.wait_for("chat.postMessage", timeout=0.05)


async def test_file_download_needs_the_bot_token(fake: FakeSlack) -> None:
    file = fake.add_file("F0001", name="screen shot.png", data=b"\x89PNG...", mimetype="image/png")
    url = file["url_private_download"]
    auth = {"Authorization": f"Bearer {fake.bot_token}"}
    fake.fail_download("F0001", status=503)

    async with aiohttp.ClientSession() as session:
        async with session.get(url) as anonymous:
            assert anonymous.status == 403
            assert anonymous.content_type == "text/html"
        async with session.get(url, headers=auth) as failing:
            assert failing.status == 503
        async with session.get(url, headers=auth) as response:
            assert response.status == 200
            assert await response.read() == b"\x89PNG..."

    assert file["filetype"] == "png"
    assert file["size"] == len(b"\x89PNG...")
    bearer = auth["Authorization"]
    assert fake.downloads == [("F0001", None), ("F0001", bearer), ("F0001", bearer)]
    info = await client_for(fake).files_info(file="F0001")
    assert info["file"]["url_private"] == url


async def test_files_upload_v2_lands_in_uploads(fake: FakeSlack) -> None:
    client = client_for(fake)

    response = await client.files_upload_v2(
        content=b"%PDF-1.7 evidence", filename="evidence.pdf", title="Evidence", channel="C1"
    )

    file_id = response["file"]["id"]
    assert fake.uploads == {file_id: b"%PDF-1.7 evidence"}
    [complete] = fake.calls_to("files.completeUploadExternal")
    assert complete.body["files"] == [{"id": file_id, "title": "Evidence"}]
    assert complete.body["channel_id"] == "C1"
    info = await client.files_info(file=file_id)
    assert info["file"]["mimetype"] == "application/pdf"


async def test_socket_mode_round_trip(fake: FakeSlack) -> None:
    received: list[SocketModeRequest] = []
    messages: list[dict[str, Any]] = []

    async def on_message(
        client: AsyncBaseSocketModeClient, message: dict[str, Any], raw: str | None
    ) -> None:
        messages.append(message)

    async def listener(client: AsyncBaseSocketModeClient, request: SocketModeRequest) -> None:
        received.append(request)
        response = SocketModeResponse(envelope_id=request.envelope_id, payload={"text": "ok"})
        await client.send_socket_mode_response(response)

    client = SocketModeClient(app_token=fake.app_token, web_client=client_for(fake))
    client.socket_mode_request_listeners.append(listener)
    client.message_listeners.append(on_message)
    try:
        await client.connect()  # type: ignore[no-untyped-call]
        await fake.wait_for_socket_client()
        ack = await fake.socket_send({"command": "/policy", "text": "help"}, type="slash_commands")
    finally:
        await client.close()  # type: ignore[no-untyped-call]

    assert messages[0]["type"] == "hello"
    assert messages[0]["connection_info"]["app_id"].startswith("A")
    [request] = received
    assert request.type == "slash_commands"
    assert request.payload == {"command": "/policy", "text": "help"}
    assert request.accepts_response_payload is True
    assert ack == {"envelope_id": request.envelope_id, "payload": {"text": "ok"}}
    assert fake.calls_to("apps.connections.open")[0].headers["Authorization"] == (
        f"Bearer {fake.app_token}"
    )


async def test_socket_send_without_a_client_fails(fake: FakeSlack) -> None:
    with pytest.raises(AssertionError, match="no Socket Mode client"):
        await fake.socket_send({"type": "event_callback"})
    with pytest.raises(AssertionError, match="no Socket Mode client"):
        await fake.wait_for_socket_client(timeout=0.05)


def test_signed_headers_verify_with_slack_sdk() -> None:
    secret = "8f742231b10e8888abcd99yyyzzz85a5"
    body = json.dumps({"type": "event_callback", "event": {"type": "app_mention"}})
    verifier = SignatureVerifier(signing_secret=secret)

    headers = signed_headers(body, secret)
    stale = signed_headers(body, secret, timestamp=int(time.time()) - 3600)
    form = signed_headers("payload=%7B%7D", secret)

    assert headers["Content-Type"] == "application/json"
    assert verifier.is_valid_request(body, headers)
    assert not verifier.is_valid_request(body + " ", headers)
    assert not verifier.is_valid_request(body, stale)
    assert not verifier.is_valid_request(body, signed_headers(body, "another secret"))
    assert form["Content-Type"] == "application/x-www-form-urlencoded"
    assert verifier.is_valid_request("payload=%7B%7D", form)

"""Bot Connector calls on aiohttp (bot/channels/teams/connector_http.py), as `requests` made them.

A real connector operation (a reply) against a local stand-in for the Bot Connector: the body
and headers arrive whole, the credentials' Authorization header is set (and left off without an
app id), a form with a file goes as multipart, and with HTTP_PROXY set, as a school's network
may require, the call goes through the proxy, as `requests` took it from the environment.
"""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from botbuilder.schema import Activity, ActivityTypes
from botframework.connector.aio import ConnectorClient
from botframework.connector.auth import MicrosoftAppCredentials
from msrest.pipeline import Request
from msrest.universal_http import ClientRequest

from bot.channels.teams.bare_bot import NoApp
from bot.channels.teams.clients import ReusingAuthentication
from bot.channels.teams.connector_http import _Sender, use_aiohttp
from bot.channels.teams.service_urls import ServiceUrls


class Seen:
    def __init__(self) -> None:
        self.requests: list[tuple[str, str, dict[str, str], bytes]] = []
        self.forms: list[dict[str, Any]] = []


@pytest.fixture
async def connector() -> AsyncIterator[tuple[str, Seen]]:
    seen = Seen()

    async def reply(request: web.Request) -> web.Response:
        seen.requests.append(
            (request.method, request.path, dict(request.headers), await request.read())
        )
        return web.json_response({"id": "1"})

    async def form(request: web.Request) -> web.Response:
        fields = await request.post()
        seen.forms.append(
            {
                name: (value.filename, value.file.read())
                if isinstance(value, web.FileField)
                else value
                for name, value in fields.items()
            }
        )
        return web.json_response({})

    app = web.Application()
    app.router.add_post("/v3/conversations/{conversation}/activities/{reply_to}", reply)
    app.router.add_post("/form", form)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        yield str(server.make_url("")).rstrip("/"), seen
    finally:
        await server.close()


class _Credentials(MicrosoftAppCredentials):  # type: ignore[misc]
    """An app's credentials whose token is known, so no token service is asked."""

    def get_access_token(self, force_refresh: bool = False) -> str:
        return "the-token"


async def _reply(base_url: str, credentials: Any, session: aiohttp.ClientSession) -> None:
    client = use_aiohttp(ConnectorClient(credentials, base_url=base_url), session)
    activity = Activity(type=ActivityTypes.message, text="Is anyone in danger? ✓ “quotes”")
    await client.conversations.reply_to_activity("a:1xyz", "17", activity)


async def test_a_reply_arrives_whole_with_the_bots_token(connector: tuple[str, Seen]) -> None:
    url, seen = connector
    async with aiohttp.ClientSession() as session:
        await _reply(url, _Credentials("app-id", "secret"), session)
        await _reply(url, MicrosoftAppCredentials(None, None), session)  # no app: no token
    (method, path, headers, body), (_, _, anonymous, _) = seen.requests
    assert (method, path) == ("POST", "/v3/conversations/a:1xyz/activities/17")
    assert headers["Authorization"] == "Bearer the-token"
    assert headers["Content-Type"].startswith("application/json")
    assert int(headers["Content-Length"]) == len(body)
    assert "Is anyone in danger?" in body.decode()
    assert "Authorization" not in anonymous


async def test_a_form_with_a_file_goes_as_multipart(connector: tuple[str, Seen]) -> None:
    url, seen = connector
    http = ClientRequest("POST", f"{url}/form")
    http.add_formdata({"note": "kept", "file": io.BytesIO(b"\x89PNG...")})  # type: ignore[dict-item]
    async with aiohttp.ClientSession() as session:
        response = await _Sender(session, 10).send(Request(http))
    assert response.http_response.status_code == 200
    assert seen.forms == [{"note": "kept", "file": ("file", b"\x89PNG...")}]


async def test_calls_go_through_the_proxy_the_environment_names(
    connector: tuple[str, Seen], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, seen = connector
    through: list[str] = []

    async def forward(request: web.Request) -> web.Response:
        through.append(f"{request.method} {request.url}")
        async with (
            aiohttp.ClientSession() as onward,
            onward.request(
                request.method, str(request.url), headers=request.headers, data=await request.read()
            ) as answer,
        ):
            return web.Response(
                status=answer.status, body=await answer.read(), content_type=answer.content_type
            )

    proxy_app = web.Application()
    proxy_app.router.add_route("*", "/{anything:.*}", forward)
    proxy = TestServer(proxy_app, host="127.0.0.1")
    await proxy.start_server()
    monkeypatch.setenv("HTTP_PROXY", str(proxy.make_url("")))
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    authentication = ReusingAuthentication(NoApp(), ServiceUrls(local_only=True))
    try:
        await _reply(url, MicrosoftAppCredentials(None, None), authentication._session())
    finally:
        await authentication.close()
        await proxy.close()
    assert through == [f"POST {url}/v3/conversations/a:1xyz/activities/17"]
    assert len(seen.requests) == 1

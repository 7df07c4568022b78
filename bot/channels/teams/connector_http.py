"""Bot Connector calls over the server's aiohttp, not `requests` in a thread per call.

botbuilder's connector client sends every reply, card and proactive message through msrest's
default pipeline, which runs the `requests` library in the event loop's thread pool: each call
is a hand-off to a worker thread and back, and a `requests` session's own work (a copy of its
headers, urllib3's pool and retry bookkeeping) on top. Profiled under load, those threads spent
more CPU per Teams turn than the whole dialog. msrest has an aiohttp sender, but it sends
neither the headers nor the body.

`use_aiohttp` gives a connector client a pipeline of msrest's own policies (user agent, the
response's JSON, the HTTP log) around two parts of ours: the credentials' Authorization header
set as botframework sets it on a `requests` session (`_Signed`), and a sender on one shared
aiohttp session (`_Sender`), which honours the same proxy settings from the environment as
`requests` did. Its answers are msrest's own aiohttp response objects, so the operations, their
exceptions (`ErrorResponseException` with the response's status and headers) and the retries
that wait on them (bot/channels/teams/delivery.py) are unchanged. `requests` also retried 5xx
answers and dropped connections by itself; those retries are now `with_retries`'.
"""

from __future__ import annotations

from typing import Any

import aiohttp
from botframework.connector.aio import ConnectorClient
from msrest.pipeline import Request, Response
from msrest.pipeline.async_abc import AsyncHTTPPolicy, AsyncHTTPSender, AsyncPipeline
from msrest.pipeline.universal import RawDeserializer
from msrest.universal_http import ClientRequest
from msrest.universal_http.aiohttp import AioHttpClientResponse

__all__ = ["use_aiohttp"]


class _HeaderHolder:
    """What botframework's `signed_session` writes to: a session's headers."""

    def __init__(self) -> None:
        self.headers: dict[str, str] = {}


# A request through the pipeline, and its answer.
_Request = Request[ClientRequest]
_Response = Response[ClientRequest, AioHttpClientResponse]


class _Signed(AsyncHTTPPolicy[ClientRequest, AioHttpClientResponse]):
    """The credentials' Authorization header (a bearer token, or none when the bot has no app
    id), exactly as botframework puts it on a `requests` session."""

    def __init__(self, credentials: Any) -> None:
        super().__init__()
        self._credentials = credentials

    async def send(self, request: _Request, **kwargs: Any) -> _Response:
        holder = _HeaderHolder()
        self._credentials.signed_session(holder)
        headers = request.http_request.headers
        authorization = holder.headers.get("Authorization")
        if authorization:
            headers["Authorization"] = authorization
        else:
            headers.pop("Authorization", None)
        assert self.next is not None  # the pipeline puts the sender after every policy
        return await self.next.send(request, **kwargs)


class _Sender(AsyncHTTPSender[ClientRequest, AioHttpClientResponse]):
    """Sends on the shared session; the session is the channel's to close."""

    def __init__(self, session: aiohttp.ClientSession, timeout: float) -> None:
        self._session = session
        self._timeout = aiohttp.ClientTimeout(total=timeout)

    async def __aenter__(self) -> _Sender:
        return self

    async def __aexit__(self, *exc_details: Any) -> None:
        return None

    def build_context(self) -> None:
        return None

    async def send(self, request: _Request, **config: Any) -> _Response:
        http = request.http_request
        # aiohttp counts the body's bytes itself (msrest counts its characters), and sets a
        # multipart body's own type and boundary.
        headers = {k: v for k, v in http.headers.items() if k.lower() != "content-length"}
        body = _multipart(http.files) if http.files else http.data
        answer = await self._session.request(
            http.method, http.url, headers=headers, data=body, timeout=self._timeout
        )
        response = AioHttpClientResponse(http, answer)
        if not config.get("stream", False):
            await response.load_body()
        return Response(request, response)


def _multipart(files: dict[str, tuple[Any, ...]]) -> aiohttp.FormData:
    """msrest's form fields (`ClientRequest.add_formdata`: (None, text) for a value, (file
    name or None, file, content type) for a file) as the multipart body `requests` made."""
    form = aiohttp.FormData()
    for name, (filename, value, *content_type) in files.items():
        form.add_field(
            name, value, filename=filename, content_type=content_type[0] if content_type else None
        )
    return form


def use_aiohttp(client: ConnectorClient, session: aiohttp.ClientSession) -> ConnectorClient:
    """Send the client's calls on `session` (see above); the rest of the client is as
    botbuilder made it."""
    config = client.config
    policies: list[Any] = [config.user_agent_policy]
    if config.credentials:
        policies.append(_Signed(config.credentials))
    policies += [RawDeserializer(), config.http_logger_policy]
    config.pipeline = AsyncPipeline(policies, _Sender(session, float(config.connection.timeout)))
    return client

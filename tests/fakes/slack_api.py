"""A local stand-in for the Slack Web API and Socket Mode, so tests never reach slack.com.

It is a real HTTP and websocket server rather than a mock of slack_sdk because the code under test
should build its requests exactly as in production: slack_sdk decides per method whether to send
JSON, a form or query parameters, retries on 429, uploads to a separate URL and acks websocket
envelopes. A mock of our own would repeat our own misunderstandings; this fake only has to agree
with the wire format, and records what arrived so tests can assert on it.

Every instance binds 127.0.0.1 on a port the OS picks, so tests can run side by side.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import mimetypes
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self, TypeVar
from urllib.parse import quote

from aiohttp import BodyPartReader, WSCloseCode, WSMsgType, web

from tests.fakes.streaming import DEFAULT_PACE, Pace, stream_file

__all__ = ["JSON_FIELDS", "Call", "FakeSlack", "signed_headers"]

TEAM_ID = "T0001"
BOT_USER_ID = "UBOT"
BOT_ID = "BBOT"
APP_ID = "A0001"
WORKSPACE_URL = "https://example.slack.com/"
# Timestamps start here, rather than at the wall clock, so that recorded values are reproducible.
EPOCH = 1_700_000_000

# Slack takes these parameters as JSON text when a request is form-encoded (and slack_sdk sends
# some of them as JSON text even inside JSON bodies). Only these are decoded, so that a message
# whose text merely looks like JSON, such as "[1]", is recorded as the string it was.
JSON_FIELDS = frozenset(
    {
        "attachments",
        "blocks",
        "chunks",
        "files",
        "manifest",
        "metadata",
        "outputs",
        "unfurls",
        "user_auth_blocks",
        "view",
    }
)

_T = TypeVar("_T")


@dataclass
class Call:
    """One Web API request as it reached the server, so tests assert on the wire, not on mocks."""

    method: str
    body: dict[str, Any]
    headers: dict[str, str]
    refused: bool = False  # answered with a failure (fail_next), so nobody saw it


@dataclass(frozen=True)
class _Failure:
    status: int
    error: str | None  # None: a plain-text body, as Slack's edge sends for a 5xx
    retry_after: int | None


@dataclass
class _StoredFile:
    file_id: str
    name: str
    title: str
    data: bytes
    mimetype: str
    user: str
    pace: Pace = DEFAULT_PACE
    cut_after: int | None = None  # the connection drops after this many bytes


class _SlackError(Exception):
    """Raised by a method handler to answer {"ok": false, "error": ...}, as Slack does with 200."""

    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.error = error


_Handler = Callable[[dict[str, Any]], dict[str, Any]]


def signed_headers(body: str, secret: str, *, timestamp: int | None = None) -> dict[str, str]:
    """Headers Slack would send with `body`, for tests of the HTTP (non-Socket Mode) endpoints.

    Signing is done here rather than by slack_sdk so that a bug in how our app verifies requests
    cannot be hidden by the same library producing and checking the signature the same wrong way.
    Pass an old `timestamp` to test replay protection.
    """
    ts = int(time.time()) if timestamp is None else timestamp
    base = f"v0:{ts}:{body}".encode()
    digest = hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    content_type = (
        "application/json" if body.startswith("{") else "application/x-www-form-urlencoded"
    )
    return {
        "X-Slack-Request-Timestamp": str(ts),
        "X-Slack-Signature": f"v0={digest}",
        "Content-Type": content_type,
    }


class FakeSlack:
    """The Slack Web API, Socket Mode and file hosting, on one local aiohttp server.

    Use as `async with FakeSlack() as fake:` or call `start()` and `stop()` from a fixture.
    Unknown Web API methods answer {"ok": true} so that code calling a method the fake does not
    model still runs; the call is recorded either way.
    """

    bot_token: str = "xoxb-test-token"
    app_token: str = "xapp-test-token"

    def __init__(self, *, bot_token: str | None = None, app_token: str | None = None) -> None:
        if bot_token is not None:
            self.bot_token = bot_token
        if app_token is not None:
            self.app_token = app_token
        self.calls: list[Call] = []
        self.downloads: list[tuple[str, str | None]] = []
        self.uploads: dict[str, bytes] = {}
        # Every JSON message a Socket Mode client sent, acks included, for tests that look past
        # the ack socket_send already returns.
        self.socket_received: list[dict[str, Any]] = []
        self._failures: dict[str, deque[_Failure]] = {}
        self._delays: dict[str, deque[float]] = {}
        self._held_methods: dict[str, asyncio.Event] = {}
        self._download_failures: dict[str, deque[int]] = {}
        self._held_downloads: dict[str, asyncio.Event] = {}
        self._files: dict[str, _StoredFile] = {}
        self._pending_uploads: dict[str, str] = {}
        self._users: dict[str, dict[str, Any]] = {}
        self._gone_users: set[str] = set()
        self._channels: dict[str, dict[str, Any]] = {}
        self._home_views: dict[str, str] = {}
        self._external_views: dict[str, str] = {}
        self._tickets: set[str] = set()
        self._sockets: list[web.WebSocketResponse] = []
        self._ids = itertools.count(1)
        self._ts = itertools.count(1)
        self._changed = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._port: int | None = None
        self._handlers: dict[str, _Handler] = {
            "auth.test": self._auth_test,
            "apps.connections.open": self._apps_connections_open,
            "chat.postMessage": self._chat_post_message,
            "chat.update": self._chat_update,
            "chat.delete": self._chat_delete,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "chat.getPermalink": self._chat_get_permalink,
            "conversations.open": self._conversations_open,
            "conversations.info": self._conversations_info,
            "users.info": self._users_info,
            "users.lookupByEmail": self._users_lookup_by_email,
            "views.open": self._views_open,
            "views.push": self._views_open,
            "views.update": self._views_update,
            "views.publish": self._views_publish,
            "files.info": self._files_info,
            "files.getUploadURLExternal": self._files_get_upload_url_external,
            "files.completeUploadExternal": self._files_complete_upload_external,
        }

    # ----------------------------------------------------------------------------------------
    # lifecycle

    async def start(self) -> None:
        if self._runner is not None:
            raise RuntimeError("FakeSlack is already running")
        # Uploads of photos and PDFs easily exceed aiohttp's 1 MiB default.
        app = web.Application(client_max_size=100 * 1024 * 1024)
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_get("/files/{file_id}/{name}", self._download)
        app.router.add_post("/upload/v1/{file_id}", self._upload)
        app.router.add_get("/socket", self._socket)
        # A short shutdown timeout: a client that forgot to close must not stall the test run.
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        self._runner = runner
        self._port = int(runner.addresses[0][1])

    async def stop(self) -> None:
        runner, self._runner = self._runner, None
        if runner is None:
            return
        for held in self._held_downloads.values():
            held.set()  # a held download must not keep the server from stopping
        for ws in list(self._sockets):
            await ws.close(code=WSCloseCode.GOING_AWAY, message=b"fake slack stopping")
        await runner.cleanup()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def url(self) -> str:
        """The server root, e.g. for building file URLs by hand."""
        if self._port is None:
            raise RuntimeError("FakeSlack has not been started")
        return f"http://127.0.0.1:{self._port}"

    @property
    def base_url(self) -> str:
        """What to pass as slack_sdk's base_url; the trailing slash matters to urljoin."""
        return f"{self.url}/api/"

    # ----------------------------------------------------------------------------------------
    # inspecting and steering

    def calls_to(self, method: str) -> list[Call]:
        return [call for call in self.calls if call.method == method]

    async def wait_for(
        self,
        method: str,
        count: int = 1,
        timeout: float = 5.0,  # noqa: ASYNC109 - the failure must say what was seen instead
    ) -> list[Call]:
        """Wait for calls made by background tasks, which a test cannot simply await.

        It takes a timeout, rather than leaving that to asyncio.timeout, so that a failure names
        the methods that were called instead of being a bare TimeoutError.
        """

        def enough() -> list[Call] | None:
            calls = self.calls_to(method)
            return calls[:count] if len(calls) >= count else None

        found = await self._wait_until(enough, timeout)
        if found is None:
            seen = sorted({call.method for call in self.calls})
            raise AssertionError(
                f"expected {count} call(s) to {method} within {timeout}s, "
                f"got {len(self.calls_to(method))}; methods seen: {', '.join(seen) or 'none'}"
            )
        return found

    def fail_next(
        self,
        method: str,
        *,
        status: int | None = None,
        times: int = 1,
        retry_after: int | None = None,
        error: str | None = None,
    ) -> None:
        """Make the next `times` authenticated calls to `method` fail, to test error handling.

        `status` defaults to what the other arguments imply: 429 with `retry_after`, 200 with
        `error` (Slack reports most failures as 200 with ok=false), and 500 otherwise. A 5xx
        without `error` has a plain-text body, as Slack's edge sends during an outage.
        """
        if times < 1:
            raise ValueError("times must be at least 1")
        if status is None:
            status = 429 if retry_after is not None else 200 if error is not None else 500
        if status == 200 and error is None:
            raise ValueError("a failure with status 200 needs an error")
        if error is None and status < 500:
            error = "ratelimited" if status == 429 else "internal_error"
        failure = _Failure(status=status, error=error, retry_after=retry_after)
        self._failures.setdefault(method, deque()).extend([failure] * times)

    def add_file(
        self,
        file_id: str,
        *,
        name: str,
        data: bytes,
        mimetype: str,
        user: str = "U0001",
        title: str | None = None,
        pace: Pace = DEFAULT_PACE,
        cut_after: int | None = None,
        declare_size: bool = True,
    ) -> dict[str, Any]:
        """Host a file as if someone had shared it; returns the object that events carry.

        Downloads stream in paced pieces (tests/fakes/streaming.py); `cut_after` drops the
        connection part-way, and `declare_size=False` leaves `size` out of the file object, as
        some of Slack's event payloads do."""
        stored = _StoredFile(file_id, name, title or name, data, mimetype, user, pace, cut_after)
        self._files[file_id] = stored
        shared = self._file_object(stored)
        if not declare_size:
            del shared["size"]
        return shared

    def fail_download(self, file_id: str, *, status: int = 500, times: int = 1) -> None:
        if times < 1:
            raise ValueError("times must be at least 1")
        self._download_failures.setdefault(file_id, deque()).extend([status] * times)

    def hold_download(self, file_id: str) -> asyncio.Event:
        """Make downloads of this file wait until the returned event is set, as a slow network
        would, so a test can stop the bot in the middle of one."""
        return self._held_downloads.setdefault(file_id, asyncio.Event())

    def add_user(self, user_id: str, **fields: Any) -> dict[str, Any]:
        """Override what users.info says about a user; a `profile` dict is merged, not replaced."""
        current = self._user(user_id)
        profile = {**current["profile"], **fields.pop("profile", {})}
        self._users[user_id] = {**current, **fields, "profile": profile}
        return self._users[user_id]

    def remove_user(self, user_id: str) -> None:
        """The account is gone from the workspace (or never was): Slack answers user_not_found.
        A deactivated account is `add_user(user_id, deleted=True)` instead: user_disabled."""
        self._gone_users.add(user_id)

    def add_channel(self, channel_id: str, **fields: Any) -> dict[str, Any]:
        """Override what conversations.info says about a channel."""
        self._channels[channel_id] = {**self._channel(channel_id), **fields}
        return self._channels[channel_id]

    # ----------------------------------------------------------------------------------------
    # Socket Mode

    async def wait_for_socket_client(self, timeout: float = 5.0) -> None:  # noqa: ASYNC109
        if await self._wait_until(self._live_socket, timeout) is None:
            raise AssertionError(f"no Socket Mode client connected within {timeout}s")

    async def socket_send(
        self,
        payload: dict[str, Any],
        *,
        type: str = "events_api",
        accepts_response_payload: bool | None = None,
        timeout: float = 5.0,  # noqa: ASYNC109 - a missing ack is reported with what came back
    ) -> dict[str, Any]:
        """Deliver an envelope to the connected client and return its ack.

        Returning the ack (rather than just sending) lets a test both wait for the app to finish
        handling the envelope and check any response payload it put in the ack.
        """
        ws = self._live_socket()
        if ws is None:
            raise AssertionError("no Socket Mode client is connected")
        if accepts_response_payload is None:
            # Slack only lets an ack carry a response where one can be shown.
            accepts_response_payload = type == "slash_commands" or (
                type == "interactive"
                and payload.get("type") in {"view_submission", "block_suggestion"}
            )
        envelope_id = str(uuid.uuid4())
        envelope = {
            "envelope_id": envelope_id,
            "type": type,
            "payload": payload,
            "accepts_response_payload": accepts_response_payload,
            "retry_attempt": 0,
            "retry_reason": "",
        }
        await ws.send_str(json.dumps(envelope))

        def ack() -> dict[str, Any] | None:
            for message in self.socket_received:
                if message.get("envelope_id") == envelope_id:
                    return message
            return None

        found = await self._wait_until(ack, timeout)
        if found is None:
            raise AssertionError(
                f"no ack for {type} envelope {envelope_id} within {timeout}s; "
                f"the client sent {self.socket_received!r}"
            )
        return found

    def _live_socket(self) -> web.WebSocketResponse | None:
        for ws in reversed(self._sockets):
            if not ws.closed:
                return ws
        return None

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        if request.query.get("ticket") not in self._tickets:
            raise web.HTTPUnauthorized(text="unknown ticket; call apps.connections.open first")
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._sockets.append(ws)
        await ws.send_str(
            json.dumps(
                {
                    "type": "hello",
                    "num_connections": len(self._sockets),
                    "debug_info": {
                        "host": "applink-fake",
                        "build_number": 1,
                        "approximate_connection_time": 18060,
                    },
                    "connection_info": {"app_id": APP_ID},
                }
            )
        )
        self._notify()
        try:
            async for message in ws:
                if message.type != WSMsgType.TEXT:
                    continue
                try:
                    parsed = json.loads(message.data)
                except json.JSONDecodeError:
                    continue
                if isinstance(parsed, dict):
                    self.socket_received.append(parsed)
                    self._notify()
        finally:
            self._sockets.remove(ws)
            self._notify()
        return ws

    # ----------------------------------------------------------------------------------------
    # waiting

    def _notify(self) -> None:
        # Waking every waiter and handing out a fresh event is simpler than per-condition events,
        # and the number of waiters in a test is tiny.
        self._changed.set()
        self._changed = asyncio.Event()

    async def _wait_until(self, probe: Callable[[], _T | None], seconds: float) -> _T | None:
        try:
            async with asyncio.timeout(seconds):
                while True:
                    changed = self._changed
                    found = probe()
                    if found is not None:
                        return found
                    await changed.wait()
        except TimeoutError:
            return probe()

    def slow_next(self, method: str, *, seconds: float, times: int = 1) -> None:
        """Make the next `times` calls to `method` answer only after `seconds`, as Slack does
        when it is under load."""
        self._delays.setdefault(method, deque()).extend([seconds] * times)

    def hold(self, method: str) -> asyncio.Event:
        """Make every call to `method` wait until the returned event is set: Slack at its
        slowest, for as long as a test needs to look at what happens meanwhile."""
        return self._held_methods.setdefault(method, asyncio.Event())

    # ----------------------------------------------------------------------------------------
    # HTTP routes

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        body, problem = await _read_body(request)
        self.calls.append(Call(method, body, dict(request.headers)))
        self._notify()

        token = _bearer(request.headers.get("Authorization")) or body.get("token")
        wanted = self.app_token if method == "apps.connections.open" else self.bot_token
        if token != wanted:
            return web.json_response({"ok": False, "error": "invalid_auth"})
        if problem is not None:
            return web.json_response({"ok": False, "error": problem})

        delays = self._delays.get(method)
        if delays:
            await asyncio.sleep(delays.popleft())
        held = self._held_methods.get(method)
        if held is not None:
            await held.wait()
        queued = self._failures.get(method)
        if queued:
            failure = queued.popleft()
            self.calls[-1].refused = True
            headers = {}
            if failure.retry_after is not None:
                headers["Retry-After"] = str(failure.retry_after)
            if failure.error is None:
                # Slack's edge answers an outage as plain text, not as the API's JSON.
                return web.Response(
                    text="upstream connect error or disconnect/reset before headers",
                    status=failure.status,
                    headers=headers,
                )
            return web.json_response(
                {"ok": False, "error": failure.error}, status=failure.status, headers=headers
            )

        handler = self._handlers.get(method, _ok)
        try:
            result = handler(body)
        except _SlackError as exc:
            return web.json_response({"ok": False, "error": exc.error})
        return web.json_response({"ok": True, **result})

    async def _download(self, request: web.Request) -> web.StreamResponse:
        file_id = request.match_info["file_id"]
        authorization = request.headers.get("Authorization")
        self.downloads.append((file_id, authorization))
        self._notify()
        if _bearer(authorization) != self.bot_token:
            # Slack answers an unauthenticated download with a sign-in page, not the file; code
            # that skips the status check would then store HTML as the user's upload.
            return web.Response(
                status=403,
                text="<!DOCTYPE html><html><body>Sign in to Slack</body></html>",
                content_type="text/html",
            )
        held = self._held_downloads.get(file_id)
        if held is not None:
            await held.wait()
        queued = self._download_failures.get(file_id)
        if queued:
            return web.Response(status=queued.popleft(), text="download failed")
        stored = self._files.get(file_id)
        if stored is None or stored.name != request.match_info["name"]:
            return web.Response(status=404, text="<html>Not found</html>", content_type="text/html")
        return await stream_file(
            request, stored.data, stored.mimetype, pace=stored.pace, cut_after=stored.cut_after
        )

    async def _upload(self, request: web.Request) -> web.Response:
        file_id = request.match_info["file_id"]
        if file_id not in self._pending_uploads:
            return web.Response(status=404, text="unknown upload")
        if request.content_type.startswith("multipart/"):
            data = b""
            reader = await request.multipart()
            async for part in reader:
                if isinstance(part, BodyPartReader) and part.filename is not None:
                    data = await part.read()
                    break
        else:
            data = await request.read()
        self.uploads[file_id] = data
        self._notify()
        return web.Response(text=f"OK - {len(data)}", content_type="text/plain")

    # ----------------------------------------------------------------------------------------
    # Web API methods

    def _auth_test(self, body: dict[str, Any]) -> dict[str, Any]:
        return {
            "url": WORKSPACE_URL,
            "team": "Example School",
            "user": "policybot",
            "team_id": TEAM_ID,
            "user_id": BOT_USER_ID,
            "bot_id": BOT_ID,
            "is_enterprise_install": False,
        }

    def _apps_connections_open(self, body: dict[str, Any]) -> dict[str, Any]:
        ticket = str(uuid.uuid4())
        self._tickets.add(ticket)
        ws_root = self.url.replace("http://", "ws://", 1)
        return {"url": f"{ws_root}/socket?ticket={ticket}&app_id={APP_ID}"}

    def _chat_post_message(self, body: dict[str, Any]) -> dict[str, Any]:
        channel = _dm_for(_need(body, "channel", "channel_not_found"))
        if not any(body.get(key) for key in ("text", "blocks", "attachments")):
            raise _SlackError("no_text")
        ts = self._next_ts()
        message = {
            "type": "message",
            "user": BOT_USER_ID,
            "bot_id": BOT_ID,
            "app_id": APP_ID,
            "team": TEAM_ID,
            "text": body.get("text", ""),
            "ts": ts,
            **_pick(body, "blocks", "attachments", "thread_ts", "metadata"),
        }
        return {"channel": channel, "ts": ts, "message": message}

    def _chat_update(self, body: dict[str, Any]) -> dict[str, Any]:
        channel = _need(body, "channel", "channel_not_found")
        ts = _need(body, "ts", "message_not_found")
        text = body.get("text", "")
        message = {
            "type": "message",
            "user": BOT_USER_ID,
            "bot_id": BOT_ID,
            "app_id": APP_ID,
            "team": TEAM_ID,
            "text": text,
            "ts": ts,
            **_pick(body, "blocks", "attachments", "metadata"),
        }
        return {"channel": channel, "ts": ts, "text": text, "message": message}

    def _chat_delete(self, body: dict[str, Any]) -> dict[str, Any]:
        channel = _need(body, "channel", "channel_not_found")
        return {"channel": channel, "ts": _need(body, "ts", "message_not_found")}

    def _chat_post_ephemeral(self, body: dict[str, Any]) -> dict[str, Any]:
        _need(body, "channel", "channel_not_found")
        _need(body, "user", "user_not_in_channel")
        if not any(body.get(key) for key in ("text", "blocks", "attachments")):
            raise _SlackError("no_text")
        return {"message_ts": self._next_ts()}

    def _chat_get_permalink(self, body: dict[str, Any]) -> dict[str, Any]:
        channel = _need(body, "channel", "channel_not_found")
        ts = _need(body, "message_ts", "message_not_found")
        permalink = f"{WORKSPACE_URL}archives/{channel}/p{ts.replace('.', '')}"
        return {"channel": channel, "permalink": permalink}

    def _conversations_open(self, body: dict[str, Any]) -> dict[str, Any]:
        users = body.get("users")
        user_ids = users if isinstance(users, list) else str(users or "").split(",")
        user_ids = [str(user).strip() for user in user_ids if str(user).strip()]
        for user_id in user_ids:
            # As Slack refuses a DM: with an account that is gone, deactivated, or a bot's.
            if user_id in self._gone_users:
                raise _SlackError("user_not_found")
            user = self._user(user_id)
            if user.get("deleted"):
                raise _SlackError("user_disabled")
            if user.get("is_bot"):
                raise _SlackError("cannot_dm_bot")
        if user_ids:
            channel_id = "D" + user_ids[0] if len(user_ids) == 1 else "G" + "".join(user_ids)
        elif body.get("channel"):
            channel_id = str(body["channel"])
        else:
            raise _SlackError("users_list_not_supplied")
        channel: dict[str, Any] = {"id": channel_id}
        if _truthy(body.get("return_im")):
            channel = self._channel(channel_id)
        return {"no_op": False, "already_open": False, "channel": channel}

    def _conversations_info(self, body: dict[str, Any]) -> dict[str, Any]:
        return {"channel": self._channel(_need(body, "channel", "channel_not_found"))}

    def _users_info(self, body: dict[str, Any]) -> dict[str, Any]:
        user_id = _need(body, "user", "user_not_found")
        if user_id in self._gone_users:
            raise _SlackError("user_not_found")
        return {"user": self._user(user_id)}

    def _users_lookup_by_email(self, body: dict[str, Any]) -> dict[str, Any]:
        """As Slack does: only accounts added with add_user are found, by their profile's
        email, whatever its case; a gone account is not."""
        wanted = _need(body, "email", "users_not_found").strip().lower()
        for user_id, user in self._users.items():
            email = str(user.get("profile", {}).get("email") or "").lower()
            if email == wanted and user_id not in self._gone_users:
                return {"user": user}
        raise _SlackError("users_not_found")

    def _views_open(self, body: dict[str, Any]) -> dict[str, Any]:
        if not (body.get("trigger_id") or body.get("interactivity_pointer")):
            raise _SlackError("invalid_arguments")
        return {"view": self._view(_view_of(body), self._new_id("V"))}

    def _views_update(self, body: dict[str, Any]) -> dict[str, Any]:
        view = _view_of(body)
        view_id = body.get("view_id") or self._external_views.get(str(body.get("external_id")))
        if not view_id:
            raise _SlackError("not_found")
        return {"view": self._view(view, str(view_id))}

    def _views_publish(self, body: dict[str, Any]) -> dict[str, Any]:
        user_id = _need(body, "user_id", "invalid_arguments")
        view_id = self._home_views.setdefault(user_id, self._new_id("V"))
        return {"view": self._view(_view_of(body), view_id)}

    def _files_info(self, body: dict[str, Any]) -> dict[str, Any]:
        stored = self._files.get(_need(body, "file", "file_not_found"))
        if stored is None:
            raise _SlackError("file_not_found")
        return {"file": self._file_object(stored), "comments": [], "response_metadata": {}}

    def _files_get_upload_url_external(self, body: dict[str, Any]) -> dict[str, Any]:
        filename = _need(body, "filename", "invalid_arguments")
        _need(body, "length", "invalid_arguments")
        file_id = self._new_id("F")
        self._pending_uploads[file_id] = filename
        return {"upload_url": f"{self.url}/upload/v1/{file_id}", "file_id": file_id}

    def _files_complete_upload_external(self, body: dict[str, Any]) -> dict[str, Any]:
        files = body.get("files")
        if not isinstance(files, list) or not files:
            raise _SlackError("invalid_arguments")
        completed = []
        for entry in files:
            file_id = str(entry.get("id")) if isinstance(entry, dict) else ""
            if file_id not in self._pending_uploads or file_id not in self.uploads:
                raise _SlackError("file_not_found")
            name = self._pending_uploads[file_id]
            title = str(entry.get("title") or name)
            mimetype = mimetypes.guess_type(name)[0] or "application/octet-stream"
            self._files[file_id] = _StoredFile(
                file_id, name, title, self.uploads[file_id], mimetype, BOT_USER_ID
            )
            completed.append({"id": file_id, "title": title})
        return {"files": completed}

    # ----------------------------------------------------------------------------------------
    # object builders

    def _next_ts(self) -> str:
        n = next(self._ts)
        return f"{EPOCH + n // 10_000}.{(n % 10_000) * 100:06d}"

    def _new_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):08d}"

    def _file_object(self, stored: _StoredFile) -> dict[str, Any]:
        url = f"{self.url}/files/{stored.file_id}/{quote(stored.name)}"
        return {
            "id": stored.file_id,
            "created": EPOCH,
            "timestamp": EPOCH,
            "name": stored.name,
            "title": stored.title,
            "mimetype": stored.mimetype,
            "filetype": _filetype(stored.name, stored.mimetype),
            "user": stored.user,
            "user_team": TEAM_ID,
            "size": len(stored.data),
            "mode": "hosted",
            "is_external": False,
            "is_public": False,
            "url_private": url,
            "url_private_download": url,
            "permalink": f"{WORKSPACE_URL}files/{stored.user}/{stored.file_id}/{stored.name}",
        }

    def _user(self, user_id: str) -> dict[str, Any]:
        if user_id in self._users:
            return self._users[user_id]
        name = "policybot" if user_id == BOT_USER_ID else user_id.lower()
        real_name = "Policy Bot" if user_id == BOT_USER_ID else f"User {user_id}"
        return {
            "id": user_id,
            "team_id": TEAM_ID,
            "name": name,
            "real_name": real_name,
            "deleted": False,
            "is_bot": user_id == BOT_USER_ID,
            "is_admin": False,
            "tz": "Europe/London",
            "tz_offset": 0,
            "profile": {
                "real_name": real_name,
                "display_name": name,
                "email": f"{name}@example.org",
                "team": TEAM_ID,
            },
        }

    def _channel(self, channel_id: str) -> dict[str, Any]:
        if channel_id in self._channels:
            return self._channels[channel_id]
        is_im = channel_id.startswith("D")
        is_mpim = channel_id.startswith("G")
        channel: dict[str, Any] = {
            "id": channel_id,
            "created": EPOCH,
            "is_channel": not (is_im or is_mpim),
            "is_group": False,
            "is_im": is_im,
            "is_mpim": is_mpim,
            "is_private": is_im or is_mpim,
            "is_archived": False,
            "is_member": True,
            "context_team_id": TEAM_ID,
        }
        if is_im:
            channel["user"] = channel_id[1:]
        else:
            channel["name"] = channel_id.lower()
        return channel

    def _view(self, view: dict[str, Any], view_id: str) -> dict[str, Any]:
        if view.get("external_id"):
            self._external_views[str(view["external_id"])] = view_id
        return {
            "private_metadata": "",
            "callback_id": "",
            "external_id": "",
            "state": {"values": {}},
            "root_view_id": view_id,
            "previous_view_id": None,
            **view,
            "id": view_id,
            "team_id": TEAM_ID,
            "app_id": APP_ID,
            "bot_id": BOT_ID,
            "hash": f"{EPOCH}.{next(self._ids)}",
        }


# --------------------------------------------------------------------------------------------
# helpers


async def _read_body(request: web.Request) -> tuple[dict[str, Any], str | None]:
    """Merge query, form, multipart and JSON parameters, as Slack accepts each of them."""
    body: dict[str, Any] = dict(request.query)
    problem: str | None = None
    if request.body_exists:
        content_type = request.content_type
        if content_type == "application/json":
            try:
                data = json.loads(await request.text())
            except json.JSONDecodeError:
                data, problem = None, "invalid_json"
            if isinstance(data, dict):
                body.update(data)
            elif problem is None:
                problem = "invalid_json"
        elif content_type == "application/x-www-form-urlencoded":
            form = await request.post()
            body.update({key: value for key, value in form.items() if isinstance(value, str)})
        elif content_type.startswith("multipart/"):
            reader = await request.multipart()
            async for part in reader:
                if isinstance(part, BodyPartReader) and part.name is not None:
                    is_file = part.filename is not None
                    body[part.name] = await part.read() if is_file else await part.text()
    for key in JSON_FIELDS & body.keys():
        value = body[key]
        if isinstance(value, str) and value.lstrip()[:1] in ("[", "{"):
            try:
                body[key] = json.loads(value)
            except json.JSONDecodeError:
                problem = problem or "invalid_json"
    return body, problem


def _ok(body: dict[str, Any]) -> dict[str, Any]:
    return {}


def _bearer(authorization: str | None) -> str | None:
    if authorization is None or not authorization.startswith("Bearer "):
        return None
    return authorization.removeprefix("Bearer ").strip()


def _need(body: dict[str, Any], key: str, error: str) -> str:
    value = body.get(key)
    if value is None or value == "":
        raise _SlackError(error)
    return str(value)


def _pick(body: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {key: body[key] for key in keys if body.get(key) not in (None, "")}


def _truthy(value: Any) -> bool:
    return value is True or str(value).lower() in {"1", "true"}


def _dm_for(channel: str) -> str:
    """Posting to a user ID lands in the bot's DM with them, so Slack answers with the DM's ID."""
    if channel[:1] in ("U", "W"):
        return "D" + channel
    return channel


def _view_of(body: dict[str, Any]) -> dict[str, Any]:
    view = body.get("view")
    if not isinstance(view, dict):
        raise _SlackError("invalid_arguments")
    return view


def _filetype(name: str, mimetype: str) -> str:
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if not extension:
        guessed = mimetypes.guess_extension(mimetype) or ".binary"
        extension = guessed.lstrip(".")
    return {"jpeg": "jpg", "txt": "text", "htm": "html"}.get(extension, extension)

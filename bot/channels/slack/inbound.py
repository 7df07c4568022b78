"""The gate of POST /slack/events: what a request must be before Bolt is given it.

Anyone on the internet can send this endpoint a body, so nothing in it is interpreted until
Slack's signature over the raw bytes, and its timestamp, say it is Slack's: until then the
body is only counted and hashed. Decoding JSON is the costly part (a deeply nested or very
long document takes time and memory), and it is reserved for requests that are genuine.

The size cap. The largest requests Slack sends carry a whole message back to us:
- a message shortcut carries the flagged message, at most 40,000 characters, twice (its text
  and its rich-text block). Slack escapes every non-ASCII character as \\uXXXX and the
  shortcut is form-encoded, so 40,000 characters of Arabic or Chinese measure about 640 KB;
- a button press carries the message the button is on. Ours are at most 50 blocks of 3,000
  characters (bot.channels.slack.render): about 150 KB of English, and 1,100 KB in the worst
  case of every character in a non-Latin script.
Events, slash commands and view submissions are far smaller. 1,280 KB takes every one of
these with room to spare, and refuses anything larger before it is read: by its
Content-Length at once, or, sent without one, as soon as more has arrived.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web
from slack_sdk.signature import SignatureVerifier

from bot.request_body import read_at_most

MAX_BODY_BYTES = 1280 * 1024

JSON, FORM = "application/json", "application/x-www-form-urlencoded"

# Slack's certificate check, `ssl_check=1&token=…`, is the one request Slack does not sign.
# Only a body this short is looked at for it, so the exception cannot be used to have a large
# unsigned body parsed.
_SSL_CHECK_MOST_BYTES = 200


def http_error(status: int, reason: str) -> web.Response:
    return web.json_response({"error": reason}, status=status)


@dataclass(frozen=True)
class Checked:
    """A request known to be Slack's: its body as sent (for Bolt), and as read."""

    text: str
    body: dict[str, Any]


async def checked_body(request: web.Request, secret: str) -> Checked | web.Response:
    """The body, once it is known to be Slack's and readable; otherwise the answer to give:
    413 too large, 401 not signed by Slack just now, 415 not what its Content-Type says, 400
    unreadable. Slack's certificate check is answered with an empty 200."""
    raw = await read_at_most(request, MAX_BODY_BYTES)
    if raw is None:
        return http_error(413, f"Slack requests are at most {MAX_BODY_BYTES // 1024} KB")
    if _is_ssl_check(raw, request.content_type):
        return web.Response(text="")  # nothing is done
    if not signed_by_slack(raw, request.headers, secret):
        return http_error(401, "invalid request")
    body = _slack_body(raw, request.content_type)
    if isinstance(body, web.Response):
        return body
    return Checked(raw.decode("utf-8"), body)


def direct_message(body: Mapping[str, Any]) -> dict[str, Any] | None:
    """The event of a request that is a message event in a direct message with the bot, the
    one request Slack sends for every answer a person types; None for anything else."""
    if body.get("type") != "event_callback":
        return None
    event = body.get("event")
    if not isinstance(event, dict) or event.get("type") != "message":
        return None
    return event if event.get("channel_type") == "im" else None


def signed_by_slack(raw: bytes, headers: Mapping[str, str], secret: str) -> bool:
    """Whether Slack signed these exact bytes within the last five minutes (either way)."""
    timestamp = headers.get("X-Slack-Request-Timestamp") or ""
    signature = headers.get("X-Slack-Signature") or ""
    if not (timestamp.isascii() and timestamp.isdigit()) or not signature:
        return False
    try:
        return SignatureVerifier(secret).is_valid(raw, timestamp, signature)
    except ValueError:  # UnicodeDecodeError included: Slack's bodies are always UTF-8
        return False


def _is_ssl_check(raw: bytes, content_type: str) -> bool:
    if content_type != FORM or len(raw) > _SSL_CHECK_MOST_BYTES:
        return False
    try:
        fields = dict(parse_qsl(raw.decode("ascii"), keep_blank_values=True))
    except (UnicodeDecodeError, ValueError):
        return False
    return fields.get("ssl_check") == "1"


def _slack_body(raw: bytes, content_type: str) -> dict[str, Any] | web.Response:
    """The body as Bolt will read it, or the refusal of one it could not read: Slack sends the
    Events API as JSON, and interactivity and slash commands as forms, and nothing else."""
    if content_type not in (JSON, FORM):
        return http_error(415, f"Slack requests are {JSON} or {FORM}")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return http_error(400, "the body is not UTF-8")
    if not text.strip():
        return http_error(400, "the body is empty")
    is_json = text.lstrip()[:1] in ("{", "[")
    if is_json != (content_type == JSON):
        return http_error(415, f"the body is {'JSON' if is_json else 'a form'}, not {content_type}")
    try:
        if is_json:
            body = json.loads(text)
        else:
            fields = dict(parse_qsl(text, keep_blank_values=True))
            body = json.loads(fields["payload"]) if "payload" in fields else fields
    except (ValueError, RecursionError):
        return http_error(400, "the body is not valid JSON")
    if not isinstance(body, dict):
        return http_error(400, "the body is not a JSON object")
    return body

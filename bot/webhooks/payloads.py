"""Reading a webhook's body into IncomingComment, trusting nothing in it.

A signature only proves who sent a body, not that it is sensible: an automation tool can be
misconfigured, and a leaked secret lets anyone send anything. So every body is bounded before
it is parsed (size, then nesting, so a hostile body cannot exhaust memory or the stack), every
field is checked for type, length and form, and text is cleaned of characters that could hide
or disguise what a comment says when a moderator reads it. Anything wrong raises
MalformedPayload, and nothing else, so the web layer can answer 400 without a traceback; its
reason never quotes the body back, because the body may be an attack on whoever reads the log
or the response.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from dialogs.services.comments.incoming import (
    MAX_AUTHOR_CHARS,
    MAX_COMMENT_CHARS,
    MAX_EXTERNAL_ID_CHARS,
    MAX_LINK_CHARS,
    CommentSource,
    IncomingComment,
)

MAX_BODY_BYTES = 256 * 1024
MAX_DEPTH = 20
MAX_ENTRIES = 100
MAX_CHANGES = 100
MAX_FUTURE = timedelta(minutes=5)  # clocks drift; more than this is a wrong date, not drift
MAX_AGE = timedelta(days=366)
NO_TEXT = "(no text: a photo or sticker)"
# Facebook leaves out who commented when the app may not see it; the comment still needs an
# answer before its deadline, so it is kept with this instead of being dropped.
UNKNOWN_AUTHOR = "(name not shared by Facebook)"
TRUNCATED = "…"

_MAX_DATE_CHARS = 64
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ACCOUNT_ID = re.compile(r"[a-z0-9_-]{1,64}")
_PAGE_ID = re.compile(r"[0-9]{1,64}")
# Graph ids are digits joined by underscores ("123_456"); this keeps them safe in a URL path.
_GRAPH_ID = re.compile(rf"[A-Za-z0-9_]{{1,{MAX_EXTERNAL_ID_CHARS}}}")
# Control characters (except newline and tab), bidirectional overrides and isolates (which can
# make a comment read differently from what it says) and lone surrogates (which JSON's \u
# escapes can produce but no database or channel can store).
_UNWANTED = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
# Strings are skipped as whole tokens so that brackets inside them do not count as nesting.
_DEPTH_TOKENS = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]', re.DOTALL)


class MalformedPayload(Exception):
    """A body that cannot be accepted; `reason` names the problem but never repeats the input."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class _NotFinite(ValueError):
    pass


def clean_text(value: str) -> str:
    """Text as a moderator should see it: no hidden or reordering characters, one Unicode form.

    Line endings become newlines first, so a Windows-style comment keeps its line breaks.
    """
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    return unicodedata.normalize("NFC", _UNWANTED.sub("", value)).strip()


def parse_comment(body: bytes, *, now: datetime) -> IncomingComment:
    """A comment from an automation tool, in our own JSON format."""
    _require_aware(now)
    data = _load(body)
    if not isinstance(data, dict):
        raise MalformedPayload("the body must be a JSON object")
    external_id = _external_id(data.get("id"))
    account = _required_string(data, "account")
    if _ACCOUNT_ID.fullmatch(account) is None:
        raise MalformedPayload('"account" must be 1 to 64 of a-z, 0-9, "_" and "-"')
    author = _name(_required_string(data, "author"), '"author"')
    if not author:
        raise MalformedPayload('"author" is empty')
    text = clean_text(_required_string(data, "text"))
    if not text:
        raise MalformedPayload('"text" is empty')
    if len(text) > MAX_COMMENT_CHARS:
        raise MalformedPayload(f'"text" is longer than {MAX_COMMENT_CHARS} characters')
    link = _link(data.get("link"))
    received = data.get("received_at")
    if received is None or received == "":
        received_at = now.astimezone(UTC)
    elif isinstance(received, str):
        received_at = _checked_time(_iso_time(received, '"received_at"'), '"received_at"', now)
    else:
        raise MalformedPayload('"received_at" must be an ISO 8601 date and time string')
    return IncomingComment(
        source=CommentSource.WEBHOOK,
        external_id=external_id,
        author=author,
        text=text,
        received_at=received_at,
        account_id=account,
        link=link,
    )


def parse_facebook_feed(body: bytes, *, now: datetime) -> list[IncomingComment]:
    """The new comments in a Facebook Page "feed" webhook, in the order they were sent.

    A delivery mixes comments with likes, edits, removals and the Page's own replies; only
    other people's new comments need answering, and the rest is skipped without complaint, as
    Facebook retries (and eventually disables) a webhook that refuses its deliveries. A comment
    sent twice in one delivery is returned once.
    """
    _require_aware(now)
    data = _load(body)
    if not isinstance(data, dict):
        raise MalformedPayload("the body must be a JSON object")
    if data.get("object") != "page":
        raise MalformedPayload('"object" must be "page"')
    entries = data.get("entry")
    if not isinstance(entries, list):
        raise MalformedPayload('"entry" must be a list')
    if len(entries) > MAX_ENTRIES:
        raise MalformedPayload(f'"entry" has more than {MAX_ENTRIES} items')
    comments: list[IncomingComment] = []
    seen: set[str] = set()
    for i, entry in enumerate(entries):
        where = f"entry[{i}]"
        if not isinstance(entry, dict):
            raise MalformedPayload(f"{where} must be an object")
        page_id = entry.get("id")
        if not isinstance(page_id, str) or _PAGE_ID.fullmatch(page_id) is None:
            raise MalformedPayload(f"{where}.id must be a Page id (a string of digits)")
        changes = entry.get("changes")
        if changes is None:  # other kinds of update (Messenger, for one) carry no changes
            continue
        if not isinstance(changes, list):
            raise MalformedPayload(f"{where}.changes must be a list")
        if len(changes) > MAX_CHANGES:
            raise MalformedPayload(f"{where}.changes has more than {MAX_CHANGES} items")
        for j, change in enumerate(changes):
            comment = _facebook_comment(change, page_id, f"{where}.changes[{j}]", now)
            if comment is not None and comment.external_id not in seen:
                seen.add(comment.external_id)
                comments.append(comment)
    return comments


def _facebook_comment(
    change: object, page_id: str, where: str, now: datetime
) -> IncomingComment | None:
    if not isinstance(change, dict):
        raise MalformedPayload(f"{where} must be an object")
    field = change.get("field")
    if not isinstance(field, str):
        raise MalformedPayload(f"{where}.field must be a string")
    if field != "feed":
        return None
    value = change.get("value")
    where = f"{where}.value"
    if not isinstance(value, dict):
        raise MalformedPayload(f"{where} must be an object")
    if value.get("item") != "comment" or value.get("verb") != "add":
        return None
    comment_id = value.get("comment_id")
    if not isinstance(comment_id, str) or _GRAPH_ID.fullmatch(comment_id) is None:
        raise MalformedPayload(f"{where}.comment_id must be a comment id")
    author = _facebook_author(value.get("from"), page_id, f"{where}.from")
    if author is None:
        return None  # the school replying on its own Page: nothing to answer
    return IncomingComment(
        source=CommentSource.FACEBOOK,
        external_id=comment_id,
        author=author,
        text=_facebook_text(value.get("message"), f"{where}.message"),
        received_at=_facebook_time(value.get("created_time"), f"{where}.created_time", now),
        account_id=None,
        platform_account=page_id,
        link=f"https://www.facebook.com/{comment_id}",
    )


def _facebook_author(sender: object, page_id: str, where: str) -> str | None:
    """The commenter's name as shown, or None when the Page itself wrote the comment."""
    if sender is None:
        return UNKNOWN_AUTHOR
    if not isinstance(sender, dict):
        raise MalformedPayload(f"{where} must be an object")
    sender_id = sender.get("id")
    if sender_id is not None and not isinstance(sender_id, str):
        raise MalformedPayload(f"{where}.id must be a string")
    if sender_id == page_id:
        return None
    name = sender.get("name")
    if name is None:
        return UNKNOWN_AUTHOR
    if not isinstance(name, str):
        raise MalformedPayload(f"{where}.name must be a string")
    return _name(name, f"{where}.name") or UNKNOWN_AUTHOR


def _facebook_text(message: object, where: str) -> str:
    """The comment's text, cleaned; for a photo or sticker alone, a note saying so."""
    if message is not None and not isinstance(message, str):
        raise MalformedPayload(f"{where} must be a string")
    text = clean_text(message) if message is not None else ""
    if not text:
        return NO_TEXT
    if len(text) > MAX_COMMENT_CHARS:
        # Facebook allows longer comments than we store; refusing the delivery would lose the
        # comment (and its deadline) for good, so the moderator gets the start and the link.
        return text[: MAX_COMMENT_CHARS - len(TRUNCATED)].rstrip() + TRUNCATED
    return text


def _facebook_time(created: object, where: str, now: datetime) -> datetime:
    """When the comment was made: Facebook sends unix time or ISO 8601, and may send neither."""
    if created is None:
        return now.astimezone(UTC)
    if isinstance(created, int) and not isinstance(created, bool):
        return _checked_time(_unix_time(created, where), where, now)
    if isinstance(created, str):
        return _checked_time(_iso_time(created, where), where, now)
    raise MalformedPayload(f"{where} must be a unix time or an ISO 8601 string")


def _require_aware(now: datetime) -> None:
    # A naive `now` is the caller's bug, not the sender's, so it is not a MalformedPayload.
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")


def _load(body: bytes) -> Any:
    if len(body) > MAX_BODY_BYTES:
        raise MalformedPayload(f"the body is larger than {MAX_BODY_BYTES // 1024} KB")
    try:
        text = bytes(body).decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedPayload("the body is not UTF-8") from None
    if _too_deep(text):
        raise MalformedPayload(f"the JSON is nested more than {MAX_DEPTH} levels deep")
    try:
        return json.loads(text, parse_constant=_reject_constant, parse_float=_finite_float)
    except _NotFinite:
        raise MalformedPayload("numbers must be finite (no NaN or Infinity)") from None
    except (ValueError, RecursionError):  # JSONDecodeError, and integers too long to read
        raise MalformedPayload("the body is not valid JSON") from None


def _too_deep(text: str) -> bool:
    depth = 0
    for match in _DEPTH_TOKENS.finditer(text):
        piece = match.group()
        if piece in ("[", "{"):
            depth += 1
            if depth > MAX_DEPTH:
                return True
        elif piece in ("]", "}"):
            depth -= 1
    return False


def _reject_constant(name: str) -> Any:
    raise _NotFinite(name)


def _finite_float(literal: str) -> float:
    number = float(literal)
    if not math.isfinite(number):  # 1e999 is valid JSON, but not a number we can use
        raise _NotFinite(literal)
    return number


def _required_string(data: dict[str, Any], key: str) -> str:
    value = data.get(key)
    if value is None:
        raise MalformedPayload(f'"{key}" is missing')
    if not isinstance(value, str):
        raise MalformedPayload(f'"{key}" must be a string')
    return value


def _external_id(value: object) -> str:
    # Ids are compared, not read, so they are checked rather than cleaned: cleaning could
    # make two different ids equal, and one comment would then hide another.
    if value is None:
        raise MalformedPayload('"id" is missing')
    if not isinstance(value, str):
        raise MalformedPayload('"id" must be a string')
    value = value.strip()
    if not value:
        raise MalformedPayload('"id" is empty')
    if len(value) > MAX_EXTERNAL_ID_CHARS:
        raise MalformedPayload(f'"id" is longer than {MAX_EXTERNAL_ID_CHARS} characters')
    if any(unicodedata.category(ch)[0] == "C" or ch in "\u2028\u2029" for ch in value):
        raise MalformedPayload('"id" contains control or invisible characters')
    return value


def _name(value: str, label: str) -> str:
    """A person's name on one line, or "" when nothing readable is left."""
    name = " ".join(clean_text(value).split())
    if len(name) > MAX_AUTHOR_CHARS:
        raise MalformedPayload(f"{label} is longer than {MAX_AUTHOR_CHARS} characters")
    return name


def _link(value: object) -> str | None:
    """An https link a moderator can safely open, or None when none was given."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise MalformedPayload('"link" must be a string')
    if len(value) > MAX_LINK_CHARS:
        raise MalformedPayload(f'"link" is longer than {MAX_LINK_CHARS} characters')
    if any(ch.isspace() or unicodedata.category(ch)[0] == "C" for ch in value):
        raise MalformedPayload('"link" contains spaces or control characters')
    try:
        parts = urlsplit(value)
        host = parts.hostname
        parts.port  # noqa: B018 - reading it validates it
    except ValueError:
        raise MalformedPayload('"link" is not a valid URL') from None
    if parts.scheme.lower() != "https" or not host:
        raise MalformedPayload('"link" must be an https:// address')
    if parts.username is not None or parts.password is not None:
        # "https://facebook.com@example.net" goes to example.net: a disguise, not a link.
        raise MalformedPayload('"link" must not contain a user name or password')
    return value


def _iso_time(value: str, label: str) -> datetime:
    if len(value) > _MAX_DATE_CHARS:
        raise MalformedPayload(f"{label} is not an ISO 8601 date and time")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise MalformedPayload(f"{label} is not an ISO 8601 date and time") from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise MalformedPayload(f'{label} needs a UTC offset or "Z"')
    return moment


def _unix_time(value: int, label: str) -> datetime:
    try:
        return _EPOCH + timedelta(seconds=value)
    except OverflowError:
        raise MalformedPayload(f"{label} is out of range") from None


def _checked_time(moment: datetime, label: str, now: datetime) -> datetime:
    """The moment in UTC, if it is plausible for a comment that still needs an answer."""
    try:
        if moment > now + MAX_FUTURE:
            raise MalformedPayload(f"{label} is in the future")
        if moment < now - MAX_AGE:
            raise MalformedPayload(f"{label} is more than {MAX_AGE.days} days ago")
        return moment.astimezone(UTC)
    except OverflowError:
        raise MalformedPayload(f"{label} is out of range") from None

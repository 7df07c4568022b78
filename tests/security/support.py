"""Helpers for the bad-input catalogue: what changed in the database, and what people would see."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import func, select
from sqlmodel import SQLModel

from bot.channels.slack.render import fallback_text, to_blocks
from bot.channels.teams.cards import card_for, summary_text
from bot.runtime import Runtime
from dialogs.services.messages import Message
from storage.models import (
    AuditEntry,
    Case,
    CaseEvent,
    Comment,
    Conversation,
    Evidence,
    Notification,
    PlatformAddress,
    PolicyQuestion,
    PostRequest,
    ProcessedEvent,
)
from tests.support import AFTER_EVIDENCE, HAPPY_PATH, Person

COMMENT_SECRET = "a-long-enough-secret-for-oakfield"
APP_SECRET = "meta-app-secret-0123456789"
VERIFY_TOKEN = "verify-me-please"
PAGE = "100000000000001"  # the sample school's Facebook Page

# Every table a bad request could touch: a refused request must leave each count as it was.
WATCHED: tuple[type[SQLModel], ...] = (
    Case,
    CaseEvent,
    Evidence,
    Comment,
    AuditEntry,
    Notification,
    Conversation,
    ProcessedEvent,
    PolicyQuestion,
    PlatformAddress,
    PostRequest,
)

Counts = dict[str, int]
Row = TypeVar("Row", bound=SQLModel)


async def counts(runtime: Runtime) -> Counts:
    """How many rows each watched table has."""
    found: Counts = {}
    async with runtime.db.session() as session:
        for model in WATCHED:
            table = model.__table__  # type: ignore[attr-defined]
            number = (await session.execute(select(func.count()).select_from(table))).scalar_one()
            found[str(table.name)] = int(number)
    return found


def changed(before: Counts, after: Counts) -> Counts:
    """The tables whose counts moved, and by how much (empty when nothing changed)."""
    return {name: after[name] - before[name] for name in before if after[name] != before[name]}


def data_changed(before: Counts, after: Counts) -> Counts:
    """What changed apart from the record that the input was handled: every turn records its
    delivery (so that taking it again after a crash is a no-op), refused or not, and that
    record is not anything the person sent."""
    return {
        name: moved for name, moved in changed(before, after).items() if name != "processed_event"
    }


def blobs(runtime: Runtime) -> set[str]:
    """The evidence files on disk (relative paths)."""
    root = runtime.settings.evidence_dir
    return {str(path.relative_to(root)) for path in root.rglob("*") if path.is_file()}


def files_under(folder: Path) -> set[str]:
    return {str(path.relative_to(folder)) for path in folder.rglob("*") if path.is_file()}


async def rows(runtime: Runtime, model: type[Row]) -> list[Row]:
    async with runtime.db.session() as session:
        return list((await session.execute(select(model))).scalars().all())


async def file_case(runtime: Runtime, *, channel: str = "seed") -> str:
    """Sam sends a complete report through the runner; returns its reference."""
    sam = Person(runtime, channel=channel)
    for answer in [*HAPPY_PATH, "skip", *AFTER_EVIDENCE]:
        await sam.say(answer)
    done = await sam.say("submit")
    reference = done[-1].facts[0].value
    assert reference.startswith("CB-"), [m.text for m in done]
    return reference


# -- what Slack would show ------------------------------------------------------------------


def _walk(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for item in node:
            yield from _walk(item)


def slack_text_objects(message: Message) -> list[dict[str, Any]]:
    """Every Block Kit text object of a message as policybot would post it."""
    return [
        node
        for node in _walk(to_blocks(message))
        if node.get("type") in ("mrkdwn", "plain_text") and isinstance(node.get("text"), str)
    ]


def slack_shown(messages: Sequence[Message]) -> str:
    """All the text a Slack user could read: every text object and the notification text."""
    parts: list[str] = []
    for message in messages:
        parts.extend(str(node["text"]) for node in slack_text_objects(message))
        parts.append(fallback_text(message))
    return "\n".join(parts)


# -- what Teams would show ------------------------------------------------------------------


def teams_cards(messages: Sequence[Message]) -> list[dict[str, Any]]:
    return [card_for(message) for message in messages]


def teams_strings(card: Any) -> list[tuple[str, str, str]]:
    """(element type, key, value) for every string in a card."""
    found: list[tuple[str, str, str]] = []
    for node in _walk(card):
        for key, value in node.items():
            if isinstance(value, str):
                found.append((str(node.get("type")), key, value))
    return found


def teams_shown(messages: Sequence[Message]) -> str:
    runs = [
        value
        for card in teams_cards(messages)
        for kind, key, value in teams_strings(card)
        if (kind, key) == ("TextRun", "text")
    ]
    return "\n".join([*runs, *(summary_text(message) for message in messages)])

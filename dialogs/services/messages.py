"""The neutral message model: what the bot says and what a person sends, with no platform in it.

Text here is plain text, never markup. Each channel escapes it for its own format, so a person's
words can never turn into a link, a mention or formatting they did not intend.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

# Half of a UTF-16 pair: JSON may carry one alone ("\ud83d"), and Python keeps it in a str, but
# no encoding can write it, so neither the journal nor the database could keep the message.
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def whole_text(text: str) -> str:
    """Text as it can be kept: each lone surrogate becomes U+FFFD, the replacement character
    (a pair that belongs together arrives from JSON as one character, and is untouched)."""
    return _LONE_SURROGATE.sub("\ufffd", text)


def whole_json(value: Any) -> Any:
    """`whole_text` over every string in a JSON-shaped value, keys included."""
    if isinstance(value, str):
        return whole_text(value)
    if isinstance(value, dict):
        return {whole_json(k): whole_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [whole_json(v) for v in value]
    return value


class MessageKind(StrEnum):
    """What a message is for, so channels can style it (and tests can find it)."""

    PROMPT = "prompt"  # a question waiting for an answer
    HINT = "hint"  # the answer was not usable; says why and how to answer
    # A button pressed on a question that has moved on (answered by typing, asked again,
    # cancelled, left behind): nothing was changed, and the channel marks the old card.
    MOVED_ON = "moved_on"
    INFO = "info"
    REMINDER = "reminder"  # advice along the way, e.g. "don't respond or retaliate"
    URGENT = "urgent"  # immediate danger: call 999
    SUMMARY = "summary"  # everything given so far, before submitting
    DONE = "done"  # submitted: reference and what happens next
    MENU = "menu"
    STATUS = "status"  # a list of a person's own reports and their status
    NOTIFICATION = "notification"  # something that happened while the person was away
    ANSWER = "answer"  # a quote from the policy, or an honest "the policy doesn't say"


class InputKind(StrEnum):
    """What kind of answer the bot is waiting for, so a channel can offer the right control."""

    NONE = "none"
    TEXT = "text"
    CHOICE = "choice"
    MULTI_CHOICE = "multi_choice"
    YES_NO = "yes_no"
    DATETIME = "datetime"
    ATTACHMENTS = "attachments"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Button(_Frozen):
    value: str
    label: str
    style: Literal["default", "primary", "danger"] = "default"


class Fact(_Frozen):
    label: str
    value: str


class ImageRef(_Frozen):
    """An evidence file to show; channels fetch it through the evidence service, never by path."""

    evidence_id: str
    name: str
    media_type: str


class Message(_Frozen):
    kind: MessageKind
    text: str
    title: str | None = None
    facts: tuple[Fact, ...] = ()
    buttons: tuple[Button, ...] = ()
    images: tuple[ImageRef, ...] = ()
    # Files handed over with the message itself, not just named: each channel fetches the
    # bytes through the evidence store and sends them in its own way (an upload, a file offer).
    files: tuple[ImageRef, ...] = ()
    expects: InputKind = InputKind.NONE
    # The outbox row that keeps this reply until the platform has it (dialogs/services/replies);
    # never part of what is stored or shown.
    ledger: int | None = Field(default=None, exclude=True)
    # Which asking of a question this message is (dialogs.engine): channels carry it on the
    # buttons they render and hand it back with a press, so a button left on an old question
    # can never answer the one asked now.
    question: str | None = None
    # People (ids in the school's configuration) this message must alert where it is posted to
    # a channel: a channel post notifies only those it mentions, so each channel mentions
    # them in its own way (a Slack <@…>, a Teams <at>). Ignored in a direct message.
    alert: tuple[str, ...] = ()


def moved_on(now_asking: bool) -> Message:
    """The kind "no" to a press on an old question; the current question follows it."""
    where = "Here is where we are now." if now_asking else "Nothing is waiting for an answer now."
    return Message(
        kind=MessageKind.MOVED_ON,
        text=f"That question has moved on, so I haven't used that button. {where}",
    )


class IncomingFile(_Frozen):
    """A file a person sent; `name` and `declared_type` are theirs and are not trusted."""

    name: str
    data: bytes
    declared_type: str | None = None
    size: int | None = None  # as the platform reports it, so a huge file is refused unread

    @field_validator("name", "declared_type")
    @classmethod
    def _whole(cls, value: str | None) -> str | None:
        return whole_text(value) if value is not None else None


@dataclass(frozen=True)
class StoredFile:
    """What the dialog keeps about a file once the evidence service has accepted it."""

    id: str
    name: str
    size: int
    media_type: str
    sha256: str

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "size": self.size,
            "media_type": self.media_type,
            "sha256": self.sha256,
        }


class UserInput(_Frozen):
    """One thing a person did: typed text, pressed a button (value), and/or sent files.

    `question` is the token of the question whose button was pressed (Message.question), when
    the button carried one; typed text has none.
    """

    text: str = ""
    value: str | None = None
    files: tuple[IncomingFile, ...] = ()
    question: str | None = None

    # The one door every channel's input comes through into the dialogs.
    @field_validator("text", "value")
    @classmethod
    def _whole(cls, value: str | None) -> str | None:
        return whole_text(value) if value is not None else None

    @property
    def answer(self) -> str:
        """The button value when one was pressed, otherwise what was typed, trimmed."""
        return (self.value if self.value is not None else self.text).strip()

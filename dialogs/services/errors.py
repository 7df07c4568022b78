"""One error hierarchy for everything a person can get wrong or be refused.

Each error carries a message written for the person who caused it, so every channel can show it
as it is; nothing in these messages may contain secrets or another person's report contents.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


@dataclass(frozen=True)
class Refusal:
    """A refused attempt as the audit log keeps it: who tried what, on which record, and the
    rule's reason as a short code; never anything a person wrote."""

    school_id: str
    actor_id: str
    action: str  # what was asked for, as the permissions name it ("post.decide")
    target_type: str  # "case", "post_request", ...; "school" when no one record was asked for
    target_id: str
    reference: str  # how people know the record (CB-2026-0001); empty without a record
    reason: str  # why the rule said no ("role", "not_visible", ...)


class FormField(StrEnum):
    """The part of a form an error is about, so a channel can show the error beside it (a
    Slack modal's block, a Teams card's input) instead of guessing from the error's words."""

    NOTE = "note"
    STATUS = "status"
    REASON = "reason"
    OUTCOME = "outcome"
    QUESTION = "question"


class PolicybotError(Exception):
    """Base of every error whose message is safe and meant to be shown to the person.

    A refusal by a rule of access carries what the audit log is to record of it
    (dialogs.services.privacy.refusals); `refusal_recorded` makes sure it is recorded once.
    """

    def __init__(
        self, message: str, *, refusal: Refusal | None = None, field: FormField | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.refusal = refusal
        # None: about the request as a whole (the case's state, the person's role).
        self.field = field
        self.refusal_recorded = False


class NotPermitted(PolicybotError):
    """The actor's role does not allow this action; nothing was changed."""


class NotFound(PolicybotError):
    """The thing does not exist, or the actor may not know that it exists."""


class MovedOn(PolicybotError):
    """A button on a card for something that has changed since (a post edited and sent again):
    nothing was done, and the channel marks the old card."""


class InvalidRequest(PolicybotError):
    """The request is well formed but not allowed in the current state (e.g. a status change)."""


class UploadRejected(PolicybotError):
    """An uploaded file failed a content check; the message says why in plain words."""


class NoRoomForFile(UploadRejected):
    """The file was fine, but the disk had no room to keep it. It is refused like any other
    file, so the person's other answers and files are kept, and they are told honestly what
    happened and what they can do."""

    def __init__(self, what: str) -> None:
        """`what`: the file's name in quotes, or what it is ("the message you flagged")."""
        super().__init__(
            f"I couldn't keep {what}: my storage is full. Everything else you've told me is "
            "kept, and IT has been told. Please try again later. If it is "
            "evidence that can't wait, give it to your designated safeguarding lead another way."
        )


class ConfigError(PolicybotError):
    """The configuration is invalid; the message names the field."""

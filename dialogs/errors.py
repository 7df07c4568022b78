"""One error hierarchy for everything a person can get wrong or be refused.

Each error carries a message written for the person who caused it, so every channel can show it
as it is; nothing in these messages may contain secrets or another person's report contents.
"""

from __future__ import annotations


class PolicybotError(Exception):
    """Base of every error whose message is safe and meant to be shown to the person."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


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


class ConfigError(PolicybotError):
    """The configuration is invalid; the message names the field."""

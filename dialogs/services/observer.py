"""What the bot's work amounts to, told to whoever watches it, without knowing who that is.

The runner says when a turn ended and how; the policy service says how sure each answer was.
The server installs an observer that counts these for monitoring (bot/observability); a
command or a test installs none, and nothing is counted. Like the notifier, this is a port:
the domain never imports a metrics library. Nothing told here is what anyone wrote, or who
they are: only kinds, outcomes and durations.
"""

from __future__ import annotations

import logging
from enum import StrEnum
from typing import Protocol

log = logging.getLogger(__name__)


class TurnResult(StrEnum):
    """How one attempt at a turn ended."""

    DONE = "done"  # saved, with its replies
    REPEAT = "repeat"  # a delivery already taken: nothing changed
    REFUSED = "refused"  # the rules said no, kindly (a PolicybotError)
    BUSY = "busy"  # another turn of the conversation saved first; it is tried again
    UNAVAILABLE = "unavailable"  # the database was away: the input waits in the journal
    FAILED = "failed"  # a fault: the input is set aside for IT


class Confidence(StrEnum):
    """How a policy question was answered."""

    CONFIDENT = "confident"  # "the policy says", quoting the clause
    MAY_HELP = "may_help"  # not an answer, but clauses that touch the question
    UNANSWERED = "unanswered"  # "the policy doesn't say", with nothing offered
    SAFEGUARDING = "safeguarding"  # a worry about a child: the safeguarding reply instead


class Observer(Protocol):
    def turn_taken(self, channel: str, result: TurnResult, seconds: float) -> None:
        """One attempt at a turn on `channel` ended as `result` after `seconds`."""

    def policy_answered(self, confidence: Confidence) -> None:
        """A policy question asked in a turn was answered with this confidence."""


class Observers:
    """Every observer installed, each told in turn; none at first. One is shared by a process's
    runner and services, so an observer added after they were built is told too. Telling is
    cheap and never fails the work it describes."""

    def __init__(self) -> None:
        self._each: list[Observer] = []

    def add(self, observer: Observer) -> None:
        self._each.append(observer)

    def remove(self, observer: Observer) -> None:
        if observer in self._each:
            self._each.remove(observer)

    def turn_taken(self, channel: str, result: TurnResult, seconds: float) -> None:
        for observer in self._each:
            try:
                observer.turn_taken(channel, result, seconds)
            except Exception:  # counting must never cost a person their turn
                log.exception("an observer failed")

    def policy_answered(self, confidence: Confidence) -> None:
        for observer in self._each:
            try:
                observer.policy_answered(confidence)
            except Exception:
                log.exception("an observer failed")

"""Refused attempts in the audit log: who tried what, on which record, and the rule's reason.

A rule of access (dialogs.services.school.permissions) refuses by raising an error that carries the
refusal. The error ends the unit of work it was raised in, and the rollback takes with it
anything that unit wrote, so the refusal cannot be written there: it is written here, in a
transaction of its own, once the rollback is done. The database calls this after every rolled
back unit of work (storage.db.Database.after_rollback, wired in bot/runtime.py), so every
channel and command is covered without any of them doing anything, and an error that passes
through two units of work is still one entry.

Only an attempt that ends a unit of work is recorded: a rule asked to decide what to show (a
list filtered to what a person may see) is not an attempt, and neither is a reference that
matches no record. Recording never changes the answer: if the log cannot be written, the
person is still refused exactly as before, and the failure is logged without any detail.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from dialogs.services.errors import PolicybotError, Refusal
from dialogs.services.privacy.audit import AuditAction, AuditLog
from storage.db import Database, RollbackHook

log = logging.getLogger(__name__)


def detail_of(refusal: Refusal) -> str:
    """The entry's few words: the record's reference, what was asked for, and why not."""
    return f"{refusal.reference} {refusal.action} ({refusal.reason})".lstrip()


def recorder(db: Database, clock: Callable[[], datetime]) -> RollbackHook:
    """The hook that records the refusal an error carries, once, after its rollback."""

    async def record(error: Exception) -> None:
        if not isinstance(error, PolicybotError) or error.refusal is None:
            return
        if error.refusal_recorded:
            return
        refusal = error.refusal
        try:
            async with db.session() as session:
                AuditLog(session, clock()).record(
                    school_id=refusal.school_id,
                    actor_id=refusal.actor_id,
                    action=AuditAction.ACCESS_REFUSED,
                    target_type=refusal.target_type,
                    target_id=refusal.target_id,
                    detail=detail_of(refusal),
                )
        except Exception as exc:  # the person is refused all the same
            # Not marked: a unit of work the error also ends (one this one was opened in)
            # tries again once it has been rolled back in turn.
            log.warning("a refusal was not written to the audit log: %s", type(exc).__name__)
            return
        error.refusal_recorded = True

    return record

"""The comment sweep: nudge moderators before a deadline, at it, and tell the leads after it."""

from __future__ import annotations

import logging

from bot.runtime import Runtime
from dialogs.services.comments.service import CommentSweep

log = logging.getLogger(__name__)


async def run_comment_sweep(runtime: Runtime, *, batches: int = 20) -> CommentSweep:
    """Sweep in batches, each its own transaction, until nothing more is due.

    A batch's nudges are queued in the transaction that records them (the outbox worker
    delivers them), so a crash at any point loses nothing and sends nothing twice.
    """
    nudged = overdue = escalated = 0
    for _ in range(batches):
        async with runtime.db.session() as session:
            result = await runtime.services(session, runtime.clock()).comments.sweep()
        if result.skipped:
            return result  # another process is sweeping
        nudged += result.nudged
        overdue += result.overdue
        escalated += result.escalated
        if not result.full:
            break
    if nudged or overdue or escalated:
        log.info("comment sweep: %d nudged, %d overdue, %d escalated", nudged, overdue, escalated)
    return CommentSweep(nudged, overdue, escalated)


async def run_weekly_digests(runtime: Runtime) -> int:
    """Each school's weekly digest, once, on Monday morning in the school's time zone."""
    sent = 0
    for school in runtime.directory.schools:
        try:
            async with runtime.db.session() as session:
                services = runtime.services(session, runtime.clock())
                sent += await services.comments.send_weekly_digest(school)
        except Exception:
            log.exception("weekly comment digest failed for school %s", school.id)
    return sent

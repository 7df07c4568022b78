"""Timed work inside the running process's event loop."""

from __future__ import annotations

import logging

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.jobs.comments import run_comment_sweep, run_weekly_digests
from bot.jobs.drafts import run_draft_sweep
from bot.jobs.posts import run_post_sweep
from bot.runtime import Runtime

log = logging.getLogger(__name__)


def start_scheduler(runtime: Runtime) -> AsyncIOScheduler:
    """Start the jobs; call from inside a running event loop.

    `coalesce` and one instance at a time mean a slow sweep is never run twice at once, and a
    process that was asleep catches up with one run rather than a burst.
    """
    scheduler = AsyncIOScheduler(timezone="UTC")
    scheduler.add_job(
        run_draft_sweep,
        "interval",
        args=[runtime],
        minutes=runtime.settings.drafts.sweep_every_minutes,
        id="draft-sweep",
        coalesce=True,
        max_instances=1,
    )
    scheduler.add_job(
        run_post_sweep,
        "interval",
        args=[runtime],
        minutes=runtime.settings.drafts.sweep_every_minutes,
        id="post-sweep",
        coalesce=True,
        max_instances=1,
    )
    scheduler.add_job(
        run_comment_sweep,
        "interval",
        args=[runtime],
        minutes=1,
        id="comment-sweep",
        coalesce=True,
        max_instances=1,
    )
    scheduler.add_job(
        run_weekly_digests,
        "interval",
        args=[runtime],
        minutes=15,
        id="comment-digests",
        coalesce=True,
        max_instances=1,
    )
    scheduler.start()
    return scheduler

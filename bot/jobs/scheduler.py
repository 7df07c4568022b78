"""Timed work inside the running process's event loop, on one server of several at a time."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.jobs.accounts import run_account_checks
from bot.jobs.comments import run_comment_sweep, run_weekly_digests
from bot.jobs.drafts import run_draft_sweep
from bot.jobs.people import SYNC_EVERY_MINUTES, run_people_sync
from bot.jobs.posts import run_post_sweep
from bot.jobs.retention import run_retention
from bot.runtime import Runtime
from storage.leadership import Leadership

log = logging.getLogger(__name__)


def start_scheduler(runtime: Runtime, *, paused: bool = False) -> AsyncIOScheduler:
    """Start the jobs (`paused`: ready, but running nothing until resumed); call from inside a
    running event loop.

    `coalesce` and one instance at a time mean a slow sweep is never run twice at once, and a
    process that was asleep catches up with one run rather than a burst.
    """
    scheduler = AsyncIOScheduler(timezone="UTC")
    sweep_minutes = runtime.settings.drafts.sweep_every_minutes
    jobs: list[tuple[str, Callable[[Runtime], Awaitable[object]], float]] = [
        ("draft-sweep", run_draft_sweep, sweep_minutes),
        ("post-sweep", run_post_sweep, sweep_minutes),
        ("comment-sweep", run_comment_sweep, 1),
        ("comment-digests", run_weekly_digests, 15),
        ("account-checks", run_account_checks, 60),
        ("retention", run_retention, 60),
        ("people-sync", run_people_sync, SYNC_EVERY_MINUTES),
    ]
    for job_id, job, minutes in jobs:
        scheduler.add_job(
            job,
            "interval",
            args=[runtime],
            minutes=minutes,
            id=job_id,
            coalesce=True,
            max_instances=1,
        )
    scheduler.start(paused=paused)
    return scheduler


def lead_the_scheduler(
    runtime: Runtime,
    scheduler: AsyncIOScheduler,
    *,
    on_change: Callable[[bool], None] = lambda leading: None,
) -> Leadership:
    """Run `scheduler` (started paused) only while this server leads: of several servers on
    one PostgreSQL database exactly one runs the jobs (storage.leadership), and another takes
    over within POLICYBOT_LEADER_RETRY_SECONDS of its going. `on_change` is told each time."""
    leadership = Leadership(
        runtime.settings.database_url,
        retry_seconds=runtime.settings.hosts.leader_retry_seconds,
    )

    def gained() -> None:
        scheduler.resume()
        on_change(True)

    def lost() -> None:
        # A job already running finishes (its rows are claimed in its own transaction); no
        # new one starts here until this server leads again.
        scheduler.pause()
        on_change(False)

    on_change(False)  # until the first try says otherwise
    runtime.in_background(leadership.lead(gained=gained, lost=lost))
    return leadership

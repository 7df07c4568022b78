"""The scheduled sweep of unfinished dialogs."""

from __future__ import annotations

from datetime import timedelta

from bot.runtime import Runtime
from dialogs.drafts import DraftSweep, sweep_drafts


async def run_draft_sweep(runtime: Runtime) -> DraftSweep:
    drafts = runtime.settings.drafts
    return await sweep_drafts(
        db=runtime.db,
        engine=runtime.engine,
        services=runtime.services,
        directory=runtime.directory,
        now=runtime.clock(),
        remind_after=timedelta(hours=drafts.remind_after_hours),
        expire_after=timedelta(hours=drafts.expire_after_hours),
    )

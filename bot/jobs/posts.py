"""The post sweep: remind about approved posts not yet published, and let old approvals lapse."""

from __future__ import annotations

import logging

from bot.runtime import Runtime
from dialogs.services.posts.service import PostSweep

log = logging.getLogger(__name__)


async def run_post_sweep(runtime: Runtime) -> PostSweep:
    """One transaction per school, so a problem at one school never holds up another's."""
    reminded = expired = 0
    for school in runtime.directory.schools:
        try:
            async with runtime.db.session() as session:
                result = await runtime.services(session, runtime.clock()).posts.sweep(school)
        except Exception:
            log.exception("post sweep failed for school %s", school.id)
            continue
        reminded += result.reminded
        expired += result.expired
    return PostSweep(reminded, expired)

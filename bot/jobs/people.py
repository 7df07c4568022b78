"""Everyone learned from a chat platform, asked about again once a day.

A leaver loses access at their next message anyway (staff_directory.RECHECK_AFTER); this makes
sure one who never writes again also loses their roles, so alerts stop being meant for them,
and finds the people listed by email who have not written yet, so they can be reached.
"""

from __future__ import annotations

import logging

from bot.runtime import Runtime
from dialogs.services.people.directory import SyncResult

log = logging.getLogger(__name__)

SYNC_EVERY_MINUTES = 24 * 60


async def run_people_sync(runtime: Runtime) -> dict[str, SyncResult]:
    done: dict[str, SyncResult] = {}
    for platform, (lookup, emails) in runtime.platform_directories.items():
        try:
            result = await runtime.staff.sync(
                runtime.db.session, platform, lookup, emails, runtime.clock()
            )
        except Exception:
            log.exception("people sync failed on %s", platform)
            continue
        done[platform] = result
        log.info(
            "people sync on %s: %d checked, %d left, %d found by email, %d not asked",
            platform,
            result.checked,
            len(result.left),
            len(result.found),
            result.unavailable,
        )
    return done

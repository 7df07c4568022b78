"""The yearly check on official accounts, run often so a new round starts on its day."""

from __future__ import annotations

import logging

from bot.runtime import Runtime
from dialogs.services.accounts.checks import CheckRun

log = logging.getLogger(__name__)


async def run_account_checks(runtime: Runtime) -> CheckRun:
    """One transaction per school, so a problem at one school never holds up another's."""
    asked = flagged = 0
    skipped = False
    for school in runtime.directory.schools:
        try:
            async with runtime.db.session() as session:
                services = runtime.services(session, runtime.clock())
                result = await services.account_checks.run(school)
        except Exception:
            log.exception("account checks failed for school %s", school.id)
            continue
        asked += result.asked
        flagged += result.flagged
        skipped = skipped or result.skipped
    return CheckRun(asked=asked, flagged=flagged, skipped=skipped)

"""Sealing the audit log: every minute, so an entry can be shown unchanged soon after it lands."""

from __future__ import annotations

import logging

from bot.runtime import Runtime
from dialogs.services.audit_chain import AuditChain

log = logging.getLogger(__name__)


async def run_audit_seal(runtime: Runtime) -> int:
    """One transaction: a partial batch is never left half sealed, and a run that finds another
    process sealing does nothing (that process, or the next run, seals the rest)."""
    async with runtime.db.session() as session:
        sealed = await AuditChain(session, runtime.clock()).seal()
    if sealed:
        log.info("audit log: sealed %d entries", sealed)
    return sealed

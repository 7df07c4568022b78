"""The retention sweep: each school's records past their periods, then the old audit log."""

from __future__ import annotations

import logging
from datetime import timedelta

from bot.runtime import Runtime
from dialogs.services.errors import InvalidRequest
from dialogs.services.messages import Message, MessageKind
from dialogs.services.notifier import OutboxNotifier
from dialogs.services.privacy.audit import SYSTEM_ACTOR
from dialogs.services.privacy.audit_chain import AuditChain
from dialogs.services.privacy.retention import Swept
from dialogs.services.school.schools import Role
from storage import events

log = logging.getLogger(__name__)


async def run_retention(runtime: Runtime, *, dry_run: bool = False) -> dict[str, Swept]:
    """One transaction per school, so a problem at one school never holds up another's; the
    files a school's records pointed to are deleted only after that transaction commits."""
    done: dict[str, Swept] = {}
    for school in runtime.directory.schools:
        try:
            async with runtime.db.session() as session:
                swept = await runtime.services(session, runtime.clock()).retention.sweep(
                    school, dry_run=dry_run
                )
        except Exception:
            log.exception("retention failed for school %s", school.id)
            continue
        for name in swept.files:
            try:
                await runtime.blobs.delete(name)
            except OSError:
                log.warning("a file past retention could not be deleted; it is no longer used")
        done[school.id] = swept
    if not dry_run:
        await prune_audit_log(runtime)
        await forget_old_deliveries(runtime)
    return done


async def forget_old_deliveries(runtime: Runtime) -> int:
    """The per-turn records that make a repeated delivery a no-op, once no repeat can come."""
    now = runtime.clock()
    async with runtime.db.session() as session:
        return await events.forget_before(session, now - timedelta(days=events.KEEP_PROCESSED_DAYS))


async def prune_audit_log(runtime: Runtime) -> int:
    """Remove audit entries past the longest `audit_days` of any school (the log is one chain
    for the whole deployment). A log that fails verification is never pruned, since that
    would destroy the evidence: the data protection officers are told instead."""
    schools = runtime.directory.schools
    keep = max(s.retention.audit_days for s in schools)
    now = runtime.clock()
    try:
        async with runtime.db.session() as session:
            return await AuditChain(session, now).prune(now - timedelta(days=keep), SYSTEM_ACTOR)
    except InvalidRequest as exc:
        log.error("the audit log was not pruned: it failed verification")
        async with runtime.db.session() as session:
            outbox = OutboxNotifier(session, now)
            for school in schools:
                for person in school.with_role(Role.DATA_PROTECTION_OFFICER, Role.HEADTEACHER):
                    outbox.notify(
                        school_id=school.id,
                        person_id=person.id,
                        kind="audit_broken",
                        message=Message(
                            kind=MessageKind.URGENT,
                            title="The audit log failed its check",
                            text=f"{exc.message} Old entries were not removed. Run policybot "
                            "audit verify, and look into who changed the database.",
                        ),
                    )
        return 0

"""Unfinished dialogs: a reminder after a while, then expiry, never silently.

A half-finished report is kept exactly as it was left. After `remind_after` the person is told it
is waiting and when it will be deleted; after `expire_after` its files are deleted and the
person is told. Each draft is handled in its own transaction so one bad row never stops a sweep.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from dialogs.engine import DialogContext, DialogState, Engine
from dialogs.services.messages import Message, MessageKind
from dialogs.services.privacy.audit import AuditAction
from dialogs.services.school.schools import Directory, Person
from dialogs.turn import ServicesFactory
from storage import conversations as repo
from storage.db import Database

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DraftSweep:
    reminded: int = 0
    expired: int = 0
    failed: int = 0


def _when(moment: datetime, tz_name: str) -> str:
    from zoneinfo import ZoneInfo

    return moment.astimezone(ZoneInfo(tz_name)).strftime("%A %d %B at %H:%M")


async def sweep_drafts(
    *,
    db: Database,
    engine: Engine,
    services: ServicesFactory,
    directory: Directory,
    now: datetime,
    remind_after: timedelta,
    expire_after: timedelta,
) -> DraftSweep:
    async with db.session() as session:
        candidates = [
            row.id for row in await repo.idle_drafts(session, idle_since=now - remind_after)
        ]
    reminded = expired = failed = 0
    for conversation_id in candidates:
        assert conversation_id is not None
        try:
            async with db.session() as session:
                row = await repo.lock(session, conversation_id)
                if row is None or row.state is None or row.updated_at >= now - remind_after:
                    continue  # finished or touched since the candidates were read
                school = directory.school(row.school_id)
                if school is None:
                    log.warning("draft %s belongs to a school no longer configured", row.id)
                    continue
                state = DialogState.model_validate(row.state)
                title = engine.dialogs[state.dialog].title.lower()
                svc = services(session, now)
                deadline = row.updated_at + expire_after
                if now >= deadline:
                    person = school.person(row.person_id) or Person(
                        id=row.person_id, name=row.person_id
                    )
                    ctx = DialogContext(
                        person=person,
                        school=school,
                        channel=row.channel,
                        now=now,
                        services=svc,
                        state=state,
                    )
                    await engine.discard(ctx)
                    row.state, row.dialog, row.version = None, None, row.version + 1
                    svc.notifier.notify(
                        school_id=school.id,
                        person_id=row.person_id,
                        kind="draft.expired",
                        message=Message(
                            kind=MessageKind.NOTIFICATION,
                            title=f"Your unfinished {title} has been deleted",
                            text=f"You started a {title} on "
                            f"{_when(row.created_at, school.timezone)} but didn't send it, so "
                            "it has now been deleted with any files. Nothing was sent. If you "
                            "still need to report something, type report.",
                        ),
                    )
                    svc.audit.record(
                        school_id=school.id,
                        actor_id="system",
                        action=AuditAction.DRAFT_EXPIRE,
                        target_type="draft",
                        target_id=state.draft_id,
                    )
                    expired += 1
                elif row.reminded_at is None:
                    svc.notifier.notify(
                        school_id=school.id,
                        person_id=row.person_id,
                        kind="draft.reminder",
                        message=Message(
                            kind=MessageKind.NOTIFICATION,
                            title=f"You have an unfinished {title}",
                            text=f"Your {title} hasn't been sent yet. Everything you gave me is "
                            "saved: say anything to carry on where you left off. If it isn't "
                            f"finished it will be deleted on {_when(deadline, school.timezone)}.",
                        ),
                    )
                    row.reminded_at = now
                    reminded += 1
        except Exception:  # one bad draft must not stop the sweep; it is retried next time
            log.exception("could not sweep draft conversation %s", conversation_id)
            failed += 1
    return DraftSweep(reminded=reminded, expired=expired, failed=failed)

"""Retention: what is past its period is removed, or anonymised, and that it was done recorded.

Each school sets a period per kind of record (`[schools.retention]`). Each context that owns a
kind of record contributes the rule that applies its period (a `RetentionRule`): cases
anonymise closed reports past their period and remove their evidence, comments and post
requests are deleted with their files, messages held for someone never taken as staff go. The
service runs the rules the composition gives it, in order, and records an audit entry with the
counts of every run. privacy/ holds only the protocol and the ledger, so it never imports the
contexts it sweeps (they import its audit log).

Files are deleted only after the transaction that forgets them commits (`Swept.files`), so a
crash never leaves a record pointing at a file that is gone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, Unpack

from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.services.privacy.audit import SYSTEM_ACTOR, AuditAction
from dialogs.services.privacy.audited import Audited, AuditedService
from dialogs.services.school.schools import School

# What a removed text reads as, wherever a rule keeps the record but not what people wrote.
REMOVED = "[removed under the school's retention policy]"


@dataclass
class Swept:
    anonymised_cases: int = 0
    kept_on_hold: int = 0
    evidence: int = 0
    comments: int = 0
    approvals: int = 0
    held_messages: int = 0
    # Stored file names to delete once this unit of work has committed.
    files: list[str] = field(default_factory=list)

    def counts(self) -> str:
        return (
            f"cases anonymised {self.anonymised_cases}, kept on hold {self.kept_on_hold}, "
            f"evidence {self.evidence}, comments {self.comments}, approvals {self.approvals}, "
            f"held messages {self.held_messages}"
        )


class RetentionRule(Protocol):
    """One kind of record's retention at one school: what is past its period (as of `now`) is
    removed or anonymised, counted in `swept`, and its stored files appended to `swept.files`
    for deletion after commit. With `dry_run` it only counts, and changes nothing."""

    async def __call__(
        self,
        session: AsyncSession,
        school: School,
        *,
        now: datetime,
        dry_run: bool,
        swept: Swept,
    ) -> None: ...


class RetentionService(AuditedService):
    def __init__(self, *, rules: Sequence[RetentionRule], **work: Unpack[Audited]) -> None:
        super().__init__(**work)
        self._rules = rules

    async def sweep(self, school: School, *, dry_run: bool = False) -> Swept:
        """Remove or anonymise what is past retention at one school; `dry_run` only counts."""
        swept = Swept()
        for rule in self._rules:
            await rule(self._session, school, now=self._now, dry_run=dry_run, swept=swept)
        if not dry_run:
            self._audit.record(
                school_id=school.id,
                actor_id=SYSTEM_ACTOR,
                action=AuditAction.RETENTION_APPLY,
                target_type="school",
                target_id=school.id,
                detail=swept.counts(),
            )
        return swept

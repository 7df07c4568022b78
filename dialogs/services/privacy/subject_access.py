"""Subject access: everything held about one person, gathered for the data protection officer,
and erasure of what the law allows to be erased.

A person appears as the reporter of a report, as someone a report is about (named in it), as
the author of a post request or a policy question, as a handler or decision-maker, and in the
audit log. The export gathers all of it into one package for the DPO, who reviews it (other
people's data in a report about this person may need to be withheld) before anything is
released. Erasure removes what the bot holds only for the person's convenience (drafts, unsent
messages, questions asked, posts that never went out) and keeps, with the reason, what must be
kept: safeguarding records, the record of decisions, and the audit log.

Each context that holds personal data contributes its part (a `PersonalData`): its sections of
the export, the files it adds to the package, and its lines of an erasure. This service owns
what is privacy's own (who the request is about, their profile, the audit log) and runs the
parts the composition gives it, so privacy/ never imports the contexts it gathers from (they
import its audit log).
"""

from __future__ import annotations

import html
import json
import zipfile
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol, Unpack

from sqlalchemy import or_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from dialogs.services.errors import InvalidRequest
from dialogs.services.privacy.audit import AuditAction
from dialogs.services.privacy.audited import Audited, AuditedService
from dialogs.services.privacy.pseudonyms import PREFIX, is_pseudonym, is_theirs
from dialogs.services.school.permissions import RecordsAction, require
from dialogs.services.school.schools import Person, School
from storage.models import AuditEntry

REVIEW_NOTE = (
    "Prepared for the data protection officer. Reports that name this person may hold other "
    "people's personal data (the reporter, witnesses): review them, and any exemption that "
    "applies, before releasing anything. Reports they made anonymously or for the lead only, "
    "and audit entries under a pseudonym, are theirs: release them to them alone, and tell "
    "nobody else they made them."
)


@dataclass(frozen=True)
class Subject:
    """Who the request is about: their id (if they were ever on the staff list) and the names
    they may be written under in reports."""

    person_id: str
    names: tuple[str, ...]


@dataclass(frozen=True)
class ErasureLine:
    what: str
    count: int
    erased: bool
    why: str


@dataclass(frozen=True)
class Erasure:
    lines: list[ErasureLine]
    # Stored files to delete once the erasure has committed.
    files: list[str]


@dataclass(frozen=True)
class PackageFile:
    """A file added to the export as it was received, at `name` inside the package."""

    name: str
    content: bytes


@dataclass(frozen=True)
class PlannedErasure:
    """One line of an erasure and, for what may be erased, how: `carry_out` removes what the
    line counted (found when it was counted) and returns the stored files to delete after the
    erasure commits. What is kept has no `carry_out`."""

    line: ErasureLine
    carry_out: Callable[[], Awaitable[list[str]]] | None = None


class PersonalData(Protocol):
    """One context's part of a subject access request. A part subclasses this and overrides
    what it holds; the rest is nothing."""

    async def gather(self, school: School, subject: Subject) -> dict[str, Any]:
        """Its named sections of the export, in the order they are shown."""
        return {}

    async def package(self, school: School, subject: Subject) -> list[PackageFile]:
        """The files it adds to the package."""
        return []

    async def erasure(
        self, school: School, subject: Subject, gathered: Mapping[str, Any]
    ) -> list[PlannedErasure]:
        """What it erases and what it keeps, and why; `gathered` is the whole export."""
        return []


class StoredPersonalData(PersonalData):
    """A part that reads its context's tables in the request's own unit of work."""

    def __init__(self, *, session: AsyncSession) -> None:
        self._session = session


@dataclass(frozen=True)
class SubjectAccessParts:
    """The parts of a request, in order. The export reads context by context; an erasure lists
    what goes before what stays, so its order is its own."""

    export: Sequence[PersonalData]
    erasure: Sequence[PersonalData]


def when(moment: datetime | None) -> str | None:
    """A moment as the export writes it."""
    return moment.isoformat() if moment else None


class SubjectAccessService(AuditedService):
    def __init__(self, *, parts: SubjectAccessParts, **work: Unpack[Audited]) -> None:
        super().__init__(**work)
        self._parts = parts

    def subject(self, school: School, person_id: str, extra_names: Sequence[str] = ()) -> Subject:
        listed = school.person(person_id)
        names = ([listed.name] if listed else []) + [n for n in extra_names if n.strip()]
        if not names:
            raise InvalidRequest(
                f"{person_id!r} is not on {school.name}'s staff list: give the name(s) they may "
                "be written under with --name, so reports about them can be found."
            )
        return Subject(person_id=person_id, names=tuple(dict.fromkeys(names)))

    # -- export ------------------------------------------------------------------------------

    async def gather(self, school: School, subject: Subject, *, actor: Person) -> dict[str, Any]:
        require(actor, RecordsAction.SUBJECT_ACCESS, school=school)
        pid = subject.person_id
        listed = school.person(pid)
        data: dict[str, Any] = {
            "about": {
                "person_id": pid,
                "names": list(subject.names),
                "school": school.id,
                "generated_at": self._now.isoformat(),
                "note": REVIEW_NOTE,
            },
            "profile": listed.model_dump(mode="json") if listed else None,
        }
        for part in self._parts.export:
            data.update(await part.gather(school, subject))
        data["audit_log"] = [
            {
                "at": when(a.at),
                "action": a.action,
                "target": f"{a.target_type}:{a.target_id}",
                "detail": a.detail,
                "under_pseudonym": is_pseudonym(a.actor_id),
            }
            for a in await self._audit_entries(school, pid)
        ]
        return data

    async def _audit_entries(self, school: School, pid: str) -> list[AuditEntry]:
        """Their entries: under their id, and under a pseudonym the key shows is theirs (what
        they did while drafting, and as the reporter of a report nobody may know they made)."""
        result = await self._session.execute(
            select(AuditEntry)
            .where(
                AuditEntry.school_id == school.id,
                or_(col(AuditEntry.actor_id) == pid, col(AuditEntry.actor_id).startswith(PREFIX)),
            )
            .order_by(col(AuditEntry.id))
        )
        return [
            e
            for e in result.scalars().all()
            if e.actor_id == pid or is_theirs(self._session, e, pid)
        ]

    async def export(
        self, school: School, subject: Subject, *, actor: Person, out: Path
    ) -> dict[str, int]:
        """Write the package: data.json, a readable index.html, and the files the person sent
        as evidence. The export itself is audited (who, about whom; never the contents)."""
        data = await self.gather(school, subject, actor=actor)
        counts = {k: len(v) for k, v in data.items() if isinstance(v, list)}
        files = [f for part in self._parts.export for f in await part.package(school, subject)]
        out.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("data.json", json.dumps(data, indent=2, ensure_ascii=False))
            archive.writestr("index.html", _readable(data))
            for file in files:
                archive.writestr(file.name, file.content)
        self._audit.record(
            school_id=school.id,
            actor_id=actor.id,
            action=AuditAction.SAR_EXPORT,
            target_type="person",
            target_id=subject.person_id,
            detail=f"{sum(counts.values())} records, {len(files)} files",
        )
        return counts

    # -- erasure -----------------------------------------------------------------------------

    async def erase(
        self, school: School, subject: Subject, *, actor: Person, confirm: bool
    ) -> Erasure:
        """What can be erased is erased (with `confirm`; otherwise only listed); what must be
        kept is listed with the reason. Every line is counted before anything is erased."""
        require(actor, RecordsAction.ERASE, school=school)
        data = await self.gather(school, subject, actor=actor)
        planned = [
            step
            for part in self._parts.erasure
            for step in await part.erasure(school, subject, data)
        ]
        lines = [step.line for step in planned]
        lines.append(
            ErasureLine(
                "Audit log entries",
                len(data["audit_log"]),
                False,
                "the tamper-evident record of who did what; removed only by retention",
            )
        )
        if not confirm:
            return Erasure(lines, [])
        files: list[str] = []
        for step in planned:
            if step.carry_out is not None:
                files.extend(await step.carry_out())
        self._audit.record(
            school_id=school.id,
            actor_id=actor.id,
            action=AuditAction.SAR_ERASE,
            target_type="person",
            target_id=subject.person_id,
            detail=", ".join(f"{line.count} {line.what.lower()}" for line in lines if line.erased),
        )
        return Erasure(lines, files)


def _readable(data: dict[str, Any]) -> str:
    """The same data as a page a person can read and print."""
    about = data["about"]
    parts = [
        "<!doctype html><meta charset='utf-8'><title>Subject access</title>",
        "<style>body{font-family:sans-serif;max-width:60em;margin:2em auto}"
        "pre{white-space:pre-wrap;background:#f6f6f6;padding:.5em}</style>",
        f"<h1>Everything held about {html.escape(', '.join(about['names']))}</h1>",
        f"<p>{html.escape(about['note'])}</p>",
        f"<p>Generated {html.escape(about['generated_at'])} "
        f"for {html.escape(about['school'])}.</p>",
    ]
    for key, value in data.items():
        if key == "about":
            continue
        title = key.replace("_", " ").capitalize()
        count = len(value) if isinstance(value, list) else (1 if value else 0)
        parts.append(f"<h2>{html.escape(title)} ({count})</h2>")
        if not value:
            parts.append("<p>None.</p>")
            continue
        rendered = json.dumps(value, indent=2, ensure_ascii=False)
        parts.append(f"<pre>{html.escape(rendered)}</pre>")
    return "\n".join(parts)

"""Subject access: everything held about one person, gathered for the data protection officer,
and erasure of what the law allows to be erased.

A person appears as the reporter of a report, as someone a report is about (named in it), as
the author of a post request or a policy question, as a handler or decision-maker, and in the
audit log. The export gathers all of it into one package for the DPO, who reviews it (other
people's data in a report about this person may need to be withheld) before anything is
released. Erasure removes what the bot holds only for the person's convenience (drafts, unsent
messages, questions asked, posts that never went out) and keeps, with the reason, what must be
kept: safeguarding records, the record of decisions, and the audit log.
"""

from __future__ import annotations

import html
import json
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import delete, or_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from dialogs.services.cases.conflicts import names_in
from dialogs.services.errors import InvalidRequest
from dialogs.services.evidence.service import EvidenceService
from dialogs.services.posts.card import PostStatus
from dialogs.services.privacy.audit import AuditAction, AuditLog
from dialogs.services.privacy.pseudonyms import PREFIX, is_pseudonym, is_theirs
from dialogs.services.school.permissions import RecordsAction, require
from dialogs.services.school.schools import Person, School
from storage.models import (
    AccountRequest,
    AuditEntry,
    Case,
    CaseEvent,
    Comment,
    Conversation,
    Evidence,
    Notification,
    OwnerAnswer,
    PolicyQuestion,
    PostDecision,
    PostRequest,
    StaffMember,
    WebsiteReport,
)

REVIEW_NOTE = (
    "Prepared for the data protection officer. Reports that name this person may hold other "
    "people's personal data (the reporter, witnesses): review them, and any exemption that "
    "applies, before releasing anything. Reports they made anonymously or for the lead only, "
    "and audit entries under a pseudonym, are theirs: release them to them alone, and tell "
    "nobody else they made them."
)
_UNSENT_POSTS = [PostStatus.REJECTED.value, PostStatus.WITHDRAWN.value, PostStatus.EXPIRED.value]


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


def _when(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _drafts(school: School, pid: str) -> Any:
    return select(Conversation).where(
        Conversation.school_id == school.id, Conversation.person_id == pid
    )


def _waiting(school: School, pid: str) -> Any:
    return select(Notification).where(
        Notification.school_id == school.id,
        Notification.person_id == pid,
        col(Notification.delivered_at).is_(None),
    )


def _questions(school: School, pid: str) -> Any:
    return select(PolicyQuestion).where(
        PolicyQuestion.school_id == school.id, PolicyQuestion.person_id == pid
    )


class SubjectAccessService:
    def __init__(
        self,
        *,
        session: AsyncSession,
        audit: AuditLog,
        evidence: EvidenceService,
        now: datetime,
    ) -> None:
        self._session = session
        self._audit = audit
        self._evidence = evidence
        self._now = now

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
        cases = await self._all(select(Case).where(Case.school_id == school.id))
        made = [c for c in cases if c.reporter_id == pid]
        about = [c for c in cases if c.reporter_id != pid and self._names(c, subject)]
        events = await self._all(select(CaseEvent).where(CaseEvent.actor_id == pid))
        references = {c.id: c.reference for c in cases}
        data: dict[str, Any] = {
            "about": {
                "person_id": pid,
                "names": list(subject.names),
                "school": school.id,
                "generated_at": self._now.isoformat(),
                "note": REVIEW_NOTE,
            },
            "profile": listed.model_dump(mode="json") if listed else None,
            # What Slack or Teams told the bot of them, when they were learned from there.
            "learned_from_platforms": [
                {
                    "learned_at": _when(m.learned_at),
                    "checked_at": _when(m.checked_at),
                    "left_at": _when(m.left_at),
                    "email": m.email,
                    "slack_user_id": m.slack_user_id,
                    "teams_user_id": m.teams_user_id,
                }
                for m in await self._all(
                    select(StaffMember).where(
                        StaffMember.school_id == school.id, StaffMember.person_id == pid
                    )
                )
            ],
            "reports_made": [await self._case(c, with_files=True) for c in made],
            "reports_naming_them": [await self._case(c, with_files=False) for c in about],
            "actions_on_reports": [
                {
                    "report": references.get(e.case_id, e.case_id),
                    "at": _when(e.at),
                    "kind": e.kind,
                    "text": e.text,
                }
                for e in events
                if e.case_id in references
            ],
            "post_requests": [
                {
                    "reference": r.reference,
                    "status": r.status,
                    "text": r.text,
                    "accounts": r.accounts,
                    "planned_at": _when(r.planned_at),
                    "created_at": _when(r.created_at),
                }
                for r in await self._all(
                    select(PostRequest).where(
                        PostRequest.school_id == school.id, PostRequest.author_id == pid
                    )
                )
            ],
            "post_decisions": [
                {"request_id": d.request_id, "at": _when(d.at), "action": d.action, "why": d.reason}
                for d in await self._all(select(PostDecision).where(PostDecision.actor_id == pid))
            ],
            "comments_handled": [
                {
                    "reference": c.reference,
                    "received_at": _when(c.received_at),
                    "status": c.status,
                    "logged_by_them": c.logged_by == pid,
                    "handled_by_them": c.handled_by == pid,
                    "reported_by_them": c.reported_by == pid,
                }
                for c in await self._all(
                    select(Comment).where(
                        Comment.school_id == school.id,
                        or_(
                            col(Comment.logged_by) == pid,
                            col(Comment.handled_by) == pid,
                            col(Comment.reported_by) == pid,
                        ),
                    )
                )
            ],
            "account_requests": [
                {
                    "reference": r.reference,
                    "name": r.name,
                    "status": r.status,
                    "requested_by_them": r.requester_id == pid,
                    "decided_by_them": r.decided_by == pid,
                    "runs_it": pid in r.runners,
                }
                for r in await self._all(
                    select(AccountRequest).where(AccountRequest.school_id == school.id)
                )
                if pid in (r.requester_id, r.decided_by) or pid in r.runners
            ],
            "account_confirmations": [
                {
                    "account": a.account_id,
                    "answered_at": _when(a.answered_at),
                    "still_runs": a.still_runs,
                    "credentials_safe": a.credentials_safe,
                }
                for a in await self._all(
                    select(OwnerAnswer).where(
                        OwnerAnswer.school_id == school.id, OwnerAnswer.person_id == pid
                    )
                )
            ],
            "website_reports": [
                {
                    "reference": w.reference,
                    "address": w.address,
                    "seen_at": _when(w.seen_at),
                    "status": w.status,
                    "reported_by_them": w.reporter_id == pid,
                }
                for w in await self._all(
                    select(WebsiteReport).where(
                        WebsiteReport.school_id == school.id,
                        or_(
                            col(WebsiteReport.reporter_id) == pid,
                            col(WebsiteReport.handled_by) == pid,
                        ),
                    )
                )
            ],
            "policy_questions": [
                {
                    "asked_at": _when(q.asked_at),
                    "question": q.question,
                    "answer": q.answer,
                    "feedback": q.feedback,
                }
                for q in await self._all(_questions(school, pid))
            ],
            "conversations_in_progress": [
                {
                    "channel": c.channel,
                    "dialog": c.dialog,
                    "answers": (c.state or {}).get("answers"),
                }
                for c in await self._all(_drafts(school, pid))
                if c.state
            ],
            "messages_waiting": [
                {"kind": n.kind, "created_at": _when(n.created_at), "message": n.message}
                for n in await self._all(_waiting(school, pid))
            ],
            "audit_log": [
                {
                    "at": _when(a.at),
                    "action": a.action,
                    "target": f"{a.target_type}:{a.target_id}",
                    "detail": a.detail,
                    "under_pseudonym": is_pseudonym(a.actor_id),
                }
                for a in await self._audit_entries(school, pid)
            ],
        }
        return data

    async def _audit_entries(self, school: School, pid: str) -> list[AuditEntry]:
        """Their entries: under their id, and under a pseudonym the key shows is theirs (what
        they did while drafting, and as the reporter of a report nobody may know they made)."""
        entries: list[AuditEntry] = await self._all(
            select(AuditEntry)
            .where(
                AuditEntry.school_id == school.id,
                or_(col(AuditEntry.actor_id) == pid, col(AuditEntry.actor_id).startswith(PREFIX)),
            )
            .order_by(col(AuditEntry.id))
        )
        return [e for e in entries if e.actor_id == pid or is_theirs(self._session, e, pid)]

    def _names(self, case: Case, subject: Subject) -> bool:
        text = " \n".join(
            t for t in (case.affected_name, case.responsible_name, case.description) if t
        )
        return names_in(text, subject.names)

    async def _case(self, case: Case, *, with_files: bool) -> dict[str, Any]:
        files = await self._evidence.for_case(case.id)
        return {
            "reference": case.reference,
            "created_at": _when(case.created_at),
            "status": case.status,
            "who_may_know_who_reported": case.reporter_visibility,
            "platform": case.platform,
            "occurred_at": _when(case.occurred_at),
            "what_happened": case.description,
            "person_affected": case.affected_name,
            "person_responsible": case.responsible_name,
            "link": case.link,
            "evidence": [
                {
                    "name": f.original_name,
                    "sha256": f.sha256,
                    "received_at": _when(f.received_at),
                    "in_package_as": f"files/{case.reference}/{f.id}{f.extension}"
                    if with_files
                    else None,
                }
                for f in files
            ],
        }

    async def export(
        self, school: School, subject: Subject, *, actor: Person, out: Path
    ) -> dict[str, int]:
        """Write the package: data.json, a readable index.html, and the files the person sent
        as evidence. The export itself is audited (who, about whom; never the contents)."""
        data = await self.gather(school, subject, actor=actor)
        counts = {k: len(v) for k, v in data.items() if isinstance(v, list)}
        files: list[tuple[str, bytes]] = []
        for case in await self._all(
            select(Case).where(Case.school_id == school.id, Case.reporter_id == subject.person_id)
        ):
            for record in await self._evidence.for_case(case.id):
                read = await self._evidence.read(record)
                name = f"files/{case.reference}/{record.id}{record.extension}"
                files.append((name, read.content))
        out.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("data.json", json.dumps(data, indent=2, ensure_ascii=False))
            archive.writestr("index.html", _readable(data))
            for name, content in files:
                archive.writestr(name, content)
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
        kept is listed with the reason."""
        require(actor, RecordsAction.ERASE, school=school)
        pid = subject.person_id
        drafts = await self._all(_drafts(school, pid))
        waiting = await self._all(_waiting(school, pid))
        questions = await self._all(_questions(school, pid))
        unsent = await self._all(
            select(PostRequest).where(
                PostRequest.school_id == school.id,
                PostRequest.author_id == pid,
                col(PostRequest.status).in_(_UNSENT_POSTS),
            )
        )
        draft_files = await self._all(
            select(Evidence).where(
                Evidence.school_id == school.id,
                Evidence.uploaded_by == pid,
                col(Evidence.case_id).is_(None),
                col(Evidence.post_request_id).is_(None),
            )
        )
        data = await self.gather(school, subject, actor=actor)
        lines = [
            ErasureLine("Unfinished conversations", len(drafts), True, "held only to resume them"),
            ErasureLine(
                "Files attached to unfinished drafts", len(draft_files), True, "never sent"
            ),
            ErasureLine("Messages not yet delivered", len(waiting), True, "not yet read"),
            ErasureLine("Policy questions asked", len(questions), True, "no longer needed"),
            ErasureLine("Post requests that never went out", len(unsent), True, "not published"),
            ErasureLine(
                "Reports they made",
                len(data["reports_made"]),
                False,
                "safeguarding records, kept for the school's retention period (legal obligation)",
            ),
            ErasureLine(
                "Reports that name them",
                len(data["reports_naming_them"]),
                False,
                "safeguarding records about others too, kept for the retention period",
            ),
            ErasureLine(
                "Their actions on reports, posts and comments",
                len(data["actions_on_reports"]) + len(data["post_decisions"]),
                False,
                "the record of decisions the school must be able to show",
            ),
            ErasureLine(
                "Audit log entries",
                len(data["audit_log"]),
                False,
                "the tamper-evident record of who did what; removed only by retention",
            ),
        ]
        if not confirm:
            return Erasure(lines, [])
        files = [record.stored_name for record in draft_files]
        for row in drafts:
            await self._session.delete(row)
        for record in draft_files:
            await self._session.delete(record)
        ids = [n.id for n in waiting if n.id is not None]
        if ids:
            await self._session.execute(delete(Notification).where(col(Notification.id).in_(ids)))
        for question in questions:
            await self._session.delete(question)
        for request in unsent:
            await self._session.execute(
                delete(PostDecision).where(col(PostDecision.request_id) == request.id)
            )
            for record in await self._all(
                select(Evidence).where(Evidence.post_request_id == request.id)
            ):
                files.append(record.stored_name)
                await self._session.delete(record)
            await self._session.delete(request)
        self._audit.record(
            school_id=school.id,
            actor_id=actor.id,
            action=AuditAction.SAR_ERASE,
            target_type="person",
            target_id=pid,
            detail=", ".join(f"{line.count} {line.what.lower()}" for line in lines if line.erased),
        )
        return Erasure(lines, files)

    async def _all(self, query: Any) -> list[Any]:
        return list((await self._session.execute(query)).scalars().all())


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

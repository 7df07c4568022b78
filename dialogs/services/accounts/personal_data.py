"""What the accounts register and its processes hold about a person, for a subject access
request (privacy.subject_access): account requests they made, decided or run, their answers to
the yearly check, and websites they reported. Nothing is erased on request: it is the record
of who runs the school's accounts and who decided what.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_
from sqlmodel import col, select

from dialogs.services.privacy.subject_access import StoredPersonalData, Subject, when
from dialogs.services.school.schools import School
from storage.models import AccountRequest, OwnerAnswer, WebsiteReport


class AccountsPersonalData(StoredPersonalData):
    async def gather(self, school: School, subject: Subject) -> dict[str, Any]:
        pid = subject.person_id
        requests = await self._session.execute(
            select(AccountRequest).where(AccountRequest.school_id == school.id)
        )
        answers = await self._session.execute(
            select(OwnerAnswer).where(
                OwnerAnswer.school_id == school.id, OwnerAnswer.person_id == pid
            )
        )
        websites = await self._session.execute(
            select(WebsiteReport).where(
                WebsiteReport.school_id == school.id,
                or_(
                    col(WebsiteReport.reporter_id) == pid,
                    col(WebsiteReport.handled_by) == pid,
                ),
            )
        )
        return {
            "account_requests": [
                {
                    "reference": r.reference,
                    "name": r.name,
                    "status": r.status,
                    "requested_by_them": r.requester_id == pid,
                    "decided_by_them": r.decided_by == pid,
                    "runs_it": pid in r.runners,
                }
                for r in requests.scalars().all()
                if pid in (r.requester_id, r.decided_by) or pid in r.runners
            ],
            "account_confirmations": [
                {
                    "account": a.account_id,
                    "answered_at": when(a.answered_at),
                    "still_runs": a.still_runs,
                    "credentials_safe": a.credentials_safe,
                }
                for a in answers.scalars().all()
            ],
            "website_reports": [
                {
                    "reference": w.reference,
                    "address": w.address,
                    "seen_at": when(w.seen_at),
                    "status": w.status,
                    "reported_by_them": w.reporter_id == pid,
                }
                for w in websites.scalars().all()
            ],
        }

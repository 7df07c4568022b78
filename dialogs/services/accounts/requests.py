"""New official accounts: the business case, the senior leaders' decision, and the register.

The policies ask that nobody opens an official account on their own: the case for it (its aim,
audience, how it will be promoted, who will run it, open or private) goes to the senior
leaders, who approve or reject it with a reason, never on their own request. Once approved, an
administrator records the account (its handle and link) and it joins the register. Every step
is recorded with who and when, and audited.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from dialogs.services.accounts.register import ReadsTheRegister
from dialogs.services.errors import InvalidRequest, NotFound
from dialogs.services.messages import Fact, InputKind, Message, MessageKind
from dialogs.services.privacy.audit import AuditAction
from dialogs.services.school.button_values import VerbButton
from dialogs.services.school.permissions import (
    ACCOUNT_DECIDER_ROLES,
    ACCOUNT_RECORDER_ROLES,
    AccountAction,
    may,
    require,
)
from dialogs.services.school.platforms import LABELS, Platform
from dialogs.services.school.references import school_reference
from dialogs.services.school.schools import Person, School
from storage.models import AccountRequest, RegisteredAccount

REFERENCE_PREFIX = "AR"
MIN_RUNNERS = 2
MAX_REASON_CHARS = 2000


class AccountStatus(StrEnum):
    SUBMITTED = "submitted"
    APPROVED = "approved"  # waiting to be set up and recorded
    REJECTED = "rejected"
    RECORDED = "recorded"  # in the register


STATUS_LABELS = {
    AccountStatus.SUBMITTED: "Waiting for the senior leaders",
    AccountStatus.APPROVED: "Approved: to be set up",
    AccountStatus.REJECTED: "Rejected",
    AccountStatus.RECORDED: "In the register",
}


class AccountVerb(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"


@dataclass(frozen=True)
class AccountButtonValue(VerbButton[AccountVerb]):
    PREFIX = "account"
    VERBS = AccountVerb


@dataclass(frozen=True)
class NewAccount:
    name: str
    platform: Platform
    aim: str
    audience: str
    promotion: str
    runners: list[str]  # person ids
    visibility: str  # "open" or "private"


@dataclass(frozen=True)
class AccountDecided:
    request: AccountRequest
    message: str


class AccountRequestService(ReadsTheRegister):
    async def submit(self, new: NewAccount, *, school: School, requester: Person) -> AccountRequest:
        runners = list(dict.fromkeys(new.runners))
        if len(runners) < MIN_RUNNERS:
            raise InvalidRequest("An official account needs at least two people to run it.")
        unknown = [r for r in runners if school.person(r) is None]
        if unknown:
            raise InvalidRequest(f"{unknown[0]!r} is not one of the school's staff.")
        request = AccountRequest(
            id=uuid.uuid4().hex,
            school_id=school.id,
            reference=await school_reference(self._session, school, REFERENCE_PREFIX, self._now),
            requester_id=requester.id,
            created_at=self._now,
            status=AccountStatus.SUBMITTED.value,
            name=new.name,
            platform=new.platform.value,
            aim=new.aim,
            audience=new.audience,
            promotion=new.promotion,
            runners=runners,
            visibility=new.visibility,
        )
        self._session.add(request)
        self._audit.about(
            request,
            "account_request",
            actor_id=requester.id,
            action=AuditAction.ACCOUNT_REQUEST,
            detail="submit",
        )
        for leader in self.deciders(school):
            if leader.id != requester.id:
                self._notifier.notify(
                    school_id=school.id,
                    person_id=leader.id,
                    kind="account_request",
                    message=account_card(request, school),
                )
        return request

    def deciders(self, school: School) -> list[Person]:
        return school.with_role(*ACCOUNT_DECIDER_ROLES)

    async def for_decision(
        self, reference: str, *, school: School, actor: Person
    ) -> AccountRequest:
        """The request, if `actor` may decide on it now: checked before a reason is asked for,
        and again when the decision is made."""
        request = await self.get(reference, school=school, actor=actor)
        require(actor, AccountAction.DECIDE, request, school)
        if AccountStatus(request.status) is not AccountStatus.SUBMITTED:
            raise InvalidRequest(
                f"{request.reference} has already been decided "
                f"({STATUS_LABELS[AccountStatus(request.status)].lower()})."
            )
        return request

    async def decide(
        self,
        reference: str,
        *,
        school: School,
        actor: Person,
        verb: AccountVerb,
        reason: str = "",
    ) -> AccountDecided:
        request = await self.for_decision(reference, school=school, actor=actor)
        reason = " ".join(reason.split())
        if verb is AccountVerb.REJECT and len(reason) < 3:
            raise InvalidRequest("Please give the reason: the person who asked is told it.")
        request.status = (
            AccountStatus.APPROVED if verb is AccountVerb.APPROVE else AccountStatus.REJECTED
        ).value
        request.decided_by, request.decided_at = actor.id, self._now
        request.reason = reason[:MAX_REASON_CHARS] or None
        self._audit.about(
            request,
            "account_request",
            actor_id=actor.id,
            action=AuditAction.ACCOUNT_DECIDE,
            detail=verb.value,
        )
        if verb is AccountVerb.APPROVE:
            told = (
                f"{actor.name} approved your request {request.reference} for "
                f"“{request.name}”. The IT administrator will set it up and add it to the "
                "register; please don't post from it until then."
            )
            for admin in school.with_role(*ACCOUNT_RECORDER_ROLES):
                self._notifier.notify(
                    school_id=school.id,
                    person_id=admin.id,
                    kind="account_to_record",
                    message=Message(
                        kind=MessageKind.NOTIFICATION,
                        title=f"New official account to set up: {request.reference}",
                        text=f"{actor.name} approved “{request.name}” on "
                        f"{LABELS[Platform(request.platform)]}. When it exists, record it: "
                        f"policybot accounts record {request.reference} --id … --handle … "
                        "--link … --credentials-stored --as you, once its password is kept "
                        "with the school's other credentials.",
                        facts=_facts(request, school),
                    ),
                )
        else:
            told = (
                f"{actor.name} did not approve your request {request.reference} for "
                f"“{request.name}”: {reason}"
            )
        self._notifier.notify(
            school_id=school.id,
            person_id=request.requester_id,
            kind="account_decided",
            message=Message(kind=MessageKind.NOTIFICATION, title=request.reference, text=told),
        )
        done = "approved" if verb is AccountVerb.APPROVE else "rejected"
        return AccountDecided(request, f"You {done} {request.reference}. They have been told.")

    async def record(
        self,
        reference: str,
        *,
        school: School,
        actor: Person,
        account_id: str,
        handle: str,
        link: str,
        credentials_stored: bool,
        comment_deadlines: bool = True,
        comment_deadline_hours: float | None = None,
    ) -> RegisteredAccount:
        """The account exists now: it joins the register with its owners and visibility.

        Whoever records it confirms that its password is kept where the school keeps its other
        credentials, so an account never depends on one person's memory or device.
        """
        require(actor, AccountAction.RECORD, school=school)
        if not credentials_stored:
            raise InvalidRequest(
                "Please keep the account's password in the school's password store first, "
                "then confirm it (--credentials-stored)."
            )
        request = await self.get(reference, school=school, actor=None)
        if AccountStatus(request.status) is not AccountStatus.APPROVED:
            raise InvalidRequest(
                f"{request.reference} is {STATUS_LABELS[AccountStatus(request.status)].lower()}; "
                "only an approved request can be recorded."
            )
        if not link.startswith("https://") or any(c.isspace() for c in link):
            raise InvalidRequest("The account's link must start with https://.")
        if comment_deadline_hours is not None and not 0 < comment_deadline_hours <= 24 * 30:
            raise InvalidRequest("A comment deadline is more than 0 and at most 720 hours.")
        if (await self._register.school(school)).account(account_id) is not None:
            raise InvalidRequest(f"{school.name} already has an account {account_id!r}.")
        registered = RegisteredAccount(
            school_id=school.id,
            account_id=account_id,
            name=request.name,
            platform=request.platform,
            handle=handle.strip()[:200],
            link=link,
            owners=list(request.runners),
            visibility=request.visibility,
            request_id=request.id,
            recorded_at=self._now,
            recorded_by=actor.id,
            comment_deadlines=comment_deadlines,
            comment_deadline_hours=comment_deadline_hours,
        )
        try:
            async with self._session.begin_nested():
                self._session.add(registered)
        except IntegrityError:
            raise InvalidRequest(f"The register already has an account {account_id!r}.") from None
        request.status = AccountStatus.RECORDED.value
        self._register.forget(school)
        self._audit.about(
            request,
            "account_request",
            actor_id=actor.id,
            action=AuditAction.ACCOUNT_RECORD,
            detail=f"{account_id} credentials stored",
        )
        self._notifier.notify(
            school_id=school.id,
            person_id=request.requester_id,
            kind="account_recorded",
            message=Message(
                kind=MessageKind.NOTIFICATION,
                title=f"{request.name} is in the register",
                text=f"The account for {request.reference} is set up ({handle}). Posts on it "
                "still need approval first.",
            ),
        )
        return registered

    async def get(self, reference: str, *, school: School, actor: Person | None) -> AccountRequest:
        """A request for the person who made it or a senior leader; None is the command line."""
        result = await self._session.execute(
            select(AccountRequest).where(
                AccountRequest.school_id == school.id,
                AccountRequest.reference == reference.strip().upper()[:32],
            )
        )
        request = result.scalars().first()
        if request is None:
            raise NotFound(f"I can't find an account request {reference.strip().upper()[:32]}.")
        if actor is not None:
            require(actor, AccountAction.VIEW, request, school)
        return request

    async def waiting_for(self, school: School, actor: Person) -> list[AccountRequest]:
        """The requests still waiting for a senior leader's decision, for a senior leader."""
        if not may(actor, AccountAction.DECIDE):
            return []
        return [
            r
            for r in await self.requests(school)
            if AccountStatus(r.status) is AccountStatus.SUBMITTED
        ]

    async def requests(self, school: School) -> Sequence[AccountRequest]:
        result = await self._session.execute(
            select(AccountRequest)
            .where(AccountRequest.school_id == school.id)
            .order_by(col(AccountRequest.created_at))
        )
        return result.scalars().all()


def _facts(request: AccountRequest, school: School) -> tuple[Fact, ...]:
    return (
        Fact(label="Asked by", value=school.display_name(request.requester_id)),
        Fact(label="Platform", value=LABELS[Platform(request.platform)]),
        Fact(label="Aim", value=request.aim),
        Fact(label="Audience", value=request.audience),
        Fact(label="How it will be promoted", value=request.promotion),
        Fact(
            label="Run by",
            value=", ".join(school.display_name(r) for r in request.runners),
        ),
        Fact(label="Open or private", value=request.visibility.capitalize()),
    )


def account_card(request: AccountRequest, school: School) -> Message:
    """What a senior leader decides from: the whole business case, and two buttons."""
    return Message(
        kind=MessageKind.NOTIFICATION,
        title=f"New official account requested: {request.reference}",
        text=f"“{request.name}”. Please approve or reject it; a rejection needs a reason, "
        "which the person who asked is told.",
        facts=_facts(request, school),
        buttons=(
            AccountButtonValue(AccountVerb.APPROVE, request.reference).button("Approve", "primary"),
            AccountButtonValue(AccountVerb.REJECT, request.reference).button("Reject", "danger"),
        ),
        expects=InputKind.CHOICE,
    )

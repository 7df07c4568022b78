"""The yearly check on every official account, and the concerns raised with the senior leaders.

The policies ask that an official account always has at least two people who can run it, that
its password is held safely, and that it is still in use. Once a year (configurable) each
owner is asked to confirm; an account is flagged to the senior leaders when its owners have not
all answered in time, when it is left with fewer than two owners (someone left, or said they no
longer run it), when nothing has been approved for it for a long time, or at once when an owner
says its password needs attention. Each concern is raised once a round, so a daily run never
repeats itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol, Unpack

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from dialogs.services.accounts.register import AccountRegister, Ownership
from dialogs.services.errors import InvalidRequest, NotFound
from dialogs.services.messages import Fact, InputKind, Message, MessageKind
from dialogs.services.privacy.audit import SYSTEM_ACTOR, AuditAction
from dialogs.services.privacy.audited import Notifying, NotifyingService
from dialogs.services.school.button_values import VerbButton
from dialogs.services.school.permissions import AccountAction, AccountInCheck, require
from dialogs.services.school.platforms import LABELS
from dialogs.services.school.schools import OfficialAccount, Person, Role, School
from storage.db import only_one_at_a_time
from storage.models import AccountCheck, OwnerAnswer

CHECK_LOCK_KEY = 0x706F6C_6163  # "pol" "ac"


class OwnerVerb(StrEnum):
    CONFIRM = "confirm"  # still runs it, and its password is safe
    UNSAFE = "unsafe"  # still runs it, but the password needs attention
    LEFT = "left"  # no longer runs it


@dataclass(frozen=True)
class OwnerButtonValue(VerbButton[OwnerVerb]):
    """The reference is the check round's number, so an answer always belongs to one round."""

    PREFIX = "owner"
    VERBS = OwnerVerb


class Concern(StrEnum):
    UNCONFIRMED = "unconfirmed"
    FEW_OWNERS = "few_owners"
    QUIET = "quiet"
    CREDENTIALS = "credentials"


@dataclass(frozen=True)
class CheckRun:
    asked: int = 0  # owners asked to confirm
    flagged: int = 0  # concerns raised
    skipped: bool = False  # another process was running the checks


@dataclass(frozen=True)
class Answered:
    message: str


class AccountActivity(Protocol):
    """Where an account was last used with the school's approval (the posts context), so a
    yearly check knows which accounts have gone quiet without reading another context's tables."""

    async def last_approved(self, school: School) -> dict[str, datetime]: ...


class AccountCheckService(NotifyingService):
    def __init__(
        self, *, register: AccountRegister, activity: AccountActivity, **work: Unpack[Notifying]
    ) -> None:
        super().__init__(**work)
        self._register = register
        self._activity = activity

    # -- the scheduled run -----------------------------------------------------------------

    async def run(self, school: School) -> CheckRun:
        """Start the rounds that are due, and raise the concerns not yet raised this round."""
        if not await only_one_at_a_time(self._session, CHECK_LOCK_KEY):
            return CheckRun(skipped=True)
        school = await self._register.school(school)
        rules = school.account_checks
        recorded = {r.account_id: r for r in await self._register.recorded(school)}
        rounds = await self._rounds(school)
        approved = await self._activity.last_approved(school)
        asked = flagged = 0
        for account in school.accounts:
            mine = rounds.get(account.id, [])
            latest = mine[-1] if mine else None
            row = recorded.get(account.id)
            if latest is None and row is not None:
                # Recording it was its first confirmation: the owners set it up just now.
                latest = await self._new_round(school, account, started=row.recorded_at, ask=[])
                mine = [latest]
            elif latest is None or self._now - latest.started_at >= timedelta(
                days=rules.confirm_every_days
            ):
                if latest is not None:
                    latest.closed_at = self._now
                ownership = await self._register.ownership(school, account)
                latest = await self._new_round(
                    school, account, started=self._now, ask=ownership.current
                )
                mine = [*mine, latest]
                asked += len(latest.asked)
            first_seen = min(r.started_at for r in mine)
            flagged += await self._raise_concerns(
                school, account, latest, first_seen, approved.get(account.id)
            )
        return CheckRun(asked=asked, flagged=flagged)

    async def _raise_concerns(
        self,
        school: School,
        account: OfficialAccount,
        check: AccountCheck,
        first_seen: datetime,
        last_approved: datetime | None,
    ) -> int:
        rules = school.account_checks
        ownership = await self._register.ownership(school, account)
        raised = 0
        if ownership.too_few:
            raised += self._flag(school, account, check, Concern.FEW_OWNERS, ownership)
        if check.asked and self._now - check.started_at >= timedelta(days=rules.answer_within_days):
            answered = {a.person_id for a in await self._answers(check)}
            current = {p.id for p in ownership.current}
            if any(p in current and p not in answered for p in check.asked):
                raised += self._flag(school, account, check, Concern.UNCONFIRMED, ownership)
        since = max(last_approved or first_seen, first_seen)
        if self._now - since >= timedelta(days=rules.quiet_after_days):
            raised += self._flag(
                school, account, check, Concern.QUIET, ownership, last_approved=last_approved
            )
        return raised

    async def _new_round(
        self, school: School, account: OfficialAccount, *, started: datetime, ask: Sequence[Person]
    ) -> AccountCheck:
        check = AccountCheck(
            school_id=school.id,
            account_id=account.id,
            started_at=started,
            asked=[p.id for p in ask],
            flagged=[],
        )
        self._session.add(check)
        await self._session.flush()  # its id is the reference on the owners' buttons
        assert check.id is not None
        for person in ask:
            self._notifier.notify(
                school_id=school.id,
                person_id=person.id,
                kind="account_check",
                message=owner_card(check.id, account),
            )
        if ask:
            self._audit.record(
                school_id=school.id,
                actor_id=SYSTEM_ACTOR,
                action=AuditAction.ACCOUNT_CHECK,
                target_type="account",
                target_id=account.id,
                detail=f"asked {len(ask)}",
            )
        return check

    def _flag(
        self,
        school: School,
        account: OfficialAccount,
        check: AccountCheck,
        concern: Concern,
        ownership: Ownership,
        *,
        last_approved: datetime | None = None,
        said_by: Person | None = None,
    ) -> int:
        """Tell the senior leaders, once a round for each concern (the password: every time an
        owner says so)."""
        if concern is not Concern.CREDENTIALS:
            if concern.value in check.flagged:
                return 0
            check.flagged = [*check.flagged, concern.value]
        why = {
            Concern.FEW_OWNERS: f"It has {len(ownership.current)} "
            f"{'owner' if len(ownership.current) == 1 else 'owners'} who can run it; the policy "
            "asks for at least two, so it is never left with nobody to answer.",
            Concern.UNCONFIRMED: "Its owners have not all confirmed that they still run it and "
            "keep its password safe.",
            Concern.QUIET: "Nothing has been approved for it since "
            + (f"{last_approved.astimezone(school.tz):%d %B %Y}" if last_approved else "it joined")
            + ". If it is no longer used, consider closing it.",
            Concern.CREDENTIALS: f"{said_by.name if said_by else 'An owner'} says its password "
            "needs attention (shared, saved somewhere unsafe, or not known to the school). "
            "Please have it changed and stored safely.",
        }[concern]
        facts = [
            Fact(label="Platform", value=LABELS[account.platform]),
            Fact(
                label="Run by",
                value=", ".join(p.name for p in ownership.current) or "nobody",
            ),
        ]
        if account.handle:
            facts.append(Fact(label="Handle", value=account.handle))
        former = [school.display_name(p) for p in (*ownership.left, *ownership.stepped_down)]
        if former:
            facts.append(Fact(label="No longer running it", value=", ".join(former)))
        message = Message(
            kind=MessageKind.NOTIFICATION,
            title=f"Official account needs attention: {account.name}",
            text=f"{why} To change who runs it: policybot accounts update {account.id} "
            "--add-owner … (or the school's configuration, for accounts listed there).",
            facts=tuple(facts),
        )
        for person in self.leads(school):
            self._notifier.notify(
                school_id=school.id, person_id=person.id, kind="account_flag", message=message
            )
        self._audit.record(
            school_id=school.id,
            actor_id=said_by.id if said_by else SYSTEM_ACTOR,
            action=AuditAction.ACCOUNT_FLAG,
            target_type="account",
            target_id=account.id,
            detail=concern.value,
        )
        return 1

    def leads(self, school: School) -> list[Person]:
        chosen = [p for p in (school.person(i) for i in school.account_checks.flag_to) if p]
        return chosen or school.with_role(Role.SENIOR_LEADER) or school.with_role(Role.HEADTEACHER)

    # -- an owner's answer -----------------------------------------------------------------

    async def answer(
        self, reference: str, *, school: School, actor: Person, verb: OwnerVerb
    ) -> Answered:
        school = await self._register.school(school)
        check = await self._check(reference, school)
        account = school.account(check.account_id)
        if account is None:
            raise NotFound("That account is no longer in the register.")
        ownership = await self._register.ownership(school, account)
        in_check = AccountInCheck(
            school_id=school.id,
            account_id=account.id,
            name=account.name,
            asked=frozenset(check.asked),
            owners=frozenset(p.id for p in ownership.current),
        )
        require(actor, AccountAction.CONFIRM, in_check, school)
        if check.closed_at is not None:
            raise InvalidRequest(
                f"That check on {account.name} has been replaced by a newer one: please answer "
                "the latest message about it."
            )
        answer = next((a for a in await self._answers(check) if a.person_id == actor.id), None)
        if answer is None:
            answer = OwnerAnswer(
                check_id=check.id or 0,
                school_id=school.id,
                account_id=account.id,
                person_id=actor.id,
                still_runs=verb is not OwnerVerb.LEFT,
                credentials_safe=verb is OwnerVerb.CONFIRM,
                answered_at=self._now,
            )
            try:
                async with self._session.begin_nested():
                    self._session.add(answer)
            except IntegrityError:
                raise InvalidRequest("You answered this a moment ago.") from None
        else:  # a change of mind
            answer.still_runs = verb is not OwnerVerb.LEFT
            answer.credentials_safe = verb is OwnerVerb.CONFIRM
            answer.answered_at = self._now
        self._audit.record(
            school_id=school.id,
            actor_id=actor.id,
            action=AuditAction.ACCOUNT_ANSWER,
            target_type="account",
            target_id=account.id,
            detail=verb.value,
        )
        ownership = await self._register.ownership(school, account)
        leads = ", ".join(p.name for p in self.leads(school)) or "the senior leaders"
        if verb is OwnerVerb.UNSAFE:
            self._flag(school, account, check, Concern.CREDENTIALS, ownership, said_by=actor)
            return Answered(
                f"Thank you for saying. I've told {leads}, so the password for {account.name} "
                "can be changed and kept safely."
            )
        if verb is OwnerVerb.LEFT:
            told = ""
            if ownership.too_few and self._flag(
                school, account, check, Concern.FEW_OWNERS, ownership
            ):
                told = f" It now has fewer than two owners, so I've told {leads}."
            return Answered(f"Thank you: you're no longer listed as running {account.name}.{told}")
        return Answered(f"Thank you: {account.name} is confirmed for this year.")

    # -- reading ---------------------------------------------------------------------------

    async def _check(self, reference: str, school: School) -> AccountCheck:
        check = (
            await self._session.get(AccountCheck, int(reference))
            if reference.isdigit() and len(reference) < 12
            else None
        )
        if check is None or check.school_id != school.id:
            raise NotFound("I can't find that check on an official account.")
        return check

    async def _answers(self, check: AccountCheck) -> Sequence[OwnerAnswer]:
        result = await self._session.execute(
            select(OwnerAnswer).where(OwnerAnswer.check_id == check.id)
        )
        return result.scalars().all()

    async def _rounds(self, school: School) -> dict[str, list[AccountCheck]]:
        result = await self._session.execute(
            select(AccountCheck)
            .where(AccountCheck.school_id == school.id)
            .order_by(col(AccountCheck.started_at), col(AccountCheck.id))
        )
        rounds: dict[str, list[AccountCheck]] = {}
        for check in result.scalars().all():
            rounds.setdefault(check.account_id, []).append(check)
        return rounds

    async def status(self, school: School) -> dict[str, dict[str, object]]:
        """For the register listing: when each account was last confirmed by all its owners,
        and what was flagged in its current round."""
        rounds = await self._rounds(school)
        out: dict[str, dict[str, object]] = {}
        for account_id, mine in rounds.items():
            latest = mine[-1]
            answers = await self._answers(latest)
            out[account_id] = {
                "check_started_at": latest.started_at.isoformat(),
                "owners_asked": list(latest.asked),
                "owners_answered": sorted(a.person_id for a in answers),
                "flagged": list(latest.flagged),
            }
        return out


def owner_card(check_id: int, account: OfficialAccount) -> Message:
    where = LABELS[account.platform] + (f", {account.handle}" if account.handle else "")
    return Message(
        kind=MessageKind.NOTIFICATION,
        title=f"Do you still run {account.name}?",
        text=f"Once a year the people who run each official account confirm that they still "
        f"do, and that its password is kept safely: in the school's password store, not shared "
        f"or saved on a personal device. Please answer for {account.name} ({where}).",
        buttons=(
            OwnerButtonValue(OwnerVerb.CONFIRM, str(check_id)).button(
                "Yes, and its password is safe", "primary"
            ),
            OwnerButtonValue(OwnerVerb.UNSAFE, str(check_id)).button(
                "Yes, but the password needs attention"
            ),
            OwnerButtonValue(OwnerVerb.LEFT, str(check_id)).button(
                "I don't run it any more", "danger"
            ),
        ),
        expects=InputKind.CHOICE,
    )

"""The register of a school's official accounts, as every other process sees it.

Accounts come from two places: the school's configuration, and the register table, where an IT
administrator records an account once a request for it has been approved. Post approvals,
comment deadlines and the yearly checks must all see both, and see a newly recorded account at
once in every process, so each unit of work reads the recorded accounts from the database
rather than from a per-process cache that could be stale.

That read is kept as light as it can be, because every turn makes it: one prepared statement
for the columns an account is made of, and the school with those accounts built again only when
what was read differs from last time (`_Merged`). Nothing is trusted that the database did not
just say, so an account recorded or changed by another process, another host, or by hand is
seen by the next unit of work, exactly as before. Why not a cache told of changes (a version
stamp, PostgreSQL's NOTIFY) instead: the stamp costs the same round trip as the read (the rows
are few; the round trip is what costs), and a notice arrives a moment after the change, a moment
in which an account taken off the register could still be offered for a post.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Unpack

from pydantic import ValidationError
from sqlalchemy import bindparam
from sqlalchemy import select as sql_select
from sqlmodel import col, select

from dialogs.services.errors import InvalidRequest, NotFound
from dialogs.services.privacy.audit import AuditAction
from dialogs.services.privacy.audited import Audited, AuditedService, Notifying, NotifyingService
from dialogs.services.school.permissions import AccountAction, require
from dialogs.services.school.schools import OfficialAccount, Person, School
from storage.conversations import REGISTER_VERSIONS
from storage.models import OwnerAnswer, RegisteredAccount

log = logging.getLogger(__name__)

MIN_OWNERS = 2


# What a school's accounts are made of, in the register's order: read by every unit of work.
_RECORDED = (
    sql_select(
        col(RegisteredAccount.id),
        col(RegisteredAccount.account_id),
        col(RegisteredAccount.name),
        col(RegisteredAccount.platform),
        col(RegisteredAccount.handle),
        col(RegisteredAccount.link),
        col(RegisteredAccount.owners),
        col(RegisteredAccount.visibility),
        col(RegisteredAccount.comment_deadlines),
        col(RegisteredAccount.comment_deadline_hours),
    )
    .where(col(RegisteredAccount.school_id) == bindparam("school_id"))
    .order_by(col(RegisteredAccount.recorded_at), col(RegisteredAccount.id))
)
# One recorded account as read: (row id, account id, name, platform, handle, link, owners,
# visibility, comment_deadlines, comment_deadline_hours), the owners as a tuple.
Recorded = tuple[Any, ...]


def _as_account(row: Recorded, school_id: str) -> OfficialAccount | None:
    (row_id, account_id, name, platform, handle, link, owners, visibility, deadlines, hours) = row
    try:
        return OfficialAccount(
            id=account_id,
            name=name,
            platform=platform,
            handle=handle or None,
            link=link or None,
            owners=tuple(owners),
            visibility=visibility if visibility in ("open", "private") else None,
            comment_deadlines=deadlines,
            comment_deadline_hours=hours,
        )
    except ValidationError:
        # Written by an older version or by hand: skipped rather than breaking every turn.
        log.warning("registered account %s of %s is not valid; skipped", row_id, school_id)
        return None


def _with_recorded(school: School, recorded: Sequence[Recorded]) -> School:
    """The school with its recorded accounts added to those in its configuration."""
    configured = {a.id for a in school.accounts}
    extra: list[OfficialAccount] = []
    for row in recorded:
        if row[1] in configured:
            continue  # the configuration wins if the same id was added there later
        account = _as_account(row, school.id)
        if account is not None:
            extra.append(account)
    if not extra:
        return school
    return school.model_copy(update={"accounts": (*school.accounts, *extra)})


class _Merged:
    """The school last merged with its register, in this process: given the same School object
    (the configuration's, as it is now) and the same rows, the same merged School, not a new
    one. Why: building it again each turn costs, and a School that keeps its identity keeps what
    was built from it (the choices a prompt offers: dialogs.school_options).

    Each is kept with the register's version it was read at (storage.models.RegisterVersion),
    when that is known: a turn that read the same version with its conversation takes the
    merged school without reading the register at all."""

    def __init__(self) -> None:
        # school id -> (the configured school, the version, the rows read, the merged school)
        self._last: dict[str, tuple[School, object, tuple[Recorded, ...], School]] = {}

    def at_version(self, school: School, version: object) -> School | None:
        """The merged school if it was read at this version of the register, else None."""
        last = self._last.get(school.id)
        if last is not None and last[0] is school and last[1] == version:
            return last[3]
        return None

    def school(self, school: School, recorded: tuple[Recorded, ...], version: object) -> School:
        last = self._last.get(school.id)
        if last is not None and last[0] is school and last[2] == recorded:
            merged = last[3]
        else:
            merged = _with_recorded(school, recorded)
        self._last[school.id] = (school, version, recorded, merged)
        return merged


# The version of a register not read with a conversation: never equal to one that was.
_UNKNOWN = object()

_merged = _Merged()


@dataclass(frozen=True)
class Ownership:
    """Who runs an account now: its named owners, less anyone no longer on the staff list and
    anyone whose latest answer to the yearly check was that they no longer run it."""

    current: list[Person]
    left: list[str]  # owner ids no longer listed as staff
    stepped_down: list[str]

    @property
    def too_few(self) -> bool:
        return len(self.current) < MIN_OWNERS


class AccountRegister(AuditedService):
    def __init__(self, **work: Unpack[Audited]) -> None:
        super().__init__(**work)
        # Kept with the session, so every service in one unit of work reads the register once.
        self._schools: dict[str, School] = self._session.info.setdefault("account_register", {})

    async def school(self, school: School) -> School:
        """The school with its recorded accounts added to those in its configuration.

        Idempotent and read once per unit of work, so callers at any depth may ask again.
        """
        known = self._schools.get(school.id)
        if known is not None:
            return known
        # The register's version, if this unit of work read it with a conversation
        # (storage.conversations): unchanged since this process last read it, nothing is read.
        versions: dict[str, int | None] = self._session.info.get(REGISTER_VERSIONS, {})
        version: object = versions.get(school.id, _UNKNOWN)
        if version is not _UNKNOWN:
            kept = _merged.at_version(school, version)
            if kept is not None:
                self._schools[school.id] = kept
                return kept
        result = await self._session.execute(_RECORDED, {"school_id": school.id})
        recorded = tuple((*row[:6], tuple(row[6]), *row[7:]) for row in result)
        merged = _merged.school(school, recorded, version)
        self._schools[school.id] = merged
        return merged

    def forget(self, school: School) -> None:
        """Read the register again next time: an account was just recorded or changed (and
        the version read with the conversation is no longer the register's)."""
        self._schools.pop(school.id, None)
        self._session.info.get(REGISTER_VERSIONS, {}).pop(school.id, None)

    async def recorded(self, school: School) -> Sequence[RegisteredAccount]:
        result = await self._session.execute(
            select(RegisteredAccount)
            .where(RegisteredAccount.school_id == school.id)
            .order_by(col(RegisteredAccount.recorded_at), col(RegisteredAccount.id))
        )
        return result.scalars().all()

    async def row(self, school: School, account_id: str) -> RegisteredAccount | None:
        result = await self._session.execute(
            select(RegisteredAccount).where(
                RegisteredAccount.school_id == school.id,
                RegisteredAccount.account_id == account_id,
            )
        )
        return result.scalars().first()

    async def ownership(self, school: School, account: OfficialAccount) -> Ownership:
        latest = await self.latest_answers(school, account.id)
        current: list[Person] = []
        left: list[str] = []
        stepped_down: list[str] = []
        for owner_id in dict.fromkeys(account.owners):
            person = school.person(owner_id)
            answer = latest.get(owner_id)
            if person is None:
                left.append(owner_id)
            elif answer is not None and not answer.still_runs:
                stepped_down.append(owner_id)
            else:
                current.append(person)
        return Ownership(current, left, stepped_down)

    async def latest_answers(self, school: School, account_id: str) -> dict[str, OwnerAnswer]:
        result = await self._session.execute(
            select(OwnerAnswer)
            .where(OwnerAnswer.school_id == school.id, OwnerAnswer.account_id == account_id)
            .order_by(col(OwnerAnswer.answered_at), col(OwnerAnswer.id))
        )
        return {a.person_id: a for a in result.scalars().all()}

    async def entries(self, school: School) -> list[dict[str, Any]]:
        """Every account in the register, as `accounts list|show --json` prints it."""
        school = await self.school(school)
        recorded = {r.account_id: r for r in await self.recorded(school)}
        rows: list[dict[str, Any]] = []
        for account in school.accounts:
            row = recorded.get(account.id)
            ownership = await self.ownership(school, account)
            rows.append(
                {
                    "id": account.id,
                    "name": account.name,
                    "platform": account.platform.value,
                    "handle": account.handle,
                    "link": account.link,
                    "owners": [p.id for p in ownership.current],
                    "former_owners": [*ownership.left, *ownership.stepped_down],
                    "visibility": account.visibility,
                    "comment_deadlines": account.comment_deadlines,
                    "comment_deadline_hours": (
                        account.comment_deadline_hours or school.comments.deadline_hours
                    )
                    if account.comment_deadlines
                    else None,
                    "source": "register" if row is not None else "configuration",
                    "recorded_at": row.recorded_at.isoformat() if row is not None else None,
                }
            )
        return rows

    async def update(
        self,
        school: School,
        account_id: str,
        *,
        actor: Person,
        add_owners: Sequence[str] = (),
        remove_owners: Sequence[str] = (),
        comment_deadlines: bool | None = None,
        comment_deadline_hours: float | None = None,
    ) -> RegisteredAccount:
        """Change who runs a recorded account, or its comment rules. Accounts listed in the
        configuration are changed there instead, where the school's other settings are."""
        require(actor, AccountAction.CHANGE_REGISTER, school=school)
        row = await self.row(school, account_id)
        if row is None:
            if school.account(account_id) is not None:
                raise InvalidRequest(
                    f"{account_id!r} is listed in the configuration: change it there."
                )
            raise NotFound(f"{school.name} has no official account {account_id!r}.")
        unknown = [p for p in add_owners if school.person(p) is None]
        if unknown:
            raise InvalidRequest(f"{unknown[0]!r} is not one of the school's staff.")
        owners = [o for o in row.owners if o not in set(remove_owners)]
        owners += [p for p in add_owners if p not in owners]
        if comment_deadline_hours is not None and not 0 < comment_deadline_hours <= 24 * 30:
            raise InvalidRequest("A comment deadline is more than 0 and at most 720 hours.")
        changes = []
        if owners != list(row.owners):
            row.owners = owners
            changes.append(
                " ".join([*(f"+{p}" for p in add_owners), *(f"-{p}" for p in remove_owners)])
            )
            for person_id in add_owners:
                # Named again as an owner: an earlier "I don't run it any more" no longer counts.
                await self._reinstate(school, account_id, person_id)
        if comment_deadlines is not None and comment_deadlines != row.comment_deadlines:
            row.comment_deadlines = comment_deadlines
            changes.append(f"comment_deadlines={comment_deadlines}")
        if comment_deadline_hours is not None:
            row.comment_deadline_hours = comment_deadline_hours
            changes.append(f"comment_deadline_hours={comment_deadline_hours:g}")
        if not changes:
            raise InvalidRequest("Nothing to change: give --add-owner, --remove-owner or a rule.")
        self.forget(school)
        self._audit.record(
            school_id=school.id,
            actor_id=actor.id,
            action=AuditAction.ACCOUNT_UPDATE,
            target_type="account",
            target_id=account_id,
            detail=" ".join(changes),
        )
        return row

    async def _reinstate(self, school: School, account_id: str, person_id: str) -> None:
        latest = (await self.latest_answers(school, account_id)).get(person_id)
        if latest is not None and not latest.still_runs:
            await self._session.delete(latest)


class ReadsTheRegister(NotifyingService):
    """A service that sees a school's official accounts as the register holds them (recorded
    ones as well as those in the configuration)."""

    def __init__(self, *, register: AccountRegister, **work: Unpack[Notifying]) -> None:
        super().__init__(**work)
        self._register = register

"""Who is a member of staff: the people the configuration lists, and everyone else in the
school's Slack workspace or Microsoft Entra tenant, learned when they first write to the bot.

Why: a member of staff being abused online must be able to report it on day one. Copying each
person's platform id into the configuration by hand meant that anyone not yet added could not
report at all, and that leavers were never removed. So the configuration lists only the people
with a role beyond staff (by email), says which email domains are the school's, and the rest
comes from the platforms' own directories:

- someone unknown who writes to the bot is looked up on their platform (Slack `users.info`,
  the Teams roster); a full member of the workspace or tenant whose verified email is at one
  of a school's domains is staff of that school, and is remembered (`StaffMember`);
- guests, bots, deactivated accounts and people outside the school's workspace or tenant are
  refused, kindly, saying who to ask;
- one verified email is one person: a Slack account and a Teams account with the same email
  are joined into the same person, with one history, and a person listed by email gets the
  platform ids they write from;
- a learned person is checked again when they write after `RECHECK_AFTER`: a leaver (an
  account deactivated, or gone from the workspace, team or tenant) loses access and every role,
  so alerts go to the others holding it; their row stays, because their records are kept by
  rule. A directory outage never stops someone already known.

The platforms are reached through `PlatformDirectory`, which each channel implements; nothing
here calls Slack or Teams itself, and no platform call is made inside a database transaction.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Iterable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Literal, Protocol

from dialogs.services.privacy.audit import SYSTEM_ACTOR, AuditAction, AuditLog
from dialogs.services.school.schools import Directory, Person, Role, School

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from storage.models import StaffMember

    # `Database.session`: a transaction, committed when the block ends.
    SessionFactory = Callable[[], AbstractAsyncContextManager[AsyncSession]]

PlatformName = Literal["slack", "teams"]

# How long a learned person's membership is trusted before their platform is asked again.
# Short, so that a leaver loses access at their next message; long enough that a burst of
# messages makes one directory call, not one each.
RECHECK_AFTER = timedelta(minutes=5)
# How long a check on someone already known may hold up their message: past it, the platform
# counts as unavailable, and they keep their access.
RECHECK_WAIT_SECONDS = 2.0


class AccountKind(StrEnum):
    """What the platform says an account is."""

    MEMBER = "member"
    GUEST = "guest"  # a Slack guest (single- or multi-channel), an Entra guest
    BOT = "bot"
    DEACTIVATED = "deactivated"


@dataclass(frozen=True)
class Profile:
    """One account as its platform's directory gives it."""

    platform: PlatformName
    user_id: str  # the Slack member id ("U…"), or the Microsoft Entra object id
    name: str
    email: str | None  # verified by the platform; None when it gives none
    workspace: str | None  # the Slack workspace ("T…"), or the Entra tenant id
    kind: AccountKind = AccountKind.MEMBER


class DirectoryUnavailable(Exception):
    """The platform's directory could not be asked (an outage, a run of rate limits)."""


class PlatformDirectory(Protocol):
    """A platform's directory of people, as a channel reaches it."""

    async def profile(self, user_id: str) -> Profile | None:
        """The account, or None when the platform does not know it (gone, or another
        workspace's). Raises DirectoryUnavailable when the platform cannot be asked."""
        ...


class EmailDirectory(Protocol):
    """A platform's directory searched by email: how a person listed by email is found before
    they have ever written to the bot."""

    async def by_email(self, email: str) -> Profile | None:
        """The account with this verified email, or None. Raises DirectoryUnavailable."""
        ...


@dataclass(frozen=True)
class Listing:
    """One person as `policybot people` shows them."""

    school: School
    person: Person
    listed: bool  # named in the configuration (their roles come from there)
    learned: Learned | None  # what the platforms told the bot, if anything

    @property
    def left(self) -> bool:
        return self.learned is not None and self.learned.left_at is not None


@dataclass
class SyncResult:
    """What `people sync` did on one platform."""

    checked: int = 0
    left: list[str] = field(default_factory=list)  # "school/person"
    found: list[str] = field(default_factory=list)  # listed people whose account was found
    not_found: list[str] = field(default_factory=list)  # listed people with no account there
    unavailable: int = 0


class Refusal(StrEnum):
    """Why someone who wrote to the bot is not taken as a member of staff."""

    GUEST = "guest"
    BOT = "bot"
    LEFT = "left"  # deactivated, or gone from the workspace, team or tenant
    OUTSIDE = "outside"  # not in a workspace or tenant any school uses
    NO_SCHOOL = "no_school"  # a member, but their email is at no school's domain
    NO_EMAIL = "no_email"  # the platform gives no verified email to match
    UNAVAILABLE = "unavailable"  # unknown, and the platform cannot be asked just now


@dataclass(frozen=True)
class Learned:
    """What the process keeps of a `StaffMember` row: a copy, so no database object outlives
    the transaction that read it."""

    school_id: str
    person_id: str
    name: str
    email: str | None
    slack_user_id: str | None
    teams_user_id: str | None
    learned_at: datetime
    checked_at: datetime
    left_at: datetime | None

    @classmethod
    def of(cls, row: StaffMember) -> Learned:
        return cls(
            school_id=row.school_id,
            person_id=row.person_id,
            name=row.name,
            email=row.email,
            slack_user_id=row.slack_user_id,
            teams_user_id=row.teams_user_id,
            learned_at=row.learned_at,
            checked_at=row.checked_at,
            left_at=row.left_at,
        )


@dataclass(frozen=True)
class Found:
    school: School
    person: Person


@dataclass(frozen=True)
class Refused:
    reason: Refusal
    # The schools whose IT administrators to name, when the message should say who to ask.
    schools: tuple[School, ...] = ()


@dataclass(frozen=True)
class Choose:
    """A person whose email is at several schools' domains (a trust's shared domain), not yet
    asked which one is theirs."""

    profile: Profile
    schools: tuple[School, ...]


Identified = Found | Refused | Choose


def _by_account(
    directory: Directory, platform: PlatformName
) -> Callable[[str], list[tuple[School, Person]]]:
    """The directory's index of one platform's accounts."""
    return directory.by_slack_user if platform == "slack" else directory.by_teams_user


def _id_column(platform: PlatformName) -> str:
    return "slack_user_id" if platform == "slack" else "teams_user_id"


def _person_id(email: str | None, name: str, taken: set[str]) -> str:
    """A readable id for a learned person ("jo.bloggs"), unique in their school."""
    base = (email or "").split("@", 1)[0] or name
    stem = re.sub(r"[^a-z0-9_.-]+", "-", base.lower()).strip("-._")[:56] or "staff"
    candidate, n = stem, 1
    while candidate in taken:
        n += 1
        candidate = f"{stem}-{n}"
    return candidate


def _same_email(a: str | None, b: str | None) -> bool:
    return bool(a and b and a.strip().lower() == b.strip().lower())


class StaffDirectory:
    """The directory every unit of work reads (`directory`): the configuration, with the people
    learned from the platforms merged in. One per process; it is rebuilt, never edited, so a
    unit of work that took it keeps a consistent view."""

    def __init__(self, configured: Directory) -> None:
        self._configured = configured
        self._members: dict[tuple[str, str], Learned] = {}  # (school id, person id)
        self._directory = configured

    @property
    def directory(self) -> Directory:
        return self._directory

    def school(self, school_id: str) -> School | None:
        """The school as it is now, with the people learned so far."""
        return self._directory.school(school_id)

    @property
    def configured(self) -> Directory:
        return self._configured

    def reconfigure(self, configured: Directory) -> None:
        """A changed configuration: its people and roles take effect from the next message."""
        self._configured = configured
        self._rebuild()

    async def load(self, session: AsyncSession) -> None:
        """Every learned person, at start-up (and by `people sync` after it)."""
        from sqlmodel import select

        from storage.models import StaffMember

        rows = (await session.execute(select(StaffMember))).scalars().all()
        self._remember(rows)

    # -- who is writing ------------------------------------------------------------------

    def is_known(self, platform: PlatformName, user_id: str) -> bool:
        """Whether this process knows the account already (listed, or learned, or left): what
        a channel can tell before it answers the platform, without asking anyone."""
        by = _by_account(self._directory, platform)
        return bool(by(user_id))

    async def identify(
        self,
        sessions: SessionFactory,
        platform: PlatformName,
        user_id: str,
        lookup: PlatformDirectory,
        now: datetime,
    ) -> Identified:
        """The school and person an account belongs to, or why it is refused.

        A person the configuration lists by platform id is taken as listed (the file is their
        directory). Anyone else is looked up, and remembered."""
        listed = self._listed(platform, user_id)
        if listed is not None:
            return listed
        member = self._member_by_account(platform, user_id)
        if member is None:
            async with sessions() as session:
                row = await _row_by_account(session, platform, user_id)
            if row is not None:  # learned by another process
                self._remember([row])
                member = Learned.of(row)
        if member is not None:
            return await self._known(sessions, member, platform, user_id, lookup, now)
        try:
            profile = await lookup.profile(user_id)
        except DirectoryUnavailable:
            return Refused(Refusal.UNAVAILABLE)  # not a refusal of the person: nothing to audit
        return await self.learn(sessions, platform, user_id, profile, now)

    async def learn(
        self,
        sessions: SessionFactory,
        platform: PlatformName,
        user_id: str,
        profile: Profile | None,
        now: datetime,
        *,
        school: School | None = None,
    ) -> Identified:
        """Take an account the platform described as staff, if it is: `school` when the person
        chose one of several."""
        refusal = self._refusal(profile)
        if refusal is None and profile is not None and not self._schools_for(profile):
            refusal = Refused(Refusal.NO_SCHOOL, self._schools_by_workspace(profile))
        if refusal is not None:
            await _audit_refusal(sessions, platform, user_id, refusal, now)
            return refusal
        assert profile is not None
        candidates = self._schools_for(profile)
        if school is not None:
            if school.id not in {s.id for s in candidates}:
                return Choose(profile, tuple(candidates))
            candidates = [school]
        async with sessions() as session:
            chosen = await self._chosen(session, profile, candidates)
            if chosen is None:
                return Choose(profile, tuple(candidates))
            member, moved = await self._attach(session, chosen, platform, user_id, profile, now)
            AuditLog(session, now).record(
                school_id=member.school_id,
                actor_id=member.person_id,
                action=AuditAction.STAFF_MOVE if moved else AuditAction.STAFF_LEARN,
                target_type="person",
                target_id=member.person_id,
                detail=f"staff by {platform}'s directory",
            )
        self._remember([member])
        return self._found(member)

    def schools_for(self, person: Person) -> tuple[School, ...]:
        """Every school a person's email fits (by domain, or listed there by email): the
        choice offered when they ask to change school."""
        return tuple(
            school
            for school in self._configured.schools
            if school.membership.takes(person.email)
            or any(_same_email(p.email, person.email) for p in school.people)
        )

    # -- what `policybot people` shows and does --------------------------------------------

    def listings(self, school_id: str | None = None) -> list[Listing]:
        """Everyone the bot knows, school by school: the people listed in the configuration
        and those learned from the platforms, leavers included."""
        found: list[Listing] = []
        for school in self._directory.schools:
            if school_id is not None and school.id != school_id:
                continue
            configured = self._configured.school(school.id)
            listed = {p.id for p in configured.people} if configured else set()
            for person in school.people:
                learned = self._members.get((school.id, person.id))
                found.append(Listing(school, person, person.id in listed, learned))
        return found

    async def sync(
        self,
        sessions: SessionFactory,
        platform: PlatformName,
        lookup: PlatformDirectory,
        emails: EmailDirectory | None,
        now: datetime,
    ) -> SyncResult:
        """Ask the platform about everyone learned on it (a leaver loses access now, not at
        their next message), and look up by email everyone listed without an account there,
        so role holders can be reached before they ever write."""
        result = SyncResult()
        column = _id_column(platform)
        for member in list(self._members.values()):
            user_id = getattr(member, column)
            if user_id is None or member.left_at is not None:
                continue
            try:
                profile = await lookup.profile(user_id)
            except DirectoryUnavailable:
                result.unavailable += 1
                continue
            result.checked += 1
            checked = await self._checked(sessions, platform, user_id, profile, now)
            if isinstance(checked, Refused):
                result.left.append(f"{member.school_id}/{member.person_id}")
        if emails is None:
            return result
        for school in self._directory.schools:
            for person in school.people:
                if not person.email or getattr(person, column) or not person.roles:
                    continue
                name = f"{school.id}/{person.id}"
                try:
                    profile = await emails.by_email(person.email)
                except DirectoryUnavailable:
                    result.unavailable += 1
                    continue
                if profile is None:
                    result.not_found.append(name)
                    continue
                learned = await self.learn(sessions, platform, profile.user_id, profile, now)
                if isinstance(learned, Found):
                    result.found.append(name)
                else:
                    result.not_found.append(name)
        return result

    # -- the pieces ----------------------------------------------------------------------

    def _listed(self, platform: PlatformName, user_id: str) -> Found | None:
        """A person the configuration itself lists with this platform id."""
        by = _by_account(self._configured, platform)
        matches = by(user_id)
        if not matches:
            return None
        school, person = matches[0]
        member = self._members.get((school.id, person.id))
        if member is not None and member.left_at is not None:
            return None  # a leaver's listing is not a way back in
        return Found(school, self._school(school.id).person(person.id) or person)

    def _member_by_account(self, platform: PlatformName, user_id: str) -> Learned | None:
        by = _by_account(self._directory, platform)
        for school, person in by(user_id):
            member = self._members.get((school.id, person.id))
            if member is not None:
                return member
        return None

    async def _known(
        self,
        sessions: SessionFactory,
        member: Learned,
        platform: PlatformName,
        user_id: str,
        lookup: PlatformDirectory,
        now: datetime,
    ) -> Identified:
        if now - member.checked_at < RECHECK_AFTER:
            if member.left_at is not None:
                return Refused(Refusal.LEFT, (self._school(member.school_id),))
            return self._found(member)
        try:
            async with asyncio.timeout(RECHECK_WAIT_SECONDS):
                profile = await lookup.profile(user_id)
        except (DirectoryUnavailable, TimeoutError):
            if member.left_at is not None:
                return Refused(Refusal.LEFT, (self._school(member.school_id),))
            return self._found(member)  # an outage never stops someone already known
        return await self._checked(sessions, platform, user_id, profile, now)

    async def _checked(
        self,
        sessions: SessionFactory,
        platform: PlatformName,
        user_id: str,
        profile: Profile | None,
        now: datetime,
    ) -> Identified:
        """Record what the platform now says of someone learned: still staff, or left."""
        still = self._refusal(profile) is None and profile is not None
        async with sessions() as session:
            row = await _row_by_account(session, platform, user_id)
            if row is None:
                return Refused(Refusal.LEFT)
            row.checked_at = now
            change: AuditAction | None = None
            if still:
                assert profile is not None
                row.name = profile.name[:120] or row.name
                if row.left_at is not None:  # back: a deactivation undone, a returning member
                    row.left_at, change = None, AuditAction.STAFF_LEARN
            elif row.left_at is None:
                row.left_at, change = now, AuditAction.STAFF_LEFT
            if change is not None:
                AuditLog(session, now).record(
                    school_id=row.school_id,
                    actor_id=SYSTEM_ACTOR,
                    action=change,
                    target_type="person",
                    target_id=row.person_id,
                    detail=f"{platform}'s directory says {'a member' if still else 'gone'}",
                )
            session.add(row)
            await session.flush()
        self._remember([row])
        if not still:
            return Refused(Refusal.LEFT, (self._school(row.school_id),))
        return self._found(row)

    def _refusal(self, profile: Profile | None) -> Refused | None:
        if profile is None:
            return Refused(Refusal.OUTSIDE)
        if profile.kind is AccountKind.BOT:
            return Refused(Refusal.BOT)
        if profile.kind is AccountKind.DEACTIVATED:
            return Refused(Refusal.LEFT)
        if profile.kind is AccountKind.GUEST:
            return Refused(Refusal.GUEST, self._schools_by_workspace(profile))
        if not self._schools_by_workspace(profile):
            return Refused(Refusal.OUTSIDE)
        if not profile.email:
            return Refused(Refusal.NO_EMAIL, self._schools_by_workspace(profile))
        return None

    def _in_workspace(self, school: School, profile: Profile) -> bool:
        """Whether the account is in a workspace or tenant the school uses (any, when the
        school names none: one deployment's credentials reach one workspace or tenant)."""
        allowed = (
            school.membership.slack_teams
            if profile.platform == "slack"
            else school.membership.teams_tenants
        )
        if not allowed:
            return True
        workspace = (profile.workspace or "").lower()
        return workspace in {w.lower() for w in allowed}

    def _schools_by_workspace(self, profile: Profile) -> tuple[School, ...]:
        return tuple(s for s in self._configured.schools if self._in_workspace(s, profile))

    def _schools_for(self, profile: Profile) -> list[School]:
        """The schools this member could be staff of: their email is at the school's domain,
        or the school lists them by that email."""
        return [
            school
            for school in self._schools_by_workspace(profile)
            if school.membership.takes(profile.email)
            or any(_same_email(p.email, profile.email) for p in school.people)
        ]

    async def _chosen(
        self, session: AsyncSession, profile: Profile, candidates: list[School]
    ) -> School | None:
        """The one school to take the person into: the only candidate, or the one they are
        already known at (on their other platform, or chosen before)."""
        if len(candidates) == 1:
            return candidates[0]
        ids = {s.id for s in candidates}
        for row in await _rows_by_email(session, profile.email):
            if row.school_id in ids and row.left_at is None:
                return next(s for s in candidates if s.id == row.school_id)
        listing = [
            s for s in candidates if any(_same_email(p.email, profile.email) for p in s.people)
        ]
        return listing[0] if len(listing) == 1 else None

    async def _attach(
        self,
        session: AsyncSession,
        school: School,
        platform: PlatformName,
        user_id: str,
        profile: Profile,
        now: datetime,
    ) -> tuple[StaffMember, bool]:
        """The person's row at `school`, found by email (their other platform, or their
        listing), moved from another school they chose to leave, or made; with this account on
        it."""
        from storage.models import StaffMember

        column = _id_column(platform)
        rows = await _rows_by_email(session, profile.email)
        row = next((r for r in rows if r.school_id == school.id), None)
        listed = next((p for p in school.people if _same_email(p.email, profile.email)), None)
        taken = {p.id for p in self._school(school.id).people}
        person_id = listed.id if listed else _person_id(profile.email, profile.name, taken)
        elsewhere = next((r for r in rows if r.school_id != school.id and r.left_at is None), None)
        moved = row is None and elsewhere is not None
        if row is None and elsewhere is not None:
            # They chose another of their schools: the same person moves, with their accounts;
            # what they reported at the old school stays there.
            self._members.pop((elsewhere.school_id, elsewhere.person_id), None)
            elsewhere.school_id = school.id
            elsewhere.person_id = person_id
            row = elsewhere
        if row is None:
            row = StaffMember(
                school_id=school.id,
                person_id=person_id,
                name=(listed.name if listed else profile.name)[:120] or person_id,
                email=(profile.email or "").strip().lower() or None,
                learned_at=now,
                checked_at=now,
            )
        setattr(row, column, user_id)
        row.checked_at = now
        row.left_at = None
        session.add(row)
        await session.flush()
        return row, moved

    # -- the merged directory ------------------------------------------------------------

    def _remember(self, rows: Iterable[StaffMember]) -> None:
        for row in rows:
            self._members[(row.school_id, row.person_id)] = Learned.of(row)
        self._rebuild()

    def _rebuild(self) -> None:
        by_school: dict[str, list[Learned]] = {}
        for member in self._members.values():
            by_school.setdefault(member.school_id, []).append(member)
        schools = tuple(
            _with_members(school, by_school.get(school.id, ()))
            for school in self._configured.schools
        )
        self._directory = Directory.model_construct(schools=schools)

    def _school(self, school_id: str) -> School:
        school = self._directory.school(school_id)
        assert school is not None
        return school

    def _found(self, member: Learned | StaffMember) -> Found:
        school = self._school(member.school_id)
        person = school.person(member.person_id)
        assert person is not None
        return Found(school, person)


def _with_members(school: School, members: Iterable[Learned]) -> School:
    """The school with its learned people: listed people get their platform ids; the rest are
    staff. A leaver keeps their name (for the records that mention them) and loses every role."""
    learned = {m.person_id: m for m in members}
    people: list[Person] = []
    for person in school.people:
        member = learned.pop(person.id, None)
        if member is not None:
            person = _merged(person, member)
        people.append(person)
    for member in learned.values():
        person = Person.model_construct(
            id=member.person_id,
            name=member.name,
            email=member.email,
            phone=None,
            roles=frozenset({Role.STAFF}),
            slack_user_id=member.slack_user_id,
            teams_user_id=member.teams_user_id,
            conflicts=(),
        )
        people.append(_merged(person, member))
    return school.model_copy(update={"people": tuple(people)})


def _merged(person: Person, member: Learned) -> Person:
    update: dict[str, object] = {
        "slack_user_id": person.slack_user_id or member.slack_user_id,
        "teams_user_id": person.teams_user_id or member.teams_user_id,
    }
    if member.left_at is not None:
        update["roles"] = frozenset()
    return person.model_copy(update=update)


async def _row_by_account(
    session: AsyncSession, platform: PlatformName, user_id: str
) -> StaffMember | None:
    from sqlmodel import select

    from storage.models import StaffMember

    column = getattr(StaffMember, _id_column(platform))
    result = await session.execute(select(StaffMember).where(column == user_id))
    return result.scalars().first()


async def _rows_by_email(session: AsyncSession, email: str | None) -> list[StaffMember]:
    from sqlmodel import select

    from storage.models import StaffMember

    if not email:
        return []
    result = await session.execute(
        select(StaffMember).where(StaffMember.email == email.strip().lower())
    )
    return list(result.scalars().all())


async def _audit_refusal(
    sessions: SessionFactory, platform: PlatformName, user_id: str, refused: Refused, now: datetime
) -> None:
    """An account refused as not staff, in the log of each school it could have been at (a
    bot's messages are not worth an entry; an account at no school's workspace has no log)."""
    if refused.reason is Refusal.BOT or not refused.schools:
        return
    async with sessions() as session:
        log = AuditLog(session, now)
        for school in refused.schools:
            log.record(
                school_id=school.id,
                actor_id=f"{platform}:{user_id}"[:64],
                action=AuditAction.STAFF_REFUSED,
                target_type="account",
                target_id=f"{platform}:{user_id}"[:64],
                detail=f"not taken as staff ({refused.reason.value})",
            )

"""Schools, people and their roles: the validated configuration every service works from.

Configuration is the one source of who holds which role; a case is only ever shown to someone
because this model says they hold a role that may see it.
"""

from __future__ import annotations

import functools
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Literal, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from dialogs.services.school.platforms import Platform, platform_named

Identifier = Annotated[
    str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_.-]{0,63}$", strip_whitespace=True)
]


# "01632 960001", "+44 1632 960001", "(01632) 960 001": digits, spaces, brackets and dashes.
PhoneNumber = Annotated[
    str, StringConstraints(pattern=r"^\+?[0-9(][0-9 ()-]{4,28}[0-9]$", strip_whitespace=True)
]


class Role(StrEnum):
    STAFF = "staff"
    SAFEGUARDING_LEAD = "safeguarding_lead"
    DEPUTY_SAFEGUARDING_LEAD = "deputy_safeguarding_lead"
    HEADTEACHER = "headteacher"
    SENIOR_LEADER = "senior_leader"
    MODERATOR = "moderator"
    APPROVER = "approver"
    POLICY_OWNER = "policy_owner"
    IT_ADMIN = "it_admin"
    # Sees the audit log and answers subject access requests.
    DATA_PROTECTION_OFFICER = "data_protection_officer"
    # The trust's lead: handles a school's report when every lead of the school has a
    # conflict of interest in it (the report names them).
    TRUST_SAFEGUARDING_LEAD = "trust_safeguarding_lead"


# Who handles reports of abuse: the designated lead and their deputy.
CASE_HANDLER_ROLES = frozenset({Role.SAFEGUARDING_LEAD, Role.DEPUTY_SAFEGUARDING_LEAD})


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Person(_Strict):
    id: Identifier
    name: Annotated[str, StringConstraints(min_length=1, max_length=120, strip_whitespace=True)]
    email: str | None = None
    # A direct line (a mobile or an extension): where someone must reach this person at once.
    # Staff who write of a worry about a child are given the safeguarding leads' numbers.
    phone: PhoneNumber | None = None
    roles: frozenset[Role] = frozenset({Role.STAFF})
    slack_user_id: str | None = None
    teams_user_id: str | None = None
    # People (ids or names) whose reports this person must never see or handle: a relative,
    # a partner, a close friend on the staff. A report naming them goes to someone else.
    conflicts: tuple[
        Annotated[str, StringConstraints(min_length=2, max_length=120, strip_whitespace=True)],
        ...,
    ] = ()

    def has_any(self, roles: frozenset[Role]) -> bool:
        return bool(self.roles & roles)


class ChannelRef(_Strict):
    """Where a group of people is reached on each platform (a Slack channel id, a Teams channel)."""

    slack: str | None = None
    teams: str | None = None
    # A Slack user group (its ID, "S…") to mention instead of each person when a post must
    # alert people in this channel (a comment's deadline nudge alerts the moderators).
    slack_group: Annotated[str, StringConstraints(pattern=r"^S[A-Z0-9]{2,20}$")] | None = None


_LABEL = r"[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?"
EmailDomain = Annotated[
    str,
    StringConstraints(
        pattern=rf"^{_LABEL}(?:\.{_LABEL})+$",
        max_length=253,
        strip_whitespace=True,
        to_lower=True,
    ),
]


class Membership(_Strict):
    """Who, beyond the people listed, is a member of staff: anyone in the school's Slack
    workspace or Microsoft Entra tenant whose verified email is at one of its domains.

    Why: a member of staff being abused online must be able to report it on day one, without
    an administrator first copying their platform id into this file. The people listed are the
    ones with a role beyond staff; everyone else is learned when they first write to the bot
    (staff_directory). A school with no domains learns nobody: only its listed people may use
    the bot, as before.
    """

    email_domains: tuple[EmailDomain, ...] = ()
    # The Slack workspace ("T…") and Entra tenant (a GUID) staff must be in; when a deployment
    # serves one workspace or tenant these may be left out.
    slack_teams: tuple[Annotated[str, StringConstraints(pattern=r"^[TE][A-Z0-9]{2,20}$")], ...] = ()
    teams_tenants: tuple[
        Annotated[str, StringConstraints(pattern=r"^[0-9a-fA-F-]{36}$", to_lower=True)], ...
    ] = ()
    # The Teams teams whose members are staff ("19:…@thread.tacv2", from the team's link): when
    # given, someone in Teams must be in one of them, and leaves when taken out of them. The
    # app must be installed in each.
    teams_teams: tuple[
        Annotated[str, StringConstraints(pattern=r"^19:[A-Za-z0-9_.-]+@thread\.(?:tacv2|skype)$")],
        ...,
    ] = ()

    def takes(self, email: str | None) -> bool:
        """Whether a verified email is at one of this school's domains."""
        if not email or "@" not in email:
            return False
        domain = email.rsplit("@", 1)[1].strip().lower()
        return domain in self.email_domains


class Channels(_Strict):
    safeguarding: ChannelRef = ChannelRef()
    approvals: ChannelRef = ChannelRef()
    moderators: ChannelRef = ChannelRef()


class OfficialAccount(_Strict):
    """An official school account posts can go to: listed in the configuration, or recorded in
    the register after a request for it was approved (see account_register)."""

    id: Identifier
    name: Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True)]
    platform: Platform
    handle: str | None = None  # "@oakfieldprimary", or the page's address
    link: str | None = None
    # The staff who run it (at least two, so it is never left with nobody who can answer).
    owners: tuple[Identifier, ...] = ()
    visibility: Literal["open", "private"] | None = None
    # Whether comments here must be answered within the school's deadline (some schools do
    # not answer on some platforms at all), and this account's own deadline if it has one.
    comment_deadlines: bool = True
    comment_deadline_hours: Annotated[float, Field(gt=0, le=24 * 30)] | None = None
    # The Facebook Page's id, so comments from Facebook's webhook find their account.
    facebook_page_id: Annotated[str, StringConstraints(pattern=r"^[0-9]{1,30}$")] | None = None

    @field_validator("platform", mode="before")
    @classmethod
    def _platform(cls, value: object) -> object:
        if isinstance(value, str):
            found = platform_named(value)
            if found is None:
                names = ", ".join(p.value for p in Platform)
                raise ValueError(f"unknown platform {value!r} (use one of {names})")
            return found
        return value


class ClosureDates(_Strict):
    """Days the school is closed (holidays, INSET days), inclusive, for school-day deadlines."""

    first: date = Field(alias="from")
    last: date = Field(alias="to")
    name: Annotated[str, StringConstraints(max_length=120, strip_whitespace=True)] = ""

    @model_validator(mode="after")
    def _in_order(self) -> ClosureDates:
        if self.last < self.first:
            raise ValueError(f"closure {self.name or self.first} ends before it starts")
        return self


class CommentRules(_Strict):
    """How fast comments on the school's official accounts must be answered, and who is told.

    The deadline counts working days (Monday to Friday without bank holidays) or school days
    (also without the school's closures). Moderators are nudged when each fraction in
    `nudge_at` of the time has passed and again at the deadline; `escalate_after_hours` after
    it, the senior leaders are told.
    """

    deadline_hours: Annotated[float, Field(gt=0, le=24 * 30)] = 24
    calendar: Literal["working_days", "school_days"] = "working_days"
    bank_holidays: Literal["england-and-wales", "scotland", "northern-ireland", "none"] = (
        "england-and-wales"
    )
    nudge_at: tuple[Annotated[float, Field(gt=0, lt=1)], ...] = (0.75,)
    escalate_after_hours: Annotated[float, Field(ge=0, le=24 * 30)] = 2
    closures: tuple[ClosureDates, ...] = ()
    # Who hears when a deadline is missed, and gets the weekly digest; by default everyone
    # with the senior_leader role.
    escalate_to: tuple[Identifier, ...] = ()

    @field_validator("nudge_at")
    @classmethod
    def _sorted(cls, value: tuple[float, ...]) -> tuple[float, ...]:
        return tuple(sorted(set(value)))


class AccountChecks(_Strict):
    """The yearly check on every official account, and what is flagged to the senior leaders.

    Every `confirm_every_days` the owners are asked whether they still run the account and
    keep its password safe; an account is flagged if they have not all answered within
    `answer_within_days`, if it is left with fewer than two owners, or if nothing has been
    approved for it for `quiet_after_days`.
    """

    confirm_every_days: Annotated[int, Field(ge=7, le=3650)] = 365
    answer_within_days: Annotated[int, Field(ge=1, le=365)] = 30
    quiet_after_days: Annotated[int, Field(ge=7, le=3650)] = 180
    # Who hears about accounts that need attention; by default the senior leaders.
    flag_to: tuple[Identifier, ...] = ()


class Retention(_Strict):
    """How long records are kept, in days, before they are removed or anonymised.

    Reports count from when they were closed (an open report is never removed) and are
    anonymised rather than deleted, so the school keeps a count of what happened without the
    people; a report on legal hold is kept whatever its age. The audit log is one chain for the
    whole deployment, so it is kept for the longest `audit_days` of any school.
    """

    case_days: Annotated[int, Field(ge=30, le=36500)] = 6 * 365
    evidence_days: Annotated[int, Field(ge=30, le=36500)] = 6 * 365
    comment_days: Annotated[int, Field(ge=30, le=36500)] = 365
    approval_days: Annotated[int, Field(ge=30, le=36500)] = 2 * 365
    audit_days: Annotated[int, Field(ge=365, le=36500)] = 7 * 365


class ApprovalRules(_Strict):
    """How many people must approve a post before it goes live; never its author."""

    required: Annotated[int, Field(ge=1, le=2)] = 1


# A school's people by id, for the staff lists this process holds now: looked up several times
# a turn, and a trust lists thousands. Kept by the identity of the `people` tuple (a school
# copied with other accounts shares it; a reloaded or newly learned list is a new tuple), so a
# changed list can never be answered from the old one. Only the last few lists are kept.
_PEOPLE_INDEXES: dict[int, tuple[tuple[Person, ...], dict[str, Person]]] = {}
_PEOPLE_INDEXES_KEPT = 64


def _people_by_id(people: tuple[Person, ...]) -> dict[str, Person]:
    kept = _PEOPLE_INDEXES.get(id(people))
    if kept is not None and kept[0] is people:
        return kept[1]
    index: dict[str, Person] = {}
    for person in people:
        index.setdefault(person.id, person)  # the first, as a search from the start finds
    if len(_PEOPLE_INDEXES) >= _PEOPLE_INDEXES_KEPT:
        _PEOPLE_INDEXES.pop(next(iter(_PEOPLE_INDEXES)))
    _PEOPLE_INDEXES[id(people)] = (people, index)
    return index


class School(_Strict):
    id: Identifier
    name: Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True)]
    timezone: str = "Europe/London"
    policy_file: Path | None = None
    case_prefix: Annotated[str, StringConstraints(pattern=r"^[A-Z]{1,6}$")] = "CB"
    people: tuple[Person, ...] = Field(min_length=1)
    membership: Membership = Membership()
    channels: Channels = Channels()
    accounts: tuple[OfficialAccount, ...] = ()
    approvals: ApprovalRules = ApprovalRules()
    comments: CommentRules = CommentRules()
    account_checks: AccountChecks = AccountChecks()
    retention: Retention = Retention()

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown timezone {value!r} (use a name like Europe/London)") from exc
        return value

    @model_validator(mode="after")
    def _people_make_sense(self) -> School:
        seen: set[str] = set()
        for person in self.people:
            if person.id in seen:
                raise ValueError(f"person id {person.id!r} is listed twice")
            seen.add(person.id)
        accounts = [a.id for a in self.accounts]
        for account_id in accounts:
            if accounts.count(account_id) > 1:
                raise ValueError(f"account id {account_id!r} is listed twice")
        pages = [a.facebook_page_id for a in self.accounts if a.facebook_page_id]
        if len(pages) != len(set(pages)):
            raise ValueError("two accounts have the same facebook_page_id")
        for person_id in self.comments.escalate_to:
            if person_id not in seen:
                raise ValueError(f"comments.escalate_to names {person_id!r}, who is not listed")
        for person_id in self.account_checks.flag_to:
            if person_id not in seen:
                raise ValueError(f"account_checks.flag_to names {person_id!r}, who is not listed")
        for account in self.accounts:
            for person_id in account.owners:
                if person_id not in seen:
                    raise ValueError(
                        f"account {account.id!r} names owner {person_id!r}, who is not listed"
                    )
        if not any(Role.SAFEGUARDING_LEAD in p.roles for p in self.people):
            raise ValueError(
                "no one has the role safeguarding_lead, so reports of abuse would reach nobody"
            )
        return self

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def person(self, person_id: str) -> Person | None:
        return _people_by_id(self.people).get(person_id)

    def with_role(self, *roles: Role) -> list[Person]:
        wanted = frozenset(roles)
        return [p for p in self.people if p.roles & wanted]

    def account(self, account_id: str) -> OfficialAccount | None:
        return next((a for a in self.accounts if a.id == account_id), None)

    def display_name(self, person_id: str | None) -> str:
        if person_id is None:
            return "nobody"
        person = self.person(person_id)
        return person.name if person else f"{person_id} (no longer listed)"


class SchoolFinder(Protocol):
    """Anything that finds a school by id as it is now (a Directory, or the staff directory
    whose people change while the process runs)."""

    def school(self, school_id: str) -> School | None: ...


class Directory(_Strict):
    """Every school this deployment serves."""

    schools: tuple[School, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_schools(self) -> Directory:
        ids = [s.id for s in self.schools]
        for school_id in ids:
            if ids.count(school_id) > 1:
                raise ValueError(f"school id {school_id!r} is listed twice")
        return self

    def school(self, school_id: str) -> School | None:
        return next((s for s in self.schools if s.id == school_id), None)

    def schools_of(self, person_id: str) -> list[School]:
        return [s for s in self.schools if s.person(person_id) is not None]

    def by_slack_user(self, user_id: str) -> list[tuple[School, Person]]:
        """Every (school, person) a Slack account belongs to; trust staff may have several."""
        return list(self._by_account[0].get(user_id, ()))

    def by_teams_user(self, *ids: str | None) -> list[tuple[School, Person]]:
        """Every (school, person) a Teams account belongs to, matched by its Entra object id
        (aadObjectId) or its Teams user id ("29:…"), whichever the configuration gives."""
        teams = self._by_account[1]
        found: list[tuple[School, Person]] = []
        for wanted in dict.fromkeys(i for i in ids if i):
            found += [m for m in teams.get(wanted, ()) if m not in found]
        return found

    @functools.cached_property
    def _by_account(
        self,
    ) -> tuple[dict[str, list[tuple[School, Person]]], dict[str, list[tuple[School, Person]]]]:
        """Slack and Teams accounts to people, built once: every message looks its sender up,
        and a trust's staff list runs to thousands."""
        slack: dict[str, list[tuple[School, Person]]] = {}
        teams: dict[str, list[tuple[School, Person]]] = {}
        for school in self.schools:
            for person in school.people:
                if person.slack_user_id:
                    slack.setdefault(person.slack_user_id, []).append((school, person))
                if person.teams_user_id:
                    teams.setdefault(person.teams_user_id, []).append((school, person))
        return slack, teams

    def by_teams_channel(self, channel_id: str, purpose: str) -> School | None:
        for school in self.schools:
            ref = getattr(school.channels, purpose, None)
            if ref is not None and ref.teams == channel_id:
                return school
        return None

    def by_slack_channel(self, channel_id: str, purpose: str) -> School | None:
        """The school whose channel for `purpose` (e.g. safeguarding) is this Slack channel."""
        for school in self.schools:
            ref = getattr(school.channels, purpose, None)
            if ref is not None and ref.slack == channel_id:
                return school
        return None

"""Staff from Teams' roster, not a typed list (issue: every member of staff on day one).

The school's team holds 200 people besides the sample's: staff at the school's domain (some with
only a userPrincipalName, as Teams gives for some accounts), guests, people gone from the tenant,
someone whose address is at no school's domain, and someone whose trust-wide address could be at
either of two schools. Only the leads are listed in the configuration, and the safeguarding lead
by email alone: her Teams ids are typed nowhere, and she has never written to the bot.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import datetime
from typing import Any, TypeVar

import pytest
from sqlmodel import SQLModel, select

from bot.config import Settings
from bot.runtime import build_runtime
from dialogs.services.people.directory import RECHECK_AFTER, Found, Profile, StaffDirectory
from dialogs.services.school.schools import Directory, Membership, Role
from storage.models import Case, Conversation, HeldMessage, PlatformAddress, StaffMember
from tests.channels.teams.harness import (
    DANA,
    LEE,
    SAFEGUARDING,
    TEAM,
    TeamsHarness,
    TeamsUser,
    card_of,
    teams_harness,
    text_of,
)
from tests.conftest import Clock
from tests.fakes.botframework import TENANT_ID, FakeBotFramework

DOMAIN = "oakfield.sch.uk"
OTHER_TENANT = "0b7d1e2f-3a4c-4d5e-8f90-a1b2c3d4e5f6"
Row = TypeVar("Row", bound=SQLModel)


def staff(n: int) -> TeamsUser:
    return TeamsUser(
        f"Staff Member {n}",
        f"00000000-0000-4000-9000-{n:012d}",
        f"29:1staff{n:03d}-teams-user",
        f"a:1staff{n:03d}-personal-chat",
    )


GMAIL = TeamsUser("Alex Home", "00000000-0000-4000-9000-00000000a1e0", "29:1alex", "a:1alex-chat")
TRUST = TeamsUser("Rae Trust", "00000000-0000-4000-9000-0000000007a0", "29:1rae", "a:1rae-chat")
VISITOR = TeamsUser("Kim Other", "00000000-0000-4000-9000-00000000c1a0", "29:1kim", "a:1kim-chat")


def is_gone(n: int) -> bool:
    return n % 20 == 19  # left the school: gone from the tenant, and so from the team


def is_guest(n: int) -> bool:
    return n % 25 == 24 and not is_gone(n)


def roster(fake: FakeBotFramework) -> None:
    """The school's team: 200 staff, every 25th a guest, every 20th gone, every 10th with only
    a userPrincipalName; the lead with her address in mixed case; and three outsiders."""
    fake.add_team(TEAM, channels=[SAFEGUARDING])
    for n in range(200):
        user = staff(n)
        address = f"staff{n}@{DOMAIN}"
        fake.add_to_team(
            TEAM,
            user.user_id,
            name=user.name,
            aad_object_id=user.aad_object_id,
            email=None if n % 10 == 3 else address,
            user_principal_name=address,
            user_role="guest" if is_guest(n) else "user",
        )
        if is_gone(n):
            fake.remove_member(user.user_id)
    fake.add_to_team(
        TEAM, DANA.user_id, name=DANA.name, aad_object_id=DANA.aad_object_id, email=f"Dana@{DOMAIN}"
    )
    for user, email, tenant in (
        (GMAIL, "alex@gmail.com", TENANT_ID),
        (TRUST, "rae@trust.org.uk", TENANT_ID),
        (VISITOR, f"kim@{DOMAIN}", OTHER_TENANT),  # another organisation's tenant
    ):
        fake.add_to_team(
            TEAM,
            user.user_id,
            name=user.name,
            aad_object_id=user.aad_object_id,
            email=email,
            tenant_id=tenant,
        )


def directory_only(settings: Settings) -> Settings:
    """The sample school with email domains and its tenant, its lead listed by email only, and a
    second school of the same trust sharing the trust's domain (as in the Slack tests)."""
    (school,) = settings.directory.schools
    people = tuple(
        p.model_copy(update={"teams_user_id": None, "email": f"dana@{DOMAIN}"})
        if p.id == "dana"
        else p
        for p in school.people
    )
    oakfield = school.model_copy(
        update={
            "people": people,
            "membership": Membership(
                email_domains=(DOMAIN, "trust.org.uk"), teams_tenants=(TENANT_ID,)
            ),
        }
    )
    bea = school.people[0].model_copy(
        update={
            "id": "bea",
            "name": "Bea Lewis",
            "email": "bea@beech.sch.uk",
            "roles": frozenset({Role.STAFF, Role.SAFEGUARDING_LEAD}),
            "slack_user_id": None,
            "teams_user_id": None,
        }
    )
    beech = school.model_copy(
        update={
            "id": "beech",
            "name": "Beech Academy",
            "people": (bea,),
            "accounts": (),
            "membership": Membership(
                email_domains=("beech.sch.uk", "trust.org.uk"), teams_tenants=(TENANT_ID,)
            ),
            "channels": school.channels.model_copy(
                update={
                    "safeguarding": school.channels.safeguarding.model_copy(
                        update={"teams": "19:beech-safeguarding@thread.tacv2"}
                    )
                }
            ),
        }
    )
    return replace(settings, directory=Directory(schools=(oakfield, beech)))


@pytest.fixture
async def teams(
    settings: Settings, clock: Clock, fake_teams: FakeBotFramework
) -> AsyncIterator[TeamsHarness]:
    roster(fake_teams)
    async with teams_harness(directory_only(settings), clock, fake_teams) as harness:
        yield harness


async def rows(teams: TeamsHarness, model: type[Row]) -> list[Row]:
    async with teams.runtime.db.session() as session:
        return list((await session.execute(select(model))).scalars().all())


async def said(teams: TeamsHarness, user: TeamsUser, text: str) -> str:
    """What the person sees in their chat after writing `text`."""
    return text_of(await teams.replies(user, teams.say(user, text)))


async def report_as(teams: TeamsHarness, user: TeamsUser, *, danger: bool = False) -> str:
    """A whole report of abuse, pressing buttons where a person would; returns the last reply."""
    assert "Who is being targeted?" in await said(teams, user, "report")
    await teams.press(user, "Me")
    told = await teams.replies(user, teams.press(user, "Yes" if danger else "No"))
    if danger:
        return text_of(told)
    await teams.press(user, "Facebook")
    await teams.say(user, "https://facebook.com/groups/123/posts/456")
    await teams.say(user, "yesterday 4pm")
    await teams.say(user, "A parent keeps posting that I should be sacked.")
    await teams.press(user, "Skip")
    await teams.press(user, "A parent or carer")
    await teams.say(user, "Pat Jones")
    await teams.tick(user, "threatening")
    return text_of(await teams.replies(user, teams.press(user, "Send it")))


def chat_opened_with(teams: TeamsHarness, member_id: str) -> str:
    [chat] = [
        c
        for c in teams.fake.created_conversations()
        if [m["id"] for m in c["members"]] == [member_id]
    ]
    assert chat["isGroup"] is False
    assert chat["channelData"] == {"tenant": {"id": TENANT_ID}}
    return str(chat["id"])


def member_lookups(teams: TeamsHarness, user: TeamsUser) -> list[str]:
    return [
        c.path
        for c in teams.fake.calls
        if c.method == "GET" and c.path.endswith(f"/members/{user.user_id}")
    ]


# -- a member of staff nobody listed ------------------------------------------------------------


async def test_an_unlisted_member_of_staff_files_a_full_report_and_the_lead_by_email_gets_it(
    teams: TeamsHarness,
) -> None:
    assert await teams.install_in_team() == 201  # the app is in the school's team
    newcomer = staff(42)
    sent = await report_as(teams, newcomer)
    assert "Report sent: CB-2026-0001" in sent

    [case] = await rows(teams, Case)
    [member] = await rows(teams, StaffMember)
    assert (member.school_id, member.person_id, member.name) == (
        "oakfield",
        "staff42",
        "Staff Member 42",
    )
    assert member.email == f"staff42@{DOMAIN}"
    assert member.teams_user_id == newcomer.aad_object_id
    assert case.reporter_id == "staff42"
    assert await rows(teams, HeldMessage) == []
    # Their chat's address is kept, as for anyone listed, so replies reach them later.
    people = {a.key for a in await rows(teams, PlatformAddress) if a.kind == "person"}
    assert newcomer.aad_object_id in people
    assert len(member_lookups(teams, newcomer)) == 1  # asked once, then known

    # The lead, listed by email and never in touch with the bot, is found in the team's roster
    # and gets the alert in a 1:1 chat the bot opens; the case card goes to the channel.
    assert (await teams.deliver()).failed == 0
    [(card_id, card)] = teams.posts(SAFEGUARDING)
    assert "Report CB-2026-0001" in text_of([card])
    dana_chat = chat_opened_with(teams, DANA.user_id)
    assert "New report of online abuse: CB-2026-0001" in text_of(teams.sent_to(dana_chat))
    assert any("/pagedmembers" in c.path for c in teams.fake.calls)

    # She acts on the card from the channel: looked up in the team's roster, taken as the lead
    # listed by her email, and answered in the chat already open with her.
    await teams.press_in_channel(DANA, card_of(card), "Acknowledge", card_id=card_id)
    assert "You acknowledged CB-2026-0001" in text_of(teams.sent_to(dana_chat))
    assert chat_opened_with(teams, DANA.user_id) == dana_chat  # no second chat
    dana = [m for m in await rows(teams, StaffMember) if m.person_id == "dana"]
    assert [(m.email, m.teams_user_id) for m in dana] == [(f"dana@{DOMAIN}", DANA.aad_object_id)]


async def test_the_lead_listed_by_email_gets_an_urgent_alert_without_having_written(
    teams: TeamsHarness,
) -> None:
    assert await teams.install_in_team() == 201
    told = await report_as(teams, staff(7), danger=True)
    assert "call 999 now" in told
    result = await teams.deliver()
    assert result.failed == 0
    assert result.unreachable == 0
    dana_chat = chat_opened_with(teams, DANA.user_id)
    assert "URGENT: someone may be in immediate danger" in text_of(teams.sent_to(dana_chat))
    # The chat's address is kept under her Entra id, for everything after.
    people = {a.key for a in await rows(teams, PlatformAddress) if a.kind == "person"}
    assert DANA.aad_object_id in people


async def test_a_lead_listed_by_email_whom_no_team_has_is_not_reached_and_that_is_said(
    teams: TeamsHarness,
) -> None:
    teams.fake.remove_member(DANA.user_id)
    assert await teams.install_in_team() == 201
    await report_as(teams, staff(7), danger=True)
    await teams.deliver()
    opened = [m["id"] for c in teams.fake.created_conversations() for m in c["members"]]
    assert DANA.user_id not in opened
    # The deputy, listed with his Teams id, is still alerted.
    lee_chat = chat_opened_with(teams, LEE.aad_object_id)
    assert "URGENT: someone may be in immediate danger" in text_of(teams.sent_to(lee_chat))


async def test_a_burst_from_someone_new_asks_teams_once_and_is_taken_in_order(
    teams: TeamsHarness,
) -> None:
    newcomer = staff(3)  # Teams gives only a userPrincipalName for this account
    await teams.say(newcomer, "hello")
    assert "Who is being targeted?" in await said(teams, newcomer, "report")
    assert len(member_lookups(teams, newcomer)) == 1
    [member] = await rows(teams, StaffMember)
    assert member.email == f"staff3@{DOMAIN}"


async def test_a_throttled_look_up_is_tried_again_as_teams_asks(teams: TeamsHarness) -> None:
    newcomer = staff(11)
    teams.fake.fail_next("/members/", status=429, retry_after=1)
    assert "Who is being targeted?" in await said(teams, newcomer, "report")
    assert [c.status for c in teams.fake.calls if "/members/" in c.path] == [429, 200]


async def test_someone_new_who_installs_the_app_is_greeted_and_a_guest_is_told_nothing(
    teams: TeamsHarness,
) -> None:
    for user in (staff(15), staff(24)):  # staff, then a guest
        install = teams.fake.activity(
            **{
                "type": "installationUpdate",
                "action": "add",
                "text": None,
                "from": user.account,
                "conversation": {"id": user.chat},
            }
        )
        status, _ = await teams.post(install)
        assert status in (200, 201)
    assert "Hello Staff. I'm the social media policy assistant" in text_of(
        teams.sent_to(staff(15).chat)
    )
    assert teams.sent_to(staff(24).chat) == []
    [member] = await rows(teams, StaffMember)
    assert member.person_id == "staff15"
    people = {a.key for a in await rows(teams, PlatformAddress) if a.kind == "person"}
    assert staff(15).aad_object_id in people
    assert staff(24).aad_object_id not in people


# -- who is refused -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("user", "expected"),
    [
        (staff(24), "This is a guest account in the school's Teams"),
        (staff(19), "isn't one of theirs"),  # gone from the tenant before ever writing
        (VISITOR, "isn't one of theirs"),  # another organisation's tenant
    ],
)
async def test_guests_and_strangers_are_refused_kindly_and_nothing_is_kept(
    teams: TeamsHarness, user: TeamsUser, expected: str
) -> None:
    text = await said(teams, user, "report")
    assert expected in text
    assert "call 999" in text
    assert "Who is being targeted?" not in text
    assert await rows(teams, Conversation) == []
    assert await rows(teams, HeldMessage) == []
    assert await rows(teams, StaffMember) == []
    assert not [a for a in await rows(teams, PlatformAddress) if a.kind == "person"]


async def test_someone_at_no_schools_address_is_told_who_to_ask_and_their_message_waits(
    teams: TeamsHarness,
) -> None:
    text = await said(teams, GMAIL, "report")
    assert "ask your IT administrator (Morgan Ellis)" in text
    assert "I've kept your message" in text
    assert len(await rows(teams, HeldMessage)) == 1

    # Listed by the IT administrator (the configuration changes, without a restart).
    directory = teams.runtime.staff.configured
    oakfield = directory.schools[0]
    alex = oakfield.people[0].model_copy(
        update={"id": "alex", "name": "Alex Home", "email": "alex@gmail.com", "teams_user_id": None}
    )
    listed = oakfield.model_copy(update={"people": (*oakfield.people, alex)})
    teams.runtime.staff.reconfigure(Directory(schools=(listed, *directory.schools[1:])))

    # What they wrote first is taken first: the report starts, and nothing was lost.
    assert "Who is being targeted?" in await said(teams, GMAIL, "hello?")
    assert await rows(teams, HeldMessage) == []


async def test_someone_whose_address_fits_two_schools_chooses_once_and_can_change(
    teams: TeamsHarness,
) -> None:
    text = await said(teams, TRUST, "report")
    assert "Which school do you work at?" in text
    assert "Oakfield Primary School (demo), Beech Academy" in text
    assert len(await rows(teams, HeldMessage)) == 1

    # Their choice is recorded, and what they wrote first is taken at that school.
    chosen = text_of(await teams.replies(TRUST, teams.press(TRUST, "Beech Academy")))
    assert "you're with Beech Academy" in chosen
    assert "Who is being targeted?" in chosen
    (member,) = await rows(teams, StaffMember)
    assert (member.school_id, member.person_id) == ("beech", "rae")
    assert await rows(teams, HeldMessage) == []

    # Later they change it: the same person moves, with their Teams account.
    assert "You're with Beech Academy now" in await said(teams, TRUST, "change school")
    moved = text_of(
        await teams.replies(TRUST, teams.press(TRUST, "Oakfield Primary School (demo)"))
    )
    assert "you're with Oakfield Primary School (demo)" in moved
    (member,) = await rows(teams, StaffMember)
    assert (member.school_id, member.person_id, member.teams_user_id) == (
        "oakfield",
        "rae",
        TRUST.aad_object_id,
    )


# -- leavers ------------------------------------------------------------------------------------


async def test_a_leaver_loses_access_at_their_next_message_and_their_role(
    teams: TeamsHarness, clock: Clock
) -> None:
    newcomer = staff(5)
    await teams.say(newcomer, "hello")
    teams.fake.remove_member(newcomer.user_id)  # removed from the school's tenant and team

    # Within RECHECK_AFTER they are not asked about again.
    assert "Who is being targeted?" in await said(teams, newcomer, "report")
    clock.advance(seconds=RECHECK_AFTER.total_seconds() + 1)
    text = await said(teams, newcomer, "hello")
    assert "no longer one of the school's staff accounts" in text
    assert "Who is being targeted?" not in text
    [member] = await rows(teams, StaffMember)
    assert member.left_at is not None  # kept, for the records that mention them
    school = teams.runtime.directory.school("oakfield")
    assert school is not None
    person = school.person("staff5")
    assert person is not None
    assert person.roles == frozenset()


async def test_a_lead_who_leaves_is_no_longer_alerted_and_the_deputy_still_is(
    teams: TeamsHarness, clock: Clock
) -> None:
    await teams.say(DANA, "hello")  # learned: her Entra id joins her listing
    school = teams.runtime.directory.school("oakfield")
    assert school is not None
    assert [p.teams_user_id for p in school.with_role(Role.SAFEGUARDING_LEAD)] == [
        DANA.aad_object_id
    ]

    teams.fake.remove_member(DANA.user_id)
    clock.advance(seconds=RECHECK_AFTER.total_seconds() + 1)
    assert "no longer one of the school's staff accounts" in await said(teams, DANA, "hello")
    school = teams.runtime.directory.school("oakfield")
    assert school is not None
    assert school.with_role(Role.SAFEGUARDING_LEAD) == []
    assert [p.id for p in school.with_role(Role.DEPUTY_SAFEGUARDING_LEAD)] == ["lee"]


async def test_a_leaver_cannot_act_on_a_case_card(teams: TeamsHarness, clock: Clock) -> None:
    assert await teams.install_in_team() == 201
    await report_as(teams, staff(42))
    await teams.deliver()
    [(card_id, card)] = teams.posts(SAFEGUARDING)
    await teams.press_in_channel(DANA, card_of(card), "Assign to me", card_id=card_id)
    teams.fake.remove_from_team(TEAM, DANA.user_id)  # taken out of the staff team
    clock.advance(seconds=RECHECK_AFTER.total_seconds() + 1)

    [case] = await rows(teams, Case)
    await teams.press_in_channel(DANA, card_of(card), "Acknowledge", card_id=card_id)
    [after] = await rows(teams, Case)
    assert after.status == case.status  # nothing changed
    assert "no longer" not in text_of([c for _, c in teams.posts(SAFEGUARDING)])  # not in public
    school = teams.runtime.directory.school("oakfield")
    assert school is not None
    assert school.with_role(Role.SAFEGUARDING_LEAD) == []


# -- outages ------------------------------------------------------------------------------------


async def test_an_outage_of_the_member_api_never_stops_someone_already_known(
    teams: TeamsHarness, clock: Clock
) -> None:
    newcomer = staff(8)
    await teams.say(newcomer, "hello")
    clock.advance(seconds=RECHECK_AFTER.total_seconds() + 1)
    teams.fake.fail_next("/members/", status=503, times=10)
    assert "Who is being targeted?" in await said(teams, newcomer, "report")
    assert any(c.status == 503 for c in teams.fake.calls)


async def test_someone_new_during_an_outage_is_told_to_try_again_and_loses_nothing(
    teams: TeamsHarness,
) -> None:
    newcomer = staff(9)
    # The bot asks three times (with_retries) before it gives up for now.
    teams.fake.fail_next("/members/", status=503, times=3)
    text = await said(teams, newcomer, "report")
    assert "couldn't check your Teams account just now" in text
    assert "I've kept your message" in text
    assert await rows(teams, StaffMember) == []

    # The held "report" is taken first, then "hello".
    assert "Who is being targeted?" in await said(teams, newcomer, "hello")
    assert await rows(teams, HeldMessage) == []
    [conversation] = await rows(teams, Conversation)
    assert conversation.person_id == "staff9"


# -- one person on two platforms ----------------------------------------------------------------


class _Directory:
    def __init__(self, profile: Profile) -> None:
        self.asked: list[str] = []
        self._profile = profile

    async def profile(self, user_id: str) -> Profile | None:
        self.asked.append(user_id)
        return self._profile


async def test_someone_who_used_slack_first_is_the_same_person_on_teams(
    teams: TeamsHarness, clock: Clock
) -> None:
    """Learned from Slack (faked at the directory), then writing on Teams for real: one person,
    one row, one history."""
    runtime = teams.runtime
    newcomer = staff(12)
    slack = _Directory(
        Profile("slack", "U0TWELVE", "Staff Member 12", f"Staff12@{DOMAIN}", "T0001")
    )
    on_slack = await runtime.staff.identify(runtime.db.session, "slack", "U0TWELVE", slack, clock())
    assert isinstance(on_slack, Found)

    assert "Who is being targeted?" in await said(teams, newcomer, "report")
    [member] = await rows(teams, StaffMember)
    assert (member.person_id, member.slack_user_id, member.teams_user_id) == (
        on_slack.person.id,
        "U0TWELVE",
        newcomer.aad_object_id,
    )
    [conversation] = await rows(teams, Conversation)
    assert conversation.person_id == on_slack.person.id
    school = runtime.directory.school("oakfield")
    assert school is not None
    person = school.person(on_slack.person.id)
    assert person is not None
    assert (person.slack_user_id, person.teams_user_id) == ("U0TWELVE", newcomer.aad_object_id)


async def test_one_email_on_both_platforms_is_one_person_in_the_staff_directory(
    settings: Settings, clock: Clock
) -> None:
    """The same, at the staff directory alone, in either order."""
    runtime = build_runtime(directory_only(settings), clock=clock)
    try:
        staff_directory = StaffDirectory(runtime.settings.directory)
        now: datetime = clock()
        email = f"jo.bloggs@{DOMAIN}"
        teams_first = _Directory(Profile("teams", "aad-jo", "Jo Bloggs", email, TENANT_ID))
        slack_next = _Directory(Profile("slack", "U0JOB", "Jo Bloggs", email.upper(), None))
        a = await staff_directory.identify(runtime.db.session, "teams", "aad-jo", teams_first, now)
        b = await staff_directory.identify(runtime.db.session, "slack", "U0JOB", slack_next, now)
        assert isinstance(a, Found)
        assert isinstance(b, Found)
        assert a.person.id == b.person.id == "jo.bloggs"
        async with runtime.db.session() as session:
            found: list[Any] = list((await session.execute(select(StaffMember))).scalars())
        assert [(m.slack_user_id, m.teams_user_id) for m in found] == [("U0JOB", "aad-jo")]
        assert staff_directory.is_known("slack", "U0JOB")
        assert staff_directory.is_known("teams", "aad-jo")
    finally:
        await runtime.close()


# -- the daily sync -----------------------------------------------------------------------------


async def test_the_daily_sync_removes_a_leaver_who_never_writes_again_and_finds_the_lead(
    teams: TeamsHarness,
) -> None:
    from bot.jobs.people import run_people_sync

    assert await teams.install_in_team() == 201
    newcomer = staff(21)
    assert "Who is being targeted?" in await said(teams, newcomer, "report")
    teams.fake.remove_member(newcomer.user_id)  # gone from the school's tenant

    result = (await run_people_sync(teams.runtime))["teams"]
    assert result.left == ["oakfield/staff21"]
    assert "oakfield/dana" in result.found  # listed by email, found in the team's roster
    school = teams.runtime.directory.school("oakfield")
    assert school is not None
    dana = school.person("dana")
    assert dana is not None
    assert dana.teams_user_id == DANA.aad_object_id
    leaver = school.person("staff21")
    assert leaver is not None
    assert leaver.roles == frozenset()


async def test_the_sync_never_takes_someone_it_cannot_ask_about_as_gone(
    teams: TeamsHarness,
) -> None:
    from bot.jobs.people import run_people_sync

    newcomer = staff(22)
    assert "Who is being targeted?" in await said(teams, newcomer, "report")
    teams.fake.fail_next("/members/", status=503, times=40)
    result = (await run_people_sync(teams.runtime))["teams"]
    assert result.left == []
    assert result.unavailable >= 1


# -- staff are the members of the school's team --------------------------------------------------


@pytest.fixture
async def team_staff(
    settings: Settings, clock: Clock, fake_teams: FakeBotFramework
) -> AsyncIterator[TeamsHarness]:
    """As `teams`, but the school says its staff are the members of its team."""
    roster(fake_teams)
    configured = directory_only(settings)
    oakfield, *rest = configured.directory.schools
    membership = oakfield.membership.model_copy(update={"teams_teams": (TEAM,)})
    schools = (oakfield.model_copy(update={"membership": membership}), *rest)
    configured = replace(configured, directory=Directory(schools=schools))
    async with teams_harness(configured, clock, fake_teams) as harness:
        yield harness


async def test_someone_taken_out_of_the_schools_team_loses_access_at_their_next_message(
    team_staff: TeamsHarness, clock: Clock
) -> None:
    teams = team_staff
    newcomer = staff(31)
    assert "Who is being targeted?" in await said(teams, newcomer, "report")
    teams.fake.remove_from_team(TEAM, newcomer.user_id)  # still in the tenant
    clock.advance(seconds=RECHECK_AFTER.total_seconds() + 1)
    assert "no longer one of the school's staff accounts" in await said(teams, newcomer, "hi")


async def test_someone_in_the_tenant_but_not_in_the_schools_team_is_refused(
    team_staff: TeamsHarness,
) -> None:
    teams = team_staff
    outsider = TeamsUser(
        "Pat Office", "00000000-0000-4000-9000-0000000000f0", "29:1pat", "a:1pat-chat"
    )
    teams.fake.add_member(
        outsider.user_id,
        name=outsider.name,
        aadObjectId=outsider.aad_object_id,
        email=f"pat@{DOMAIN}",
        userPrincipalName=f"pat@{DOMAIN}",
    )
    assert "isn't one of theirs" in await said(teams, outsider, "report")
    assert await rows(teams, StaffMember) == []

"""Staff from Slack's directory, not a typed roster (issue: every member of staff on day one).

The fake workspace holds 200 people besides the sample's: staff at the school's domain, some
deactivated, some guests, someone whose address is at no school's domain, and someone whose
trust-wide address could be at either of two schools. Only the leads are listed in the
configuration, and the safeguarding lead by email alone: nobody's Slack id is typed anywhere.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace

import pytest
from sqlmodel import select

from bot.config import Settings
from dialogs.services.people.directory import RECHECK_AFTER
from dialogs.services.school.schools import Directory, Membership, Role
from storage.models import Case, Conversation, HeldMessage, StaffMember
from tests.channels.slack.harness import (
    SAFEGUARDING,
    SlackHarness,
    buttons_of,
    dm,
    slack_harness,
    text_of_calls,
)
from tests.conftest import Clock
from tests.fakes.slack_api import FakeSlack

DANA = "U0DANA"  # the lead: listed by email only
DOMAIN = "oakfield.sch.uk"


def staff_id(n: int) -> str:
    return f"U1{n:03d}"


def workspace(fake: FakeSlack) -> None:
    """200 people: every 20th deactivated, every 25th a guest, the rest full members."""
    for n in range(200):
        fields: dict[str, object] = {}
        if n % 20 == 19:
            fields["deleted"] = True
        elif n % 25 == 24:
            fields["is_restricted"] = True
        fake.add_user(
            staff_id(n),
            real_name=f"Staff Member {n}",
            profile={"real_name": f"Staff Member {n}", "email": f"staff{n}@{DOMAIN}"},
            **fields,
        )
    fake.add_user(DANA, profile={"real_name": "Dana Okafor", "email": f"Dana@{DOMAIN}"})
    fake.add_user("U0GMAIL", profile={"real_name": "Alex Home", "email": "alex@gmail.com"})
    fake.add_user("U0TRUST", profile={"real_name": "Rae Trust", "email": "rae@trust.org.uk"})


def directory_only(settings: Settings) -> Settings:
    """The sample school with email domains, its lead listed by email, and a second school of
    the same trust sharing the trust's domain."""
    (school,) = settings.directory.schools
    people = tuple(
        p.model_copy(update={"slack_user_id": None, "email": f"dana@{DOMAIN}"})
        if p.id == "dana"
        else p
        for p in school.people
    )
    oakfield = school.model_copy(
        update={
            "people": people,
            "membership": Membership(
                email_domains=(DOMAIN, "trust.org.uk"), slack_teams=("T0001",)
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
            "membership": Membership(email_domains=("beech.sch.uk", "trust.org.uk")),
            "channels": school.channels.model_copy(
                update={
                    "safeguarding": school.channels.safeguarding.model_copy(
                        update={"slack": "CBEECH"}
                    )
                }
            ),
        }
    )
    return replace(settings, directory=Directory(schools=(oakfield, beech)))


@pytest.fixture
async def slack(
    settings: Settings, clock: Clock, fake_slack: FakeSlack
) -> AsyncIterator[SlackHarness]:
    workspace(fake_slack)
    async with slack_harness(directory_only(settings), clock, fake_slack) as harness:
        yield harness


async def report_as(slack: SlackHarness, user: str, *, danger: bool = False) -> str:
    """A whole report of abuse, pressing buttons where a person would; returns its summary."""
    first = text_of_calls(await slack.reply_to(user, slack.say(user, "report")))
    assert "Who is being targeted?" in first
    await slack.reply_to(user, slack.click(user, "me", label="Me"))
    told = await slack.reply_to(user, slack.press_newest(user, "Yes" if danger else "No"))
    if danger:
        return text_of_calls(told)
    await slack.reply_to(user, slack.click(user, "Facebook", label="Facebook"))
    await slack.reply_to(user, slack.click(user, "skip", label="Skip"))
    await slack.reply_to(user, slack.say(user, "yesterday 4pm"))
    await slack.reply_to(user, slack.say(user, "A parent keeps posting that I should be sacked."))
    await slack.reply_to(user, slack.click(user, "skip", label="Skip"))
    await slack.reply_to(user, slack.click(user, "parent", label="A parent or carer"))
    await slack.reply_to(user, slack.click(user, "skip", label="Skip"))
    await slack.reply_to(user, slack.say(user, "1"))
    done = await slack.reply_to(user, slack.click(user, "submit", label="Send it"))
    return text_of_calls(done)


async def test_a_member_of_staff_nobody_listed_files_a_full_report_and_the_lead_gets_it(
    slack: SlackHarness,
) -> None:
    newcomer = staff_id(42)
    sent = await report_as(slack, newcomer)
    assert "Report sent: CB-2026-0001" in sent

    async with slack.runtime.db.session() as session:
        (case,) = (await session.execute(select(Case))).scalars().all()
        (member,) = (await session.execute(select(StaffMember))).scalars().all()
    assert (member.school_id, member.person_id, member.name) == (
        "oakfield",
        "staff42",
        "Staff Member 42",
    )
    assert member.email == f"staff42@{DOMAIN}"
    assert case.reporter_id == "staff42"

    # The lead, listed by email and never in touch with the bot, gets the alert in a DM.
    assert (await slack.deliver()).failed == 0
    assert "Report CB-2026-0001" in text_of_calls(slack.posts_to(SAFEGUARDING))
    assert "New report of online abuse: CB-2026-0001" in text_of_calls(slack.posts_to(dm(DANA)))
    looked_up = [c.body.get("email") for c in slack.fake.calls_to("users.lookupByEmail")]
    assert looked_up == [f"dana@{DOMAIN}"]


async def test_the_lead_listed_by_email_acts_on_the_case_card_before_ever_writing(
    slack: SlackHarness,
) -> None:
    newcomer = staff_id(12)
    await report_as(slack, newcomer)
    await slack.deliver()
    card = slack.posts_to(SAFEGUARDING)[0]
    ack = next(b for b in buttons_of(card) if b["text"]["text"] == "Acknowledge")

    before = len(slack.fake.calls_to("chat.postEphemeral"))
    await slack.click(
        DANA, ack["value"], channel=SAFEGUARDING, message={"ts": card.body.get("ts", "1.1")}
    )
    ephemeral = await slack.fake.wait_for("chat.postEphemeral", count=before + 1)
    assert "You acknowledged CB-2026-0001" in str(ephemeral[-1].body)
    await slack.deliver()
    told = text_of_calls(slack.posts_to(dm(newcomer))[-1:])
    assert "Seen by the safeguarding lead" in told

    # Someone learned as staff, not a lead, pressing it is refused as before.
    other = staff_id(13)
    await slack.reply_to(other, slack.say(other, "hello"))
    before = len(slack.fake.calls_to("chat.postEphemeral"))
    await slack.click(
        other, ack["value"], channel=SAFEGUARDING, message={"ts": card.body.get("ts", "1.1")}
    )
    refused = await slack.fake.wait_for("chat.postEphemeral", count=before + 1)
    assert "acknowledged" not in str(refused[-1].body).lower()


async def test_the_lead_listed_by_email_gets_an_urgent_alert_without_having_written(
    slack: SlackHarness,
) -> None:
    told = await report_as(slack, staff_id(7), danger=True)
    assert "call 999 now" in told
    assert (await slack.deliver()).failed == 0
    assert "URGENT: someone may be in immediate danger" in text_of_calls(slack.posts_to(dm(DANA)))


async def test_a_burst_from_someone_new_asks_slack_once(slack: SlackHarness) -> None:
    newcomer = staff_id(3)
    await slack.reply_to(newcomer, slack.say(newcomer, "hello"))
    await slack.reply_to(newcomer, slack.say(newcomer, "report"))
    asked = [c for c in slack.fake.calls_to("users.info") if c.body.get("user") == newcomer]
    assert len(asked) == 1


@pytest.mark.parametrize(
    ("user", "expected"),
    [
        (staff_id(19), "no longer one of the school's staff accounts"),  # deactivated
        (staff_id(24), "This is a guest account"),
        ("U0GONE", "isn't one of theirs"),  # not in the workspace at all
    ],
)
async def test_guests_leavers_and_strangers_are_refused_kindly_and_nothing_is_kept(
    slack: SlackHarness, user: str, expected: str
) -> None:
    if user == "U0GONE":
        slack.fake.remove_user(user)
    (reply,) = await slack.reply_to(user, slack.say(user, "report"))
    text = text_of_calls([reply])
    assert expected in text
    assert "call 999" in text
    async with slack.runtime.db.session() as session:
        assert (await session.execute(select(Conversation))).scalars().all() == []
        assert (await session.execute(select(HeldMessage))).scalars().all() == []
        assert (await session.execute(select(StaffMember))).scalars().all() == []


async def test_someone_at_no_schools_address_is_told_who_to_ask_and_their_message_waits(
    slack: SlackHarness,
) -> None:
    (reply,) = await slack.reply_to("U0GMAIL", slack.say("U0GMAIL", "report"))
    text = text_of_calls([reply])
    assert "ask your IT administrator (Morgan Ellis)" in text
    assert "I've kept your message" in text

    # Listed by the IT administrator (here: the configuration changes, without a restart).
    directory = slack.runtime.staff.configured
    oakfield = directory.schools[0]
    alex = oakfield.people[0].model_copy(
        update={"id": "alex", "name": "Alex Home", "email": "alex@gmail.com", "slack_user_id": None}
    )
    listed = oakfield.model_copy(update={"people": (*oakfield.people, alex)})
    slack.runtime.staff.reconfigure(Directory(schools=(listed, *directory.schools[1:])))

    posts = await slack.reply_to("U0GMAIL", slack.say("U0GMAIL", "hello?"))
    # What they wrote first is taken first: the report starts, and nothing was lost.
    assert "Who is being targeted?" in text_of_calls(posts)
    async with slack.runtime.db.session() as session:
        assert (await session.execute(select(HeldMessage))).scalars().all() == []


async def test_someone_whose_address_fits_two_schools_is_asked_once_and_it_is_remembered(
    slack: SlackHarness,
) -> None:
    (reply,) = await slack.reply_to("U0TRUST", slack.say("U0TRUST", "report"))
    text = text_of_calls([reply])
    assert "Which school do you work at?" in text
    assert "Oakfield Primary School (demo), Beech Academy" in text

    # Their choice is recorded, and what they wrote first is taken at that school.
    posts = await slack.reply_to("U0TRUST", slack.press_newest("U0TRUST", "Beech Academy"))
    assert "Who is being targeted?" in text_of_calls(posts)
    async with slack.runtime.db.session() as session:
        (member,) = (await session.execute(select(StaffMember))).scalars().all()
    assert (member.school_id, member.person_id) == ("beech", "rae")

    # Asked once: later messages go straight to Beech.
    posts = await slack.reply_to("U0TRUST", slack.click("U0TRUST", "me", label="Me"))
    assert "immediate danger" in text_of_calls(posts)
    assert "Which school" not in text_of_calls(posts)

    # And they can change it: the same person moves, with their Slack account.
    posts = await slack.reply_to("U0TRUST", slack.say("U0TRUST", "change school"))
    assert "You're with Beech Academy now" in text_of_calls(posts)
    posts = await slack.reply_to(
        "U0TRUST", slack.press_newest("U0TRUST", "Oakfield Primary School (demo)")
    )
    assert "you're with Oakfield Primary School (demo)" in text_of_calls(posts)
    async with slack.runtime.db.session() as session:
        (member,) = (await session.execute(select(StaffMember))).scalars().all()
    assert (member.school_id, member.person_id, member.slack_user_id) == (
        "oakfield",
        "rae",
        "U0TRUST",
    )
    assert slack.runtime.directory.school("beech").person("rae") is None  # type: ignore[union-attr]


async def test_someone_at_one_school_asking_to_change_is_told_there_is_no_choice(
    slack: SlackHarness,
) -> None:
    newcomer = staff_id(14)
    await slack.reply_to(newcomer, slack.say(newcomer, "hello"))
    posts = await slack.reply_to(newcomer, slack.say(newcomer, "change school"))
    assert "there's nothing to change" in text_of_calls(posts)


async def test_a_leaver_whose_account_is_restored_is_staff_again(
    slack: SlackHarness, clock: Clock
) -> None:
    newcomer = staff_id(15)
    await slack.reply_to(newcomer, slack.say(newcomer, "hello"))
    slack.fake.add_user(newcomer, deleted=True)
    clock.advance(seconds=RECHECK_AFTER.total_seconds() + 1)
    (refused,) = await slack.reply_to(newcomer, slack.say(newcomer, "hello"))
    assert "no longer one of the school's staff accounts" in text_of_calls([refused])

    slack.fake.add_user(newcomer, deleted=False)  # a mistaken deactivation undone
    clock.advance(seconds=RECHECK_AFTER.total_seconds() + 1)
    posts = await slack.reply_to(newcomer, slack.say(newcomer, "report"))
    assert "Who is being targeted?" in text_of_calls(posts)


async def test_a_leaver_loses_access_at_their_next_message_and_their_role(
    slack: SlackHarness, clock: Clock
) -> None:
    newcomer = staff_id(5)
    await slack.reply_to(newcomer, slack.say(newcomer, "hello"))
    slack.fake.add_user(newcomer, deleted=True)  # deactivated by the school's Slack admin
    clock.advance(seconds=RECHECK_AFTER.total_seconds() + 1)

    (reply,) = await slack.reply_to(newcomer, slack.say(newcomer, "report"))
    assert "no longer one of the school's staff accounts" in text_of_calls([reply])
    async with slack.runtime.db.session() as session:
        (member,) = (await session.execute(select(StaffMember))).scalars().all()
    assert member.left_at is not None  # kept, for the records that mention them
    school = slack.runtime.directory.school("oakfield")
    assert school is not None
    person = school.person("staff5")
    assert person is not None
    assert person.roles == frozenset()


async def test_a_lead_who_leaves_is_no_longer_alerted_and_the_deputy_still_is(
    slack: SlackHarness, clock: Clock
) -> None:
    await slack.reply_to(DANA, slack.say(DANA, "hello"))  # learned: her Slack id joins her listing
    school = slack.runtime.directory.school("oakfield")
    assert school is not None
    assert [p.slack_user_id for p in school.with_role(Role.SAFEGUARDING_LEAD)] == [DANA]

    slack.fake.add_user(DANA, deleted=True)
    clock.advance(seconds=RECHECK_AFTER.total_seconds() + 1)
    await slack.reply_to(DANA, slack.say(DANA, "hello"))
    school = slack.runtime.directory.school("oakfield")
    assert school is not None
    assert school.with_role(Role.SAFEGUARDING_LEAD) == []
    assert [p.id for p in school.with_role(Role.DEPUTY_SAFEGUARDING_LEAD)] == ["lee"]


async def test_a_slack_outage_never_stops_someone_already_known(
    slack: SlackHarness, clock: Clock
) -> None:
    newcomer = staff_id(8)
    await slack.reply_to(newcomer, slack.say(newcomer, "hello"))
    clock.advance(seconds=RECHECK_AFTER.total_seconds() + 1)
    slack.fake.fail_next("users.info", status=503, times=10)
    posts = await slack.reply_to(newcomer, slack.say(newcomer, "report"))
    assert "Who is being targeted?" in text_of_calls(posts)


async def test_someone_new_during_an_outage_is_told_to_try_again_and_loses_nothing(
    slack: SlackHarness,
) -> None:
    newcomer = staff_id(9)
    slack.fake.fail_next("users.info", status=503, times=3)  # the call and both its retries
    (reply,) = await slack.reply_to(newcomer, slack.say(newcomer, "report"))
    assert "couldn't check your Slack account just now" in text_of_calls([reply])

    posts = await slack.reply_to(newcomer, slack.say(newcomer, "hello"))
    assert "Who is being targeted?" in text_of_calls(posts)  # the held "report", taken first


async def test_the_daily_sync_removes_a_leaver_who_never_writes_again_and_finds_role_holders(
    slack: SlackHarness,
) -> None:
    from bot.jobs.people import run_people_sync

    newcomer = staff_id(11)
    await slack.reply_to(newcomer, slack.say(newcomer, "hello"))
    slack.fake.add_user(newcomer, deleted=True)

    result = (await run_people_sync(slack.runtime))["slack"]
    assert result.left == ["oakfield/staff11"]
    assert "oakfield/dana" in result.found  # listed by email: her Slack id is now known
    school = slack.runtime.directory.school("oakfield")
    assert school is not None
    dana = school.person("dana")
    assert dana is not None
    assert dana.slack_user_id == DANA
    leaver = school.person("staff11")
    assert leaver is not None
    assert leaver.roles == frozenset()


async def test_files_someone_new_sends_while_slack_cannot_say_who_they_are_are_taken_after(
    slack: SlackHarness,
) -> None:
    from tests.support import png

    newcomer = staff_id(16)
    slack.fake.fail_next("users.info", status=503, times=3)  # the call and both its retries
    shared = slack.fake.add_file("FNEW", name="shot.png", data=png("x"), mimetype="image/png")
    (reply,) = await slack.reply_to(
        newcomer, slack.say(newcomer, "a parent posted this about me", files=[shared])
    )
    assert "couldn't check your Slack account just now" in text_of_calls([reply])
    async with slack.runtime.db.session() as session:
        (held,) = (await session.execute(select(HeldMessage))).scalars().all()
    assert [f["id"] for f in held.files or []] == ["FNEW"]

    # Once Slack answers, the held message is taken with its file, as anyone's would be: a
    # file outside a report is explained, not silently dropped.
    posts = await slack.reply_to(newcomer, slack.say(newcomer, "hello?"))
    assert "I can only keep files as part of a report" in text_of_calls(posts)

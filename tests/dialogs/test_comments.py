"""Comments on official accounts, through the real runner, services and sweep, as moderators and
senior leaders would meet them.

The demo school answers within 24 working hours, nudges the moderators when 75% of that has
passed and again at the deadline, and tells its senior leaders (Dana and Lee) two working
hours after. Its Instagram account has no deadline.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from sqlmodel import col, select

from bot.config import Settings
from bot.jobs.comments import run_comment_sweep, run_weekly_digests
from bot.runtime import Runtime, build_runtime
from dialogs.services.comments.card import CommentButtonValue, CommentVerb
from dialogs.services.comments.incoming import CommentSource, IncomingComment
from dialogs.services.comments.service import CommentSweep
from dialogs.services.messages import Message
from storage.models import AuditEntry, Comment, Evidence, Notification
from tests.conftest import Clock
from tests.support import Person as Chat
from tests.support import last_prompt, text_of

T = TypeVar("T")
MONDAY_10AM = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)  # London is on GMT in November
TEXT = "When is the Christmas fair? I can't find it on the website."


async def rows(runtime: Runtime, model: type[T], *where: Any) -> list[T]:
    async with runtime.db.session() as session:
        result = await session.execute(select(model).where(*where))
        return list(result.scalars().all())


async def moderator_posts(runtime: Runtime) -> list[Message]:
    found = await rows(runtime, Notification, col(Notification.channel_purpose) == "moderators")
    return [Message.model_validate(n.message) for n in sorted(found, key=lambda n: n.id or 0)]


async def sent_to(runtime: Runtime, person_id: str) -> list[Message]:
    found = await rows(runtime, Notification, col(Notification.person_id) == person_id)
    return [Message.model_validate(n.message) for n in sorted(found, key=lambda n: n.id or 0)]


async def logged(runtime: Runtime, clock: Clock, *, account: str = "1") -> list[Message]:
    """Jo, a moderator, logs a comment seen on the website at 10:00 today."""
    jo = Chat(runtime, person_id="jo")
    for answer in ["comment", account, "A Parent", TEXT, "skip", "today 10am"]:
        await jo.say(answer)
    return await jo.say("submit")


def button(messages: list[Message], verb: CommentVerb) -> str:
    for message in reversed(messages):
        for b in message.buttons:
            decoded = CommentButtonValue.decode(b.value)
            if decoded is not None and decoded.verb is verb:
                return b.value
    raise AssertionError(f"no {verb} button in {text_of(messages)}")


async def test_a_moderator_logs_a_comment_and_the_channel_sees_its_deadline(
    runtime: Runtime, clock: Clock
) -> None:
    clock.now = MONDAY_10AM + timedelta(minutes=20)
    done = await logged(runtime, clock)
    assert done[-1].title == "Comment logged: CM-2026-0001"
    assert "answered by Tue 24/11 10:00" in done[-1].text
    [card] = await moderator_posts(runtime)
    assert card.title == "Comment CM-2026-0001 on Oakfield Primary website (School website)"
    assert card.text == TEXT
    facts = {f.label: f.value for f in card.facts}
    assert facts["Answer by"] == "Tue 24/11/2026 10:00"
    assert facts["From"] == "A Parent"
    assert [b.label for b in card.buttons] == [
        "Acknowledged",
        "Replied",
        "Hide or remove",
        "Report as abuse",
        "No answer needed",
    ]
    [entry] = await rows(runtime, AuditEntry, col(AuditEntry.action) == "comment.receive")
    assert TEXT not in entry.detail  # the audit log names the comment, never repeats it


async def test_moderators_are_nudged_then_told_it_is_overdue_then_the_leads_hear_once_each(
    runtime: Runtime, clock: Clock
) -> None:
    clock.now = MONDAY_10AM + timedelta(minutes=5)
    await logged(runtime, clock)
    assert (await run_comment_sweep(runtime)).nudged == 0

    clock.now = datetime(2026, 11, 24, 4, 0, tzinfo=UTC)  # 18 of 24 hours: 75%
    assert (await run_comment_sweep(runtime)).nudged == 1
    assert (await run_comment_sweep(runtime)).nudged == 0  # never twice
    soon = (await moderator_posts(runtime))[-1]
    assert soon.title == "Comment CM-2026-0001: due soon"
    assert "needs an answer by Tue 24/11/2026 10:00 (6 hours left)" in soon.text
    assert "Acknowledged" in [b.label for b in soon.buttons]

    clock.now = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
    assert (await run_comment_sweep(runtime)).overdue == 1
    overdue, card = (await moderator_posts(runtime))[-2:]
    assert "was due an answer by Tue 24/11/2026 10:00 and has none yet" in overdue.text
    assert {f.label: f.value for f in card.facts}["Answer by"].endswith("(overdue)")
    assert await sent_to(runtime, "dana") == []

    clock.now = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)  # two working hours later
    assert (await run_comment_sweep(runtime)).escalated == 1
    for lead in ("dana", "lee"):
        [told] = await sent_to(runtime, lead)
        assert told.title == "Unanswered comment: CM-2026-0001"
        assert "2 hours overdue" in told.text
    assert "I've told Dana Okafor, Lee Brown" in (await moderator_posts(runtime))[-1].text
    clock.now += timedelta(days=3)
    assert await run_comment_sweep(runtime) == CommentSweep()
    assert len(await sent_to(runtime, "dana")) == 1


async def test_after_an_outage_only_the_latest_nudge_is_sent(
    runtime: Runtime, clock: Clock
) -> None:
    clock.now = MONDAY_10AM + timedelta(minutes=5)
    await logged(runtime, clock)
    before = len(await moderator_posts(runtime))
    clock.now = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)  # the server was down for days
    result = await run_comment_sweep(runtime)
    assert (result.nudged, result.overdue, result.escalated) == (0, 0, 1)
    new = (await moderator_posts(runtime))[before:]
    assert [m.title for m in new] == ["Comment CM-2026-0001: overdue"]
    assert len(await sent_to(runtime, "lee")) == 1


async def test_a_restarted_server_sends_nothing_again(
    settings: Settings, runtime: Runtime, clock: Clock
) -> None:
    clock.now = MONDAY_10AM + timedelta(minutes=5)
    await logged(runtime, clock)
    clock.now = datetime(2026, 11, 24, 4, 30, tzinfo=UTC)
    assert (await run_comment_sweep(runtime)).nudged == 1
    await runtime.close()
    restarted = build_runtime(settings, clock=clock)
    try:
        assert (await run_comment_sweep(restarted)).nudged == 0
        clock.now = datetime(2026, 11, 24, 10, 1, tzinfo=UTC)
        assert (await run_comment_sweep(restarted)).overdue == 1
    finally:
        await restarted.close()


async def test_acknowledging_stops_the_clock_and_records_the_first_response(
    runtime: Runtime, clock: Clock
) -> None:
    clock.now = MONDAY_10AM + timedelta(minutes=5)
    await logged(runtime, clock)
    clock.now = MONDAY_10AM + timedelta(hours=2)
    jo = Chat(runtime, person_id="jo")
    waiting = await jo.say("comments")
    said = await jo.press(button(waiting, CommentVerb.ACKNOWLEDGE))
    assert "CM-2026-0001 is marked as acknowledged" in text_of(said)
    [comment] = await rows(runtime, Comment)
    assert comment.first_response_at == MONDAY_10AM + timedelta(hours=2)
    assert (comment.status, comment.handled_by, comment.breached) == ("acknowledged", "jo", False)
    clock.now = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
    result = await run_comment_sweep(runtime)
    assert (result.nudged, result.overdue, result.escalated) == (0, 0, 0)
    card = (await moderator_posts(runtime))[-1]
    assert [b.label for b in card.buttons] == ["Replied", "Hide or remove", "Report as abuse"]
    assert {f.label: f.value for f in card.facts}["Status"] == "Acknowledged by Jo Williams"


async def test_a_friday_afternoon_comment_is_due_on_monday_afternoon(
    runtime: Runtime, clock: Clock
) -> None:
    clock.now = datetime(2026, 11, 27, 16, 30, tzinfo=UTC)
    school = runtime.settings.directory.school("oakfield")
    assert school is not None
    async with runtime.db.session() as session:
        received = await runtime.services(session, clock()).comments.receive(
            school,
            IncomingComment(
                source=CommentSource.WEBHOOK,
                external_id="zap-1",
                account_id="facebook",
                author="A Parent",
                text=TEXT,
                received_at=datetime(2026, 11, 27, 16, 0, tzinfo=UTC),
            ),
        )
    assert received.comment.due_at == datetime(2026, 11, 30, 16, 0, tzinfo=UTC)


async def test_the_same_comment_delivered_twice_is_stored_once(
    runtime: Runtime, clock: Clock
) -> None:
    school = runtime.settings.directory.school("oakfield")
    assert school is not None
    incoming = IncomingComment(
        source=CommentSource.FACEBOOK,
        external_id="123_456",
        platform_account="100000000000001",
        author="A Parent",
        text=TEXT,
        received_at=clock.now - timedelta(minutes=1),
    )
    for expected in (True, False):
        async with runtime.db.session() as session:
            received = await runtime.services(session, clock()).comments.receive(school, incoming)
        assert received.created is expected
        assert received.comment.account_id == "facebook"
    assert len(await rows(runtime, Comment)) == 1
    assert len(await moderator_posts(runtime)) == 1


async def test_an_account_without_deadlines_is_never_nudged(runtime: Runtime, clock: Clock) -> None:
    clock.now = MONDAY_10AM + timedelta(minutes=5)
    done = await logged(runtime, clock, account="3")  # Instagram
    assert "This account has no deadline for answers." in done[-1].text
    clock.now += timedelta(days=10)
    result = await run_comment_sweep(runtime)
    assert (result.nudged, result.overdue, result.escalated) == (0, 0, 0)
    [card] = await moderator_posts(runtime)
    assert {f.label: f.value for f in card.facts}["Answer by"] == "No deadline on this account"


async def test_staff_who_are_not_moderators_cannot_log_or_answer_comments(
    runtime: Runtime, clock: Clock
) -> None:
    sam = Chat(runtime)
    refused = await sam.say("comment")
    assert "Only the school's moderators log comments" in text_of(refused)
    clock.now = MONDAY_10AM + timedelta(minutes=5)
    await logged(runtime, clock)
    forged = CommentButtonValue(CommentVerb.NOT_NEEDED, "CM-2026-0001").encode()
    said = await sam.press(forged)
    assert "Only the school's moderators can see and answer comments" in text_of(said)
    [comment] = await rows(runtime, Comment)
    assert comment.status == "open"


async def test_hiding_a_comment_asks_for_the_reason_to_give_publicly(
    runtime: Runtime, clock: Clock
) -> None:
    clock.now = MONDAY_10AM + timedelta(minutes=5)
    await logged(runtime, clock)
    jo = Chat(runtime, person_id="jo")
    asked = await jo.press(button(await jo.say("comments"), CommentVerb.HIDE))
    assert "What reason will you give publicly" in last_prompt(asked).text
    said = await jo.say("We removed a comment naming a member of staff; please call the office.")
    assert "CM-2026-0001 is marked as hidden or removed" in text_of(said)
    [comment] = await rows(runtime, Comment)
    assert comment.status == "hidden"
    card = (await moderator_posts(runtime))[-1]
    assert {f.label: f.value for f in card.facts}["Reason given"].startswith("We removed")


async def test_reporting_a_comment_as_abuse_starts_a_report_with_it_as_evidence(
    runtime: Runtime, clock: Clock
) -> None:
    clock.now = MONDAY_10AM + timedelta(minutes=5)
    await logged(runtime, clock)
    jo = Chat(runtime, person_id="jo")
    started = await jo.press(button(await jo.say("comments"), CommentVerb.ESCALATE))
    assert "CM-2026-0001 is being reported as abuse" in text_of(started)
    assert "I've saved the message you flagged as evidence" in text_of(started)
    [evidence] = await rows(runtime, Evidence)
    async with runtime.db.session() as session:
        content = await runtime.services(session, clock()).evidence.read(evidence)
    kept = json.loads(content.content)
    assert (kept["comment"], kept["text"], kept["author"]) == ("CM-2026-0001", TEXT, "A Parent")
    [comment] = await rows(runtime, Comment)
    assert (comment.status, comment.reported_by) == ("open", "jo")  # still needs an answer
    card = (await moderator_posts(runtime))[-1]
    assert {f.label: f.value for f in card.facts}["Reported as abuse"] == "by Jo Williams"
    assert "Report as abuse" not in [b.label for b in card.buttons]
    clock.now = datetime(2026, 11, 24, 4, 0, tzinfo=UTC)
    assert (await run_comment_sweep(runtime)).nudged == 1  # the public answer is still due


async def test_two_schedulers_sharing_the_database_send_each_nudge_once(
    settings: Settings, runtime: Runtime, clock: Clock
) -> None:
    """On PostgreSQL one sweeps and the other skips; on SQLite the second waits its turn and
    finds nothing left to send."""
    school = runtime.settings.directory.school("oakfield")
    assert school is not None
    clock.now = MONDAY_10AM
    async with runtime.db.session() as session:
        comments = runtime.services(session, clock()).comments
        for number in range(60):
            await comments.receive(
                school,
                IncomingComment(
                    source=CommentSource.WEBHOOK,
                    external_id=f"zap-{number}",
                    account_id="website",
                    author="A Parent",
                    text=TEXT,
                    received_at=MONDAY_10AM,
                ),
            )
    other = build_runtime(settings, clock=clock)
    try:
        clock.now = datetime(2026, 11, 24, 5, 0, tzinfo=UTC)
        for _ in range(3):
            await asyncio.gather(run_comment_sweep(runtime), run_comment_sweep(other))
    finally:
        await other.close()
    nudges = await rows(runtime, Notification, col(Notification.kind) == "comment_nudge")
    assert len(nudges) == 60
    assert len({n.subject for n in nudges}) == 60


async def test_the_leads_get_a_weekly_digest_once_on_monday_morning(
    runtime: Runtime, clock: Clock
) -> None:
    school = runtime.settings.directory.school("oakfield")
    assert school is not None
    # Last week: one answered in time on the website, one missed on Facebook.
    clock.now = MONDAY_10AM + timedelta(minutes=5)
    await logged(runtime, clock)
    jo = Chat(runtime, person_id="jo")
    clock.now = MONDAY_10AM + timedelta(hours=3)
    await jo.press(button(await jo.say("comments"), CommentVerb.REPLIED))
    async with runtime.db.session() as session:
        await runtime.services(session, clock()).comments.receive(
            school,
            IncomingComment(
                source=CommentSource.WEBHOOK,
                external_id="zap-9",
                account_id="facebook",
                author="Another Parent",
                text="Hello?",
                received_at=datetime(2026, 11, 25, 9, 0, tzinfo=UTC),
            ),
        )
    clock.now = datetime(2026, 11, 30, 6, 30, tzinfo=UTC)  # Monday, before 07:00
    assert await run_weekly_digests(runtime) == 0
    clock.now = datetime(2026, 11, 30, 7, 15, tzinfo=UTC)
    assert await run_weekly_digests(runtime) == 1
    assert await run_weekly_digests(runtime) == 0  # once a week, however often it runs
    [digest] = [m for m in await sent_to(runtime, "dana") if m.title and "week of" in m.title]
    assert digest.title == "Comments on the official accounts, week of 23 November 2026"
    facts = {f.label: f.value for f in digest.facts}
    assert facts["All accounts"].startswith("2 received; 1 of 2 with a deadline answered on time")
    assert "1 missed" in facts["All accounts"]
    assert "median first response 3 hours" in facts["Oakfield Primary website (School website)"]
    assert "none answered yet" in facts["Oakfield Primary on Facebook (Facebook)"]


async def test_a_clock_that_jumps_back_and_forward_never_repeats_or_loses_a_nudge(
    runtime: Runtime, clock: Clock
) -> None:
    clock.now = MONDAY_10AM + timedelta(minutes=5)
    await logged(runtime, clock)
    clock.now = datetime(2026, 11, 24, 4, 30, tzinfo=UTC)
    assert (await run_comment_sweep(runtime)).nudged == 1
    clock.now = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)  # the server's clock is set back
    assert await run_comment_sweep(runtime) == CommentSweep()
    clock.now = datetime(2026, 11, 24, 4, 45, tzinfo=UTC)
    assert await run_comment_sweep(runtime) == CommentSweep()  # the 75% nudge was sent
    clock.now = datetime(2026, 11, 24, 10, 30, tzinfo=UTC)
    assert (await run_comment_sweep(runtime)).overdue == 1
    titles = [m.title for m in await moderator_posts(runtime) if m.title and ": " in m.title]
    assert titles == ["Comment CM-2026-0001: due soon", "Comment CM-2026-0001: overdue"]

"""Reporting abuse through the real runner and database, as a member of staff would."""

from __future__ import annotations

import hashlib

import pytest
from sqlmodel import select

from bot.runtime import Runtime
from dialogs.services.messages import IncomingFile, InputKind, MessageKind
from storage.models import AuditEntry, Case, Evidence
from tests.conftest import Clock
from tests.support import AFTER_EVIDENCE, HAPPY_PATH, Person, file, last_prompt, png, text_of


async def fill_to_summary(sam: Person, *shots: bytes) -> None:
    for answer in HAPPY_PATH:
        await sam.say(answer)
    for index, data in enumerate(shots, 1):
        await sam.say("", file(f"shot{index}.png", data))
    await sam.say("done" if shots else "skip")
    for answer in AFTER_EVIDENCE:
        await sam.say(answer)


async def test_a_complete_report_with_two_screenshots_becomes_a_case(runtime: Runtime) -> None:
    sam = Person(runtime)
    first, second = png("one"), png("two")
    await fill_to_summary(sam, first, second)
    summary = last_prompt(sam.seen)
    assert summary.kind is MessageKind.SUMMARY
    assert "shot1.png" in text_of([summary])
    assert "shot2.png" in text_of([summary])

    done = await sam.say("submit")

    assert done[-1].kind is MessageKind.DONE
    assert "CB-2026-0001" in text_of(done)
    assert "consider involving the police" in text_of(done)
    async with runtime.db.session() as session:
        case = (await session.execute(select(Case))).scalar_one()
        files = (await session.execute(select(Evidence))).scalars().all()
        audit = (await session.execute(select(AuditEntry))).scalars().all()
    assert case.reference == "CB-2026-0001"
    assert case.police_consideration
    assert case.urgency == "high"
    assert case.nature == ["threatening", "sexist"]
    assert case.responsible_name == "Pat Jones"
    assert sorted(f.sha256 for f in files) == sorted(
        hashlib.sha256(d).hexdigest() for d in (first, second)
    )
    assert all(f.case_id == case.id and f.draft_key is None for f in files)
    assert "case.create" in [a.action for a in audit]
    assert all("useless" not in a.detail for a in audit)

    lead = Person(runtime, person_id="dana")
    alerts = await lead.inbox()
    assert [m.title for m in alerts] == ["New report of online abuse: CB-2026-0001"]
    assert "useless" not in text_of(alerts)


async def test_restart_mid_dialog_resumes_where_the_person_was(
    runtime: Runtime, clock: Clock
) -> None:
    sam = Person(runtime)
    for answer in HAPPY_PATH[:4]:
        await sam.say(answer)
    await runtime.close()

    from bot.runtime import build_runtime

    restarted = build_runtime(runtime.settings, clock=clock)
    try:
        again = Person(restarted)
        opening = await again.open()
        assert "Welcome back" in text_of(opening)
        question = last_prompt(opening)
        assert question.text.startswith("Is there a link")
        assert question.expects is InputKind.TEXT
        await again.say("skip")
        assert last_prompt(again.seen).expects is InputKind.DATETIME
    finally:
        await restarted.close()


# (answers before the step, a bad answer, words the hint must contain)
BAD_ANSWERS = [
    (HAPPY_PATH[:1], "banana", "Please pick one"),
    (HAPPY_PATH[:2], "maybe", "yes or no"),
    (HAPPY_PATH[:3], "12", "didn't recognise"),
    (HAPPY_PATH[:4], "see the group", "web address"),
    (HAPPY_PATH[:5], "banana", "couldn't work out a date"),
    (HAPPY_PATH[:5], "tomorrow 4pm", "hasn't happened yet"),
    (HAPPY_PATH[:5], "21/11/2001 10:00", "very long time ago"),
    (HAPPY_PATH[:6], "bad", "a little short"),
    (HAPPY_PATH, "here you go", "expecting files"),
    (HAPPY_PATH, "done", "haven't received any files"),
]


@pytest.mark.parametrize(("before", "bad", "hint"), BAD_ANSWERS)
async def test_a_bad_answer_is_explained_and_the_same_question_asked_again(
    runtime: Runtime, before: list[str], bad: str, hint: str
) -> None:
    sam = Person(runtime)
    for answer in before:
        await sam.say(answer)
    question = last_prompt(sam.seen)

    replies = await sam.say(bad)

    assert replies[0].kind is MessageKind.HINT
    assert hint in replies[0].text
    assert last_prompt(replies).text == question.text
    # Nothing given so far was lost: finishing the report still works.
    remaining = HAPPY_PATH[len(before) :]
    for answer in remaining:
        await sam.say(answer)
    await sam.say("skip")
    for answer in AFTER_EVIDENCE:
        await sam.say(answer)
    done = await sam.say("submit")
    assert done[-1].kind is MessageKind.DONE


async def test_bad_answers_later_in_the_report(runtime: Runtime) -> None:
    sam = Person(runtime)
    for answer in HAPPY_PATH:
        await sam.say(answer)
    await sam.say("skip")
    assert (await sam.say("alien"))[0].kind is MessageKind.HINT
    await sam.say("unknown")  # who is responsible: no name question follows
    replies = await sam.say("1, 99")
    assert replies[0].kind is MessageKind.HINT
    assert "“99”" in replies[0].text
    replies = await sam.say("other")
    assert last_prompt(replies).kind is MessageKind.SUMMARY
    facts = {f.label: f.value for f in last_prompt(replies).facts}
    assert facts["Who is responsible"] == "Not known"
    assert "Name of who is responsible" not in facts


async def test_rejected_files_get_a_reason_and_the_dialog_carries_on(runtime: Runtime) -> None:
    sam = Person(runtime)
    for answer in HAPPY_PATH:
        await sam.say(answer)
    disguised = await sam.say("", file("holiday.png", b"MZ\x90\x00 this is a program"))
    assert disguised[0].kind is MessageKind.HINT
    assert "holiday.png" in disguised[0].text
    corrupt = await sam.say("", file("cut.png", png()[:200]))
    assert corrupt[0].kind is MessageKind.HINT
    good = await sam.say("", file("real.png", png()))
    assert "is saved as evidence" in text_of(good)
    await sam.say("done")
    async with runtime.db.session() as session:
        stored = (await session.execute(select(Evidence))).scalars().all()
    assert [e.original_name for e in stored] == ["real.png"]


async def test_oversized_files_are_refused_with_the_limit(runtime: Runtime) -> None:
    sam = Person(runtime)
    for answer in HAPPY_PATH:
        await sam.say(answer)
    limit = runtime.settings.evidence.max_upload_mb
    huge = IncomingFile(name="huge.png", data=png()[:100], size=int((limit + 5) * 1024 * 1024))
    replies = await sam.say("", huge)
    assert replies[0].kind is MessageKind.HINT
    assert f"more than the {limit:g} MB I can keep" in replies[0].text
    # Past even the video limit, it is refused before anything is checked.
    video_limit = runtime.settings.evidence.max_video_mb
    vast = IncomingFile(name="vast.mp4", data=b"", size=int((video_limit + 1) * 1024 * 1024))
    replies = await sam.say("", vast)
    assert f"limit is {video_limit:g} MB" in replies[0].text


async def test_back_goes_to_the_previous_question_and_keeps_the_answer(runtime: Runtime) -> None:
    sam = Person(runtime)
    for answer in HAPPY_PATH[:4]:
        await sam.say(answer)
    replies = await sam.say("back")
    question = last_prompt(replies)
    assert question.text.startswith("Where did it happen?")
    assert {f.label: f.value for f in question.facts}["Your answer so far"] == "Facebook"
    await sam.say("TikTok")
    assert last_prompt(sam.seen).text.startswith("Is there a link")


async def test_back_at_the_first_question_says_so(runtime: Runtime) -> None:
    sam = Person(runtime)
    await sam.say("report")
    replies = await sam.say("back")
    assert "first question" in text_of(replies)
    assert last_prompt(replies).text == "Who is being targeted?"


async def test_help_explains_the_question_and_asks_it_again(runtime: Runtime) -> None:
    sam = Person(runtime)
    for answer in HAPPY_PATH[:2]:
        await sam.say(answer)
    replies = await sam.say("help")
    assert "Immediate danger means" in text_of(replies)
    assert "start again" in text_of(replies)
    assert last_prompt(replies).text == "Is anyone in immediate danger right now?"


async def test_cancel_asks_first_then_deletes_the_draft_and_its_files(runtime: Runtime) -> None:
    sam = Person(runtime)
    for answer in HAPPY_PATH:
        await sam.say(answer)
    await sam.say("", file("shot.png", png()))
    async with runtime.db.session() as session:
        stored = (await session.execute(select(Evidence))).scalar_one()
    blob = runtime.settings.evidence_dir / stored.stored_name[:2] / stored.stored_name
    assert blob.exists()

    confirm = await sam.say("cancel")
    assert "Are you sure" in confirm[0].text
    carry_on = await sam.say("no")
    assert "carrying on" in text_of(carry_on)
    assert last_prompt(carry_on).expects is InputKind.ATTACHMENTS
    assert blob.exists()

    await sam.say("cancel")
    cancelled = await sam.say("yes")
    assert "Cancelled. Nothing was sent" in text_of(cancelled)
    assert not blob.exists()
    async with runtime.db.session() as session:
        assert (await session.execute(select(Evidence))).first() is None
        assert (await session.execute(select(Case))).first() is None
    menu = await sam.say("hello")
    assert menu[-1].kind is MessageKind.MENU


async def test_start_again_clears_the_answers(runtime: Runtime) -> None:
    sam = Person(runtime)
    for answer in HAPPY_PATH[:4]:
        await sam.say(answer)
    await sam.say("start again")
    replies = await sam.say("yes")
    question = last_prompt(replies)
    assert question.text == "Who is being targeted?"
    assert question.facts == ()


async def test_edit_one_answer_from_the_summary(runtime: Runtime) -> None:
    sam = Person(runtime)
    await fill_to_summary(sam)
    menu = await sam.say("edit")
    assert [b.label for b in last_prompt(menu).buttons][:2] == [
        "Who is affected",
        "Immediate danger",
    ]
    await sam.press("platform")
    summary = await sam.say("Instagram")
    facts = {f.label: f.value for f in last_prompt(summary).facts}
    assert facts["Where it happened"] == "Instagram"
    assert facts["What happened"].startswith("A parent posted")

    # Changing who is affected to a colleague brings in the question about their name.
    await sam.say("edit")
    await sam.press("affected")
    asked = await sam.say("a colleague")
    assert last_prompt(asked).text.startswith("What is their name?")
    summary = await sam.say("Alex Smith")
    facts = {f.label: f.value for f in last_prompt(summary).facts}
    assert facts["Name of the person affected"] == "Alex Smith"
    done = await sam.say("submit")
    assert done[-1].kind is MessageKind.DONE
    async with runtime.db.session() as session:
        case = (await session.execute(select(Case))).scalar_one()
    assert (case.affected, case.affected_name, case.platform) == (
        "colleague",
        "Alex Smith",
        "Instagram",
    )


async def test_immediate_danger_says_call_999_and_alerts_the_leads_once(runtime: Runtime) -> None:
    sam = Person(runtime)
    await sam.say("report")
    await sam.say("a pupil")
    await sam.say("skip")
    replies = await sam.say("yes")
    urgent = [m for m in replies if m.kind is MessageKind.URGENT]
    assert urgent
    assert "call 999 now" in urgent[0].text
    for lead_id in ("dana", "lee"):
        alerts = await Person(runtime, person_id=lead_id).inbox()
        assert [m.kind for m in alerts] == [MessageKind.URGENT]
        assert "Sam Patel" in alerts[0].text
    # Going back and answering again does not alert twice.
    await sam.say("back")
    await sam.say("yes")
    assert await Person(runtime, person_id="dana").inbox() == []


async def test_nature_sets_the_police_flag_and_urgency(runtime: Runtime) -> None:
    sam = Person(runtime)
    for answer in HAPPY_PATH:
        await sam.say(answer)
    await sam.say("skip")
    await sam.say("unknown")
    await sam.say("impersonation")
    done = await sam.say("submit")
    assert "police" not in text_of(done)
    async with runtime.db.session() as session:
        case = (await session.execute(select(Case))).scalar_one()
    assert (case.police_consideration, case.urgency) == (False, "normal")


async def test_my_reports_shows_only_my_own(runtime: Runtime) -> None:
    sam = Person(runtime)
    await fill_to_summary(sam)
    await sam.say("submit")
    jo = Person(runtime, person_id="jo")
    assert "haven't made any reports" in text_of(await jo.say("my reports"))
    mine = await sam.say("my reports")
    assert "CB-2026-0001" in text_of(mine)


async def test_files_sent_outside_a_report_are_not_silently_dropped(runtime: Runtime) -> None:
    sam = Person(runtime)
    replies = await sam.say("", file("shot.png", png()))
    assert "Start a report first" in text_of(replies)


async def test_back_from_the_screenshots_keeps_files_already_sent(runtime: Runtime) -> None:
    sam = Person(runtime)
    for answer in HAPPY_PATH:
        await sam.say(answer)
    await sam.say("", file("shot.png", png()))
    await sam.say("back")
    replies = await sam.say(HAPPY_PATH[-1])  # answer "what happened" again
    question = last_prompt(replies)
    assert question.expects is InputKind.ATTACHMENTS
    assert "shot.png" in text_of([question])
    await sam.say("done")
    for answer in AFTER_EVIDENCE:
        await sam.say(answer)
    facts = {f.label: f.value for f in last_prompt(sam.seen).facts}
    assert facts["Screenshots"].startswith("shot.png")


async def test_a_failure_while_saving_loses_nothing_given_before(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    sam = Person(runtime)
    for answer in HAPPY_PATH[:3]:
        await sam.say(answer)

    from storage import conversations

    async def broken(*args: object, **kwargs: object) -> None:
        raise OSError("disk full")

    with monkeypatch.context() as patch:
        patch.setattr(conversations, "save_state", broken)
        replies = await sam.say("Instagram")
    # The disk is full: the answer was not saved, but it is kept to be taken later.
    assert replies[0].kind is MessageKind.HINT
    assert "I've kept it safely" in replies[0].text

    again = await sam.open()
    assert last_prompt(again).text.startswith("Where did it happen?")
    # Sam sends it again anyway: it is taken once, not as the answer to the next question too.
    await sam.say("Instagram")
    assert last_prompt(sam.seen).text.startswith("Is there a link")
    await sam.say("https://instagram.com/p/1")
    assert not last_prompt(sam.seen).text.startswith("Is there a link")


async def test_the_summary_shows_the_screenshots_it_will_send(runtime: Runtime) -> None:
    sam = Person(runtime)
    await fill_to_summary(sam, png("one"), png("two"))
    summary = last_prompt(sam.seen)
    assert [(i.name, i.media_type) for i in summary.images] == [
        ("shot1.png", "image/png"),
        ("shot2.png", "image/png"),
    ]


async def test_names_that_are_too_long_or_a_bad_characteristic_are_asked_again(
    runtime: Runtime,
) -> None:
    sam = Person(runtime)
    await sam.say("report")
    await sam.say("a pupil")
    replies = await sam.say("x" * 201)
    assert replies[0].kind is MessageKind.HINT
    assert "longer than I can keep" in replies[0].text
    assert last_prompt(replies).text.startswith("What is their name?")
    await sam.say("Robin")
    for answer in HAPPY_PATH[2:]:
        await sam.say(answer)
    await sam.say("skip")
    await sam.say("a pupil")
    await sam.say("skip")  # their name is optional
    await sam.say("hate")
    replies = await sam.say("height")
    assert replies[0].kind is MessageKind.HINT
    replies = await sam.say("religion")
    facts = {f.label: f.value for f in last_prompt(replies).facts}
    assert facts["Protected characteristic"] == "Religion or belief"
    assert facts["Name of who is responsible"] == "Not given"

"""Who may know who reported, and who may see a report at all, through the real runner.

Sam reports; Dana is the designated lead and Lee her deputy. A reporter may choose that only the
lead knows it was them, or that nobody does; the lead can still ask questions, relayed by the
bot. A report that names someone in the safeguarding team never reaches them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, TypeVar

import pytest
from sqlmodel import col, select

from bot.runtime import Runtime
from dialogs.case_actions import perform
from dialogs.services.cases.card import CaseVerb, ReporterButtonValue, ReporterVerb
from dialogs.services.cases.service import NewReport
from dialogs.services.errors import NotFound
from dialogs.services.messages import Message, MessageKind
from dialogs.services.privacy.pseudonyms import is_pseudonym
from dialogs.services.school.schools import Person, Role, School
from storage.models import AuditEntry, Case, CaseEvent, Notification
from tests.support import AFTER_EVIDENCE, HAPPY_PATH, last_prompt, text_of
from tests.support import Person as Chat

T = TypeVar("T")


def oakfield(runtime: Runtime) -> School:
    school = runtime.settings.directory.school("oakfield")
    assert school is not None
    return school


def staff(runtime: Runtime, person_id: str) -> Person:
    found = oakfield(runtime).person(person_id)
    assert found is not None
    return found


async def rows(runtime: Runtime, model: type[T], *where: Any) -> list[T]:
    async with runtime.db.session() as session:
        return list((await session.execute(select(model).where(*where))).scalars().all())


async def report(runtime: Runtime, first: str = "report", choose: str | None = None) -> Chat:
    """Sam reports, optionally changing who may know it was them on the summary."""
    sam = Chat(runtime)
    await sam.say(first)
    for answer in HAPPY_PATH[1:]:
        await sam.say(answer)
    await sam.say("skip")
    for answer in AFTER_EVIDENCE:
        await sam.say(answer)
    if choose is not None:
        await sam.say("edit")
        await sam.say("Who may know it was you")
        await sam.say(choose)
    done = await sam.say("submit")
    assert done[-1].kind is MessageKind.DONE, text_of(done)
    return sam


async def act(runtime: Runtime, person_id: str, verb: CaseVerb, **form: Any) -> Message:
    async with runtime.db.session() as session:
        outcome = await perform(
            runtime.services(session, runtime.clock()),
            school=oakfield(runtime),
            actor=staff(runtime, person_id),
            verb=verb,
            reference="CB-2026-0001",
            **form,
        )
    return outcome.message


def fact(message: Message, label: str) -> str:
    return next(f.value for f in message.facts if f.label == label)


async def test_the_summary_says_who_may_know_and_most_reports_name_the_reporter(
    runtime: Runtime,
) -> None:
    sam = Chat(runtime)
    for answer in [*HAPPY_PATH, "skip", *AFTER_EVIDENCE]:
        summary = await sam.say(answer)
    assert fact(last_prompt(summary), "Who may know it was you") == (
        "The safeguarding lead and deputy"
    )
    await sam.say("submit")
    [alert] = [m for m in await Chat(runtime, person_id="lee").inbox() if m.title]
    assert fact(alert, "Reported by") == "Sam Patel"


async def test_an_anonymous_report_never_names_the_reporter_yet_questions_reach_them(
    runtime: Runtime,
) -> None:
    sam = await report(runtime, first="I want to report something anonymously")
    [case] = await rows(runtime, Case)
    assert case.reporter_visibility == "anonymous"
    dana = Chat(runtime, person_id="dana")
    [alert] = await dana.inbox()
    assert fact(alert, "Reported by") == "Anonymous"
    [card] = await rows(runtime, Notification, col(Notification.channel_purpose) == "safeguarding")
    card_message = Message.model_validate(card.message)
    assert fact(card_message, "Reported by") == "Anonymous"
    details = await act(runtime, "dana", CaseVerb.VIEW)
    assert fact(details, "Reported by") == "Anonymous"
    assert "Sam" not in text_of([details])
    [created] = await rows(runtime, AuditEntry, col(AuditEntry.action) == "case.create")
    assert is_pseudonym(created.actor_id)

    said = await act(runtime, "dana", CaseVerb.ASK, text="Did you keep the original post?")
    assert "Your question was sent to the reporter of CB-2026-0001" in said.text
    [question] = await sam.inbox()
    assert "Did you keep the original post?" in question.text
    [answer_button] = question.buttons
    assert ReporterButtonValue.decode(answer_button.value) == ReporterButtonValue(
        ReporterVerb.ANSWER, "CB-2026-0001"
    )
    asked = await sam.press(answer_button.value)
    assert "Type your answer" in last_prompt(asked).text
    thanked = await sam.say("Yes, I took a screenshot before it was deleted.")
    assert "your answer about CB-2026-0001 has been passed on" in text_of(thanked)
    [answered] = await dana.inbox()
    assert answered.title == "The reporter answered: CB-2026-0001"
    assert answered.text == "Yes, I took a screenshot before it was deleted."
    assert fact(answered, "From") == "Anonymous"
    chronology = await act(runtime, "dana", CaseVerb.VIEW)
    assert "The reporter: The reporter's answer" in [f.label[12:] for f in chronology.facts]
    audit = await rows(runtime, AuditEntry, col(AuditEntry.target_type) == "case")
    assert "sam" not in {e.actor_id for e in audit}


async def test_only_the_lead_knows_who_reported_when_the_reporter_chooses_that(
    runtime: Runtime,
) -> None:
    await report(runtime, choose="Only the designated safeguarding lead")
    [to_dana] = await Chat(runtime, person_id="dana").inbox()
    [to_lee] = await Chat(runtime, person_id="lee").inbox()
    assert fact(to_dana, "Reported by") == "Sam Patel"
    assert fact(to_lee, "Reported by") == "Kept confidential (only the lead knows)"
    assert fact(await act(runtime, "lee", CaseVerb.VIEW), "Reported by") == (
        "Kept confidential (only the lead knows)"
    )


async def test_only_the_reporter_answers_and_only_when_asked(runtime: Runtime) -> None:
    await report(runtime)
    press = ReporterButtonValue(ReporterVerb.ANSWER, "CB-2026-0001").encode()
    someone_else = await Chat(runtime, person_id="jo").press(press)
    assert "can't find a report CB-2026-0001" in text_of(someone_else)
    sam = Chat(runtime)
    await sam.press(press)
    not_asked = await sam.say("An answer nobody asked for.")
    assert "Nobody has asked you a question about CB-2026-0001" in text_of(not_asked)
    assert [e.kind for e in await rows(runtime, CaseEvent)] == ["submitted"]


async def test_a_report_naming_the_lead_reaches_only_the_deputy(runtime: Runtime) -> None:
    sam = Chat(runtime)
    for answer in [*HAPPY_PATH, "skip", "staff", "Dana Okafor", "1"]:
        await sam.say(answer)
    await sam.say("submit")
    [case] = await rows(runtime, Case)
    assert case.excluded == ["dana"]
    assert await Chat(runtime, person_id="dana").inbox() == []
    assert await rows(runtime, Notification, col(Notification.channel_purpose).is_not(None)) == []
    lee = await Chat(runtime, person_id="lee").inbox()
    assert [m.title for m in lee] == [
        "New report of online abuse: CB-2026-0001",
        "Report CB-2026-0001",
    ]
    assert "It names someone in the safeguarding team" in lee[0].text
    with pytest.raises(NotFound):
        await act(runtime, "dana", CaseVerb.VIEW)
    async with runtime.db.session() as session:
        listed = await runtime.services(session, runtime.clock()).cases.list_for(
            school=oakfield(runtime), actor=staff(runtime, "dana")
        )
    assert listed == []
    said = await act(runtime, "lee", CaseVerb.ACKNOWLEDGE)
    assert "You acknowledged CB-2026-0001" in said.text
    [acknowledged] = await rows(runtime, Case)
    assert acknowledged.status == "acknowledged"


async def test_a_lead_configured_as_conflicted_with_a_colleague_never_sees_reports_naming_them(
    runtime: Runtime,
) -> None:
    school = oakfield(runtime)
    lee_married_to_jo = tuple(
        p.model_copy(update={"conflicts": ("jo",)}) if p.id == "lee" else p for p in school.people
    )
    changed = school.model_copy(update={"people": lee_married_to_jo})
    async with runtime.db.session() as session:
        case = await runtime.services(session, runtime.clock()).cases.submit(
            named_report("Mr Williams from Year 4 shared it in a staff group."),
            school=changed,
            reporter=staff(runtime, "sam"),
        )
    assert case.excluded == ["lee"]


async def test_when_both_leads_are_named_the_trusts_lead_is_told(runtime: Runtime) -> None:
    school = oakfield(runtime)
    trust = Person(
        id="tara",
        name="Tara Trust",
        roles=frozenset({Role.STAFF, Role.TRUST_SAFEGUARDING_LEAD}),
    )
    with_trust = school.model_copy(update={"people": (*school.people, trust)})
    async with runtime.db.session() as session:
        case = await runtime.services(session, runtime.clock()).cases.submit(
            named_report("Dana Okafor and Mr Brown both shared it."),
            school=with_trust,
            reporter=staff(runtime, "sam"),
        )
    assert sorted(case.excluded) == ["dana", "lee"]
    told = await rows(runtime, Notification, col(Notification.kind) == "case.new")
    assert [n.person_id for n in told] == ["tara"]


def named_report(description: str) -> NewReport:
    return NewReport(
        affected="me",
        affected_name=None,
        platform="WhatsApp",
        link=None,
        occurred_at=datetime(2026, 11, 20, 9, 0, tzinfo=UTC),
        description=description,
        responsible="staff",
        responsible_name=None,
        nature=["threatening"],
        hate_characteristics=[],
        immediate_danger=False,
        draft_key="draft-conflict",
        origin_channel="test",
    )

"""Asking the policy through the real runner, as staff and the policy owner would.

The demo school's configuration names the bundled sample policy, so the first question imports
it as version 1. Every test runs on SQLite and on PostgreSQL (the `database_url` fixture).
"""

from __future__ import annotations

from datetime import date

import pytest
from sqlmodel import col, select

from bot.config import Settings
from bot.runtime import Runtime, build_runtime
from dialogs.services.messages import Message, MessageKind
from dialogs.services.policy.answer import BRIEF_CHARS
from dialogs.services.policy.documents import read_policy_document
from dialogs.services.policy.sections import SEPARATOR
from dialogs.services.policy.service import Imported, PolicyAction, action_value
from storage.models import AuditEntry, PolicyQuestion, PolicyVersion
from tests.conftest import Clock
from tests.support import HAPPY_PATH, last_prompt, text_of
from tests.support import Person as Chat

FRIEND_REQUEST = "Can I accept a friend request from a student on Facebook?"
UNCOVERED = "What is the dress code for the staff Christmas party?"
# Not answered by the sample policy, but two of its clauses touch it (3.4 and 3.3, on photos).
CLOSE = "Can a parent helper take photos on the school trip?"
UNRELATED = "Where can staff park?"
# A worry about a child whose words, searched, would find clauses that may help (2.2 and 2.4).
DISCLOSURE = "a year 7 boy is getting nasty messages from other kids on whatsapp"


def answers(messages: list[Message]) -> list[Message]:
    return [m for m in messages if m.kind is MessageKind.ANSWER]


def button(message: Message, action: PolicyAction) -> str:
    wanted = [b.value for b in message.buttons if b.value.startswith(f"policy:{action.value}:")]
    assert wanted, f"no {action.value} button in {[b.value for b in message.buttons]}"
    return wanted[0]


async def questions(runtime: Runtime) -> list[PolicyQuestion]:
    async with runtime.db.session() as session:
        result = await session.execute(select(PolicyQuestion).order_by(col(PolicyQuestion.id)))
        return list(result.scalars().all())


async def test_a_question_in_their_own_words_gets_the_clause_quoted_with_its_citation(
    runtime: Runtime,
) -> None:
    sam = Chat(runtime)
    replies = await sam.say(FRIEND_REQUEST)
    [answer] = answers(replies)
    assert answer.title is not None
    assert "2.1" in answer.title
    assert "friend or follower requests to current pupils" in answer.text
    assert "Media enquiries" not in answer.text  # the clause, not the whole policy
    facts = {f.label: f.value for f in answer.facts}
    assert "2.1" in facts["Where"]
    assert facts["Questions about it"] == "Dana Okafor"
    assert "version 1" in facts["Policy"]
    assert [b.label for b in answer.buttons] == ["Yes, that helped", "No, it didn't"]
    [row] = await questions(runtime)
    assert (row.person_id, row.question, row.confident) == ("sam", FRIEND_REQUEST, True)
    assert row.citation is not None
    assert "2.1" in row.citation


async def test_ask_from_the_menu_asks_for_the_question_then_answers_it(runtime: Runtime) -> None:
    sam = Chat(runtime)
    menu = await sam.open()
    assert "ask_policy" in [b.value for b in menu[-1].buttons]
    prompt = last_prompt(await sam.press("ask_policy"))
    assert "What would you like to know" in prompt.text
    replies = await sam.say("who do I tell if a journalist rings me?")
    [answer] = answers(replies)
    assert "journalist" in answer.text
    assert "5.1" in (answer.title or "")
    # The question is answered and the dialog is over: the next message starts afresh.
    assert (await sam.say("hello"))[-1].kind is MessageKind.MENU
    assert (await sam.open())[-1].kind is MessageKind.MENU


async def test_ask_prefix_and_the_slash_command_text_work_the_same(runtime: Runtime) -> None:
    sam = Chat(runtime)
    [answer] = answers(await sam.say("ask photos for the school instagram, my own phone ok?"))
    assert "school devices" in answer.text


async def test_a_question_the_policy_does_not_answer_is_said_plainly_and_can_be_passed_on(
    runtime: Runtime, clock: Clock
) -> None:
    sam = Chat(runtime)
    [answer] = answers(await sam.say(UNCOVERED))
    assert answer.title == "The policy doesn't say"
    assert "Dana Okafor" in answer.text
    assert "\u201c" not in answer.text  # nothing quoted as if it answered
    done = await sam.press(button(answer, PolicyAction.REFER))
    assert "sending your question to Dana Okafor" in text_of(done)
    again = await sam.press(button(answer, PolicyAction.REFER))
    assert "already on its way" in text_of(again)

    dana = Chat(runtime, person_id="dana")
    [alert] = await dana.inbox()  # told once, however often Sam pressed
    assert UNCOVERED in text_of([alert])
    assert "Sam Patel" in alert.text
    clock.advance(hours=2)
    started = await dana.press(button(alert, PolicyAction.ANSWER))
    assert UNCOVERED in text_of(started)
    summary = await dana.say("Smart casual; see the staff handbook, section 4.")
    assert last_prompt(summary).kind is MessageKind.SUMMARY
    sent = await dana.say("submit")
    assert sent[-1].kind is MessageKind.DONE
    assert "Sam Patel" in sent[-1].text

    [reply] = await sam.inbox()
    assert "Smart casual" in text_of([reply])
    assert "Dana Okafor" in reply.text
    [row] = await questions(runtime)
    assert row.answer == "Smart casual; see the staff handbook, section 4."
    assert row.answered_by == "dana"
    assert row.referred_at is not None
    async with runtime.db.session() as session:
        audit = (await session.execute(select(AuditEntry))).scalars().all()
    assert [a.action for a in audit if a.target_type == "policy_question"] == ["policy.answer"]
    assert all("Smart casual" not in a.detail for a in audit)


async def test_an_unsure_answer_shows_the_clauses_that_may_help_as_not_an_answer(
    runtime: Runtime,
) -> None:
    sam = Chat(runtime)
    replies = await sam.say(CLOSE)
    [shown] = answers(replies)
    assert shown.title == "The policy doesn't say exactly"
    assert "I'd rather not guess" in shown.text
    assert "may help, but they are not an answer" in shown.text
    assert shown.buttons == ()  # nothing here to agree with, as if it answered
    cited = [f.label for f in shown.facts]
    assert len(cited) == 2
    assert any(c.endswith("3.4") for c in cited)
    assert any(c.endswith("3.3") for c in cited)
    assert all(f.value.startswith("\u201c") and f.value.endswith("\u201d") for f in shown.facts)
    assert "Where" not in cited
    assert "Policy" not in cited
    offer = last_prompt(replies)
    assert offer is not shown
    assert "Dana Okafor" in offer.text
    assert [b.label for b in offer.buttons] == ["Yes, pass it on", "No, thanks"]
    done = await sam.press(button(offer, PolicyAction.REFER))
    assert "sending your question to Dana Okafor" in text_of(done)
    [alert] = await Chat(runtime, person_id="dana").inbox()
    assert CLOSE in text_of([alert])
    [row] = await questions(runtime)
    assert (row.confident, row.referred_at is not None) == (False, True)


# One clause, and a long one: a single sentence far longer than anyone reads in a chat.
ONE_LONG_CLAUSE = (
    "# Oakfield Staff Social Media Policy\n\n## 7. Livestreaming\n\n7.1 Livestreams of "
    "school events are planned at least a week ahead by the member of staff in charge, who names "
    "a second adult to watch the stream from start to finish, checks that every pupil who may "
    "appear has consent for livestreaming on that platform, makes sure that comments are "
    "switched off, that no pupil's full name is spoken or shown on screen, that the stream is "
    "stopped at once if anything goes wrong, and that recordings of the stream are deleted after "
    "thirty days unless the headteacher agrees in writing that they may be kept for longer.\n"
)


async def test_a_policy_of_one_long_clause_offers_it_once_and_briefly(
    runtime: Runtime, clock: Clock
) -> None:
    school = runtime.settings.directory.school("oakfield")
    assert school is not None
    data = ONE_LONG_CLAUSE.encode()
    async with runtime.db.session() as session:
        await runtime.services(session, clock()).policies.import_document(
            school,
            read_policy_document(data, "policy.md"),
            data=data,
            source_name="policy.md",
            imported_by="dana",
            effective_from=None,
        )
    replies = await Chat(runtime).say("Can grandparents watch the nativity livestream?")
    [shown] = answers(replies)
    assert "This part of the policy comes close and may help, but it is not an answer" in (
        shown.text
    )
    [(label, quote)] = [(f.label, f.value) for f in shown.facts]
    assert label == "7 Livestreaming \u203a 7.1"
    assert quote.startswith("\u201cLivestreams of school events")
    assert quote.endswith("\u2026\u201d")  # cut, and says so
    assert len(quote) <= BRIEF_CHARS + 2
    assert "If it doesn't answer your question" in last_prompt(replies).text


async def test_typing_yes_after_the_clauses_that_may_help_passes_the_question_on(
    runtime: Runtime,
) -> None:
    sam = Chat(runtime)
    await sam.say(CLOSE)
    assert "sending your question to Dana Okafor" in text_of(await sam.say("yes"))


async def test_an_unrelated_question_is_shown_no_clause(runtime: Runtime) -> None:
    [answer] = answers(await Chat(runtime).say(UNRELATED))
    assert answer.title == "The policy doesn't say"
    assert answer.facts == ()
    assert "\u201c" not in answer.text
    assert [b.label for b in answer.buttons] == ["Yes, pass it on", "No, thanks"]


async def test_a_worry_about_a_child_is_shown_no_clause_that_may_help(runtime: Runtime) -> None:
    replies = await Chat(runtime).say(DISCLOSURE)
    assert replies[0].kind is MessageKind.URGENT
    assert answers(replies) == []
    assert [f.label for m in replies for f in m.facts if SEPARATOR in f.label] == []
    assert "may help" not in text_of(replies)
    assert await questions(runtime) == []


async def test_feedback_is_stored_and_unhelpful_answers_offer_to_pass_the_question_on(
    runtime: Runtime,
) -> None:
    sam = Chat(runtime)
    [answer] = answers(await sam.say(FRIEND_REQUEST))
    thanks = await sam.press(button(answer, PolicyAction.HELPFUL))
    assert "noted that it helped" in text_of(thanks)
    [row] = await questions(runtime)
    assert row.feedback == "helpful"
    # Changing their mind counts the latest press, and offers the owner.
    offer = await sam.press(button(answer, PolicyAction.UNHELPFUL))
    assert "Dana Okafor" in text_of(offer)
    [row] = await questions(runtime)
    assert row.feedback == "unhelpful"
    assert row.referred_at is None
    declined = await sam.press(button(last_prompt(offer), PolicyAction.NO_REFER))
    assert "haven't passed it on" in text_of(declined)
    assert await Chat(runtime, person_id="dana").inbox() == []


async def test_pressing_an_old_answer_button_mid_report_keeps_the_report(runtime: Runtime) -> None:
    sam = Chat(runtime)
    [answer] = answers(await sam.say(FRIEND_REQUEST))
    for text in HAPPY_PATH[:4]:
        await sam.say(text)
    replies = await sam.press(button(answer, PolicyAction.HELPFUL))
    assert "noted that it helped" in text_of(replies)
    assert "link" in last_prompt(replies).text.lower()  # the report's question, asked again
    [row] = await questions(runtime)
    assert row.feedback == "helpful"


async def test_only_the_policy_owner_can_answer_and_only_the_asker_can_give_feedback(
    runtime: Runtime,
) -> None:
    sam = Chat(runtime)
    [answer] = answers(await sam.say(UNCOVERED))
    await sam.press(button(answer, PolicyAction.REFER))
    [row] = await questions(runtime)
    assert row.id is not None
    lee = Chat(runtime, person_id="lee")
    refused = await lee.press(action_value(PolicyAction.ANSWER, row.id))
    assert refused[0].kind is MessageKind.HINT
    assert "Only the policy owner" in refused[0].text
    typed = await lee.say(f"answer Q-{row.id}")
    assert "Only the policy owner" in typed[0].text
    stranger = await lee.press(action_value(PolicyAction.UNHELPFUL, row.id))
    assert "can't find" in stranger[0].text
    [row] = await questions(runtime)
    assert row.feedback is None
    missing = await Chat(runtime, person_id="dana").say("answer Q-999")
    assert "can't find question Q-999" in missing[0].text


async def test_a_half_asked_question_survives_a_restart(settings: Settings, clock: Clock) -> None:
    first = build_runtime(settings, clock=clock)
    await Chat(first).say("ask")
    await first.close()
    second = build_runtime(settings, clock=clock)
    try:
        sam = Chat(second)
        resumed = await sam.open()
        assert "unfinished question about the policy" in text_of(resumed)
        [answer] = answers(await sam.say(FRIEND_REQUEST))
        assert "2.1" in (answer.title or "")
    finally:
        await second.close()


async def test_cancelling_a_question_speaks_of_a_question_not_a_report(runtime: Runtime) -> None:
    sam = Chat(runtime)
    await sam.say("ask")
    check = await sam.say("cancel")
    assert "cancel this question?" in check[0].text
    assert "files" not in check[0].text
    done = await sam.say("yes")
    assert "type ask to start again" in done[0].text
    assert "files" not in done[0].text


async def test_a_too_long_or_empty_question_is_explained_and_nothing_is_lost(
    runtime: Runtime,
) -> None:
    sam = Chat(runtime)
    replies = await sam.say("ask " + "why " * 400)
    assert replies[0].kind is MessageKind.HINT
    assert "1000 characters" in replies[0].text
    await sam.say("ask")
    hint = await sam.say("?")
    assert hint[0].kind is MessageKind.HINT
    [answer] = answers(await sam.say(FRIEND_REQUEST))  # still waiting for the question
    assert "2.1" in (answer.title or "")


async def test_a_new_version_answers_from_its_effective_date_and_the_old_one_is_kept(
    runtime: Runtime, clock: Clock
) -> None:
    sam = Chat(runtime)
    await sam.say(FRIEND_REQUEST)  # imports the configured policy as version 1
    school = runtime.settings.directory.school("oakfield")
    assert school is not None
    text = (
        "# Oakfield Staff Social Media Policy\n\n## 2. Personal use\n\n"
        "2.1 Staff must decline all friend requests from pupils and former pupils under 21.\n"
    )
    data = text.encode()

    async def import_as(name: str) -> Imported:
        async with runtime.db.session() as session:
            return await runtime.services(session, clock()).policies.import_document(
                school,
                read_policy_document(data, name),
                data=data,
                source_name=name,
                imported_by="dana",
                effective_from=date(2026, 12, 1),
            )

    imported = await import_as("policy-v2.md")
    assert imported.version.version == 2
    assert not imported.unchanged
    before = answers(await sam.say(FRIEND_REQUEST))[0]
    assert "current pupils" in before.text
    assert "version 1" in text_of([before])
    clock.advance(days=10)
    after = answers(await sam.say(FRIEND_REQUEST))[0]
    assert "under 21" in after.text
    assert "version 2" in text_of([after])
    again = await import_as("renamed.md")
    assert again.unchanged
    assert again.version.version == 2
    async with runtime.db.session() as session:
        rows = (await session.execute(select(PolicyVersion))).scalars().all()
    assert [r.version for r in rows] == [1, 2]
    first = [q for q in await questions(runtime)]
    assert first[0].policy_version_id == rows[0].id
    assert first[-1].policy_version_id == rows[1].id


@pytest.mark.parametrize("text", ["what is it?", "Can you help me please?"])
async def test_questions_that_are_not_about_the_policy_get_an_honest_answer(
    runtime: Runtime, text: str
) -> None:
    [answer] = answers(await Chat(runtime).say(text))
    assert answer.title == "The policy doesn't say"


async def test_typing_yes_or_no_after_an_answer_works_like_the_buttons(
    runtime: Runtime, clock: Clock
) -> None:
    sam = Chat(runtime)
    await sam.say(FRIEND_REQUEST)
    assert "noted that it helped" in text_of(await sam.say("Yes!"))
    [row] = await questions(runtime)
    assert row.feedback == "helpful"
    # Another answer, not helpful this time, then yes to passing it on.
    await sam.say("Who do I tell if a journalist rings me?")
    offer = await sam.say("no")
    assert "Shall I pass your question" in text_of(offer)
    assert "sending your question to Dana Okafor" in text_of(await sam.say("yes please"))
    rows = await questions(runtime)
    assert (rows[-1].feedback, rows[-1].referred_at is not None) == ("unhelpful", True)
    # Once passed on, or long after, "yes" is just a message again.
    assert (await sam.say("yes"))[-1].kind is MessageKind.MENU
    await sam.say(UNCOVERED)
    clock.advance(hours=2)
    assert (await sam.say("yes"))[-1].kind is MessageKind.MENU
    assert (await questions(runtime))[-1].referred_at is None


async def test_a_menu_button_pressed_instead_of_a_question_does_what_it_says(
    runtime: Runtime,
) -> None:
    sam = Chat(runtime)
    await sam.press("ask_policy")
    replies = await sam.press("report_abuse")
    assert "Report of online abuse" in (last_prompt(replies).title or "")
    assert await questions(runtime) == []


async def test_the_same_file_imported_after_a_parser_upgrade_is_parsed_again(
    runtime: Runtime, clock: Clock
) -> None:
    """A stored version keeps the parse its answers were quoted from; importing its file again
    once the parser splits it differently stores a new version, so answers get the new one."""
    school = runtime.settings.directory.school("oakfield")
    assert school is not None
    text = "## 7. Personal accounts\n\n7.2 Staff must not post:\n\n- pupils' names\n- photos\n"
    data = text.encode()

    async def import_again() -> Imported:
        async with runtime.db.session() as session:
            return await runtime.services(session, clock()).policies.import_document(
                school,
                read_policy_document(data, "policy.md"),
                data=data,
                source_name="policy.md",
                imported_by="dana",
            )

    first = await import_again()
    async with runtime.db.session() as session:
        row = await session.get(PolicyVersion, first.version.id)
        assert row is not None
        # What an earlier parser stored: the bullets under 7.2 had no number of their own.
        old = [dict(s) for s in row.sections]
        first_clause, *items = old[0]["clauses"]
        old[0]["clauses"] = [first_clause, *({**c, "number": None} for c in items)]
        row.sections = old
        session.add(row)
    again = await import_again()
    assert not again.unchanged
    assert again.version.version == first.version.version + 1
    assert [c["number"] for c in again.version.sections[0]["clauses"]] == ["7.2", "7.2", "7.2"]
    assert (await import_again()).unchanged


# Not recognised as a worry about a child (nobody is passing anything on), but it could be one.
MAYBE_A_WORRY = (
    "a pupil in my form seems really scared, what does the policy say about messaging her?"
)


async def test_a_question_that_could_be_a_worry_names_the_lead_and_offers_no_clause(
    runtime: Runtime,
) -> None:
    replies = await Chat(runtime).say(MAYBE_A_WORRY)
    shown = text_of(replies)
    assert "may help" not in shown  # 2.2 would otherwise be offered
    assert not any(f for m in answers(replies) for f in m.facts)
    assert "The policy doesn't say" in shown
    assert "If this is about a child's safety or wellbeing" in shown
    assert "designated safeguarding lead (Dana Okafor or Lee Brown)" in shown
    assert "999" in shown
    # The policy has no answer, so the lead comes first and the pass-on offer after.
    assert shown.index("safeguarding lead") < shown.index("shall I pass it")

"""A question that asks for a time or a person is only answered by a clause that gives one."""

from __future__ import annotations

import pytest

from dialogs.services.policy.question_aspect import AnswerKind, answer_kind, gives
from dialogs.services.policy.search import PolicySearch, SearchOptions
from dialogs.services.policy.sections import parse_policy


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("how quickly do we have to reply to comments?", AnswerKind.SOON),
        ("How long can I keep photos on my phone", AnswerKind.LONG),
        ("how soon should I report it", AnswerKind.SOON),
        ("how often do i check my privacy settings", AnswerKind.OFTEN),
        ("how many days have we got to answer a complaint", AnswerKind.LONG),
        ("whats the deadline for replying to a parent", AnswerKind.SOON),
        ("by when must a post be approved?", AnswerKind.SOON),
        ("who do I tell about a fake account?", AnswerKind.PERSON),
        ("Who's in charge of the school's twitter", AnswerKind.PERSON),
        ("whos our network manager", AnswerKind.PERSON),
        ("journo DM'd me, who do i pass it to", AnswerKind.PERSON),
        ("who approves new accounts", AnswerKind.PERSON),
        ("can I post photos of my class?", None),
        ("what happens if I break the policy", None),
        ("can i reply to a parent who is rude to me", None),  # "who" here is no question word
        ("how do I set my account to private?", None),
    ],
)
def test_the_kind_of_answer_a_question_asks_for(question: str, kind: AnswerKind | None) -> None:
    assert answer_kind(question) is kind


@pytest.mark.parametrize(
    ("kind", "text", "expected"),
    [
        (AnswerKind.SOON, "Comments must be acknowledged within 24 hours.", True),
        (AnswerKind.SOON, "Report it to the headteacher straight away.", True),
        (AnswerKind.SOON, "Reply within two working days.", True),
        (AnswerKind.SOON, "Comments must be answered politely by the account's owners.", False),
        (AnswerKind.LONG, "Photos are deleted from devices once uploaded.", True),
        (AnswerKind.LONG, "Records are kept for six years.", True),
        (AnswerKind.LONG, "Take screenshots, then report it as soon as possible.", False),
        (AnswerKind.OFTEN, "Staff should review their privacy settings annually.", True),
        (AnswerKind.OFTEN, "Accounts are checked at least once a week.", True),
        (AnswerKind.OFTEN, "Report it to the headteacher straight away.", False),
        (AnswerKind.PERSON, "Refer the enquiry to the Headteacher.", True),
        (AnswerKind.PERSON, "Tell the DSL.", True),
        (AnswerKind.PERSON, "The school's network manager is SchoolsIT.", True),
        (AnswerKind.PERSON, "Report it to the IT team.", True),
        (AnswerKind.PERSON, "Save it and report it as soon as you can.", False),
    ],
)
def test_whether_a_clause_gives_that_kind_of_answer(
    kind: AnswerKind, text: str, expected: bool
) -> None:
    assert gives(kind, text) is expected


POLICY = """\
# Staff social media policy

## 1. Official accounts

1.1 Comments on official accounts must be answered politely and never argued with.

1.2 Staff must not post photographs of pupils without consent.

## 2. Concerns

2.1 Concerns about a colleague's posts are reported to the headteacher.
"""


def test_a_time_question_is_not_answered_confidently_by_a_clause_without_a_time() -> None:
    search = PolicySearch(parse_policy(POLICY, kind="markdown"))
    asked = "how quickly do we have to answer comments on official accounts?"
    answer = search.answer(asked)
    assert answer.passages[0].citation.endswith("1.1")  # still the nearest clause, shown
    assert not answer.confident  # but it sets no time limit, so it is not the answer
    assert (
        PolicySearch(parse_policy(POLICY, kind="markdown"), SearchOptions(answer_kinds=False))
        .answer(asked)
        .confident
    )


def test_a_who_question_is_answered_by_a_clause_that_names_someone() -> None:
    search = PolicySearch(parse_policy(POLICY, kind="markdown"))
    answer = search.answer("who do I report concerns about a colleague's posts to?")
    assert answer.confident
    assert answer.citation.endswith("2.1")

"""Answering staff questions from a policy: the right clause, quoted, or an honest "not covered".

The questions are phrased the way staff ask them ("student", "Facebook", "boss", "pic"), never in
the policy's words, because matching the policy's own words is the easy part. Policies are the
bundled sample or written here for the test. Where a test says a paraphrase or rule is what
found (or refused) an answer, it also checks the answer changes when that idea is switched off.
"""

from __future__ import annotations

import re
import threading
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dialogs.services.policy.answer import BRIEF_CHARS, MAY_HELP_MIN_SHOWS
from dialogs.services.policy.search import (
    PLAIN_BM25,
    QUOTE_SENTENCES,
    Passage,
    PolicyAnswer,
    PolicySearch,
    SearchOptions,
)
from dialogs.services.policy.sections import SEPARATOR, ParsedPolicy, parse_policy

SAMPLE = Path(__file__).resolve().parents[2] / "bot" / "sample" / "policy.md"
ELLIPSIS = "\u2026"


def cite(*parts: str) -> str:
    return SEPARATOR.join(parts)


@pytest.fixture(scope="module")
def sample() -> PolicySearch:
    return PolicySearch(parse_policy(SAMPLE.read_text(encoding="utf-8"), kind="markdown"))


def sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?])\s+(?=[A-Z\u2026])", text.replace(ELLIPSIS, "")) if s]


# A small policy of our own, in the words policies use (pupils, images, headteacher, parents),
# so that the questions below can only find it through their paraphrases.
CONDUCT = """\
# Brookfield School Staff Online Conduct

## 1. Contact with pupils

1.1 Staff must not exchange private messages with pupils outside approved school systems.

## 2. Raising concerns

2.1 Worries about online content must be raised with the headteacher without delay.

## 3. Images

3.1 Images may be shared only on approved school channels.

## 4. Families

4.1 Staff should keep conversations with parents and carers on official channels.
"""


@pytest.fixture(scope="module")
def conduct() -> PolicySearch:
    return PolicySearch(parse_policy(CONDUCT, kind="markdown"))


# --- Paraphrases -------------------------------------------------------------------------------


PERSONAL = "2 Personal use of social media"
OFFICIAL = "3 Official school accounts"


@pytest.mark.parametrize(
    ("question", "citation"),
    [
        ("Can I accept a friend request from a student?", cite(PERSONAL, "2.1")),
        ("can i go on facebook in my lunchtime?", cite(PERSONAL, "2.4")),
        ("Can we put pics of the kids on the school Instagram?", cite(OFFICIAL, "3.3")),
        (
            "Somebody is trolling me on Twitter, should I reply?",
            cite("4 Cyberbullying and online abuse", "4.1"),
        ),
        ("A reporter phoned me about a pupil, what do I do?", cite("5 Media enquiries", "5.1")),
    ],
)
def test_staff_wording_finds_the_sample_clause(
    sample: PolicySearch, question: str, citation: str
) -> None:
    answer = sample.answer(question)
    assert answer.confident
    assert answer.citation == citation


@pytest.mark.parametrize(
    ("question", "citation", "word"),
    [
        ("Can I DM a student on Snapchat?", cite("1 Contact with pupils", "1.1"), "pupils"),
        ("Something I saw online worries me, should I tell my boss?",
         cite("2 Raising concerns", "2.1"), "headteacher"),
        ("Where am I allowed to share photos?", cite("3 Images", "3.1"), "Images"),
        ("Can I chat with one of the mums on WhatsApp?", cite("4 Families", "4.1"), "parents"),
    ],
)  # fmt: skip
def test_each_paraphrase_is_what_finds_the_clause(
    conduct: PolicySearch, question: str, citation: str, word: str
) -> None:
    answer = conduct.answer(question)
    assert answer.confident, answer
    assert answer.citation == citation
    assert word in answer.answer
    literal = PolicySearch(conduct_policy(), SearchOptions(paraphrases=False)).answer(question)
    assert not (literal.confident and literal.citation == citation)


def conduct_policy() -> ParsedPolicy:
    return parse_policy(CONDUCT, kind="markdown")


def test_a_platform_name_is_not_evidence_on_its_own(conduct: PolicySearch) -> None:
    # "Facebook" matches every clause of a social media policy; nothing here says more.
    answer = conduct.answer("What about Facebook and Instagram and TikTok?")
    assert not answer.confident
    assert answer.answer == ""
    assert answer.citation == ""


IDIOMS = """\
## 1. Records

1.1 Messages sent through school systems are kept for a period of six years.

## 2. Personal use

2.1 Personal social media may only be used during breaks.

## 3. Removing content

3.1 Staff may be asked to remove a post that breaches this policy.

## 4. Posting about others

4.1 Staff should take care before they post about colleagues.
"""


@pytest.mark.parametrize(
    ("question", "citation", "literal_citation"),
    [
        # "free period" is about breaks, not about "a period of six years"
        ("Can I go on Instagram in my free period?", cite("2 Personal use", "2.1"),
         cite("1 Records", "1.1")),
        # "take a post down" is removing it, whatever the words in between
        ("Can my boss make me take a post down?", cite("3 Removing content", "3.1"),
         cite("4 Posting about others", "4.1")),
    ],
)  # fmt: skip
def test_an_idiom_means_what_it_means_not_what_its_words_say(
    question: str, citation: str, literal_citation: str
) -> None:
    policy = parse_policy(IDIOMS, kind="markdown")
    answer = PolicySearch(policy).answer(question)
    assert answer.confident
    assert answer.citation == citation
    literal = PolicySearch(policy, SearchOptions(paraphrases=False)).search(question)
    assert literal[0].citation == literal_citation


# --- Quotes ------------------------------------------------------------------------------------


def test_the_quote_is_the_clause_not_the_section(sample: PolicySearch) -> None:
    answer = sample.answer("Is it ok to put a kid's full name under their photo?")
    assert answer.citation == cite("3 Official school accounts", "3.3")
    assert answer.passages[0].section == "3 Official school accounts"
    assert answer.answer == (
        "Images of pupils may only be published where parents have given consent for that "
        "platform. Pupils' full names must never appear with their image."
    )
    assert "school devices" not in answer.answer  # 3.4, the next clause of the same section


LONG = """\
## 7. Livestreaming

7.1 Livestreams are planned a week ahead. The plan names the member of staff in charge. A second
adult watches the stream throughout. Comments are switched off for every stream. Recordings of a
livestream are deleted after thirty days unless the headteacher agrees otherwise.
"""


def test_a_long_clause_is_cut_to_the_sentences_that_matched() -> None:
    search = PolicySearch(parse_policy(LONG, kind="markdown"))
    answer = search.answer("How long do we keep a recording of a livestream before deleting it?")
    assert answer.confident
    quote = answer.answer
    assert len(sentences(quote)) <= QUOTE_SENTENCES
    assert "deleted after thirty days" in quote  # the last sentence: the one that answers
    assert f"{ELLIPSIS} Recordings" in quote  # marks where the text was cut
    assert "switched off" not in quote  # a sentence that matched nothing
    every = search.answer("livestream plan adult stream comments recordings").passages[0].text
    assert len(sentences(every)) == QUOTE_SENTENCES  # all five match; three are quoted


def test_short_clauses_are_quoted_whole_without_ellipsis(sample: PolicySearch) -> None:
    passage = sample.search("Who has to approve a post on the school page?")[0]
    assert passage.citation == cite("3 Official school accounts", "3.2")
    assert (
        passage.text
        == "Every post must be approved by someone other than its author before it goes live."
    )


LIST = """\
## 5. Messaging

5.1 Staff must not send private messages to:

- current pupils
- former pupils under the age of eighteen
- the parents of pupils in their own class
"""


def test_a_list_item_is_quoted_with_its_lead_in() -> None:
    search = PolicySearch(parse_policy(LIST, kind="markdown"))
    answer = search.answer("Can I text a kid who left last year? She's 16.")
    assert answer.confident
    assert answer.answer == (
        "Staff must not send private messages to: former pupils under the age of eighteen"
    )
    assert answer.citation == "5 Messaging \u203a 5.1"  # the bullet hangs from 5.1


# --- Not in the policy -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "question",
    [
        "What's the dress code for non-uniform day?",
        "Where am I supposed to park?",
        "How many days of annual leave do I get?",
        "Can I use ChatGPT to write my reports?",
        "Can I give my personal mobile number to a parent?",
        "Can I use social media?",
    ],
)
def test_questions_the_policy_does_not_cover_are_not_confident(
    sample: PolicySearch, question: str
) -> None:
    answer = sample.answer(question)
    assert not answer.confident
    assert answer.answer == ""
    assert answer.citation == ""


def test_the_confidence_rule_is_what_refuses_a_near_miss() -> None:
    policy = parse_policy(SAMPLE.read_text(encoding="utf-8"), kind="markdown")
    question = "Can I give my personal mobile number to a parent?"
    assert not PolicySearch(policy).answer(question).confident
    assert (
        PolicySearch(policy, SearchOptions(min_coverage=0, min_margin=0)).answer(question).confident
    )


def test_passages_are_returned_even_when_not_confident(sample: PolicySearch) -> None:
    answer = sample.answer("Can I give my personal mobile number to a parent?")
    assert not answer.confident
    assert answer.passages  # the nearest clauses, for "this is the closest the policy gets"
    assert all(isinstance(p, Passage) for p in answer.passages)
    scores = [p.score for p in answer.passages]
    assert scores == sorted(scores, reverse=True)


# --- What may help when the answer is not trusted ----------------------------------------------


def test_each_passage_says_how_much_of_the_question_it_shows(sample: PolicySearch) -> None:
    passages = sample.answer("Can a parent helper take photos on the school trip?").passages
    assert passages
    assert all(0.0 <= p.shows <= 1.0 for p in passages)
    friend = sample.answer("Can I accept a friend request from a student?").passages[0]
    assert friend.shows == 1.0  # "friend request" and "student": both shown by 2.1
    assert all(p.shows == 0.0 for p in sample.answer("Where can staff park?").passages)


def test_only_clauses_that_touch_the_question_may_help(sample: PolicySearch) -> None:
    close = sample.answer("Can a parent helper take photos on the school trip?")
    assert not close.confident
    cited = [p.citation for p in close.may_help]
    assert cited == [cite(OFFICIAL, "3.4"), cite(OFFICIAL, "3.3")]
    assert all(p.shows >= MAY_HELP_MIN_SHOWS for p in close.may_help)
    # Clauses that share only generic words ("staff", "school") with the question are not offered.
    assert sample.answer("Where can staff park?").passages
    assert sample.answer("Where can staff park?").may_help == ()
    assert sample.answer("What is the dress code for the staff Christmas party?").may_help == ()


def test_a_trusted_answer_has_nothing_that_merely_may_help(sample: PolicySearch) -> None:
    answer = sample.answer("Can I accept a friend request from a student?")
    assert answer.confident
    assert answer.may_help == ()


def test_a_policy_of_one_clause_offers_at_most_that_clause() -> None:
    search = PolicySearch(parse_policy(LONG, kind="markdown"))
    answer = search.answer("Can pupils watch a livestream of sports day at home?")
    assert not answer.confident
    assert [p.citation for p in answer.may_help] == [answer.passages[0].citation]


def test_a_passage_offered_as_may_help_is_kept_short_and_cut_at_a_word() -> None:
    words = " ".join(f"word{n}" for n in range(200))
    passage = Passage("7.1", "7", words, 1.0, 0.5)
    brief = passage.brief
    assert len(brief) <= BRIEF_CHARS
    assert brief.endswith(ELLIPSIS)
    assert words.startswith(brief[:-1])
    assert brief[:-1].split()[-1] in words.split()  # the last word is whole
    short = Passage("7.1", "7", "Short  and\n sweet.", 1.0, 0.5)
    assert short.brief == "Short and sweet."


def test_the_same_clause_is_offered_once() -> None:
    twice = Passage("7.1", "7", "Recordings are deleted after thirty days.", 2.0, 0.5)
    answer = PolicyAnswer("q", False, (twice, twice, Passage("7.2", "7", "Other.", 1.0, 0.1)))
    assert answer.may_help == (twice,)


# --- Odd input, odd policies -------------------------------------------------------------------


@pytest.mark.parametrize(
    "question",
    ["", "   ", "\U0001f642\U0001f44d", "?!?!...", "...---...", "\x00\x01", "a" * 5000,
     "photo " * 1000, "Facebook " * 900, "\u0645\u0631\u062d\u0628\u0627", "X", "'s"],
)  # fmt: skip
def test_any_question_text_is_answered_without_raising(sample: PolicySearch, question: str) -> None:
    answer = sample.answer(question)
    assert isinstance(answer, PolicyAnswer)
    assert answer.question == question
    assert not answer.confident
    assert len(sample.search(question)) <= 3


_CONDUCT = PolicySearch(parse_policy(CONDUCT, kind="markdown"))


@settings(max_examples=40, deadline=None)
@given(st.text(max_size=200))
def test_arbitrary_text_never_raises(question: str) -> None:
    answer = _CONDUCT.answer(question, k=2)
    assert len(answer.passages) <= 2
    assert answer.answer == (answer.passages[0].text if answer.confident else "")


@pytest.mark.parametrize(
    "policy",
    [
        ParsedPolicy(title=None, sections=(), dropped=()),
        parse_policy(""),
        parse_policy("\n\n   \n"),
        parse_policy("It is what it is. Was it? It was."),  # nothing but stop words
        parse_policy("1.1 999\n\n1.2 24/7"),
    ],
    ids=["no sections", "empty text", "blank lines", "only stop words", "only numbers"],
)
def test_empty_and_odd_policies_find_nothing_and_never_raise(policy: ParsedPolicy) -> None:
    search = PolicySearch(policy)
    answer = search.answer("Can I accept a friend request from a student?")
    assert not answer.confident
    assert answer.citation == ""
    assert search.search("") == []


def test_k_limits_the_passages(sample: PolicySearch) -> None:
    question = "Can I post photos of pupils on the school account?"
    assert len(sample.search(question, k=1)) == 1
    assert len(sample.search(question, k=5)) == 5
    assert sample.search(question, k=0) == []
    assert sample.answer(question, k=2).passages == tuple(sample.search(question, k=2))


def test_one_search_serves_many_threads(sample: PolicySearch) -> None:
    questions = [
        "Can I accept a friend request from a student?",
        "Who do I tell about online abuse?",
        "Can I take pics on my own phone for the school Twitter?",
        "What's the dress code?",
    ] * 10
    expected = [sample.answer(q) for q in questions]
    results: list[PolicyAnswer | None] = [None] * len(questions)

    def work(offset: int) -> None:
        for i in range(offset, len(questions), 4):
            results[i] = sample.answer(questions[i])

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == expected


def test_sections_granularity_quotes_whole_sections_cut_to_size() -> None:
    policy = parse_policy(SAMPLE.read_text(encoding="utf-8"), kind="markdown")
    search = PolicySearch(policy, SearchOptions(granularity="section"))
    passage = search.search("Should I keep screenshots when I'm trolled online?")[0]
    assert passage.citation == passage.section == "4 Cyberbullying and online abuse"
    assert len(sentences(passage.text)) <= QUOTE_SENTENCES


def test_a_platform_the_policy_names_weighs_like_any_word() -> None:
    """LinkedIn is generic in a policy that never names it, and a subject where one does."""
    policy = parse_policy(
        "# Policy\n\n## 1. Personal accounts\n\n"
        "1.1 Staff may give their job title on personal profiles, except on LinkedIn, which "
        "needs the permission of the headteacher first and a record kept by the office.\n\n"
        "1.2 Staff may give their job title on their profiles.\n",
        kind="markdown",
    )
    question = "can I give my job title on linkedin"

    def lead(options: SearchOptions) -> float:
        first, second = PolicySearch(policy, options).search(question, 2)
        assert first.citation.endswith("1.1")
        return first.score / second.score

    assert lead(SearchOptions()) > 1.3 * lead(SearchOptions(named_platforms=False))


def test_plain_bm25_has_no_rule_that_withholds_an_answer() -> None:
    """The baseline answers whenever a clause shares a word: every confidence rule is off."""
    assert PLAIN_BM25.min_coverage == 0
    assert PLAIN_BM25.min_margin == 0
    assert not PLAIN_BM25.answer_kinds
    assert not PLAIN_BM25.typos

"""A mistyped word is read as the policy word it was meant to be, and an English word never is."""

from __future__ import annotations

import pytest

from dialogs.services.policy.search import PolicySearch, SearchOptions
from dialogs.services.policy.sections import parse_policy
from dialogs.services.policy.typos import TypoReader

READER = TypoReader(
    ["photograph", "photographs", "colleague", "colleagues", "receive", "facebook", "dates",
     "consent", "money", "disparaging", "parent", "parents"]
)  # fmt: skip


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("photgraph", "photograph"),  # a letter dropped
        ("photographss", "photographs"),  # doubled
        ("recieve", "receive"),  # neighbours swapped
        ("collegue", "colleague"),  # one dropped from a long word
        ("colleauges", "colleagues"),  # two edits in a long word
        ("facebok", "facebook"),
        ("consnet", "consent"),
        ("disparging", "disparaging"),
    ],
)
def test_a_typo_is_read_as_the_word_it_was_meant_to_be(typed: str, meant: str) -> None:
    assert READER.read(typed) == meant


@pytest.mark.parametrize(
    "word",
    [
        "mates",  # English, though "dates" is one letter away
        "sacked",
        "staffroom",
        "parent",  # the policy's own word
        "pics",  # too short to guess
        "2024",
        "zzzzzzzz",  # nothing near it
    ],
)
def test_english_words_short_words_and_strangers_are_left_alone(word: str) -> None:
    assert READER.read(word) == word


def test_a_typo_between_two_words_is_left_alone() -> None:
    reader = TypoReader(["posted", "poster"])
    assert reader.read("postez") == "postez"


POLICY = """\
# Staff social media policy

## 1. Images

1.1 Photographs of pupils may only be published with their parents' consent.

## 2. Colleagues

2.1 Staff must not post disparaging comments about colleagues.
"""


def test_a_mistyped_question_finds_the_clause_the_clean_one_finds() -> None:
    policy = parse_policy(POLICY, kind="markdown")
    search = PolicySearch(policy)
    clean = search.answer("can I publish photographs without consent?")
    typed = search.answer("can I publsih photgraphs wihtout consnet?")
    assert clean.confident
    assert typed.confident
    assert typed.citation == clean.citation
    assert (
        not PolicySearch(policy, SearchOptions(typos=False))
        .answer("can I publsih photgraphs wihtout consnet?")
        .confident
    )

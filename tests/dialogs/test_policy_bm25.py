"""The plain-Python BM25 scores exactly as bm25s, so that no answer changed when it replaced it.

bm25s (with numpy) is kept as a development reference only: these compare every term's score in
every document, bit for bit, on corpora shaped like policies (many short clauses, repeated and
empty ones) and on the bundled sample policy's own clauses.
"""

from __future__ import annotations

import logging
from pathlib import Path

import bm25s  # type: ignore[import-untyped]
from hypothesis import given, settings
from hypothesis import strategies as st

from dialogs.services.policy.bm25 import BM25
from dialogs.services.policy.search import SearchOptions, _terms
from dialogs.services.policy.sections import parse_policy

SAMPLE_POLICY = Path(__file__).resolve().parents[2] / "bot" / "sample" / "policy.md"

logging.getLogger("bm25s").setLevel(logging.WARNING)


def bm25s_scores(corpus: list[list[str]], k1: float, b: float) -> dict[str, list[float]]:
    """Every term's score in every document, as bm25s gives them to the search."""
    retriever = bm25s.BM25(k1=k1, b=b)
    retriever.index(corpus, show_progress=False)
    return {
        term: [float(s) for s in retriever.get_scores_from_ids([tid])]
        for term, tid in retriever.vocab_dict.items()
        if term
    }


def plain_scores(corpus: list[list[str]], k1: float, b: float) -> dict[str, list[float]]:
    index = BM25.index(corpus, k1=k1, b=b)
    assert index.size == len(corpus)
    return {
        term: [index.scores(term).get(doc, 0.0) for doc in range(len(corpus))]
        for term in index.postings
    }


words = st.sampled_from([f"w{i}" for i in range(40)])
documents = st.lists(st.lists(words, max_size=30), min_size=1, max_size=60).filter(
    lambda corpus: any(corpus)
)


@settings(max_examples=200, deadline=None)
@given(
    corpus=documents,
    k1=st.sampled_from([1.5, 1.2, 0.9, 2.0]),
    b=st.sampled_from([0.75, 0.5, 0.0, 1.0]),
)
def test_every_score_is_bm25s_own(corpus: list[list[str]], k1: float, b: float) -> None:
    assert plain_scores(corpus, k1, b) == bm25s_scores(corpus, k1, b)


def test_the_sample_policys_clauses_score_as_in_bm25s() -> None:
    options = SearchOptions()
    policy = parse_policy(SAMPLE_POLICY.read_text(encoding="utf-8"), kind="markdown")
    corpus = [_terms(c.text, options) for s in policy.sections for c in s.clauses]

    assert plain_scores(corpus, options.k1, options.b) == bm25s_scores(
        corpus, options.k1, options.b
    )


def test_a_term_no_document_has_scores_nothing() -> None:
    index = BM25.index([["photo", "pupil"], []], k1=1.5, b=0.75)

    assert index.scores("parking") == {}
    assert set(index.scores("photo")) == {0}

"""BM25 over a policy's clauses in plain Python, scoring exactly as bm25s does.

A policy has tens or hundreds of clauses, and a question a handful of words: the search needs a
few thousand additions, not an array library. Loading bm25s and numpy took longer than building
the index and answering the question together (bench/README.md, "Command start-up"), and every
`policybot ask` is a new process that paid for it.

The scores are bm25s's, bit for bit, so no answer changes: bm25s's default method ("lucene")
keeps each term's IDF and each (clause, term) score as 32-bit floats, computed in between in
64-bit ones, and so does this (`_single`). tests/dialogs/test_policy_bm25.py compares the two
on many corpora.
"""

from __future__ import annotations

import math
import struct
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

_FLOAT32 = struct.Struct("f")


def _single(value: float) -> float:
    """`value` rounded to a 32-bit float (to nearest, ties to even), as numpy stores it."""
    result: float = _FLOAT32.unpack(_FLOAT32.pack(value))[0]
    return result


def _idf(df: int, n: int) -> float:
    """bm25s's "lucene" IDF (its `_score_idf_lucene`), as a 32-bit float."""
    return _single(math.log(1 + (n - df + 0.5) / (df + 0.5)))


@dataclass(frozen=True)
class BM25:
    """Each term's score in each clause that has it; a clause without the term scores 0."""

    postings: dict[str, dict[int, float]]  # term -> {clause: score}
    size: int  # how many clauses (documents) were indexed

    @classmethod
    def index(cls, corpus: Sequence[Sequence[str]], *, k1: float, b: float) -> BM25:
        """Index each document's terms, as `bm25s.BM25(k1=k1, b=b).index(corpus)` does."""
        n = len(corpus)
        counts = [Counter(terms) for terms in corpus]
        df: Counter[str] = Counter()
        for counted in counts:
            df.update(counted.keys())
        idf = {term: _idf(found, n) for term, found in df.items()}
        average = float(sum(len(terms) for terms in corpus)) / n if n else 0.0
        postings: dict[str, dict[int, float]] = {}
        for doc, (terms, counted) in enumerate(zip(corpus, counts, strict=True)):
            # bm25s's `_score_tfc_lucene`, in 64-bit floats, then stored as a 32-bit one.
            saturation = k1 * ((1 - b) + b * len(terms) / average)
            for term, tf in counted.items():
                tfc = tf / (saturation + tf)
                postings.setdefault(term, {})[doc] = _single(idf[term] * tfc)
        return cls(postings, n)

    def scores(self, term: str) -> dict[int, float]:
        """The clauses that have `term`, with its score in each (bm25s's get_scores_from_ids
        for that one term, without the zeros)."""
        return self.postings.get(term, {})

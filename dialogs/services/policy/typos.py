"""Reading a mistyped word as the word of the policy it was meant to be.

Staff type on phones, between lessons: "photgraph", "recieve", "facebok", "collegue". A word
search cannot match a word it has never seen, and a word the policy never uses counts as the
strongest sign that a question is about something else (policy_search's confidence rule), so a
single typo can turn a covered question into an honest but useless "the policy doesn't say".

A question's word is read as a typo only when all of these hold:
    - it is not a word of the policy, nor of the paraphrase tables;
    - it is not an English word: not in the English word-frequency list that pyspellchecker
      ships (160,000 words, no download at run time), so "mates", "sacked" or "staffroom" are
      left alone even though a policy word is one letter away;
    - it is at least MIN_LENGTH letters long (a short word is one letter away from too many);
    - exactly one word of the policy (or of the paraphrase tables) is nearest to it: one edit
      away (an insertion, deletion, substitution or swap of neighbours), or two for words of
      LONG_WORD letters or more. Ties leave the word as it is.
The word is then read as that word. Chat words that are not typos ("insta", "lol", "govs") are
not English dictionary words either, so the paraphrase tables and stop words deal with them
first: a word the tables know is never corrected.

Candidates are found with a deletion index (the "symmetric delete" method): every word with up
to two letters deleted points at the word, so a lookup costs a few dictionary reads rather than
an edit-distance computation against every word of the policy.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from functools import lru_cache

__all__ = ["MIN_LENGTH", "TypoReader", "english_words"]

MIN_LENGTH = 5
LONG_WORD = 8
MAX_REMEMBERED = 1 << 14  # words read before, per policy; typed questions repeat words
_lock = threading.Lock()


@lru_cache(maxsize=1)
def english_words() -> frozenset[str]:
    """The English word list, loaded once per process (about 0.1 s) the first time it is needed."""
    with _lock:
        from spellchecker import SpellChecker

        return frozenset(SpellChecker(language="en").word_frequency.dictionary)


def _deletes(word: str, depth: int) -> set[str]:
    out = {word}
    frontier = {word}
    for _ in range(depth):
        frontier = {w[:i] + w[i + 1 :] for w in frontier for i in range(len(w))}
        out |= frontier
    return out


def _distance(a: str, b: str) -> int:
    """Edit distance with swaps of neighbouring letters (optimal string alignment)."""
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            cost = 0 if ca == cb else 1
            value = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                value = min(value, previous2[j - 2] + 1)
            current.append(value)
        previous2, previous = previous, current
    return previous[-1]


def _allowed(word: str) -> int:
    return 2 if len(word) >= LONG_WORD else 1


class TypoReader:
    """The policy's words, indexed so that a mistyped word finds the one it was meant to be.

    Built once per policy version (with its search) and read from any number of threads. The
    deletion index is built the first time a word is not one the policy knows: most questions
    are spelt right, and a one-question command (`policybot ask`) need not wait for it.
    """

    def __init__(self, vocabulary: Iterable[str]) -> None:
        self._known = frozenset(w for w in vocabulary if w.isalpha())
        self._index: dict[str, set[str]] | None = None
        self._read: dict[str, str | None] = {}  # a dict's get and set are safe across threads

    def _deletion_index(self) -> dict[str, set[str]]:
        """Every known word with up to two letters deleted, pointing at the word. Two threads
        may both build it the first time; each gets the same index, and one is kept."""
        if self._index is None:
            index: dict[str, set[str]] = {}
            for word in self._known:
                if len(word) < MIN_LENGTH - 1:
                    continue
                for deleted in _deletes(word, 2 if len(word) >= LONG_WORD - 1 else 1):
                    index.setdefault(deleted, set()).add(word)
            self._index = index
        return self._index

    def read(self, word: str) -> str:
        """The policy word this word was meant to be, or the word itself."""
        if len(word) < MIN_LENGTH or not word.isalpha() or word in self._known:
            return word
        if word not in self._read:
            if len(self._read) > MAX_REMEMBERED:
                self._read.clear()
            self._read[word] = self._meant(word)
        return self._read[word] or word

    def _meant(self, word: str) -> str | None:
        allowed = _allowed(word)
        candidates: set[str] = set()
        index = self._deletion_index()
        for deleted in _deletes(word, allowed):
            candidates |= index.get(deleted, set())
        best: list[str] = []
        best_distance = allowed + 1
        for candidate in candidates:
            distance = _distance(word, candidate)
            if distance > min(allowed, _allowed(candidate)):
                continue
            if distance < best_distance:
                best, best_distance = [candidate], distance
            elif distance == best_distance:
                best.append(candidate)
        if len(best) != 1:
            return None
        # Last, as it is the costly check (the word list loads on first use): most words with
        # no policy word near them never need it.
        return None if word in english_words() else best[0]

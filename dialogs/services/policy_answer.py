"""What an answer from the policy is: the best passages, and whether the best one is trusted.

Kept apart from the search itself so that code which only passes answers around does not load
the search engine (and numpy) when it starts.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Passage:
    citation: str  # clause_citation(section, clause)
    section: str  # the section's citation
    text: str  # the quote: the clause with its lead-in, at most QUOTE_SENTENCES sentences
    score: float  # higher is better


@dataclass(frozen=True)
class PolicyAnswer:
    question: str
    confident: bool
    passages: tuple[Passage, ...]  # best first, returned even when not confident

    @property
    def answer(self) -> str:
        return self.passages[0].text if self.confident and self.passages else ""

    @property
    def citation(self) -> str:
        return self.passages[0].citation if self.confident and self.passages else ""

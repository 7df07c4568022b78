"""What an answer from the policy is: the best passages, and whether the best one is trusted.

Kept apart from the search itself so that code which only passes answers around does not load
the search engine (its word tables and stemmer) when it starts.

When the top passage is not trusted, the passages that touch the question are still worth
showing, as "these parts of the policy may help" and never as an answer (`may_help`). A passage
touches the question when it shows at least MAY_HELP_MIN_SHOWS (a quarter) of the question's
content ideas, weighted by how rare each is in the policy (`Passage.shows`). A clause that
shares nothing but generic words ("school", "staff", "Facebook") shows 0, so a question about
staff parking is offered nothing. On the dev half of the staff questions (bench/README.md,
bench/may_help.py), a quarter keeps the answering clause for 27 of the 29 unconfident covered
questions where the top three have it (any share above 0 keeps all 29) and shows a third fewer
clauses that do not answer, those sharing one minor word with a longer question ("days" in
"How many days of annual leave do teachers get?"). What it cannot see is a short question of
two ideas where a clause has the lesser one ("Who do I ask about my pension?" and the clauses
on asking permission): such a clause is shown, marked as not an answer, beside the offer to ask
the policy owner.
"""

from __future__ import annotations

from dataclasses import dataclass

MAY_HELP_MIN_SHOWS = 0.25
# A quote offered as "may help" is read next to others: longer than this, it is cut at a word
# and ends with an ellipsis (the whole clause is one citation away in the policy itself).
BRIEF_CHARS = 400
ELLIPSIS = "\u2026"


@dataclass(frozen=True)
class Passage:
    citation: str  # clause_citation(section, clause)
    section: str  # the section's citation
    text: str  # the quote: the clause with its lead-in, at most QUOTE_SENTENCES sentences
    score: float  # higher is better
    # The IDF-weighted share (0-1) of the question's content ideas the clause shows, with its
    # heading and lead-in: 0 when it only shares generic words ("school", "Facebook").
    shows: float = 0.0

    @property
    def brief(self) -> str:
        """The quote, cut at a word to at most BRIEF_CHARS characters (with the ellipsis)."""
        text = " ".join(self.text.split())
        if len(text) <= BRIEF_CHARS:
            return text
        cut = text[: BRIEF_CHARS - 1]
        if not text[BRIEF_CHARS - 1].isspace() and " " in cut:
            cut = cut.rsplit(" ", 1)[0]  # not in the middle of a word
        return cut.rstrip(" ,;:-\u2013\u2014" + ELLIPSIS) + ELLIPSIS


@dataclass(frozen=True)
class PolicyAnswer:
    question: str
    confident: bool
    passages: tuple[Passage, ...]  # best first, returned even when not confident
    # The question could be a worry about a child that the safeguarding intercept did not
    # recognise (safeguarding_concern.may_concern_a_child): no clause is offered as "may help",
    # and every channel names the safeguarding lead beside whatever answer there is.
    child_safety: bool = False

    @property
    def answer(self) -> str:
        return self.passages[0].text if self.confident and self.passages else ""

    @property
    def citation(self) -> str:
        return self.passages[0].citation if self.confident and self.passages else ""

    @property
    def may_help(self) -> tuple[Passage, ...]:
        """When the answer is not trusted, the passages that touch the question (best first, each
        once), to show as "may help" and never as an answer; none when the answer is trusted."""
        if self.confident or self.child_safety:
            return ()
        seen: set[tuple[str, str]] = set()
        out: list[Passage] = []
        for passage in self.passages:
            key = (passage.citation, passage.text)
            if passage.shows >= MAY_HELP_MIN_SHOWS and key not in seen:
                seen.add(key)
                out.append(passage)
        return tuple(out)

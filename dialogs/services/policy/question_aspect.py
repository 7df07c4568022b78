"""What kind of answer a question asks for, and whether a clause gives that kind of answer.

Word overlap cannot tell "how quickly must we reply to comments?" from "do we reply to
comments?": the words that make it a question about a time limit ("how quickly") are the words
search must ignore, because every clause could be asked about that way. So a question that asks
for a time, or for a person, is only answered confidently by a clause that names one: a clause
about replying to comments that sets no time limit is at best a lead ("may help"), not the
answer. The check never ranks anything; it only withholds confidence.

Kinds of answer
    soon    "how soon", "how quickly", "how fast", "by when", "what's the deadline": the clause
            must set a time limit ("within 24 hours", "straight away", "as soon as possible",
            "no later than", "two working days").
    long    "how long", "for how long", "how many days": the clause must give a length of time
            ("for six months", "two years", "until the case is closed", "no longer than").
            "As soon as possible" says when to start, not how long to keep something.
    often   "how often": the clause must give a frequency ("annually", "every term",
            "regularly", "at least once a year").
    person  "who", "whom", "who's" asking (not "a parent who is rude"): the clause must name a
            role or a body ("the headteacher", "line manager", "designated safeguarding lead",
            "the IT team", "SchoolsIT"): any word of ROLE_WORDS, an acronym in capitals ("DSL",
            "IT", "HR") or a name ending in "IT". "it" in lower case is the pronoun, no role.

Both lists are general English and general to English schools, not to one policy; the
measurements behind the check are in bench/README.md.
"""

from __future__ import annotations

import re
from enum import Enum

__all__ = ["AnswerKind", "answer_kind", "gives"]


class AnswerKind(Enum):
    SOON = "soon"  # a time limit
    LONG = "long"  # a length of time
    OFTEN = "often"  # a frequency
    PERSON = "person"


_SOON_QUESTION = re.compile(
    r"\bhow\s+(?:soon|quick(?:ly)?|fast)\b|\bby\s+when\b|\bwithin\s+how\b"
    r"|\bwhat(?:'s|s|\s+is)\s+the\s+(?:deadline|time\s+limit)\b",
    re.IGNORECASE,
)
_LONG_QUESTION = re.compile(
    r"\bhow\s+(?:long|many\s+(?:minutes|hours|days|weeks|months|years|terms))\b",
    re.IGNORECASE,
)
_OFTEN_QUESTION = re.compile(r"\bhow\s+often\b", re.IGNORECASE)
_PERSON_QUESTION = re.compile(
    r"^\s*(?:who|whom|whose|who's|whos)\b"
    r"|\b(?:who|whom)\s+(?:do|does|did|should|can|could|must|shall|will|would|to|"
    r"decides?|checks?|approves?|signs?|deals?|looks?|runs?|sets?|investigates?|needs?|has)\b"
    r"|\bwho's\b|\bwhos\b",
    re.IGNORECASE,
)

_NUMBER = (
    r"(?:\d+|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fourteen|thirty|"
    r"twenty[- ]four|forty[- ]eight|seventy[- ]two|a|an|several|few)"
)
_LENGTH = (
    _NUMBER + r"\s+(?:full\s+|working\s+|school\s+|calendar\s+|clear\s+)?"
    r"(?:minutes?|hours?|days?|weeks?|months?|years?|terms?)\b"
)
_SOON_ANSWER = re.compile(
    _LENGTH + r"|\b(?:immediately|promptly|straight\s*away|at\s+once|without\s+delay|"
    r"as\s+soon\s+as|same\s+day|next\s+(?:working\s+)?day|no\s+later\s+than|within|"
    r"before|deadline|time\s+limit|timescales?|end\s+of\s+(?:the\s+)?(?:day|term|year))\b",
    re.IGNORECASE,
)
_LONG_ANSWER = re.compile(
    _LENGTH + r"|\b(?:until|no\s+longer\s+than|as\s+long\s+as|retained|retention|"
    r"permanently|indefinitely|once\s+(?:uploaded|used|published|no\s+longer))\b",
    re.IGNORECASE,
)
_OFTEN_ANSWER = re.compile(
    r"\b(?:annual(?:ly)?|termly|daily|weekly|monthly|yearly|regularly|periodically|"
    r"routinely|every\s+(?:day|week|month|year|term|\w+\s+(?:days|weeks|months|years))|"
    r"(?:once|twice)\s+(?:a|an|per|each)\s+\w+|each\s+(?:day|week|month|year|term))\b",
    re.IGNORECASE,
)
# People and bodies a school policy names as the one who decides, approves, is told or acts.
ROLE_WORDS = frozenset(
    " ".join(
        (
            "head headteacher headteachers principal ceo director directors trustee trustees",
            "governor governors governing manager managers dsl safeguarding designated deputy",
            "lead leads leader leaders leadership slt senior team officer hr technician",
            "technicians department clerk chair dpo administrator administrators coordinator",
            "co-ordinator office police lado committee board colleague colleagues person",
            "someone supervisor employer trust communications marketing",
        )
    ).split()
)
_ROLE_ANSWER = re.compile(
    r"(?i:\b(?:" + "|".join(re.escape(w) for w in sorted(ROLE_WORDS)) + r")\b)"
    r"|\b[A-Z][A-Za-z]*IT\b|\b[A-Z]{2,}s?\b"
)


def answer_kind(question: str) -> AnswerKind | None:
    """The kind of answer the question asks for, if it asks for a time or a person (the first
    that matches, in this order: "how soon ... and for how long" asks first for a time limit)."""
    for kind, pattern in (
        (AnswerKind.SOON, _SOON_QUESTION),
        (AnswerKind.LONG, _LONG_QUESTION),
        (AnswerKind.OFTEN, _OFTEN_QUESTION),
        (AnswerKind.PERSON, _PERSON_QUESTION),
    ):
        if pattern.search(question):
            return kind
    return None


def gives(kind: AnswerKind, text: str) -> bool:
    """Whether the clause (with its lead-in and heading) gives an answer of this kind."""
    return _ANSWERS[kind].search(text) is not None


_ANSWERS = {
    AnswerKind.SOON: _SOON_ANSWER,
    AnswerKind.LONG: _LONG_ANSWER,
    AnswerKind.OFTEN: _OFTEN_ANSWER,
    AnswerKind.PERSON: _ROLE_ANSWER,
}

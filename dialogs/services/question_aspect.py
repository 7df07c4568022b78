"""What kind of answer a question asks for, and whether a clause gives that kind of answer.

Word overlap cannot tell "how quickly must we reply to comments?" from "do we reply to
comments?": the words that make it a question about a time limit ("how quickly") are the words
search must ignore, because every clause could be asked about that way. So a question that asks
for a time, or for a person, is only answered confidently by a clause that names one: a clause
about replying to comments that sets no time limit is at best a lead ("may help"), not the
answer. The check never ranks anything; it only withholds confidence.

Kinds of answer
    time    "how long", "how soon", "how quickly", "how often", "by when", "how many days":
            the clause must give a duration or a time ("within 24 hours", "straight away",
            "annually", "two working days", "no later than").
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
    TIME = "time"
    PERSON = "person"


_TIME_QUESTION = re.compile(
    r"\bhow\s+(?:long|soon|quick(?:ly)?|fast|often|many\s+(?:minutes|hours|days|weeks|months|"
    r"years|terms))\b|\bby\s+when\b|\bwithin\s+how\b|\bwhat(?:'s|s|\s+is)\s+the\s+(?:deadline|"
    r"time\s+limit)\b",
    re.IGNORECASE,
)
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
_TIME_ANSWER = re.compile(
    _NUMBER + r"\s+(?:full\s+|working\s+|school\s+|calendar\s+|clear\s+)?"
    r"(?:minutes?|hours?|days?|weeks?|months?|years?|terms?)\b"
    r"|\b(?:immediately|promptly|straight\s*away|at\s+once|without\s+delay|as\s+soon\s+as|"
    r"same\s+day|next\s+(?:working\s+)?day|annual(?:ly)?|termly|daily|weekly|monthly|"
    r"regularly|periodically|every\s+(?:day|week|month|year|term)|no\s+later\s+than|within|"
    r"until|deadline|time\s+limit|timescales?|end\s+of\s+(?:the\s+)?(?:day|term|year))\b",
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
    """The kind of answer the question asks for, if it asks for a time or a person."""
    if _TIME_QUESTION.search(question):
        return AnswerKind.TIME
    if _PERSON_QUESTION.search(question):
        return AnswerKind.PERSON
    return None


def gives(kind: AnswerKind, text: str) -> bool:
    """Whether the clause (with its lead-in and heading) gives an answer of this kind."""
    pattern = _TIME_ANSWER if kind is AnswerKind.TIME else _ROLE_ANSWER
    return pattern.search(text) is not None

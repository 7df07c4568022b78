"""What a parsed policy is: sections people can cite, and the clauses answers quote.

Apart from the parser (sections.py), whose line rules take a while to load: answering from a
policy stored at import (`policybot ask --school ID`) reads this shape and never parses.
sections.py says how a document becomes one, and how citations are made.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

SEPARATOR = " \u203a "


@dataclass(frozen=True)
class Clause:
    """The smallest quotable unit: an answer quotes a clause, not a whole section."""

    number: str | None  # "3.1.4", "3.1.4(a)", "(ii)"; a bullet's clause; None for paragraphs
    text: str  # the clause's own words, whitespace-normalised, without its number or bullet
    lead_in: str | None = None  # the sentence ending in ":" that introduced this list item


@dataclass(frozen=True)
class Section:
    citation: str  # unique within the document; see "Citations" above
    heading_path: tuple[str, ...]  # headings from the top, without their numbers
    number: str | None  # the section's own number ("3.2"), if its heading has one
    clauses: tuple[Clause, ...]  # never empty
    text: str  # the clause texts, one per line


@dataclass(frozen=True)
class ParsedPolicy:
    title: str | None
    sections: tuple[Section, ...]
    dropped: tuple[str, ...]  # removed lines, in document order, so an importer can show them


def clause_citation(section: Section, clause: Clause) -> str:
    """A clause number is only meaningful next to where it sits, unless it already says it all."""
    if clause.number is None:
        return section.citation
    if not section.heading_path and re.match(r"\d", clause.number):
        return clause.number
    return f"{section.citation}{SEPARATOR}{clause.number}"

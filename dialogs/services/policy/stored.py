"""A policy's parse as it is stored with its version, and read back to answer from.

Apart from the service, so that answering from a stored version (`policybot ask --school ID`,
storage.policy_in_force) needs neither the database layer nor the service to read it.
"""

from __future__ import annotations

from typing import Any

from dialogs.services.policy.parsed import Clause, ParsedPolicy, Section


def sections_to_json(policy: ParsedPolicy) -> list[dict[str, Any]]:
    return [
        {
            "citation": s.citation,
            "heading_path": list(s.heading_path),
            "number": s.number,
            "clauses": [
                {"number": c.number, "text": c.text, "lead_in": c.lead_in} for c in s.clauses
            ],
        }
        for s in policy.sections
    ]


def policy_from_json(
    title: str | None, sections: list[dict[str, Any]], dropped: list[str]
) -> ParsedPolicy:
    """The parse answers are quoted from, exactly as it was stored at import."""
    parsed = []
    for data in sections:
        clauses = tuple(
            Clause(number=c["number"], text=c["text"], lead_in=c["lead_in"])
            for c in data["clauses"]
        )
        parsed.append(
            Section(
                citation=data["citation"],
                heading_path=tuple(data["heading_path"]),
                number=data["number"],
                clauses=clauses,
                text="\n".join(c.text for c in clauses),
            )
        )
    return ParsedPolicy(title=title, sections=tuple(parsed), dropped=tuple(dropped))

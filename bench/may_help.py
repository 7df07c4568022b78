"""What "these parts of the policy may help" shows when the bot is not confident, per floor.

For every staff question (bench/staff_questions.toml) that is not a disclosure (those go to
the safeguarding intercept and are never searched) and that the search does not answer
confidently, the passages it returns are offered as "may help" when they show at least a floor
of the question's content ideas (`Passage.shows`, `PolicyAnswer.may_help`). For each floor this
reports:

    questions    unconfident covered / uncovered questions
    some         of those, how many are shown at least one clause
    right        covered questions shown the clause that answers them (staff_questions.at_place)
    reachable    covered questions where one of the top three passages answers them at all
    others       clauses shown that do not answer the question (all of them, when uncovered)

The floor in use is MAY_HELP_MIN_SHOWS (dialogs/services/policy/answer.py); the others are for
comparison. Run from the repository root:

    .venv/bin/python bench/may_help.py [--split dev|heldout|all] [--list]

The default split is dev. Held-out numbers are read only at the end of a tuning round.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from staff_questions import SPLITS, load  # noqa: E402

from dialogs.services.policy.answer import MAY_HELP_MIN_SHOWS, Passage, PolicyAnswer  # noqa: E402
from dialogs.services.policy.search import PolicySearch  # noqa: E402
from dialogs.services.policy.sections import parse_policy  # noqa: E402

FLOORS = (1e-9, 0.15, 0.2, MAY_HELP_MIN_SHOWS, 0.3, 0.4)


@dataclass
class Tally:
    covered: int = 0
    covered_some: int = 0
    right: int = 0
    reachable: int = 0
    covered_others: int = 0
    uncovered: int = 0
    uncovered_some: int = 0
    uncovered_others: int = 0


def shown(answer: PolicyAnswer, floor: float) -> list[Passage]:
    """`PolicyAnswer.may_help` at another floor (the same rule, each clause once)."""
    if floor == MAY_HELP_MIN_SHOWS:
        return list(answer.may_help)
    out: list[Passage] = []
    for passage in answer.passages:
        if passage.shows >= floor and all(
            (p.citation, p.text) != (passage.citation, passage.text) for p in out
        ):
            out.append(passage)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--split", choices=(*SPLITS, "all"), default="dev")
    parser.add_argument(
        "--list", action="store_true", help="each question and what it is shown at the floor in use"
    )
    args = parser.parse_args(argv)
    questions = load(note=print)
    searches: dict[str, PolicySearch] = {}
    tallies = {floor: Tally() for floor in FLOORS}
    for q in questions.questions:
        if args.split not in ("all", q.split) or q.kind == "disclosure":
            continue
        policy = questions.policies[q.policy]
        if policy.name not in searches:
            text = policy.path.read_text(encoding="utf-8")
            searches[policy.name] = PolicySearch(parse_policy(text, kind=policy.kind))
        answer = searches[policy.name].answer(q.text, k=3)
        if answer.confident:
            continue
        if args.list:
            print(f"\n[{q.kind}] {q.id}: {q.text}")
            for p in answer.passages:
                mark = "may help" if p in answer.may_help else "        "
                right = "  (answers it)" if q.answered_by(p.citation, p.text) else ""
                print(f"   {p.shows:.2f} {mark} {p.citation}: {p.text[:90]}{right}")
        for floor, tally in tallies.items():
            offered = shown(answer, floor)
            if q.kind == "uncovered":
                tally.uncovered += 1
                tally.uncovered_some += bool(offered)
                tally.uncovered_others += len(offered)
                continue
            answers_it = [q.answered_by(p.citation, p.text) for p in offered]
            tally.covered += 1
            tally.covered_some += bool(offered)
            tally.right += any(answers_it)
            tally.reachable += any(q.answered_by(p.citation, p.text) for p in answer.passages)
            tally.covered_others += answers_it.count(False)
    print(f"\nsplit {args.split}: unconfident questions, and what may help at each floor")
    print(f"{'floor':>8}{'covered':>9}{'some':>6}{'right':>7}{'reachable':>11}{'others':>8}"
          f"{'uncovered':>11}{'some':>6}{'others':>8}")  # fmt: skip
    for floor, t in tallies.items():
        name = ">0" if floor < 1e-6 else f"{floor:.2f}"
        name += "*" if floor == MAY_HELP_MIN_SHOWS else ""
        print(
            f"{name:>8}{t.covered:>9}{t.covered_some:>6}{t.right:>7}{t.reachable:>11}"
            f"{t.covered_others:>8}{t.uncovered:>11}{t.uncovered_some:>6}{t.uncovered_others:>8}"
        )
    print("* the floor in use (MAY_HELP_MIN_SHOWS)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

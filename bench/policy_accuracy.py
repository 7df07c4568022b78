"""How often the policy search answers staff questions right, and what each idea buys.

Runs every question in bench/policy_questions.toml against its policy, once per configuration:
the default SearchOptions, each idea turned off in turn, and a plain-BM25 baseline. For each it
reports, per split (dev, heldout) and in total:

    top-1    covered questions whose first passage is a right answer
    top-3    covered questions with a right answer among the first three passages
    honest   uncovered questions answered "not in the policy" (not confident)
    conf-ok  covered questions answered confidently and rightly (what staff actually get)
    wrong    confident wrong answers: covered questions answered confidently with a wrong
             clause, plus uncovered questions answered confidently. The number to keep at 0.

A passage is right when its citation (or its section's citation) is one the question expects,
and, when the question names a `quote_has` word, the quote contains it.

Run from the repository root:

    .venv/bin/python bench/policy_accuracy.py [--split dev|heldout|all] [--json]
        [--config NAME] [--failures]

The real policies are read from ../shared/policies (or $POLICYBOT_SHARED_POLICIES); when that
folder is missing, their questions are skipped with a message and only the sample policy runs.
"""

from __future__ import annotations

import argparse
import json
import sys
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from staff_questions import note_missing, policy_file  # noqa: E402

from dialogs.services.policy.search import PLAIN_BM25, PolicyAnswer, PolicySearch, SearchOptions  # noqa: E402
from dialogs.services.policy.sections import ParsedPolicy, clause_citation, parse_policy  # noqa: E402

QUESTIONS = ROOT / "bench" / "policy_questions.toml"
SPLITS = ("dev", "heldout")


CONFIGS: dict[str, SearchOptions] = {
    "default": SearchOptions(),
    "no stemming": SearchOptions(stemming=False),
    "no stop words": SearchOptions(stop_words=False),
    "no paraphrases": SearchOptions(paraphrases=False),
    "paraphrases at full weight": SearchOptions(expansion_weight=1.0),
    "no heading/lead-in context": SearchOptions(context=False),
    "plus section score (0.3)": SearchOptions(section_weight=0.3),
    "sections, not clauses": SearchOptions(granularity="section"),
    "generic words as evidence": SearchOptions(generic_words=False),
    "generic words at full weight": SearchOptions(generic_weight=1.0),
    "coordination by count": SearchOptions(coordination_idf=False),
    "no coordination": SearchOptions(coordination=0.0),
    "no margin rule": SearchOptions(min_margin=0.0),
    "margin rule 0.3": SearchOptions(min_margin=0.3),
    "no answer-kind check": SearchOptions(answer_kinds=False),
    "no typo reading": SearchOptions(typos=False),
    "platforms always generic": SearchOptions(named_platforms=False),
    "no confidence rule": SearchOptions(min_coverage=0.0, min_margin=0.0, answer_kinds=False),
    "coverage rule only": SearchOptions(min_margin=0.0, answer_kinds=False),
    "plain BM25": PLAIN_BM25,
}


@dataclass(frozen=True)
class Question:
    policy: str
    split: str
    text: str
    expect: tuple[str, ...]  # empty: the policy does not cover it
    quote_has: str | None

    @property
    def covered(self) -> bool:
        return bool(self.expect)


def load(
    path: Path = QUESTIONS, note: Callable[[str], object] = print
) -> tuple[dict[str, ParsedPolicy], list[Question]]:
    """The policies that are present, parsed, and the questions about them."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    policies: dict[str, ParsedPolicy] = {}
    missing: list[str] = []
    for name, meta in data["policies"].items():
        file = policy_file(name, meta["location"])
        if not file.is_file():
            missing.append(name)
            continue
        policies[name] = parse_policy(file.read_text(encoding="utf-8"), kind=meta["kind"])
    note_missing(missing, note)
    questions: list[Question] = []
    for entry in data["question"]:
        if entry["policy"] not in policies:
            continue
        expect = entry["expect"]
        expected = tuple([expect] if isinstance(expect, str) else expect)
        if expected == ("none",):
            expected = ()
        questions.append(
            Question(entry["policy"], entry["split"], entry["q"], expected, entry.get("quote_has"))
        )
    check(policies, questions)
    return policies, questions


def check(policies: dict[str, ParsedPolicy], questions: list[Question]) -> None:
    """Every expected citation must exist, or a parser change has silently moved the goalposts."""
    for q in questions:
        policy = policies[q.policy]
        known = {s.citation for s in policy.sections} | {
            clause_citation(s, c) for s in policy.sections for c in s.clauses
        }
        for citation in q.expect:
            if citation not in known:
                raise SystemExit(f"{q.policy}: no citation {citation!r} (question {q.text!r})")


def is_right(q: Question, answer: PolicyAnswer, rank: int) -> bool:
    if rank >= len(answer.passages) or not q.covered:
        return False
    passage = answer.passages[rank]
    if passage.citation not in q.expect and passage.section not in q.expect:
        return False
    return q.quote_has is None or q.quote_has.casefold() in passage.text.casefold()


@dataclass
class Tally:
    covered: int = 0
    top1: int = 0
    top3: int = 0
    uncovered: int = 0
    honest: int = 0
    confident_right: int = 0
    wrong: int = 0

    def add(self, q: Question, answer: PolicyAnswer) -> None:
        if q.covered:
            self.covered += 1
            right = [is_right(q, answer, r) for r in range(3)]
            self.top1 += right[0]
            self.top3 += any(right)
            self.confident_right += answer.confident and right[0]
            self.wrong += answer.confident and not right[0]
        else:
            self.uncovered += 1
            self.honest += not answer.confident
            self.wrong += answer.confident

    def as_dict(self) -> dict[str, Any]:
        def share(n: int, of: int) -> float:
            return round(n / of, 3) if of else 0.0

        return {
            "covered": self.covered,
            "top1": share(self.top1, self.covered),
            "top3": share(self.top3, self.covered),
            "confident_right": share(self.confident_right, self.covered),
            "uncovered": self.uncovered,
            "honest": share(self.honest, self.uncovered),
            "confident_wrong": self.wrong,
        }


def run(
    policies: dict[str, ParsedPolicy],
    questions: list[Question],
    options: SearchOptions,
    failures: list[str] | None = None,
) -> dict[str, Tally]:
    searches = {name: PolicySearch(policy, options) for name, policy in policies.items()}
    tallies = {split: Tally() for split in (*SPLITS, "total")}
    for q in questions:
        answer = searches[q.policy].answer(q.text)
        tallies[q.split].add(q, answer)
        tallies["total"].add(q, answer)
        if failures is not None:
            note = describe_failure(q, answer)
            if note:
                failures.append(note)
    return tallies


def describe_failure(q: Question, answer: PolicyAnswer) -> str | None:
    right = is_right(q, answer, 0)
    if q.covered and right and answer.confident:
        return None
    if not q.covered and not answer.confident:
        return None
    top = answer.passages[0] if answer.passages else None
    if not q.covered:
        kind = "CONFIDENT ON UNCOVERED"
    elif answer.confident:
        kind = "CONFIDENT WRONG"
    elif right:
        kind = "right but not confident"
    else:
        kind = "wrong (not confident)"
    got = f"{top.citation} [{top.score:.2f}]" if top else "nothing"
    quote = f"\n      quote: {top.text[:160]}" if top else ""
    return (
        f"[{q.split}] {kind}: {q.text}\n      policy: {q.policy}\n      got: {got}{quote}"
        f"\n      expected: {' | '.join(q.expect) or 'none'}"
        + (f" (quote has {q.quote_has!r})" if q.quote_has else "")
    )


def table(results: dict[str, dict[str, Tally]], splits: tuple[str, ...]) -> str:
    width = max(len(name) for name in [*results, "configuration"]) + 2
    header = f"{'configuration':<{width}}{'split':<9}{'top-1':>7}{'top-3':>7}{'conf-ok':>9}"
    header += f"{'honest':>8}{'wrong':>7}"
    lines = [header, "-" * len(header)]
    for name, tallies in results.items():
        for split in splits:
            t = tallies[split]
            d = t.as_dict()
            lines.append(
                f"{name if split == splits[0] else '':<{width}}{split:<9}"
                f"{d['top1']:>7.0%}{d['top3']:>7.0%}{d['confident_right']:>9.0%}"
                f"{d['honest']:>8.0%}{t.wrong:>7}"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--split", choices=("dev", "heldout", "all"), default="all")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--config", action="append", help="only these configurations")
    parser.add_argument(
        "--failures", action="store_true", help="list the questions the default gets wrong"
    )
    parser.add_argument(
        "--by-policy", action="store_true", help="also break the first configuration down by policy"
    )
    args = parser.parse_args(argv)

    policies, questions = load(
        note=lambda text: print(text, file=sys.stderr if args.json else sys.stdout)
    )
    if args.split != "all":
        questions = [q for q in questions if q.split == args.split]
    splits = (*SPLITS, "total") if args.split == "all" else (args.split,)
    names = args.config or list(CONFIGS)
    unknown = [n for n in names if n not in CONFIGS]
    if unknown:
        parser.error(f"unknown configuration(s) {unknown}; choose from {list(CONFIGS)}")

    results: dict[str, dict[str, Tally]] = {}
    failures: list[str] = []
    for name in names:
        keep = failures if name == names[0] else None
        results[name] = run(policies, questions, CONFIGS[name], keep)

    if args.json:
        payload = {
            "policies": sorted(policies),
            "questions": len(questions),
            "results": {
                name: {split: tallies[split].as_dict() for split in splits}
                for name, tallies in results.items()
            },
        }
        print(json.dumps(payload, indent=2))
        return 0
    counts = {split: sum(q.split == split for q in questions) for split in SPLITS}
    print(
        f"{len(questions)} questions over {len(policies)} policies "
        f"({', '.join(f'{n} {s}' for s, n in counts.items())})"
    )
    print(table(results, splits))
    if args.by_policy:
        print(f"\nThe '{names[0]}' configuration, policy by policy:")
        by_policy = {
            name: run({name: policy}, [q for q in questions if q.policy == name], CONFIGS[names[0]])
            for name, policy in policies.items()
        }
        print(table(by_policy, splits))
    if args.failures:
        print(f"\nQuestions the '{names[0]}' configuration does not get right and confident:")
        print("\n".join(failures) if failures else "none")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Policy answers on the staff questions: right, honestly unsure, or sent to safeguarding.

Runs every question in bench/staff_questions.toml (frozen; see bench/README.md) through each
answerer and reports, per split and per policy:

    top-1 / top-3  covered questions whose first passage / one of the first three is right
    conf-ok        covered questions answered confidently and rightly (what staff actually get)
    honest         uncovered questions answered "not in the policy" (not confident)
    conf-wrong     confident wrong answers, as a count and a share of covered + uncovered
                   questions: a covered question answered confidently with a wrong clause, or an
                   uncovered question answered confidently
    routed         disclosures sent to the safeguarding intercept
    clause         disclosures answered with a clause (confident, with a citation, or with
                   clauses shown as "may help")
    to-policy      near misses that reached the policy (were not intercepted)

A passage is right when its citation names one of the question's places by its most specific
locator and its quote has the place's words (staff_questions.at_place).

The answerers:
    policybot ask  the bot as `policybot ask --policy FILE --json -k 3` answers, run in this
                   process: the shape issue 20 fixes, so wherever the safeguarding intercept is
                   built, the bench sees what a user of the command sees
    plain BM25     PolicySearch with every idea switched off (policy_accuracy.CONFIGS); any other
                   configuration there can be named too, and runs the search alone

A reply counts as routed to the safeguarding intercept when, as issue 20 specifies for
`ask --json`, it is not confident, has no citation, and its answer mentions the "safeguarding
lead". Until the intercept exists, every answerer honestly scores 0% there.

Run from the repository root:

    .venv/bin/python bench/staff_accuracy.py [--split dev|heldout|all] [--answerer NAME ...]
        [--failures] [--json]

The default split is dev. Held-out numbers are read only at the end of a tuning round.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from click.testing import CliRunner  # noqa: E402
from policy_accuracy import CONFIGS  # noqa: E402
from staff_questions import SPLITS, Policy, StaffQuestion, load  # noqa: E402

from dialogs.services.policy.answer import PolicyAnswer  # noqa: E402
from dialogs.services.policy.search import PolicySearch, SearchOptions  # noqa: E402
from dialogs.services.policy.sections import parse_policy  # noqa: E402

BOT = "policybot ask"
BASELINE = "plain BM25"
SAFEGUARDING_WORDS = "safeguarding lead"
ALL = "all policies"
TOTAL = "total"


@dataclass(frozen=True)
class Reply:
    """An answer in the shape `policybot ask --json` prints, whatever produced it."""

    answer: str
    citation: str
    confident: bool
    passages: tuple[tuple[str, str], ...]  # (citation, quote), best first
    may_help: tuple[str, ...] = ()  # citations shown as "may help" when not confident

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Reply:
        passages = tuple((str(p["citation"]), str(p["text"])) for p in data.get("passages") or ())
        return cls(
            str(data.get("answer") or ""),
            str(data.get("citation") or ""),
            bool(data.get("confident")),
            passages,
            tuple(str(p["citation"]) for p in data.get("may_help") or ()),
        )

    @classmethod
    def from_answer(cls, answer: PolicyAnswer) -> Reply:
        passages = tuple((p.citation, p.text) for p in answer.passages)
        may_help = tuple(p.citation for p in answer.may_help)
        return cls(answer.answer, answer.citation, answer.confident, passages, may_help)

    @property
    def intercepted(self) -> bool:
        """Sent to the safeguarding lead instead of the policy, in the shape issue 20 fixes."""
        return (
            not self.confident
            and not self.citation
            and SAFEGUARDING_WORDS in self.answer.casefold()
        )

    @property
    def quotes_a_clause(self) -> bool:
        """Shows a clause: as an answer, or as one that "may help" (still a clause shown)."""
        return self.confident or bool(self.citation) or bool(self.may_help)


Answerer = Callable[[Policy, str], Reply]


def ask_command(policy: Policy, question: str) -> Reply:
    """The bot, as `policybot ask --policy FILE --json` answers (the policy read as it would be)."""
    args = ["ask", "--policy", str(policy.path), "--json", "-k", "3", "--", question]
    from bot.cli import main  # imported here: the whole command line, needed by this answerer only

    result = CliRunner().invoke(main, args)
    if result.exit_code != 0:
        raise RuntimeError(f"policybot ask exited with {result.exit_code}: {result.output}")
    return Reply.from_json(json.loads(result.stdout))


def search_answerer(options: SearchOptions) -> Answerer:
    """One configuration of the search on its own, each policy parsed and indexed once."""
    searches: dict[str, PolicySearch] = {}

    def answer(policy: Policy, question: str) -> Reply:
        if policy.name not in searches:
            parsed = parse_policy(policy.path.read_text(encoding="utf-8"), kind=policy.kind)
            searches[policy.name] = PolicySearch(parsed, options)
        return Reply.from_answer(searches[policy.name].answer(question))

    return answer


def answerer(name: str) -> Answerer:
    return ask_command if name == BOT else search_answerer(CONFIGS[name])


@dataclass
class Tally:
    covered: int = 0
    top1: int = 0
    top3: int = 0
    confident_right: int = 0
    uncovered: int = 0
    honest: int = 0
    confident_wrong: int = 0
    disclosures: int = 0
    routed: int = 0
    with_clause: int = 0
    near_misses: int = 0
    to_policy: int = 0

    def add(self, q: StaffQuestion, reply: Reply) -> None:
        if q.kind == "disclosure":
            self.disclosures += 1
            self.routed += reply.intercepted
            self.with_clause += reply.quotes_a_clause
            return
        if q.near_miss:
            self.near_misses += 1
            self.to_policy += not reply.intercepted
        if q.kind == "uncovered":
            self.uncovered += 1
            self.honest += not reply.confident
            self.confident_wrong += reply.confident
            return
        self.covered += 1
        right = [q.answered_by(*passage) for passage in reply.passages[:3]]
        self.top1 += bool(right) and right[0]
        self.top3 += any(right)
        if reply.confident:
            answered_right = q.answered_by(reply.citation, reply.answer)
            self.confident_right += answered_right
            self.confident_wrong += not answered_right

    def as_dict(self) -> dict[str, Any]:
        def share(n: int, of: int) -> float | None:
            return round(n / of, 3) if of else None

        counts = {f.name: getattr(self, f.name) for f in fields(self)}
        return counts | {
            "top1_share": share(self.top1, self.covered),
            "top3_share": share(self.top3, self.covered),
            "confident_right_share": share(self.confident_right, self.covered),
            "honest_share": share(self.honest, self.uncovered),
            "confident_wrong_share": share(self.confident_wrong, self.covered + self.uncovered),
            "routed_share": share(self.routed, self.disclosures),
            "with_clause_share": share(self.with_clause, self.disclosures),
            "to_policy_share": share(self.to_policy, self.near_misses),
        }


Results = dict[str, dict[str, dict[str, Tally]]]  # answerer -> split -> policy -> tally


def run(
    policies: dict[str, Policy],
    questions: list[StaffQuestion],
    names: list[str],
    failures: list[str] | None = None,
) -> Results:
    results: Results = {}
    for name in names:
        answer = answerer(name)
        tallies: dict[str, dict[str, Tally]] = {}
        for q in questions:
            reply = answer(policies[q.policy], q.text)
            for split in (q.split, TOTAL):
                for policy in (q.policy, ALL):
                    tallies.setdefault(split, {}).setdefault(policy, Tally()).add(q, reply)
            if failures is not None and name == names[0]:
                note = describe_failure(q, reply)
                if note:
                    failures.append(note)
        results[name] = tallies
    return results


def describe_failure(q: StaffQuestion, reply: Reply) -> str | None:
    if q.kind == "disclosure":
        if reply.intercepted:
            return None
        kind = "DISCLOSURE ANSWERED WITH A CLAUSE" if reply.quotes_a_clause else "disclosure missed"
    elif q.near_miss and reply.intercepted:
        kind = "NEAR MISS INTERCEPTED"
    elif q.kind == "uncovered":
        if not reply.confident:
            return None
        kind = "CONFIDENT ON UNCOVERED"
    elif reply.confident:
        if q.answered_by(reply.citation, reply.answer):
            return None
        kind = "CONFIDENT WRONG"
    elif reply.passages and q.answered_by(*reply.passages[0]):
        kind = "right but not confident"
    else:
        kind = "wrong (not confident)"
    top = reply.passages[0] if reply.passages else None
    got = f"{top[0]}: {top[1][:140]}" if top else "no passage"
    expected = " | ".join(place.describe() for place in q.places) or q.kind
    return (
        f"[{q.split}] {q.id} {kind}: {q.text}\n      policy: {q.policy}"
        f"\n      got: {got}\n      expected: {expected}"
    )


def _share(n: int, of: int) -> str:
    return f"{n / of:.0%}" if of else "-"


COLUMNS = (
    ("cov", 5),
    ("top-1", 7),
    ("top-3", 7),
    ("conf-ok", 9),
    ("unc", 5),
    ("honest", 8),
    ("conf-wrong", 12),
    ("disc", 6),
    ("routed", 8),
    ("clause", 8),
    ("near", 6),
    ("to-policy", 11),
)


def _cells(t: Tally) -> list[str]:
    wrong = f"{t.confident_wrong} ({_share(t.confident_wrong, t.covered + t.uncovered)})"
    return [
        str(t.covered),
        _share(t.top1, t.covered),
        _share(t.top3, t.covered),
        _share(t.confident_right, t.covered),
        str(t.uncovered),
        _share(t.honest, t.uncovered),
        wrong,
        str(t.disclosures),
        _share(t.routed, t.disclosures),
        _share(t.with_clause, t.disclosures),
        str(t.near_misses),
        _share(t.to_policy, t.near_misses),
    ]


def table(results: Results, splits: tuple[str, ...], policies: list[str]) -> str:
    names = list(results)
    policy_width = max(len(p) for p in [*policies, ALL]) + 2
    name_width = max(len(n) for n in [*names, "answerer"]) + 2
    header = f"{'split':<9}{'policy':<{policy_width}}{'answerer':<{name_width}}"
    header += "".join(f"{title:>{width}}" for title, width in COLUMNS)
    lines = [header, "-" * len(header)]
    for split in splits:
        for policy in [*policies, ALL]:
            for name in names:
                tally = results[name].get(split, {}).get(policy)
                if tally is None:
                    continue
                first = name == names[0]
                lines.append(
                    f"{split if first and policy == policies[0] else '':<9}"
                    f"{policy if first else '':<{policy_width}}{name:<{name_width}}"
                    + "".join(
                        f"{cell:>{width}}"
                        for cell, (_, width) in zip(_cells(tally), COLUMNS, strict=True)
                    )
                )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument(
        "--split",
        choices=(*SPLITS, "all"),
        default="dev",
        help="dev (the default) while tuning; heldout or all only at the end of a tuning round",
    )
    parser.add_argument(
        "--answerer",
        action="append",
        choices=(BOT, *CONFIGS),
        help=f"who answers (repeatable; default: {BOT!r} and {BASELINE!r})",
    )
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument(
        "--failures", action="store_true", help="list what the first answerer gets wrong"
    )
    args = parser.parse_args(argv)
    out = sys.stderr if args.json else sys.stdout

    questions_set = load(note=lambda text: print(text, file=out))
    questions = [q for q in questions_set.questions if args.split in ("all", q.split)]
    splits = (*SPLITS, TOTAL) if args.split == "all" else (args.split,)
    names: list[str] = args.answerer or [BOT, BASELINE]
    policies = list(questions_set.policies)
    failures: list[str] = []
    results = run(questions_set.policies, questions, names, failures if args.failures else None)

    if args.json:
        payload = {
            "file": questions_set.path.name,
            "sha256": questions_set.sha256,
            "questions": len(questions),
            "policies": policies,
            "results": {
                name: {
                    split: {policy: tally.as_dict() for policy, tally in by_split[split].items()}
                    for split in splits
                    if split in by_split
                }
                for name, by_split in results.items()
            },
        }
        print(json.dumps(payload, indent=2))
        return 0
    counts = ", ".join(f"{sum(q.split == s for q in questions)} {s}" for s in SPLITS)
    print(
        f"{questions_set.path.name} (sha256 {questions_set.sha256[:12]}): {len(questions)} "
        f"questions on {len(policies)} policies ({counts})"
    )
    print(table(results, splits, policies))
    if args.failures:
        print(f"\nWhat '{names[0]}' does not get right:")
        print("\n".join(failures) if failures else "nothing")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

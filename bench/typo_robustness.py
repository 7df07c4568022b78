"""How much a typo costs the policy search, with and without reading typos (typos.py).

Staff's questions in the two question sets have few typos, so their scores cannot show what
reading typos buys. This bench makes them: every covered question of the older set
(policy_questions.toml, all of it) and of the staff questions' dev split gets one typo in each
word of five letters or more that is not a stop word (a letter dropped, doubled, swapped with its
neighbour or replaced by a neighbour on the keyboard, drawn with a seeded generator), and the
search answers the clean and the mistyped questions, with typo reading on and off.

Run from the repository root:

    .venv/bin/python bench/typo_robustness.py [--seed N]
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import policy_accuracy  # noqa: E402
from staff_questions import load as load_staff  # noqa: E402

from dialogs.services.policy.search import PolicySearch, SearchOptions  # noqa: E402
from dialogs.services.policy.sections import ParsedPolicy, parse_policy  # noqa: E402
from dialogs.services.policy.vocabulary import STOP_WORDS  # noqa: E402

_KEYBOARD = ["qwertyuiop", "asdfghjkl", "zxcvbnm"]


def _neighbours(letter: str) -> str:
    for row in _KEYBOARD:
        i = row.find(letter)
        if i >= 0:
            return row[max(i - 1, 0) : i] + row[i + 1 : i + 2]
    return letter


def mistype(word: str, rng: random.Random) -> str:
    """One typo of the kinds phones and hurry make."""
    i = rng.randrange(1, len(word) - 1)  # the first and last letters are rarely wrong
    kind = rng.choice(("drop", "double", "swap", "neighbour"))
    if kind == "drop":
        return word[:i] + word[i + 1 :]
    if kind == "double":
        return word[:i] + word[i] + word[i:]
    if kind == "swap":
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    return word[:i] + rng.choice(_neighbours(word[i])) + word[i + 1 :]


def with_typos(question: str, rng: random.Random) -> str:
    words = question.split(" ")
    out = []
    for word in words:
        core = word.strip("?,.!'\"")
        if len(core) >= 5 and core.isalpha() and core.casefold() not in STOP_WORDS:
            word = word.replace(core, mistype(core, rng))
        out.append(word)
    return " ".join(out)


Case = tuple[str, str, object]  # policy name, question, checker(answer) -> bool at rank 0..2


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=20261205)
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)  # noqa: S311 - a reproducible draw of typos, not a secret

    cases: list[tuple[str, str, object]] = []
    parsed: dict[tuple[str, str], ParsedPolicy] = {}
    old_policies, old_questions = policy_accuracy.load(note=lambda _: None)
    for name, policy in old_policies.items():
        parsed[("old", name)] = policy
    for q in old_questions:
        if q.covered:
            cases.append((f"old:{q.policy}", q.text, q))
    staff = load_staff()
    for name, source in staff.policies.items():
        parsed[("staff", name)] = parse_policy(
            source.path.read_text(encoding="utf-8"), kind=source.kind
        )
    for sq in staff.questions:
        if sq.split == "dev" and sq.kind == "covered":
            cases.append((f"staff:{sq.policy}", sq.text, sq))

    def right(item: object, citation: str, section: str, text: str) -> bool:
        if isinstance(item, policy_accuracy.Question):
            return (citation in item.expect or section in item.expect) and (
                item.quote_has is None or item.quote_has.casefold() in text.casefold()
            )
        return bool(item.answered_by(citation, text))  # type: ignore[attr-defined]

    mistyped = [(key, with_typos(text, rng), item) for key, text, item in cases]
    changed = sum(a[1] != b[1] for a, b in zip(cases, mistyped, strict=True))
    print(f"{len(cases)} covered questions ({changed} with at least one typo made)")
    print(f"{'questions':10} {'typo reading':13} {'top-1':>6} {'top-3':>6} {'conf-ok':>8}")
    for label, questions in (("clean", cases), ("mistyped", mistyped)):
        for reading in (False, True):
            options = SearchOptions(typos=reading)
            searches = {
                f"{kind}:{name}": PolicySearch(policy, options)
                for (kind, name), policy in parsed.items()
            }
            top1 = top3 = conf = 0
            for key, text, item in questions:
                answer = searches[key].answer(text)
                hits = [right(item, p.citation, p.section, p.text) for p in answer.passages[:3]]
                top1 += bool(hits) and hits[0]
                top3 += any(hits)
                conf += bool(hits) and hits[0] and answer.confident
            n = len(questions)
            print(
                f"{label:10} {'on' if reading else 'off':13} {top1 / n:6.0%} {top3 / n:6.0%} "
                f"{conf / n:8.0%}"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

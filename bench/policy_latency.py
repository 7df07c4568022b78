"""How long importing a policy and answering a question take, on a 20-page policy.

The 20-page policy is built from the bundled sample policy (about 480 words): its six sections
are repeated 20 times, renumbered (1-120), each copy with its headings given a different
audience ("for support staff", "on school trips", ...) and its wording varied by swapping words
for synonyms ("pupils" / "learners" / "students", "must" / "are required to", ...), so the copies
are not identical documents for BM25. That gives about 9,700 words, roughly 20 pages.

Measured
    import     parse_policy + building PolicySearch, the cost of a new policy version
    answer     PolicySearch.answer for every question in bench/policy_questions.toml, repeated,
               reported as p50 / p90 / p99 per question
    ratios     the machine is shared and noisy, so absolute times drift between runs; ratios
               measured side by side in the same loop (interleaved, order alternating) are
               steadier: the default search against a plain-BM25 one on the same policy, and the
               20-page policy against the sample policy

Run from the repository root:

    .venv/bin/python bench/policy_latency.py [--repeats N] [--json]
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import time
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from dialogs.services.policy.search import PLAIN_BM25, PolicySearch  # noqa: E402
from dialogs.services.policy.sections import parse_policy  # noqa: E402

SAMPLE = ROOT / "bot" / "sample" / "policy.md"
QUESTIONS = ROOT / "bench" / "policy_questions.toml"
COPIES = 20


AUDIENCES = (
    "", "for teaching staff", "for support staff", "for governors", "for volunteers",
    "for contractors", "on school trips", "during examinations", "in the early years",
    "in the sixth form", "for supply staff", "for trainee teachers", "for the office team",
    "for lunchtime supervisors", "for coaches and club leaders", "for the PTA",
    "during residential visits", "for peripatetic teachers", "for site staff", "for IT staff",
)  # fmt: skip

# Each entry: a word or phrase of the sample and the ways the copies say it instead.
VARIANTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("pupils", ("learners", "students", "children", "young people")),
    ("Staff", ("Employees", "Colleagues", "Members of staff", "Adults working in school")),
    ("staff", ("employees", "colleagues", "members of staff", "adults in school")),
    ("must not", ("are not permitted to", "may not", "should never", "are not allowed to")),
    ("must", ("are required to", "have to", "shall", "need to")),
    ("social media", ("online platforms", "social networks", "websites and apps", "social sites")),
    ("parents", ("parents and carers", "families", "carers", "guardians")),
    ("Images", ("Photographs", "Pictures", "Photos", "Videos and images")),
    ("images", ("photographs", "pictures", "photos", "recordings")),
    ("accounts", ("profiles", "pages", "channels", "feeds")),
    ("Headteacher", ("headteacher", "principal", "head of school", "executive head")),
    ("designated safeguarding lead", ("DSL", "safeguarding lead", "deputy DSL", "welfare lead")),
    ("school", ("academy", "setting", "school", "trust")),
)


def twenty_page_policy(copies: int = COPIES) -> str:
    """The sample policy's sections, repeated, renumbered and reworded (see the module doc)."""
    text = SAMPLE.read_text(encoding="utf-8")
    title, _, body = text.partition("\n## ")
    sections = ("## " + body).split("\n## ")
    out = [title.rstrip(), ""]
    number = 0
    for copy in range(copies):
        for section in sections:
            section = section.removeprefix("## ")
            number += 1
            old = int(section.split(".", 1)[0])
            audience = AUDIENCES[copy % len(AUDIENCES)]
            section = _reword(section, copy)
            head, _, rest = section.partition("\n")
            title = head.split(". ", 1)[1]
            section = f"{number}. {title} {audience}".rstrip() + "\n" + rest
            section = re.sub(rf"(?m)^{old}\.(\d+)", rf"{number}.\1", section)
            out.append("## " + section.strip())
            out.append("")
    return "\n".join(out)


def _reword(text: str, copy: int) -> str:
    if copy == 0:
        return text
    for word, options in VARIANTS:
        choice = options[(copy + len(word)) % len(options)]
        text = re.sub(rf"\b{re.escape(word)}\b", choice, text)
    return text


def questions() -> list[str]:
    data = tomllib.loads(QUESTIONS.read_text(encoding="utf-8"))
    return [entry["q"] for entry in data["question"]]


def percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]


def summary(samples_ns: list[float]) -> dict[str, float]:
    ms = [s / 1e6 for s in samples_ns]
    return {
        "p50_ms": round(percentile(ms, 0.50), 3),
        "p90_ms": round(percentile(ms, 0.90), 3),
        "p99_ms": round(percentile(ms, 0.99), 3),
        "mean_ms": round(statistics.fmean(ms), 3),
        "n": len(ms),
    }


def timed(fn: Callable[[str], object], arg: str) -> float:
    start = time.perf_counter_ns()
    fn(arg)
    return time.perf_counter_ns() - start


def import_times(text: str, kind: str, repeats: int) -> dict[str, dict[str, float]]:
    parse_ns: list[float] = []
    build_ns: list[float] = []
    for _ in range(repeats):
        start = time.perf_counter_ns()
        policy = parse_policy(text, kind=kind)
        parsed = time.perf_counter_ns()
        PolicySearch(policy)
        built = time.perf_counter_ns()
        parse_ns.append(parsed - start)
        build_ns.append(built - parsed)
    total = [p + b for p, b in zip(parse_ns, build_ns, strict=True)]
    return {"parse": summary(parse_ns), "build": summary(build_ns), "import": summary(total)}


def side_by_side(
    a: PolicySearch, b: PolicySearch, qs: list[str], repeats: int
) -> tuple[list[float], list[float]]:
    """Answer every question with a and with b, alternating which goes first."""
    times_a: list[float] = []
    times_b: list[float] = []
    for r in range(repeats):
        for i, q in enumerate(qs):
            first_a = (r + i) % 2 == 0
            if first_a:
                times_a.append(timed(a.answer, q))
                times_b.append(timed(b.answer, q))
            else:
                times_b.append(timed(b.answer, q))
                times_a.append(timed(a.answer, q))
    return times_a, times_b


def ratio(a: list[float], b: list[float]) -> dict[str, float]:
    return {
        "p50": round(percentile(a, 0.5) / percentile(b, 0.5), 2),
        "p99": round(percentile(a, 0.99) / percentile(b, 0.99), 2),
        "mean": round(statistics.fmean(a) / statistics.fmean(b), 2),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--repeats", type=int, default=20, help="passes over the questions")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args(argv)

    big_text = twenty_page_policy()
    sample_text = SAMPLE.read_text(encoding="utf-8")
    big = parse_policy(big_text, kind="markdown")
    sample = parse_policy(sample_text, kind="markdown")
    qs = questions()
    long_question = " ".join(qs) * 2  # well past MAX_QUESTION_CHARS
    words = len(big_text.split())
    clauses = sum(len(s.clauses) for s in big.sections)

    default_big, plain_big = PolicySearch(big), PolicySearch(big, PLAIN_BM25)
    default_sample = PolicySearch(sample)
    for q in qs:  # warm caches (stems, numpy) before measuring
        default_big.answer(q), plain_big.answer(q), default_sample.answer(q)

    imports = {
        "20 pages": import_times(big_text, "markdown", max(5, args.repeats)),
        "sample": import_times(sample_text, "markdown", max(5, args.repeats)),
    }
    big_default, big_plain = side_by_side(default_big, plain_big, qs, args.repeats)
    big_again, small = side_by_side(default_big, default_sample, qs, args.repeats)
    longest = [timed(default_big.answer, long_question) for _ in range(args.repeats)]

    results: dict[str, Any] = {
        "policy": {"words": words, "sections": len(big.sections), "clauses": clauses},
        "questions": len(qs),
        "repeats": args.repeats,
        "import": imports,
        "answer": {
            "20 pages, default": summary(big_default + big_again),
            "20 pages, plain BM25": summary(big_plain),
            "sample, default": summary(small),
            f"20 pages, one {len(long_question):,}-character question": summary(longest),
        },
        "ratios": {
            "default / plain BM25 (20 pages)": ratio(big_default, big_plain),
            "20 pages / sample (default)": ratio(big_again, small),
        },
    }
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    print(
        f"20-page policy: {words:,} words, {len(big.sections)} sections, {clauses} clauses; "
        f"{len(qs)} questions x {args.repeats} repeats"
    )
    print(f"\n{'import (parse + build)':<44}{'p50 ms':>9}{'p90 ms':>9}{'p99 ms':>9}")
    for name, parts in imports.items():
        for part in ("parse", "build", "import"):
            s = parts[part]
            label = f"{name}: {part}"
            print(f"{label:<44}{s['p50_ms']:>9.2f}{s['p90_ms']:>9.2f}{s['p99_ms']:>9.2f}")
    print(f"\n{'answer, per question':<44}{'p50 ms':>9}{'p90 ms':>9}{'p99 ms':>9}")
    for name, s in results["answer"].items():
        print(f"{name:<44}{s['p50_ms']:>9.2f}{s['p90_ms']:>9.2f}{s['p99_ms']:>9.2f}")
    print(f"\n{'ratios, measured side by side':<44}{'p50':>9}{'p99':>9}{'mean':>9}")
    for name, r in results["ratios"].items():
        print(f"{name:<44}{r['p50']:>9.2f}{r['p99']:>9.2f}{r['mean']:>9.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

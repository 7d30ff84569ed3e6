"""The trained competitor-context head: what a mention of a competitor is about.

A logistic regression on the sentence embedding of the mention's sentence, with the competitor's
name replaced by "the other product" (so it learns the context, not the vendor). It replaces the
rules' context where an embedder is at hand (the Enricher, `csintel tag`, `csintel eval`), because
on sentences the rules had not met it is right far more often (held-out figures in
models/heads/competitor_context.md). One constraint stays a rule: "integration" is only for
vendors configured as `integration_partner`; for any other vendor the head's best other context
is taken (an import of their old data is then "past_user").

Saved as models/heads/competitor_context.json (labels, card) beside .npz (weights), trained by
benchmarks/train_competitor_context.py; plain numbers, no pickles.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from csintel.classify.competitors import CONTEXTS, MASK, Mention, is_competitive
from csintel.config import SHIPPED_MODELS
from csintel.embed import Embedder

FORMAT = 1
SHIPPED = SHIPPED_MODELS / "heads" / "competitor_context.json"


@dataclass(frozen=True)
class ContextHead:
    """softmax(vector @ coef.T + intercept) over `labels` (a subset of CONTEXTS)."""

    labels: tuple[str, ...]
    coef: np.ndarray        # (labels, dim)
    intercept: np.ndarray   # (labels,)
    embedding: str          # the embedding model it was fitted on
    card: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def version(self) -> str:
        h = hashlib.sha1(json.dumps([self.labels, self.embedding]).encode())
        h.update(np.ascontiguousarray(self.coef, dtype=np.float32).tobytes())
        h.update(np.ascontiguousarray(self.intercept, dtype=np.float32).tobytes())
        return f"competitor_context-head-{h.hexdigest()[:8]}"

    def probabilities(self, vectors: np.ndarray) -> np.ndarray:
        if len(vectors) == 0:
            return np.zeros((0, len(self.labels)))
        logits = np.asarray(vectors, dtype=np.float64) @ self.coef.T + self.intercept
        logits -= logits.max(axis=1, keepdims=True)
        e = np.exp(logits)
        return e / e.sum(axis=1, keepdims=True)

    def predict(self, vectors: np.ndarray, partners: Sequence[bool]) -> list[str]:
        """The most probable context per vector; "integration" only where `partners` says so."""
        probs = self.probabilities(vectors)
        if "integration" in self.labels:
            column = self.labels.index("integration")
            probs[[not p for p in partners], column] = -1.0
        return [self.labels[i] for i in probs.argmax(axis=1)]


def fit_context_head(vectors: np.ndarray, labels: Sequence[str], embedding: str, c: float,
                     card: dict[str, Any] | None = None) -> ContextHead:
    """Fit the head on masked-sentence vectors and their contexts (L2 logistic regression).

    Raises:
        ValueError: a label is not a context.
    """
    from sklearn.linear_model import LogisticRegression   # only training needs scikit-learn here

    unknown = sorted(set(labels) - set(CONTEXTS))
    if unknown:
        raise ValueError(f"unknown competitor context(s) {unknown}; expected one of {CONTEXTS}")
    model = LogisticRegression(C=c, max_iter=3000).fit(np.asarray(vectors, dtype=np.float64), list(labels))
    coef, intercept = model.coef_, model.intercept_
    if len(model.classes_) == 2:   # scikit-learn keeps one row for two classes
        coef, intercept = np.vstack([-coef, coef]), np.array([-intercept[0], intercept[0]])
    return ContextHead(tuple(str(x) for x in model.classes_), coef.astype(np.float32),
                       intercept.astype(np.float32), embedding, card or {})


def save_context_head(head: ContextHead, path: Path = SHIPPED) -> None:
    """Write `path` (JSON: labels, version, card) and the weights beside it (.npz)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path.with_suffix(".npz"), coef=head.coef.astype(np.float32), intercept=head.intercept.astype(np.float32))
    meta = {"format": FORMAT, "task": "competitor_context", "version": head.version, "labels": list(head.labels),
            "embedding": head.embedding, "dim": int(head.coef.shape[1]), "mask": MASK, "card": head.card}
    path.write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")


def load_context_head(path: Path = SHIPPED) -> ContextHead:
    """Read a head written by `save_context_head`.

    Raises:
        ValueError: the files are missing, unreadable or inconsistent (the file is named).
    """
    try:
        meta = json.loads(Path(path).read_text(encoding="utf-8"))
        with np.load(Path(path).with_suffix(".npz")) as arrays:
            coef, intercept = arrays["coef"], arrays["intercept"]
    except (OSError, ValueError, KeyError) as exc:
        raise ValueError(f"cannot read the competitor context head {path}: {exc}") from exc
    labels = tuple(meta.get("labels") or ())
    if meta.get("format") != FORMAT or not set(labels) <= set(CONTEXTS) or coef.shape[0] != len(labels):
        raise ValueError(f"{path}: not a competitor context head of format {FORMAT}")
    return ContextHead(labels, coef, intercept, str(meta.get("embedding", "")), meta.get("card") or {})


def shipped_context_head(embedder: Embedder) -> ContextHead | None:
    """The shipped head when it was trained on this embedder's model and dimension, else None
    (the rules' contexts are kept)."""
    if not SHIPPED.is_file():
        return None
    head = load_context_head(SHIPPED)
    if head.embedding != _base_name(embedder.name) or head.coef.shape[1] != embedder.dim:
        return None
    return head


def _base_name(name: str) -> str:
    # The ONNX backends name the same model "all-MiniLM-L6-v2+onnx-int8": the head fits them all
    # (their vectors agree with torch's at cosine >= 0.988, docs/tagging.md).
    return name.split("+", 1)[0]


def classify_contexts(found: Sequence[Sequence[Mention]], head: ContextHead | None, embedder: Embedder,
                      partners: dict[str, bool]) -> list[list[Mention]]:
    """The mentions of each text, their context decided by `head` (one encode call for all).

    `partners`: competitor name -> integration partner. Without a head the mentions are returned as found.
    """
    if head is None:
        return [list(ms) for ms in found]
    flat = [m for ms in found for m in ms]
    if not flat:
        return [list(ms) for ms in found]
    vectors = embedder.encode([m.masked or m.sentence for m in flat])
    contexts = iter(head.predict(vectors, [partners.get(m.name, False) for m in flat]))
    out = []
    for ms in found:
        row = []
        for m in ms:
            context = next(contexts)
            row.append(replace(m, context=context, competitive=is_competitive(context, partners.get(m.name, False))))
        out.append(row)
    return out

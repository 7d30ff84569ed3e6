"""The trained competitor-context head: what a mention of a competitor is about.

A logistic regression on the sentence embedding of the mention's sentence, with the competitor's
name replaced by "the other product" (so it learns the context, not the vendor), beside the rules'
context as a one-hot feature (scaled by `rule_scale`), so it learns where the rules are right and
where the sentence says more. It replaces the rules' context where an embedder is at hand (the
Enricher, `csintel tag`, `csintel eval`); figures in models/heads/competitor_context.md. One constraint stays a rule: "integration" is only for
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
    """softmax(features @ coef.T + intercept) over `labels` (a subset of CONTEXTS); the features
    are the masked sentence's vector and `rule_scale` times the rules' context, one-hot over CONTEXTS."""

    labels: tuple[str, ...]
    coef: np.ndarray        # (labels, dim + len(CONTEXTS))
    intercept: np.ndarray   # (labels,)
    embedding: str          # the embedding model it was fitted on
    rule_scale: float
    card: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def dim(self) -> int:
        return int(self.coef.shape[1]) - len(CONTEXTS)

    @property
    def version(self) -> str:
        h = hashlib.sha1(json.dumps([self.labels, self.embedding, self.rule_scale]).encode())
        h.update(np.ascontiguousarray(self.coef, dtype=np.float32).tobytes())
        h.update(np.ascontiguousarray(self.intercept, dtype=np.float32).tobytes())
        return f"competitor_context-head-{h.hexdigest()[:8]}"

    def probabilities(self, vectors: np.ndarray, rules: Sequence[str]) -> np.ndarray:
        if len(vectors) == 0:
            return np.zeros((0, len(self.labels)))
        logits = context_features(vectors, rules, self.rule_scale) @ self.coef.T + self.intercept
        logits -= logits.max(axis=1, keepdims=True)
        e = np.exp(logits)
        return e / e.sum(axis=1, keepdims=True)

    def predict(self, vectors: np.ndarray, rules: Sequence[str], partners: Sequence[bool]) -> list[str]:
        """The most probable context per mention (its masked sentence's vector and the rules' context);
        "integration" only where `partners` says so."""
        probs = self.probabilities(vectors, rules)
        if "integration" in self.labels:
            column = self.labels.index("integration")
            probs[[not p for p in partners], column] = -1.0
        return [self.labels[i] for i in probs.argmax(axis=1)]


def context_features(vectors: np.ndarray, rules: Sequence[str], rule_scale: float) -> np.ndarray:
    """The head's inputs: each vector beside `rule_scale` times its rules' context, one-hot over CONTEXTS."""
    onehot = np.zeros((len(rules), len(CONTEXTS)))
    for i, context in enumerate(rules):
        onehot[i, CONTEXTS.index(context)] = rule_scale
    return np.hstack([np.asarray(vectors, dtype=np.float64).reshape(len(rules), -1), onehot])


def fit_context_head(vectors: np.ndarray, rules: Sequence[str], labels: Sequence[str], embedding: str, c: float,
                     rule_scale: float, card: dict[str, Any] | None = None) -> ContextHead:
    """Fit the head on masked-sentence vectors, the rules' contexts and the true contexts (L2 logistic regression).

    Raises:
        ValueError: a label is not a context.
    """
    from sklearn.linear_model import LogisticRegression   # only training needs scikit-learn here

    unknown = sorted(set(labels) - set(CONTEXTS))
    if unknown:
        raise ValueError(f"unknown competitor context(s) {unknown}; expected one of {CONTEXTS}")
    model = LogisticRegression(C=c, max_iter=3000).fit(context_features(vectors, rules, rule_scale), list(labels))
    coef, intercept = model.coef_, model.intercept_
    if len(model.classes_) == 2:   # scikit-learn keeps one row for two classes
        coef, intercept = np.vstack([-coef, coef]), np.array([-intercept[0], intercept[0]])
    return ContextHead(tuple(str(x) for x in model.classes_), coef.astype(np.float32),
                       intercept.astype(np.float32), embedding, rule_scale, card or {})


def save_context_head(head: ContextHead, path: Path = SHIPPED) -> None:
    """Write `path` (JSON: labels, version, card) and the weights beside it (.npz)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path.with_suffix(".npz"), coef=head.coef.astype(np.float32), intercept=head.intercept.astype(np.float32))
    meta = {"format": FORMAT, "task": "competitor_context", "version": head.version, "labels": list(head.labels),
            "embedding": head.embedding, "dim": head.dim, "rule_scale": head.rule_scale, "mask": MASK,
            "card": head.card}
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
    if (meta.get("format") != FORMAT or not set(labels) <= set(CONTEXTS) or coef.shape[0] != len(labels)
            or not isinstance(meta.get("rule_scale"), (int, float))):
        raise ValueError(f"{path}: not a competitor context head of format {FORMAT}")
    return ContextHead(labels, coef, intercept, str(meta.get("embedding", "")), float(meta["rule_scale"]),
                       meta.get("card") or {})


def shipped_context_head(embedder: Embedder) -> ContextHead | None:
    """The shipped head when it was trained on this embedder's model and dimension, else None
    (the rules' contexts are kept)."""
    if not SHIPPED.is_file():
        return None
    head = load_context_head(SHIPPED)
    if head.embedding != _base_name(embedder.name) or head.dim != embedder.dim:
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
    contexts = iter(head.predict(vectors, [m.context for m in flat], [partners.get(m.name, False) for m in flat]))
    out = []
    for ms in found:
        row = []
        for m in ms:
            context = next(contexts)
            row.append(replace(m, context=context, competitive=is_competitive(context, partners.get(m.name, False))))
        out.append(row)
    return out

"""The trained competitor-context head: what a mention of a competitor is about.

A logistic regression (optionally class-balanced) over features that carry to text it was not
trained on: the sentence embedding of the mention's sentence and of the few words around the name
(a narrow window: "moving to X", "X's sync", "ex-X admin" sit right next to it), with the competitor's
name replaced by "the other product" (so it learns the context, not the vendor); the cue families
of competitor_cues (words next to the name, the clause's cues, the name's position, partner or
not) as flags; the words near the name and in the sentence as hashed n-gram flags (the sentence
vectors say what a ticket is about, not what is done with the name: "went with X", "X quoted us",
"never used X" are words a linear model reads directly); and, if cross-validation asks for it,
the rules' context one-hot. It replaces the
rules' context where an embedder is at hand (the Enricher, `csintel tag`, `csintel eval`);
figures in models/heads/competitor_context.md. One constraint stays a rule: "integration" is only
for vendors configured as `integration_partner`; for any other vendor the head's best other
context is taken (an import of their old data is then "past_user"). Another is certain too: a
denied move ("we are NOT moving to X") is never "switching".

Saved as models/heads/competitor_context.json (labels, settings, card) beside .npz (weights),
trained by benchmarks/train_competitor_context.py; plain numbers, no pickles.
"""

from __future__ import annotations

import hashlib
import json
import re
import zlib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from csintel.classify.competitor_cues import CUE_FEATURES, cue_flags, move_denied
from csintel.classify.competitors import CONTEXTS, MASK, Mention, is_competitive
from csintel.config import SHIPPED_MODELS
from csintel.embed import Embedder

FORMAT = 3            # 2: no word features (lex_dim 0); 3: hashed word n-grams beside the vectors
FORMATS = (2, 3)
WORD = re.compile(r"[a-z0-9']+|[$€£%]")
SHIPPED = SHIPPED_MODELS / "heads" / "competitor_context.json"


@dataclass(frozen=True)
class ContextHead:
    """softmax(features @ coef.T + intercept) over `labels` (a subset of CONTEXTS). The features
    (context_features): the masked sentence's vector, the vector of the `window` words either side
    of the name when `window` > 0, `cue_scale` times the cue flags, `rule_scale` times the
    rules' context, one-hot over CONTEXTS, and when `lex_dim` > 0 `lex_scale` times the hashed
    word flags (word_flags: the `lex_window` words either side of the name and the sentence's words)."""

    labels: tuple[str, ...]
    coef: np.ndarray        # (labels, features)
    intercept: np.ndarray   # (labels,)
    embedding: str          # the embedding model it was fitted on
    dim: int                # its vectors' dimension
    window: int
    cue_scale: float
    rule_scale: float
    lex_dim: int = 0
    lex_window: int = 0
    lex_scale: float = 0.0
    card: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def version(self) -> str:
        h = hashlib.sha1(json.dumps([self.labels, self.embedding, self.window, self.cue_scale, self.rule_scale]
                                    + ([self.lex_dim, self.lex_window, self.lex_scale] if self.lex_dim else [])).encode())
        h.update(np.ascontiguousarray(self.coef, dtype=np.float32).tobytes())
        h.update(np.ascontiguousarray(self.intercept, dtype=np.float32).tobytes())
        return f"competitor_context-head-{h.hexdigest()[:8]}"

    def probabilities(self, vectors: np.ndarray, mentions: Sequence[Mention], partners: Sequence[bool]) -> np.ndarray:
        """Each mention's probability per label; `vectors` from `encode_mentions(..., self.window)`."""
        if len(mentions) == 0:
            return np.zeros((0, len(self.labels)))
        features = context_features(vectors, mentions, partners, self.cue_scale, self.rule_scale,
                                    self.lex_dim, self.lex_window, self.lex_scale)
        logits = features @ self.coef.T + self.intercept
        logits -= logits.max(axis=1, keepdims=True)
        e = np.exp(logits)
        return e / e.sum(axis=1, keepdims=True)

    def predict(self, vectors: np.ndarray, mentions: Sequence[Mention], partners: Sequence[bool]) -> list[str]:
        """The most probable context per mention; "integration" only where `partners` says so, and
        never "switching" where the move to the name is denied (competitor_cues.move_denied, as in the rules)."""
        probs = self.probabilities(vectors, mentions, partners)
        if "integration" in self.labels:
            probs[[not p for p in partners], self.labels.index("integration")] = -1.0
        if "switching" in self.labels:
            probs[[denied_move(m) for m in mentions], self.labels.index("switching")] = -1.0
        return [self.labels[i] for i in probs.argmax(axis=1)]


def denied_move(mention: Mention) -> bool:
    """The words before the name deny a move to it: "we are NOT moving to X", "not switching to X yet"."""
    masked = mention.masked or mention.sentence
    at = masked.find(MASK)
    return at >= 0 and move_denied(masked[:at])


def around_name(masked: str, window: int) -> str:
    """The `window` words either side of the masked name (the whole text if the mask is missing)."""
    at = masked.find(MASK)
    if at < 0:
        return masked
    return " ".join([*masked[:at].split()[-window:], MASK, *masked[at + len(MASK):].split()[:window]])


def encode_mentions(embedder: Embedder, mentions: Sequence[Mention], window: int) -> np.ndarray:
    """The head's vectors per mention (one encode call): its masked sentence, and when `window` > 0
    beside it the words around the name."""
    sentences = [m.masked or m.sentence for m in mentions]
    if not window:
        return np.asarray(embedder.encode(sentences))
    vectors = np.asarray(embedder.encode(sentences + [around_name(s, window) for s in sentences]))
    return np.hstack([vectors[:len(sentences)], vectors[len(sentences):]])


def word_flags(before: str, after: str, window: int, dim: int) -> np.ndarray:
    """`dim` hashed 0/1 flags (CRC-32, stable across runs and machines) of the words and word pairs
    among the `window` words before and after the name (marked by side: "went with" before the
    name is not "went with" after it) and of every word of the sentence."""
    near_before = WORD.findall(before.lower())[-window:]
    near_after = WORD.findall(after.lower())[:window]
    grams = [f"b:{w}" for w in near_before] + [f"a:{w}" for w in near_after]
    grams += [f"b2:{x} {y}" for x, y in zip(near_before, near_before[1:])]
    grams += [f"a2:{x} {y}" for x, y in zip(near_after, near_after[1:])]
    grams += [f"s:{w}" for w in WORD.findall(f"{before} {after}".lower())]
    flags = np.zeros(dim)
    for gram in grams:
        flags[zlib.crc32(gram.encode()) % dim] = 1.0
    return flags


def context_features(vectors: np.ndarray, mentions: Sequence[Mention], partners: Sequence[bool], cue_scale: float,
                     rule_scale: float, lex_dim: int = 0, lex_window: int = 0, lex_scale: float = 0.0) -> np.ndarray:
    """The head's inputs: the vectors, `cue_scale` times the cue flags (competitor_cues.cue_flags),
    `rule_scale` times the rules' context, one-hot over CONTEXTS, and `lex_scale` times the
    `lex_dim` hashed word flags (word_flags; none when `lex_dim` is 0)."""
    cues = np.zeros((len(mentions), CUE_FEATURES))
    onehot = np.zeros((len(mentions), len(CONTEXTS)))
    words = np.zeros((len(mentions), lex_dim))
    for i, (m, partner) in enumerate(zip(mentions, partners)):
        masked = m.masked or m.sentence
        at = masked.find(MASK)
        before, after = (masked[:at], masked[at + len(MASK):]) if at >= 0 else ("", masked)
        cues[i] = cue_flags(before, after, partner)
        onehot[i, CONTEXTS.index(m.context)] = 1.0
        if lex_dim:
            words[i] = word_flags(before, after, lex_window, lex_dim)
    return np.hstack([np.asarray(vectors, dtype=np.float64).reshape(len(mentions), -1), cue_scale * cues,
                      rule_scale * onehot, lex_scale * words])


def fit_context_head(vectors: np.ndarray, mentions: Sequence[Mention], partners: Sequence[bool],
                     labels: Sequence[str], embedding: str, c: float, window: int, cue_scale: float,
                     rule_scale: float, card: dict[str, Any] | None = None, balanced: bool = False,
                     lex_dim: int = 0, lex_window: int = 0, lex_scale: float = 0.0) -> ContextHead:
    """Fit the head (L2 logistic regression) on the mentions' vectors (`encode_mentions` with the
    same `window`), their rules' contexts, cues and (when `lex_dim` > 0) hashed word flags, and
    the true contexts `labels`. `balanced`
    weighs each context inversely to its count (the neutral `other` is the rarest), so that a
    frequent context's prior does not decide the mentions the features leave close.

    Raises:
        ValueError: a label is not a context.
    """
    from sklearn.linear_model import LogisticRegression   # only training needs scikit-learn here

    unknown = sorted(set(labels) - set(CONTEXTS))
    if unknown:
        raise ValueError(f"unknown competitor context(s) {unknown}; expected one of {CONTEXTS}")
    features = context_features(vectors, mentions, partners, cue_scale, rule_scale, lex_dim, lex_window, lex_scale)
    model = LogisticRegression(C=c, max_iter=3000, class_weight="balanced" if balanced else None).fit(
        features, list(labels))
    coef, intercept = model.coef_, model.intercept_
    if len(model.classes_) == 2:   # scikit-learn keeps one row for two classes
        coef, intercept = np.vstack([-coef, coef]), np.array([-intercept[0], intercept[0]])
    dim = int(np.asarray(vectors).shape[1]) // (2 if window else 1)
    return ContextHead(tuple(str(x) for x in model.classes_), coef.astype(np.float32), intercept.astype(np.float32),
                       embedding, dim, window, cue_scale, rule_scale, lex_dim, lex_window, lex_scale, card or {})


def save_context_head(head: ContextHead, path: Path = SHIPPED) -> None:
    """Write `path` (JSON: labels, settings, version, card) and the weights beside it (.npz)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path.with_suffix(".npz"), coef=head.coef.astype(np.float32), intercept=head.intercept.astype(np.float32))
    meta = {"format": FORMAT, "task": "competitor_context", "version": head.version, "labels": list(head.labels),
            "embedding": head.embedding, "dim": head.dim, "window": head.window, "cue_scale": head.cue_scale,
            "rule_scale": head.rule_scale, "lex_dim": head.lex_dim, "lex_window": head.lex_window,
            "lex_scale": head.lex_scale, "mask": MASK, "card": head.card}
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
        labels = tuple(meta.get("labels") or ())
        dim, window = int(meta["dim"]), int(meta["window"])
        cue_scale, rule_scale = float(meta["cue_scale"]), float(meta["rule_scale"])
        lex_dim, lex_window, lex_scale = int(meta.get("lex_dim", 0)), int(meta.get("lex_window", 0)), float(
            meta.get("lex_scale", 0.0))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"cannot read the competitor context head {path}: {exc}") from exc
    width = dim * (2 if window else 1) + CUE_FEATURES + len(CONTEXTS) + lex_dim
    if meta.get("format") not in FORMATS or not set(labels) <= set(CONTEXTS) or coef.shape != (len(labels), width):
        raise ValueError(f"{path}: not a competitor context head of format {FORMATS} with {width} features")
    return ContextHead(labels, coef, intercept, str(meta.get("embedding", "")), dim, window, cue_scale, rule_scale,
                       lex_dim, lex_window, lex_scale, meta.get("card") or {})


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
    is_partner = [partners.get(m.name, False) for m in flat]
    contexts = iter(head.predict(encode_mentions(embedder, flat, head.window), flat, is_partner))
    out = []
    for ms in found:
        row = []
        for m in ms:
            context = next(contexts)
            row.append(replace(m, context=context, competitive=is_competitive(context, partners.get(m.name, False))))
        out.append(row)
    return out

"""The trained feature-request detector: it decides whether a text asks for something new; the
rules (csintel.classify.requests) still say what is asked for, and request_groups names it.

The model reads three views of a ticket in one logistic regression: its sentence embedding (the
vectors the pipeline already has) with the rules' cue features, TF-IDF word and character
n-grams of the whole text, and word n-grams of its opening line (an issue's title, a ticket's
subject), as csintel.classify.lexical keeps them. It is trained on more classes than it reports
(bug, feature, question from GitHub issues; request or not from support text): telling a bug
report from a question is part of telling either from an ask. P(request) is the softmax
probability of the `request` class.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Sequence

import numpy as np
from scipy import sparse

from csintel.classify.lexical import Lexicon
from csintel.classify.request_groups import capability_name
from csintel.classify.requests import (
    HOWTO_QUESTION, NO_REQUEST, RULES, RULES_FILE, RequestResult, RequestRules, detect_request,
)
from csintel.config import SHIPPED_MODELS

REQUEST = "feature"   # the class that is a request (NLBSE'24's name for it)
FORMAT = 2            # 1: binary, hashed n-grams; 2: classes, lexicons of the text and of its opening line


def rule_features(texts: Sequence[str], rules: RequestRules = RULES,
                  said: Sequence[RequestResult] | None = None) -> np.ndarray:
    """The detector's cue features: the rules' decision, then each `features` pattern (0/1)."""
    said = said if said is not None else [detect_request(t) for t in texts]
    rows = [[float(r.is_request), *(float(bool(p.search(t or ""))) for _, p in rules.features)]
            for t, r in zip(texts, said)]
    return np.array(rows, dtype=np.float64).reshape(len(texts), 1 + len(rules.features))


def feature_names(rules: RequestRules = RULES) -> list[str]:
    return ["rules", *(name for name, _ in rules.features)]


def opening_line(text: str) -> str:
    """The title of an issue, the subject of a ticket: the text's first non-empty line."""
    return next((line for line in (text or "").splitlines() if line.strip()), "")


@dataclass(frozen=True)
class RequestHead:
    """A trained request detector: multinomial logistic regression over [embedding, cue features x
    `feature_scale`, text n-grams x `lexical_weight`, opening-line n-grams x `title_weight`].
    It decides whether a text asks for something new; the rules still say what is asked for.
    """

    classes: tuple[str, ...]    # the classes it was trained on, REQUEST among them
    coef: np.ndarray            # (classes, dim + cue features): the dense part
    lex_coef: np.ndarray        # (classes, len(lexicon)): n-grams of the whole text
    title_coef: np.ndarray      # (classes, len(title_lexicon)): n-grams of the opening line
    intercept: np.ndarray       # (classes,)
    lexicon: Lexicon
    title_lexicon: Lexicon
    threshold: float            # P(request) at or above which a rule-found ask stands (chosen by cross-validation)
    alone_threshold: float      # ... and an ask no rule found (chosen by cross-validation)
    feature_scale: float
    lexical_weight: float
    title_weight: float
    features: tuple[str, ...]   # the cue features' names, in order (must match the rules file's)
    embedding: str              # the embedding model it was fitted on
    card: dict[str, Any]

    @property
    def dim(self) -> int:
        return int(self.coef.shape[1]) - len(self.features)

    @property
    def version(self) -> str:
        h = hashlib.sha1(json.dumps([self.classes, self.threshold, self.alone_threshold, self.feature_scale,
                                     self.lexical_weight, self.title_weight, self.features,
                                     self.embedding]).encode())
        for array in (self.coef, self.lex_coef, self.title_coef, self.intercept):
            h.update(np.ascontiguousarray(array, dtype=np.float32).tobytes())
        h.update(self.lexicon.digest_bytes() + self.title_lexicon.digest_bytes())
        return f"feature_request-head-{h.hexdigest()[:8]}"

    def design(self, vectors: np.ndarray, cues: np.ndarray, texts: Sequence[str]) -> sparse.csr_matrix:
        """The model's input rows: [embedding, scaled cues, weighted n-grams of the text, of its opening line]."""
        dense = np.hstack([np.asarray(vectors, dtype=np.float64), self.feature_scale * np.asarray(cues, np.float64)])
        return sparse.hstack([sparse.csr_matrix(dense), self.lexical_weight * self.lexicon.transform(texts),
                              self.title_weight * self.title_lexicon.transform([opening_line(t) for t in texts])],
                             format="csr")

    def with_weights(self, weights: np.ndarray, intercept: np.ndarray, classes: Sequence[str]) -> "RequestHead":
        """This head with the coefficients of a model fitted on `design` rows (one row per class, or
        one row for two classes, as scikit-learn gives them)."""
        weights, intercept = np.atleast_2d(weights), np.atleast_1d(intercept)
        if len(classes) == 2 and weights.shape[0] == 1:   # binary: softmax over (0, w) is the sigmoid of w
            weights, intercept = np.vstack([np.zeros_like(weights), weights]), np.concatenate([[0.0], intercept])
        dense = self.coef.shape[1]
        split = (dense, dense + len(self.lexicon))
        return replace(self, classes=tuple(str(c) for c in classes), coef=weights[:, :split[0]],
                       lex_coef=weights[:, split[0]:split[1]], title_coef=weights[:, split[1]:],
                       intercept=np.asarray(intercept, dtype=np.float64))

    def probabilities(self, vectors: np.ndarray, cues: np.ndarray, texts: Sequence[str]) -> np.ndarray:
        """P(request) per text."""
        if len(vectors) == 0:
            return np.zeros(0)
        weights = np.hstack([self.coef, self.lex_coef, self.title_coef])
        logits = np.asarray(self.design(vectors, cues, texts) @ weights.T) + self.intercept
        logits -= logits.max(axis=1, keepdims=True)
        exp = np.exp(logits)
        return (exp[:, self.classes.index(REQUEST)] / exp.sum(axis=1)).ravel()


def blank_head(lexicon: Lexicon, title_lexicon: Lexicon, dim: int, classes: Sequence[str], embedding: str,
               feature_scale: float = 1.0, lexical_weight: float = 1.0, title_weight: float = 1.0) -> RequestHead:
    """A head with zero weights over these lexicons: its `design` gives the rows to fit, `with_weights` the result."""
    n, dense = len(classes), dim + len(feature_names())
    return RequestHead(tuple(classes), np.zeros((n, dense)), np.zeros((n, len(lexicon))),
                       np.zeros((n, len(title_lexicon))), np.zeros(n), lexicon, title_lexicon, 0.5, 0.5,
                       feature_scale, lexical_weight, title_weight, tuple(feature_names()), embedding, {})


HEAD_FILE = SHIPPED_MODELS / "heads" / "feature_request.json"


def save_request_head(head: RequestHead, folder: Path) -> Path:
    """Write feature_request.json (settings, card) and feature_request.npz (weights, lexicons) into `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    lexicons: dict[str, Any] = {**head.lexicon.arrays(), **{f"title_{k}": v for k, v in head.title_lexicon.arrays().items()}}
    np.savez_compressed(folder / "feature_request.npz", coef=head.coef.astype(np.float32),
                        lex_coef=head.lex_coef.astype(np.float32), title_coef=head.title_coef.astype(np.float32),
                        intercept=head.intercept.astype(np.float32), **lexicons)
    stored = load_arrays(head, folder / "feature_request.npz")   # the version of what is on disk (float32)
    meta = {"format": FORMAT, "task": "feature_request", "version": stored.version, "classes": list(head.classes),
            "threshold": head.threshold, "alone_threshold": head.alone_threshold,
            "feature_scale": head.feature_scale, "lexical_weight": head.lexical_weight,
            "title_weight": head.title_weight, "features": list(head.features), "embedding": head.embedding,
            "dim": head.dim, "lexicon": {"words": len(head.lexicon.words), "chars": len(head.lexicon.chars),
                                         "title_words": len(head.title_lexicon.words),
                                         "title_chars": len(head.title_lexicon.chars)},
            "card": head.card}
    path = folder / "feature_request.json"
    path.write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    return path


def load_arrays(head: RequestHead, path: Path) -> RequestHead:
    """`head` with the weights and lexicons of the .npz at `path`."""
    with np.load(path) as arrays:
        title = {k[len("title_"):]: arrays[k] for k in arrays.files if k.startswith("title_lex_")}
        return replace(head, coef=arrays["coef"], lex_coef=arrays["lex_coef"], title_coef=arrays["title_coef"],
                       intercept=arrays["intercept"], lexicon=Lexicon.from_arrays(arrays),
                       title_lexicon=Lexicon.from_arrays(title))


def load_request_head(path: Path = HEAD_FILE) -> RequestHead:
    """Read a request head saved by `save_request_head`.

    Raises:
        ValueError: an unreadable head, one of another format, or one trained on other cue features
            than the rules file's.
    """
    try:
        meta = json.loads(Path(path).read_text(encoding="utf-8"))
        if meta.get("format") != FORMAT:
            raise ValueError(f"format {meta.get('format')}, this csintel reads format {FORMAT}")
        empty = Lexicon((), np.zeros(0), (), np.zeros(0))
        head = load_arrays(RequestHead(
            tuple(meta["classes"]), np.zeros(0), np.zeros(0), np.zeros(0), np.zeros(0), empty, empty,
            float(meta["threshold"]), float(meta["alone_threshold"]), float(meta["feature_scale"]),
            float(meta["lexical_weight"]), float(meta["title_weight"]), tuple(meta["features"]),
            str(meta["embedding"]), dict(meta.get("card") or {})), Path(path).with_suffix(".npz"))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"cannot read the feature-request head {path}: {exc}") from exc
    if list(head.features) != feature_names():
        raise ValueError(f"{path}: trained on cue features {list(head.features)}, but "
                         f"{RULES_FILE.name} defines {feature_names()}: retrain it (benchmarks/eval_requests.py)")
    n = len(head.classes)
    if (REQUEST not in head.classes or head.coef.shape != (n, int(meta["dim"]) + len(head.features))
            or head.lex_coef.shape != (n, len(head.lexicon)) or head.title_coef.shape != (n, len(head.title_lexicon))
            or head.intercept.shape != (n,)):
        raise ValueError(f"{path}: weights of shape {head.coef.shape}, {head.lex_coef.shape}, "
                         f"{head.title_coef.shape} do not match its settings")
    return head


class RequestDetector:
    """Feature requests for a batch: the trained head decides, the rules name the ask.

    Without a head that fits the embedder (another model, another dimension) the rules decide alone.
    """

    def __init__(self, head: RequestHead | None = None) -> None:
        self.head = head

    @classmethod
    def for_embedder(cls, embedding: str, dim: int, path: Path = HEAD_FILE) -> "RequestDetector":
        """The shipped head when it was trained on this embedding model (any backend of it), else rules only."""
        if not Path(path).is_file():
            return cls(None)
        head = load_request_head(path)
        same = head.dim == dim and head.embedding.split("+", 1)[0] == embedding.split("+", 1)[0]
        return cls(head if same else None)

    @property
    def version(self) -> str:
        """The rules file's content and the head's weights: a change of either is a new tags version."""
        return f"{RULES.version}-{RULES.digest}" + (f"+{self.head.version}" if self.head is not None else "")

    def probabilities(self, texts: Sequence[str], vectors: np.ndarray,
                      said: Sequence[RequestResult] | None = None) -> np.ndarray | None:
        """P(request) per text, or None without a head."""
        if self.head is None:
            return None
        said = said if said is not None else [detect_request(t) for t in texts]
        return self.head.probabilities(vectors, rule_features(texts, said=said), texts)

    def detect(self, texts: Sequence[str], vectors: np.ndarray) -> list[RequestResult]:
        """One result per text; `vectors` are the texts' embeddings (as the Enricher has them)."""
        said = [detect_request(t) for t in texts]
        probs = self.probabilities(texts, vectors, said)
        ruled = np.array([r.is_request for r in said], dtype=bool)
        standing = ruled if probs is None or self.head is None else stands(
            probs, ruled, howto_questions(texts), self.head.threshold, self.head.alone_threshold)
        return [RequestResult(True, capability_name(rule.phrase if rule.is_request else None, text), rule.cue or "model")
                if ask else NO_REQUEST for text, rule, ask in zip(texts, said, standing)]


def howto_questions(texts: Sequence[str]) -> np.ndarray:
    return np.array([bool(HOWTO_QUESTION.search(t or "")) for t in texts], dtype=bool)


def stands(probs: np.ndarray, ruled: np.ndarray, howto: np.ndarray, threshold: float,
           alone_threshold: float) -> np.ndarray:
    """Which asks stand: one the rules found when P(request) >= `threshold` (the model may still say
    it is none: "Any ETA on a fix?"); one they did not (no cue: a GitHub-style title) when
    P(request) >= `alone_threshold` and it is no how-to question ("Is there a way to filter by
    stage?" asks about what exists, not for more)."""
    probs = np.asarray(probs)
    return np.where(ruled, probs >= threshold, (probs >= alone_threshold) & ~howto)

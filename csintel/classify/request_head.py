"""The trained feature-request detector: it decides whether a text asks for something new; the
rules (csintel.classify.requests) still say what is asked for, and request_groups names it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from csintel.classify.request_groups import capability_name
from csintel.classify.requests import (
    HOWTO_QUESTION, NO_REQUEST, RULES, RULES_FILE, RequestResult, RequestRules, detect_request,
)
from csintel.config import SHIPPED_MODELS

def rule_features(texts: Sequence[str], rules: RequestRules = RULES,
                  said: Sequence[RequestResult] | None = None) -> np.ndarray:
    """The detector's cue features: the rules' decision, then each `features` pattern (0/1)."""
    said = said if said is not None else [detect_request(t) for t in texts]
    rows = [[float(r.is_request), *(float(bool(p.search(t or ""))) for _, p in rules.features)]
            for t, r in zip(texts, said)]
    return np.array(rows, dtype=np.float64).reshape(len(texts), 1 + len(rules.features))


def feature_names(rules: RequestRules = RULES) -> list[str]:
    return ["rules", *(name for name, _ in rules.features)]


NGRAM_FEATURES = 2 ** 16   # hashed word uni- and bigrams per field (the whole text, its opening line)


def hashed_ngrams(texts: Sequence[str], idf: np.ndarray) -> Any:
    """TF-IDF of hashed word 1-2-grams (sublinear tf, L2-normalised rows), as a sparse matrix.

    Hashing needs no vocabulary to ship: only `idf`, one weight per hash bucket.
    """
    from sklearn.feature_extraction.text import HashingVectorizer

    counts = HashingVectorizer(n_features=len(idf), ngram_range=(1, 2), alternate_sign=False,
                               norm=None).transform([t or "" for t in texts]).tocsr().astype(np.float64)
    counts.data = 1.0 + np.log(counts.data)
    weighted = counts.multiply(idf.reshape(1, -1)).tocsr()
    norms = np.sqrt(np.asarray(weighted.multiply(weighted).sum(axis=1))).ravel()
    norms[norms == 0] = 1.0
    return weighted.multiply((1.0 / norms).reshape(-1, 1)).tocsr()


def opening_line(text: str) -> str:
    """The title of an issue, the subject of a ticket: the text's first non-empty line."""
    return next((line for line in (text or "").splitlines() if line.strip()), "")


@dataclass(frozen=True)
class RequestHead:
    """A trained request detector: logistic regression on the ticket's embedding, the cue features
    (scaled by `feature_scale`) and hashed n-grams of the whole text and of its opening line
    (weighted by `ngram_weight`). It decides whether a text asks for something new; the rules
    still say what is asked for.
    """

    coef: np.ndarray            # (dim + cue features,): the dense part
    ngram_coef: np.ndarray      # (2, NGRAM_FEATURES): whole text, opening line
    idf: np.ndarray             # (2, NGRAM_FEATURES)
    intercept: float
    threshold: float            # P(request) at or above which a rule-found ask stands (chosen on validation)
    alone_threshold: float      # ... and an ask no rule found (no cue: a GitHub-style title) (chosen on validation)
    feature_scale: float
    ngram_weight: float
    features: tuple[str, ...]   # the cue features' names, in order (must match the rules file's)
    embedding: str              # the embedding model it was fitted on
    card: dict[str, Any]

    @property
    def dim(self) -> int:
        return int(self.coef.shape[0]) - len(self.features)

    @property
    def version(self) -> str:
        h = hashlib.sha1(json.dumps([self.intercept, self.threshold, self.alone_threshold, self.feature_scale,
                                     self.ngram_weight,
                                     self.features, self.embedding]).encode())
        for array in (self.coef, self.ngram_coef, self.idf):
            h.update(np.ascontiguousarray(array, dtype=np.float32).tobytes())
        return f"feature_request-head-{h.hexdigest()[:8]}"

    def design(self, vectors: np.ndarray, cues: np.ndarray, texts: Sequence[str]) -> Any:
        """The model's input rows: [embedding, scaled cues, weighted n-grams of text, of opening line]."""
        from scipy import sparse

        dense = np.hstack([np.asarray(vectors, dtype=np.float64), self.feature_scale * np.asarray(cues, np.float64)])
        return sparse.hstack([sparse.csr_matrix(dense),
                              self.ngram_weight * hashed_ngrams(texts, self.idf[0]),
                              self.ngram_weight * hashed_ngrams([opening_line(t) for t in texts], self.idf[1])]
                             ).tocsr()

    def probabilities(self, vectors: np.ndarray, cues: np.ndarray, texts: Sequence[str]) -> np.ndarray:
        if len(vectors) == 0:
            return np.zeros(0)
        weights = np.concatenate([self.coef, self.ngram_coef.ravel()])
        logits = self.design(vectors, cues, texts) @ weights + self.intercept
        return 1.0 / (1.0 + np.exp(-np.asarray(logits).ravel()))


HEAD_FILE = SHIPPED_MODELS / "heads" / "feature_request.json"


def save_request_head(head: RequestHead, folder: Path) -> Path:
    """Write feature_request.json (settings, card) and feature_request.npz (weights) into `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    stored = RequestHead(head.coef.astype(np.float32), head.ngram_coef.astype(np.float32),
                         head.idf.astype(np.float32), head.intercept, head.threshold, head.alone_threshold,
                         head.feature_scale,
                         head.ngram_weight, head.features, head.embedding, head.card)
    np.savez_compressed(folder / "feature_request.npz", coef=stored.coef, ngram_coef=stored.ngram_coef,
                        idf=stored.idf)
    meta = {"format": 1, "task": "feature_request", "version": stored.version, "intercept": head.intercept,
            "threshold": head.threshold, "alone_threshold": head.alone_threshold, "feature_scale": head.feature_scale, "ngram_weight": head.ngram_weight,
            "features": list(head.features), "embedding": head.embedding, "dim": head.dim, "card": head.card}
    path = folder / "feature_request.json"
    path.write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    return path


def load_request_head(path: Path = HEAD_FILE) -> RequestHead:
    """Read a request head saved by `save_request_head`.

    Raises:
        ValueError: an unreadable head, or one trained on other cue features than the rules file's.
    """
    try:
        meta = json.loads(Path(path).read_text(encoding="utf-8"))
        with np.load(Path(path).with_suffix(".npz")) as arrays:
            coef, ngram_coef, idf = arrays["coef"], arrays["ngram_coef"], arrays["idf"]
    except (OSError, ValueError, KeyError) as exc:
        raise ValueError(f"cannot read the feature-request head {path}: {exc}") from exc
    if list(meta.get("features", [])) != feature_names():
        raise ValueError(f"{path}: trained on cue features {meta.get('features')}, but "
                         f"{RULES_FILE.name} defines {feature_names()}: retrain it (benchmarks/eval_requests.py)")
    head = RequestHead(coef, ngram_coef, idf, float(meta["intercept"]), float(meta["threshold"]),
                       float(meta["alone_threshold"]), float(meta["feature_scale"]), float(meta["ngram_weight"]), tuple(meta["features"]),
                       str(meta["embedding"]), dict(meta.get("card") or {}))
    if coef.shape != (int(meta["dim"]) + len(head.features),) or ngram_coef.shape != idf.shape:
        raise ValueError(f"{path}: weights of shape {coef.shape}, {ngram_coef.shape} do not match its settings")
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
        out = []
        for i, (text, rule) in enumerate(zip(texts, said)):
            if probs is None or self.head is None:
                is_request = rule.is_request
            elif rule.is_request:
                # The rules found an ask; the model may still say it is none ("Any ETA on a fix?").
                is_request = bool(probs[i] >= self.head.threshold)
            else:
                # No cue: the model alone, surer, and never for a how-to question ("Is there a way
                # to filter by stage?" is a question about what exists, not an ask for more).
                is_request = bool(probs[i] >= self.head.alone_threshold) and not HOWTO_QUESTION.search(text)
            if not is_request:
                out.append(NO_REQUEST)
                continue
            phrase = rule.phrase if rule.is_request else None
            out.append(RequestResult(True, capability_name(phrase, text), rule.cue or "model"))
        return out

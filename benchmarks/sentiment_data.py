"""The sentiment training mix: public labelled sets of several domains plus the project's own tickets.

One place for what `train_sentiment.py` fits on and `eval_sentiment.py` reports, so both read the
same rows and hit the same embedding cache (public_data.embed caches per list of texts: texts are
encoded in fixed chunks of CHUNK).

| source | domain | train | val | test (held out) |
|---|---|---|---|---|
| SemEval-2017 4A gold, 2013-2016 | tweets | all 48k (de-duplicated) | TweetEval val | TweetEval test |
| Twitter US Airline Sentiment | customers tweeting at airlines | 80% slice | 10% slice | 10% slice |
| Financial PhraseBank | financial news sentences | all (~4.2k) | 10% slice | 10% slice |
| data/train + data/eval tickets.csv | support tickets (written by this project) | data/train | seeded 25% of data/train | data/eval |

TRAIN_CAP can cap a source's training rows (a seeded, stratified sample) for quicker runs.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import public_data as p  # noqa: E402

CHUNK = 4000
TRAIN_CAP = {"semeval17_sentiment": 10**9, "airline_sentiment": 10**9, "financial_phrasebank": 10**9}
SOURCES = ("semeval17_sentiment", "airline_sentiment", "financial_phrasebank", "tickets")


def subsample(split: p.Split, cap: int, seed: int) -> p.Split:
    """A seeded, label-stratified sample of at most `cap` rows (the split itself when smaller)."""
    if len(split) <= cap:
        return split
    _, sample = p._val_slice(split, share=cap / len(split), seed=seed)
    return sample


def tickets() -> dict[str, p.Split]:
    """The project's hand-written tickets: data/train (minus a seeded quarter for validation), data/eval as test."""
    def read(path: Path) -> p.Split:
        with open(path, newline="", encoding="utf-8") as f:
            rows = [r for r in csv.DictReader(f) if r.get("sentiment")]
        return p.Split([r["text"] for r in rows], [r["sentiment"] for r in rows])
    train, val = p._val_slice(read(p.REPO_ROOT / "data" / "train" / "tickets.csv"), share=0.25, seed=4)
    return {"train": train, "val": val, "test": read(p.REPO_ROOT / "data" / "eval" / "tickets.csv")}


def load(source: str) -> dict[str, p.Split]:
    """train / val / test of one source, training rows capped as TRAIN_CAP says."""
    data = tickets() if source == "tickets" else getattr(p, source)()
    if source in TRAIN_CAP:
        data["train"] = subsample(data["train"], TRAIN_CAP[source], seed=0)
    return data


def rule_features(texts: list[str]) -> np.ndarray:
    """csintel's sentiment rule evidence (FEATURES) per text, cached on disk beside the embeddings and
    keyed by the texts and the content of every rules file, so a rules change recomputes it."""
    import hashlib
    import os

    from csintel.classify.sentiment import sentiment_features

    rules = b"".join(f.read_bytes() for f in sorted((p.REPO_ROOT / "models" / "rules").glob("*.yaml")))
    rules += (p.REPO_ROOT / "csintel" / "classify" / "sentiment.py").read_bytes()
    rules += (p.REPO_ROOT / "csintel" / "classify" / "churn.py").read_bytes()
    key = hashlib.sha256(rules + "\x1f".join(texts).encode()).hexdigest()[:24]
    path = p.CACHE_DIR / f"rules-{key}.npy"
    if path.exists():
        return np.load(path)
    out = np.array([sentiment_features(t) for t in texts], dtype=np.float64).reshape(len(texts), -1)
    p.CACHE_DIR.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp.npy")
    np.save(tmp, out)
    os.replace(tmp, path)
    return out


def embed(texts: list[str]) -> np.ndarray:
    """public_data.embed in fixed chunks (so a partly encoded set is reused after an interruption)."""
    if not texts:
        return np.zeros((0, 384), dtype=np.float32)
    return np.vstack([p.embed(texts[i:i + CHUNK]) for i in range(0, len(texts), CHUNK)])

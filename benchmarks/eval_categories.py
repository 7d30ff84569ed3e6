"""Category heads on public data: the hybrid head (embedding + TF-IDF n-grams, recipe, temperature and
abstention chosen on validation) against TF-IDF + logistic regression trained on the same rows.

Run: .venv/bin/python benchmarks/eval_categories.py [--sets banking77_8,banking77,clinc150,it_tickets]
Writes benchmarks/results/eval_categories.json. Every head and baseline is fitted on `train`,
tuned on `val` (recipe, temperature, abstention threshold), and scored once on `test`; the data,
their sources and splits are in data/README.md (none of them written by this project).

- banking77_8: 8 examples per label drawn from Banking77's train (seed 0); val = Banking77's val.
- banking77: all 9,003 training rows.
- clinc150: trained on the 15,000 in-scope rows; the default abstention threshold comes from
  held-out classes on the in-scope val rows (no out-of-scope row is seen before the test). The
  test has 4,500 in-scope and 1,000 out-of-scope rows: in-scope accuracy counts an abstention as
  wrong, out-of-scope recall counts it as right (the CLINC150 paper's measures). A second variant
  chooses the threshold with val's 100 out-of-scope rows instead.
- it_tickets: IT helpdesk tickets in 8 topic groups (jargon, codes, system names).

Accuracy and macro F1 are top-label (no abstention) on the in-scope test rows, for head and
baseline alike; ECE is the calibrated confidence of the top label on the same rows.
Embeddings: the packaged all-MiniLM-L6-v2 run as ONNX int8 (the shipped default backend),
through public_data.embed's shared cache.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
import public_data  # noqa: E402

from csintel.classify.evaluation import score, tfidf_baseline  # noqa: E402
from csintel.classify.heads import Head, expected_calibration_error, train_head  # noqa: E402

RESULTS = Path(__file__).parent / "results" / "eval_categories.json"
SETS = ("banking77_8", "banking77", "clinc150", "it_tickets")
OOS = "oos"


class CachedEmbedder:
    """The embedder interface over public_data.embed (cached vectors, the int8 ONNX backend)."""

    name = "all-MiniLM-L6-v2+onnx-int8"
    dim = 384

    def encode(self, texts: list[str]) -> np.ndarray:
        return public_data.embed(list(texts)) if texts else np.zeros((0, self.dim), dtype=np.float32)


def per_label(split: public_data.Split, k: int, seed: int) -> public_data.Split:
    rng = np.random.default_rng(seed)
    rows: dict[str, list[int]] = {}
    for i, label in enumerate(split.labels):
        rows.setdefault(label, []).append(i)
    pick = sorted(j for label in sorted(rows) for j in rng.choice(rows[label], k, replace=False))
    return public_data.Split([split.texts[i] for i in pick], [split.labels[i] for i in pick])


def data(name: str) -> dict[str, public_data.Split]:
    if name == "banking77_8":
        d = public_data.banking77()
        return {**d, "train": per_label(d["train"], 8, seed=0)}
    if name == "banking77":
        return public_data.banking77()
    if name == "clinc150":
        full = public_data.clinc150(with_oos=True)
        inscope = {k: public_data.Split([t for t, lab in zip(v.texts, v.labels) if lab != OOS],
                                        [lab for lab in v.labels if lab != OOS]) for k, v in full.items()}
        return {"train": inscope["train"], "val": inscope["val"], "val_oos": full["val"], "test": full["test"]}
    if name == "it_tickets":
        return public_data.it_tickets()
    raise SystemExit(f"unknown set {name}: one of {', '.join(SETS)}")


def head_figures(head: Head, test: public_data.Split, vectors: np.ndarray) -> dict[str, Any]:
    """Top-label accuracy/macro F1/ECE on in-scope rows; with abstention, in-scope accuracy and OOS recall."""
    started = time.perf_counter()
    probs = head.probabilities(vectors, test.texts)
    predict_s = time.perf_counter() - started
    top = np.array([head.labels[i] for i in probs.argmax(axis=1)])
    confidence = probs.max(axis=1)
    truth = np.array(test.labels)
    inscope = truth != OOS
    scored = score(list(truth[inscope]), list(top[inscope]))
    out = {"accuracy": scored["accuracy"], "macro_f1": scored["macro_f1"],
           "ece": expected_calibration_error(confidence[inscope], top[inscope] == truth[inscope]),
           "threshold": head.min_confidence, "predict_s": round(predict_s, 2)}
    answered = confidence >= head.min_confidence
    out["coverage_inscope"] = round(float(answered[inscope].mean()), 4)
    out["inscope_accuracy_with_abstention"] = round(float(((top == truth) & answered)[inscope].mean()), 4)
    if (~inscope).any():
        out["oos_recall"] = round(float((~answered[~inscope]).mean()), 4)
    return out


def run_set(name: str, embedder: CachedEmbedder) -> dict[str, Any]:
    d = data(name)
    train, val, test = d["train"], d["val"], d["test"]
    result: dict[str, Any] = {"train": len(train), "val": len(val), "test": len(test),
                              "labels": len(set(train.labels))}
    vectors = {k: embedder.encode(v.texts) for k, v in d.items()}

    started = time.perf_counter()
    head = train_head("category", train.texts, train.labels, embedder, vectors=vectors["train"],
                      trained_on=name, validation=(val.texts, val.labels, vectors["val"]))
    result["head"] = {"fit_s": round(time.perf_counter() - started, 1), "recipe": head.card["recipe"],
                      "selection": head.card["selection"]["trials"], "abstention": head.card["abstention"],
                      "lexicon": head.card.get("lexicon"), **head_figures(head, test, vectors["test"])}
    print(name, "head", {k: v for k, v in result["head"].items() if k != "selection"}, flush=True)

    if "val_oos" in d:   # the same recipe search, the threshold chosen with val's out-of-scope rows
        started = time.perf_counter()
        with_oos = train_head("category", train.texts, train.labels, embedder, vectors=vectors["train"],
                              trained_on=name, validation=(d["val_oos"].texts, d["val_oos"].labels, vectors["val_oos"]))
        result["head_val_oos_threshold"] = {"fit_s": round(time.perf_counter() - started, 1),
                                            "abstention": with_oos.card["abstention"],
                                            **head_figures(with_oos, test, vectors["test"])}
        print(name, "head (val oos)", result["head_val_oos_threshold"], flush=True)

    started = time.perf_counter()
    baseline = tfidf_baseline(train.texts, train.labels)
    fit_s = time.perf_counter() - started
    truth = np.array(test.labels)
    inscope = truth != OOS
    guessed = baseline([t for t, keep in zip(test.texts, inscope) if keep])
    scored = score(list(truth[inscope]), guessed)
    result["tfidf_lr"] = {"fit_s": round(fit_s, 1), "accuracy": scored["accuracy"], "macro_f1": scored["macro_f1"]}
    print(name, "tfidf+lr", result["tfidf_lr"], flush=True)
    return result


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sets", default=",".join(SETS))
    ap.add_argument("--output", type=Path, default=RESULTS)
    args = ap.parse_args()
    warnings.filterwarnings("ignore")
    embedder = CachedEmbedder()
    out: dict[str, Any] = json.loads(args.output.read_text()) if args.output.exists() else {}
    out["note"] = ("fit on train, recipe/temperature/threshold chosen on val, test reported once; accuracy and "
                   "macro F1 are top-label on in-scope test rows; data not written by this project (data/README.md)")
    out["embedding"] = embedder.name
    for name in args.sets.split(","):
        out.setdefault("sets", {})[name] = run_set(name, embedder)
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()

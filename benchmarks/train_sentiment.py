"""Train the shipped sentiment head on real text of several domains plus support tickets.

Run: .venv/bin/python benchmarks/train_sentiment.py [--output-dir models/heads]; writes the head
(models/heads/sentiment.{json,npz,md}) and benchmarks/results/train_sentiment.json.

Data (benchmarks/sentiment_data.py): SemEval-2017 4A training tweets, Twitter US Airline
Sentiment, Financial PhraseBank and the project's hand-written tickets (data/train). The model is
logistic regression on frozen MiniLM sentence embeddings plus the sentiment rules' evidence
(csintel.classify.sentiment.FEATURES). Splits are kept apart:
- fit on the `train` splits only;
- choose C, the class weighting and the weight of the hand-written tickets on the `val` splits
  (the mean of the four sets' macro recall, so no single domain decides);
- fit the temperature (calibration) on the pooled `val` logits;
- report the `test` splits (TweetEval test, the airline and PhraseBank 10% slices, data/eval)
  as held out: nothing above saw them. benchmarks/eval_sentiment.py reports the shipped head.
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

sys.path.insert(0, str(Path(__file__).resolve().parent))
import sentiment_data as sd  # noqa: E402

from csintel.classify.calibration import expected_calibration_error, fit_temperature  # noqa: E402
from csintel.classify.calibration import softmax as _softmax  # noqa: E402
from csintel.classify.heads import SENTIMENT_LABELS, Head, save_head  # noqa: E402
from csintel.config import SHIPPED_MODELS  # noqa: E402

RESULTS = Path(__file__).parent / "results" / "train_sentiment.json"
# (C, weight of a hand-written ticket, balanced class weights). A first sweep on the 16k-tweet mix
# (C 1, tickets x5) put balanced above unweighted on the mean validation macro recall (0.703 vs
# 0.690); fits are slow on two shared cores, so the grid is kept to the remaining choices.
GRID = ((1.0, 5.0, True), (4.0, 5.0, True), (1.0, 20.0, True))
RULE_SCALE = 1.0


def macro_recall(y: np.ndarray, predicted: np.ndarray) -> float:
    return float(np.mean([np.mean(predicted[y == k] == k) for k in range(len(SENTIMENT_LABELS)) if (y == k).any()]))


def card_details(best: dict[str, Any], temperature: float, held_out: dict[str, Any],
                 counts: dict[str, dict[str, int]]) -> str:
    """What the generic card cannot say: splits, what validation chose, held-out figures."""
    lines = ["", "## How it was trained (benchmarks/train_sentiment.py)", "",
             "The temperature above was fitted on the pooled validation logits (not cross-validation).",
             f"Chosen on validation (mean macro recall of the four sets): C {best['c']}, hand-written tickets "
             f"weighted x{best['ticket_weight']}, balanced class weights; validation macro recall "
             + ", ".join(f"{k} {v}" for k, v in best["val_macro_recall"].items()) + f"; temperature {temperature}.", "",
             "| source | train | val | test | test macro recall | test accuracy | test ECE |", "|---|---|---|---|---|---|---|"]
    for src, c in counts.items():
        h = held_out[src]
        lines.append(f"| {src} | {c['train']} | {c['val']} | {c['test']} | {h['macro_recall']} | {h['accuracy']} | {h['ece']} |")
    return "\n".join(lines + ["", "Test splits: TweetEval test, the airline and PhraseBank 10% slices, data/eval/tickets.csv.", ""])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--output-dir", type=Path, default=SHIPPED_MODELS / "heads")
    ap.add_argument("--results", type=Path, default=RESULTS)
    args = ap.parse_args()
    warnings.filterwarnings("ignore")
    started = time.perf_counter()
    data = {src: sd.load(src) for src in sd.SOURCES}

    def xy(src: str, split: str) -> tuple[np.ndarray, np.ndarray]:
        part = data[src][split]
        rules = sd.rule_features(part.texts)
        x = np.hstack([sd.embed(part.texts).astype(np.float64), RULE_SCALE * rules])
        return x, np.array([SENTIMENT_LABELS.index(lab) for lab in part.labels])

    sets = {(src, split): xy(src, split) for src in sd.SOURCES for split in ("train", "val", "test")}
    print(f"features in {time.perf_counter() - started:.0f} s", flush=True)
    x_train = np.vstack([sets[src, "train"][0] for src in sd.SOURCES])
    y_train = np.concatenate([sets[src, "train"][1] for src in sd.SOURCES])
    is_ticket = np.concatenate([np.full(len(sets[src, "train"][1]), src == "tickets") for src in sd.SOURCES])

    def fit(c: float, ticket_weight: float, balanced: bool) -> tuple[np.ndarray, np.ndarray]:
        from sklearn.linear_model import LogisticRegression

        weights = np.where(is_ticket, ticket_weight, 1.0)
        model = LogisticRegression(C=c, class_weight="balanced" if balanced else None, max_iter=1000)
        model.fit(x_train, y_train, sample_weight=weights)
        return model.coef_, model.intercept_

    grid: list[dict[str, Any]] = []
    fitted: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    for c, tw, balanced in GRID:
        coef, intercept = fit(c, tw, balanced)
        per_set = {src: round(macro_recall(sets[src, "val"][1], (sets[src, "val"][0] @ coef.T + intercept).argmax(1)), 4)
                   for src in sd.SOURCES}
        fitted[len(grid)] = (coef, intercept)
        grid.append({"c": c, "ticket_weight": tw, "balanced": balanced, "val_macro_recall": per_set,
                     "mean": round(float(np.mean(list(per_set.values()))), 4)})
        print(grid[-1], flush=True)
    best_index = max(range(len(grid)), key=lambda i: grid[i]["mean"])
    best = grid[best_index]
    coef, intercept = fitted[best_index]
    val_logits = np.vstack([sets[src, "val"][0] @ coef.T + intercept for src in sd.SOURCES])
    val_y = np.concatenate([sets[src, "val"][1] for src in sd.SOURCES])
    temperature = fit_temperature(val_logits, val_y)

    held_out: dict[str, Any] = {}
    for src in sd.SOURCES:
        x, y = sets[src, "test"]
        probs = _softmax((x @ coef.T + intercept) / temperature)
        predicted = probs.argmax(1)
        held_out[src] = {"n": int(len(y)), "macro_recall": round(macro_recall(y, predicted), 4),
                         "accuracy": round(float(np.mean(predicted == y)), 4),
                         "ece": expected_calibration_error(probs.max(1), predicted == y)}
    counts = {src: {"train": len(data[src]["train"]), "val": len(data[src]["val"]), "test": len(data[src]["test"])}
              for src in sd.SOURCES}
    card = {
        "trained_on": "SemEval-2017 4A tweets, Twitter US Airline Sentiment, Financial PhraseBank, data/train/tickets.csv "
                      "(benchmarks/train_sentiment.py; sources in data/README.md)",
        "examples": int(len(y_train)),
        "per_label": {lab: int(np.sum(y_train == i)) for i, lab in enumerate(SENTIMENT_LABELS)},
        "prior_examples": 0,
        "recipe": {"c": best["c"], "prior_weight": 0.0, "rule_scale": RULE_SCALE, "ticket_weight": best["ticket_weight"],
                   "class_weight": "balanced" if best["balanced"] else "none"},
        "chosen_on": "mean macro recall over the four validation splits (TweetEval val, airline 10%, PhraseBank 10%, "
                     "a seeded quarter of data/train)",
        "splits": counts,
        "validation": {"macro_recall": best["val_macro_recall"], "temperature_fitted_on": "pooled validation logits"},
        "held_out_tests": held_out,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    head = Head("sentiment", SENTIMENT_LABELS, coef, intercept, temperature, RULE_SCALE, "all-MiniLM-L6-v2", card)
    path = save_head(head, args.output_dir)
    card_md = path.with_suffix(".md")
    card_md.write_text(card_md.read_text(encoding="utf-8") + card_details(best, temperature, held_out, counts),
                       encoding="utf-8")
    args.results.parent.mkdir(parents=True, exist_ok=True)
    args.results.write_text(json.dumps({"head": str(path), "version": head.version, "grid": grid, "chosen": best,
                                        "temperature": temperature, "held_out": held_out, "splits": counts,
                                        "seconds": round(time.perf_counter() - started, 1)}, indent=2) + "\n")
    print(json.dumps({"chosen": best, "temperature": temperature, "held_out": held_out}, indent=2))


if __name__ == "__main__":
    main()

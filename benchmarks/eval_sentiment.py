"""Sentiment and churn intent as shipped, on text this project did not write (and on text it did).

Run: .venv/bin/python benchmarks/eval_sentiment.py [--output FILE]; writes
benchmarks/results/eval_sentiment.json and prints a summary.

Sentiment, on held-out test splits nothing was trained or tuned on (benchmarks/train_sentiment.py):
- TweetEval sentiment test (12,284 tweets; SemEval-2017 4A test): macro recall (the task's
  official measure), accuracy, macro F1, the predicted-class distribution against the true one
  (and the predicted negative share, which a digest's "% negative" reads, beside the true one and
  the mean calibrated probability of "negative"), and the expected calibration error (ECE, 10 bins) of the head's confidences. Published anchors
  (TweetEval paper, macro recall): VADER-like lexicons ~0.57, FastText 0.63, RoBERTa-base 0.71.
- the 10% test slices of Twitter US Airline Sentiment and Financial PhraseBank, and
  data/eval/tickets.csv (hand-written by this project; calm bug reports labelled neutral).
Each is scored for the shipped head, the rules alone (csintel's fallback), the rules as they were
before issue 14 (read from git at OLD_RULES_COMMIT) and VADER, in the same run.

Churn intent (csintel.classify.churn), precision where it fires:
- NLBSE'24 GitHub issues (all 3,000: train, val and test; bug reports, feature requests and
  questions, none of which threatens to leave a vendor): every firing is a false positive;
- data/eval/churn.csv (written by this project: real churn sentences and their technical false
  friends; a development set, written beside the rules, not held out).
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
import time
import types
import warnings
from collections import Counter
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import public_data as p  # noqa: E402
import sentiment_data as sd  # noqa: E402

from csintel.classify.churn import has_churn_intent  # noqa: E402
from csintel.classify.evaluation import score, vader_labels  # noqa: E402
from csintel.classify.heads import SHIPPED_HEADS, expected_calibration_error, load_head  # noqa: E402
from csintel.classify.sentiment import score_sentiment  # noqa: E402

RESULTS = Path(__file__).parent / "results" / "eval_sentiment.json"
OLD_RULES_COMMIT = "c05b32c"   # the sentiment rules before issue 14 (in this repository's history)
CHURN_SET = p.REPO_ROOT / "data" / "eval" / "churn.csv"
ANCHORS = {"vader (TweetEval paper)": 0.57, "fasttext": 0.63, "roberta-base": 0.71}


def old_rules() -> Callable[[str], Any]:
    """score_sentiment as it was at OLD_RULES_COMMIT, loaded from git (the module is self-contained)."""
    source = subprocess.run(["git", "-C", str(p.REPO_ROOT), "show", f"{OLD_RULES_COMMIT}:csintel/classify/sentiment.py"],
                            check=True, capture_output=True, text=True).stdout
    module = types.ModuleType("sentiment_before_issue_14")
    sys.modules[module.__name__] = module   # dataclasses look their module up there
    exec(compile(source, "sentiment_before_issue_14.py", "exec"), module.__dict__)  # noqa: S102 - our own history
    return module.score_sentiment  # type: ignore[no-any-return]


def figures(truth: Sequence[str], predicted: Sequence[str]) -> dict[str, Any]:
    s = score(truth, predicted)
    n = len(truth)
    return {"macro_recall": s["macro_recall"], "accuracy": s["accuracy"], "macro_f1": s["macro_f1"],
            "predicted_share": {k: round(v / n, 3) for k, v in sorted(Counter(predicted).items())}}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--output", type=Path, default=RESULTS)
    args = ap.parse_args()
    warnings.filterwarnings("ignore")
    csv.field_size_limit(2**31 - 1)   # NLBSE issue bodies can exceed the csv module's default
    started = time.perf_counter()
    head = load_head(SHIPPED_HEADS / "sentiment.json")
    before = old_rules()
    tests = {"tweeteval": p.tweeteval_sentiment()["test"]}
    tests |= {src: sd.load(src)["test"] for src in ("airline_sentiment", "financial_phrasebank", "tickets")}
    result: dict[str, Any] = {"head": head.version, "anchors_tweeteval_macro_recall": ANCHORS, "sentiment": {}}
    for name, split in tests.items():
        probs = head.probabilities(sd.embed(split.texts), split.texts, sd.rule_features(split.texts))
        predicted = [head.labels[i] for i in probs.argmax(1)]
        correct = np.array([a == b for a, b in zip(predicted, split.labels)])
        negative = head.labels.index("negative")
        shipped = figures(split.labels, predicted) | {
            "ece": expected_calibration_error(probs.max(1), correct),
            # what a digest's "% negative" reads: the labels' share, and the mean calibrated probability
            "negative_share": {"predicted": round(float(np.mean(probs.argmax(1) == negative)), 4),
                               "true": round(split.labels.count("negative") / len(split), 4),
                               "mean_probability": round(float(probs[:, negative].mean()), 4)}}
        result["sentiment"][name] = {
            "n": len(split), "true_share": {k: round(v / len(split), 3) for k, v in sorted(Counter(split.labels).items())},
            "shipped_head": shipped,
            "rules": figures(split.labels, [score_sentiment(t).label for t in split.texts]),
            "rules_before_issue_14": figures(split.labels, [before(t).label for t in split.texts]),
            "vader": figures(split.labels, [x.label for x in vader_labels(split.texts)]),
        }
        print(name, json.dumps(result["sentiment"][name]), flush=True)

    nlbse = p.nlbse24()
    issues = [t for part in ("train", "val", "test") for t in nlbse[part].texts]
    fired_new = [t for t in issues if has_churn_intent(t)]
    fired_old = [t for t in issues if before(t).churn_language]
    with open(CHURN_SET, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    truth = np.array([r["churn"] == "1" for r in rows])
    new = np.array([has_churn_intent(r["text"]) for r in rows])
    old = np.array([before(r["text"]).churn_language for r in rows])

    def pr(predicted: np.ndarray) -> dict[str, float]:
        tp = float(np.sum(predicted & truth))
        return {"precision": round(tp / max(1, predicted.sum()), 4), "recall": round(tp / max(1, truth.sum()), 4)}

    result["churn"] = {
        "nlbse24_issues": {"n": len(issues), "true_churn": 0, "fired": len(fired_new), "fired_before_issue_14": len(fired_old),
                           "fired_per_1000": round(1000 * len(fired_new) / len(issues), 2),
                           "fired_per_1000_before_issue_14": round(1000 * len(fired_old) / len(issues), 2),
                           "examples_fired": [t[:160] for t in fired_new[:5]]},
        "hand_written": {"file": str(CHURN_SET.relative_to(p.REPO_ROOT)), "n": len(rows), "churn": int(truth.sum()),
                         "shipped": pr(new), "before_issue_14": pr(old)},
    }
    print(json.dumps(result["churn"], indent=1), flush=True)
    result["seconds"] = round(time.perf_counter() - started, 1)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()

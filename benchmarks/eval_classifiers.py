"""Classifier quality on hand-written held-out tickets: zero-shot vs plain logistic regression vs
the trained heads, by labels per label; sentiment rules vs head vs VADER; the shipped heads.

Run: .venv/bin/python benchmarks/eval_classifiers.py [--seeds 5] [--output FILE]; writes
benchmarks/results/eval_classifiers.json and prints a summary. Training rows come from
data/train/tickets.csv only (subsampled to 8 and 16 per label with several seeds, then all);
every figure is on data/eval/tickets.csv, which nothing here trains on. Predictions are the top
label (no abstention), so the methods are compared on the same footing. Embeddings: the packaged
all-MiniLM-L6-v2 run by torch, the model the shipped heads were trained with.

Besides the obvious alternatives, two other ways of using the zero-shot prototypes with labels are
scored, to keep the record of why the head is built as it is: the zero-shot similarities as
extra features, and the head's log-probabilities plus 0.3 x zero-shot's.
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from csintel.classify.evaluation import read_labeled, score, vader_labels
from csintel.classify.heads import RECIPES, SHIPPED_HEADS, Recipe, expected_calibration_error, load_head, train_head
from csintel.classify.sentiment import score_sentiment
from csintel.classify.taxonomy import ZeroShotClassifier, load_taxonomy, predictions
from csintel.config import REPO_ROOT, SHIPPED_MODELS, ModelsConfig
from csintel.embed import load_embedder

TRAIN = REPO_ROOT / "data" / "train" / "tickets.csv"
TEST = REPO_ROOT / "data" / "eval" / "tickets.csv"
RESULTS = Path(__file__).parent / "results" / "eval_classifiers.json"
SIZES = (8, 16, None)          # labels per label; None = the whole training file
SIMS_SCALE = 5.0               # the similarity-features variant: best of 5/10/20 in a first sweep
BLEND = 0.3                    # the blend variant: weight of zero-shot's log-probabilities
COVERAGE_THRESHOLDS = (0.3, 0.5, 0.7, 0.9)

Fit = Callable[[np.ndarray, list[str], list[str]], list[str]]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=5, help="draws per subsampled size (5)")
    ap.add_argument("--output", type=Path, default=RESULTS)
    args = ap.parse_args()
    warnings.filterwarnings("ignore", category=UserWarning)
    started = time.perf_counter()
    embedder = load_embedder()
    taxonomy = load_taxonomy(SHIPPED_MODELS / "taxonomy.yaml")
    zero_shot = ZeroShotClassifier(taxonomy, embedder, {})
    result: dict[str, Any] = {"train": str(TRAIN.relative_to(REPO_ROOT)), "test": str(TEST.relative_to(REPO_ROOT)),
                              "embedding": embedder.name, "seeds": args.seeds,
                              "note": "top-label predictions (no abstention); mean and sd over seeds"}
    cache: dict[str, np.ndarray] = {}

    def encode(texts: Sequence[str]) -> np.ndarray:
        missing = [t for t in dict.fromkeys(texts) if t not in cache]
        if missing:
            cache.update(zip(missing, embedder.encode(missing)))
        return np.stack([cache[t] for t in texts])

    for task in ("category", "root_cause"):
        train, test = read_labeled(TRAIN, task), read_labeled(TEST, task)
        test_x = encode(test.texts)
        zs_probs = zero_shot.probabilities(task, test_x)
        zs_labels = zero_shot.labels(task)

        def head(recipe: Recipe, blend: float = 0.0) -> Fit:
            def fit(x: np.ndarray, texts: list[str], labels: list[str]) -> list[str]:
                h = train_head(task, texts, labels, embedder, taxonomy=taxonomy, vectors=x, recipe=recipe,
                               cross_validate=False)
                logp = np.log(h.probabilities(test_x, test.texts))
                if blend:
                    logp = logp + blend * np.log(zs_probs[:, [zs_labels.index(lab) for lab in h.labels]])
                return [h.labels[i] for i in logp.argmax(axis=1)]
            return fit

        def sims_features(x: np.ndarray, texts: list[str], labels: list[str]) -> list[str]:
            from sklearn.linear_model import LogisticRegression

            protos = zero_shot.prototypes(task)
            model = LogisticRegression(C=10.0, class_weight="balanced", max_iter=3000)
            model.fit(np.hstack([x, SIMS_SCALE * x @ protos.T]), labels)
            return list(model.predict(np.hstack([test_x, SIMS_SCALE * test_x @ protos.T])))

        methods: dict[str, Fit] = {
            "plain_lr": plain_lr(test_x),
            "head": head(RECIPES[task]),
            "lr_without_prior": head(Recipe(c=RECIPES[task].c, prior_weight=0.0, rule_scale=0.0)),
            "lr_with_zero_shot_similarities": sims_features,
            "head_blended_with_zero_shot": head(RECIPES[task], BLEND),
        }
        out: dict[str, Any] = {"n_test": len(test.labels), "n_train": len(train.labels),
                               "zero_shot": score(test.labels, [zs_labels[i] for i in zs_probs.argmax(axis=1)])}
        out["by_size"] = learning_curve(methods, train.texts, train.labels, encode, test.labels, args.seeds)
        result[task] = out
        print(summary_line(task, out), flush=True)

    train, test = read_labeled(TRAIN, "sentiment"), read_labeled(TEST, "sentiment")
    test_x, train_x = encode(test.texts), encode(train.texts)
    hard = [i for i, h in enumerate(test.hard or []) if h]

    def figures(predicted: Sequence[str]) -> dict[str, Any]:
        return {**score(test.labels, predicted), "hard": score([test.labels[i] for i in hard],
                                                               [predicted[i] for i in hard])}

    senti_head = train_head("sentiment", train.texts, train.labels, embedder, vectors=train_x, cross_validate=False)
    without_rules = train_head("sentiment", train.texts, train.labels, embedder, vectors=train_x, cross_validate=False,
                               recipe=Recipe(c=RECIPES["sentiment"].c, prior_weight=0.0, rule_scale=0.0))
    result["sentiment"] = {
        "n_test": len(test.labels), "n_hard": len(hard), "n_train": len(train.labels),
        "vader": figures([p.label for p in vader_labels(test.texts)]),
        "rules": figures([score_sentiment(t).label for t in test.texts]),
        "head": figures([p.label for p in senti_head.predict(test_x, test.texts)]),
        "lr_embedding_only": figures([p.label for p in without_rules.predict(test_x, test.texts)]),
    }
    print("sentiment: " + ", ".join(f"{k} macro recall {v['macro_recall']}" for k, v in result["sentiment"].items()
                                    if isinstance(v, dict)), flush=True)

    result["shipped_heads"] = shipped_figures(encode)
    result["seconds"] = round(time.perf_counter() - started, 1)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.output} in {result['seconds']} s")


def plain_lr(test_x: np.ndarray) -> Fit:
    """scikit-learn's LogisticRegression with its defaults on the embeddings: the obvious alternative."""
    def fit(x: np.ndarray, texts: list[str], labels: list[str]) -> list[str]:
        from sklearn.linear_model import LogisticRegression

        return list(LogisticRegression(max_iter=3000).fit(x, labels).predict(test_x))
    return fit


def learning_curve(methods: dict[str, Fit], texts: list[str], labels: list[str],
                   encode: Callable[[Sequence[str]], np.ndarray], truth: list[str], seeds: int) -> dict[str, Any]:
    """Each method's test figures at 8, 16 and all labels per label (mean and sd over seeds)."""
    out: dict[str, Any] = {}
    names = sorted(set(labels))
    for size in SIZES:
        draws = []
        for seed in range(seeds if size else 1):
            rng = np.random.default_rng(seed)
            rows = (np.concatenate([rng.choice([i for i, lab in enumerate(labels) if lab == name], size, replace=False)
                                    for name in names]) if size else np.arange(len(labels)))
            draws.append(([texts[i] for i in rows], [labels[i] for i in rows]))
        key = f"{size}_per_label" if size else "all"
        out[key] = {"train_rows": len(draws[0][1])}
        for name, fit in methods.items():
            runs = [score(truth, fit(encode(t), t, y)) for t, y in draws]
            out[key][name] = {m: _mean_sd([r[m] for r in runs]) for m in ("accuracy", "macro_recall", "macro_f1")}
    return out


def shipped_figures(encode: Callable[[Sequence[str]], np.ndarray]) -> dict[str, Any]:
    """The shipped heads on the test file: top label, and with the default abstention threshold."""
    defaults = ModelsConfig()
    out: dict[str, Any] = {}
    for task in ("category", "root_cause", "sentiment"):
        path = SHIPPED_HEADS / f"{task}.json"
        if not path.is_file():
            continue
        head, test = load_head(path), read_labeled(TEST, task)
        probs = head.probabilities(encode(test.texts), test.texts)
        top = predictions(probs, head.labels, 0.0)
        threshold = float(getattr(defaults, f"{task}_min_confidence"))
        gated = [p.label for p in predictions(probs, head.labels, threshold)]
        right = np.array([t == p.label for t, p in zip(test.labels, top)])
        confidence = np.array([p.confidence for p in top])
        out[task] = {"version": head.version, **score(test.labels, [p.label for p in top]),
                     "ece": expected_calibration_error(confidence, right),
                     f"with_min_confidence_{threshold}": score(test.labels, gated),
                     # What a stricter threshold would keep, and how often the kept tags are right.
                     "coverage_vs_accuracy": {str(t): {"coverage": round(float((confidence >= t).mean()), 4),
                                                       "accuracy_answered": round(float(right[confidence >= t].mean()), 4)}
                                              for t in COVERAGE_THRESHOLDS if (confidence >= t).any()}}
    return out


def _mean_sd(values: list[float]) -> dict[str, float]:
    return {"mean": round(float(np.mean(values)), 4), "sd": round(float(np.std(values)), 4)}


def summary_line(task: str, out: dict[str, Any]) -> str:
    parts = [f"zero-shot {out['zero_shot']['accuracy']}"]
    for size, row in out["by_size"].items():
        parts.append(f"{size}: plain LR {row['plain_lr']['accuracy']['mean']}, head {row['head']['accuracy']['mean']}")
    return f"{task} accuracy: " + "; ".join(parts)


if __name__ == "__main__":
    main()

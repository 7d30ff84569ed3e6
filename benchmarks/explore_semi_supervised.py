"""How csintel.classify.semi_supervised's settings were chosen: Banking77's `val` split only.

Run: .venv/bin/python benchmarks/explore_semi_supervised.py [--draws 5]
Writes benchmarks/results/explore_semi_supervised.json. Never reads the test split.

Each draw: 8 labelled queries an intent from Banking77's train (eval_categories.per_label, seeds
0-4); the rest of train (8,384 queries) is the unlabelled pool, its labels used only to report how
accurate the pseudo-labels are. The head here is the chosen plain recipe of those draws (logistic
regression, C 16, balanced, each label's name as one more example) on the cached MiniLM vectors;
every variant refits it on the labelled rows plus the pool with pseudo-labels, and is scored on val:
- self_training: the plain head's own top label for every pool query;
- spread: label spreading seeded with the labelled rows only (one-hot, labelled rows in the graph);
- smooth_k{k}_a{alpha}: the head's probabilities smoothed over the pool's kNN graph (the shipped
  method), and variants: keep only the most confident 80% (drop20), 2 rounds, C 4 at the refit.
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
import public_data  # noqa: E402
from eval_categories import per_label  # noqa: E402

from csintel.classify.calibration import softmax  # noqa: E402
from csintel.classify.semi_supervised import knn_graph, smooth  # noqa: E402

RESULTS = Path(__file__).parent / "results" / "explore_semi_supervised.json"


def main() -> None:
    from sklearn.linear_model import LogisticRegression

    ap = argparse.ArgumentParser()
    ap.add_argument("--draws", type=int, default=5)
    args = ap.parse_args()
    warnings.filterwarnings("ignore")
    d = public_data.banking77()
    train, val = d["train"], d["val"]
    labels = sorted(set(train.labels))
    x, xv = public_data.embed(train.texts).astype(np.float64), public_data.embed(val.texts).astype(np.float64)
    y, yv = np.array([labels.index(lab) for lab in train.labels]), np.array([labels.index(lab) for lab in val.labels])
    names = public_data.embed([lab.replace("_", " ") for lab in labels]).astype(np.float64)
    row = {t: i for i, t in enumerate(train.texts)}

    def fit(rows_x: np.ndarray, rows_y: np.ndarray, c: float = 16.0) -> LogisticRegression:
        model = LogisticRegression(C=c, class_weight="balanced", max_iter=3000, tol=1e-3)
        return model.fit(np.vstack([rows_x, names]), np.r_[rows_y, np.arange(len(labels))])

    def val_accuracy(model: LogisticRegression) -> float:
        return round(float((model.predict(xv) == yv).mean()), 4)

    out: dict[str, list[float]] = {}

    def record(name: str, value: float) -> None:
        out.setdefault(name, []).append(value)
        print(seed, name, value, flush=True)

    for seed in range(args.draws):
        labelled = np.array(sorted(row[t] for t in per_label(train, 8, seed).texts))
        pool = np.setdiff1d(np.arange(len(train)), labelled)
        xl, yl, xu, yu = x[labelled], y[labelled], x[pool], y[pool]
        plain = fit(xl, yl)
        record("plain", val_accuracy(plain))
        record("self_training", val_accuracy(fit(np.vstack([xl, xu]), np.r_[yl, plain.predict(xu)])))
        # label spreading from the labelled rows alone (they and the names are nodes of the graph)
        nodes = np.vstack([xl, names, xu])
        seeds = np.zeros((len(nodes), len(labels)))
        seeds[np.arange(len(yl)), yl] = 1
        seeds[len(yl) + np.arange(len(labels)), np.arange(len(labels))] = 1
        spread = smooth(knn_graph(nodes), seeds, alpha=0.95)[len(yl) + len(labels):].argmax(axis=1)
        record("spread_pseudo_accuracy", round(float((spread == yu).mean()), 4))
        record("spread", val_accuracy(fit(np.vstack([xl, xu]), np.r_[yl, spread])))
        probs = softmax(plain.decision_function(xu))
        record("plain_pseudo_accuracy", round(float((probs.argmax(axis=1) == yu).mean()), 4))
        for k in (5, 10, 15):
            graph = knn_graph(xu, k=k)
            for alpha in ((0.7, 0.8, 0.9) if k == 10 else (0.8,)):
                scores = smooth(graph, probs, alpha=alpha)
                pseudo = scores.argmax(axis=1)
                name = f"smooth_k{k}_a{alpha}"
                record(f"{name}_pseudo_accuracy", round(float((pseudo == yu).mean()), 4))
                record(name, val_accuracy(fit(np.vstack([xl, xu]), np.r_[yl, pseudo])))
                if (k, alpha) == (10, 0.8):
                    record(f"{name}_c4", val_accuracy(fit(np.vstack([xl, xu]), np.r_[yl, pseudo], c=4.0)))
                    confident = scores.max(axis=1) / scores.sum(axis=1)
                    keep = confident >= np.quantile(confident, 0.2)
                    record(f"{name}_drop20", val_accuracy(fit(np.vstack([xl, xu[keep]]), np.r_[yl, pseudo[keep]])))
                    again = fit(np.vstack([xl, xu]), np.r_[yl, pseudo])
                    second = smooth(graph, softmax(again.decision_function(xu)), alpha=alpha).argmax(axis=1)
                    record(f"{name}_2_rounds", val_accuracy(fit(np.vstack([xl, xu]), np.r_[yl, second])))
    summary = {name: round(float(np.mean(v)), 4) for name, v in out.items()}
    print(json.dumps(summary, indent=1))
    RESULTS.write_text(json.dumps({"note": "Banking77 val accuracy (1,003 queries), mean over draws; test never read",
                                   "draws": args.draws, "mean": summary, "per_draw": out}, indent=2) + "\n")


if __name__ == "__main__":
    main()

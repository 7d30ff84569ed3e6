"""How the default abstention rule was chosen: out-of-scope scores compared on validation data only.

Run: .venv/bin/python benchmarks/explore_abstention.py [--sets clinc150,banking77]
Prints, per set, the AUROC of each score (in-scope val rows against stand-in out-of-scope rows)
and the out-of-scope recall each catches at a given loss of in-scope val accuracy. No test row is
read. The model is a plain logistic regression on the embedding (C 4, balanced classes), the
temperature fitted on the in-scope val rows; eval_categories.py measures the shipped head.

Stand-ins: the labels are split into 4 seeded groups; groups 0 and 1 are each left out of one fit,
and that fit's scores on their val rows are out of scope, on the other labels' val rows in scope
(what csintel.classify.head_selection does). For CLINC150, its 100 real out-of-scope val rows
against the full fit are shown beside, as a check.

Scores: msp (top calibrated probability), energy (T * logsumexp(logits / T)), maxlogit, cent
(cosine to the nearest class centroid), knn1/knn5 (mean cosine to the k nearest training rows),
maha (minus the Mahalanobis distance to the nearest class mean, shared covariance).
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from eval_categories import OOS, CachedEmbedder, data  # noqa: E402

from csintel.classify.calibration import fit_temperature, softmax  # noqa: E402
from csintel.classify.head_selection import choose_threshold  # noqa: E402

SCORES = ("msp", "energy", "maxlogit", "cent", "knn1", "knn5", "maha")


def fit(x: np.ndarray, y: np.ndarray, keep: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.linear_model import LogisticRegression

    rows = np.isin(y, keep)
    model = LogisticRegression(C=4.0, class_weight="balanced", max_iter=3000, tol=1e-3).fit(x[rows], y[rows])
    coef, intercept = np.zeros((n, x.shape[1])), np.full(n, -1e4)
    coef[model.classes_], intercept[model.classes_] = model.coef_, model.intercept_
    return coef, intercept


def scores(model: tuple[np.ndarray, np.ndarray], keep: np.ndarray, xtr: np.ndarray, ytr: np.ndarray,
           x: np.ndarray, temperature: float) -> dict[str, np.ndarray]:
    from scipy.special import logsumexp

    logits = x @ model[0].T + model[1]
    rows = np.isin(ytr, keep)
    means = np.stack([xtr[ytr == c].mean(0) for c in keep])
    centroids = means / np.linalg.norm(means, axis=1, keepdims=True)
    nearest = -np.sort(-(x @ xtr[rows].T), axis=1)[:, :5]
    centred = xtr[rows] - means[np.searchsorted(keep, ytr[rows])]
    whiten = np.linalg.cholesky(np.linalg.inv(np.cov(centred.T) + 1e-3 * np.eye(x.shape[1])))
    xw, mw = x @ whiten, means @ whiten
    distance = (xw ** 2).sum(1)[:, None] - 2 * xw @ mw.T + (mw ** 2).sum(1)[None, :]
    return {"msp": softmax(logits / temperature).max(1), "energy": temperature * logsumexp(logits / temperature, axis=1),
            "maxlogit": logits.max(1), "cent": (x @ centroids.T).max(1), "knn1": nearest[:, 0],
            "knn5": nearest.mean(1), "maha": -distance.min(1), "pred": logits.argmax(1)}


def main() -> None:
    from sklearn.metrics import roc_auc_score

    ap = argparse.ArgumentParser()
    ap.add_argument("--sets", default="clinc150,banking77")
    args = ap.parse_args()
    warnings.filterwarnings("ignore")
    embedder = CachedEmbedder()
    for name in args.sets.split(","):
        d = data(name)
        labels = sorted(set(d["train"].labels))
        xtr = np.asarray(embedder.encode(d["train"].texts), dtype=np.float64)
        ytr = np.array([labels.index(lab) for lab in d["train"].labels])
        xv = np.asarray(embedder.encode(d["val"].texts), dtype=np.float64)
        yv = np.array([labels.index(lab) for lab in d["val"].labels])
        every = np.arange(len(labels))
        full = fit(xtr, ytr, every, len(labels))
        temperature = fit_temperature(xv @ full[0].T + full[1], yv)
        groups = np.array_split(np.random.default_rng(0).permutation(len(labels)), 4)[:2]
        base = scores(full, every, xtr, ytr, xv, temperature)
        stand_in = []
        for group in groups:
            keep = np.setdiff1d(every, group)
            s = scores(fit(xtr, ytr, keep, len(labels)), keep, xtr, ytr, xv, temperature)
            stand_in.append((s, np.isin(yv, keep), np.isin(yv, group)))
        real = None
        if "val_oos" in d:
            xo = np.asarray(embedder.encode(d["val_oos"].texts), dtype=np.float64)
            real = (scores(full, every, xtr, ytr, xo, temperature), np.array([lab != OOS for lab in d["val_oos"].labels]))
        print(f"{name}: AUROC on held-out-class stand-ins (groups 0, 1)" + (" | real val oos" if real else ""))
        for key in SCORES:
            aucs = [roc_auc_score(np.r_[np.ones(i.sum()), np.zeros(o.sum())], np.r_[s[key][i], s[key][o]])
                    for s, i, o in stand_in]
            extra = f" | {roc_auc_score(real[1], real[0][key]):.4f}" if real else ""
            print(f"  {key:9s} {aucs[0]:.4f} {aucs[1]:.4f}{extra}")
        correct = base["pred"] == yv
        for loss in (0.015, 0.03):
            print(f"  out-of-scope recall at an in-scope val accuracy loss of at most {loss}:")
            for key in SCORES:
                oos = np.concatenate([s[key][o] for s, _, o in stand_in])
                floor = 0.0 if key == "msp" else -np.inf
                t, info = choose_threshold(base[key], correct, oos, max_loss=loss, floor=floor)
                line = f"    {key:9s} stand-ins {info['oos_recall']}"
                if real:
                    line += f" | real val oos {float((real[0][key][~real[1]] < t).mean()):.2f}"
                print(line)


if __name__ == "__main__":
    main()

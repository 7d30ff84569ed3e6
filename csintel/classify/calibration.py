"""Calibrating and judging a classifier's confidences: one temperature, or a scale and a bias per
class (vector scaling), fitted on held-out logits; expected calibration error; and the
cross-validation report a head's card carries."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

ECE_BINS = 10


def fit_temperature(logits: np.ndarray, y: np.ndarray) -> float:
    """The temperature that minimises the negative log-likelihood of held-out logits."""
    from scipy.optimize import minimize_scalar

    def nll(log_t: float) -> float:
        z = logits / np.exp(log_t)
        z = z - z.max(axis=1, keepdims=True)
        return float(-(z[np.arange(len(y)), y] - np.log(np.exp(z).sum(axis=1))).mean())

    return round(float(np.exp(minimize_scalar(nll, bounds=(-3.0, 3.0), method="bounded").x)), 4)


def fit_vector_scaling(logits: np.ndarray, y: np.ndarray,
                       sample_weight: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Per-class scale and bias minimising the (weighted) negative log-likelihood of held-out logits:
    calibrated logits = logits * scale + bias (vector scaling, Guo et al. 2017).

    Unlike one temperature it also moves the class balance: a head that over-predicts a class
    everywhere (e.g. one trained with balanced class weights) gets that bias taken back. Both fold
    into a linear head's weights (coef * scale[:, None], intercept * scale + bias). The first
    class's bias is pinned to 0 (softmax is unchanged by a common shift).
    """
    from scipy.optimize import minimize

    logits = np.asarray(logits, dtype=np.float64)
    y = np.asarray(y)
    k = logits.shape[1]
    w = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    w = w / w.sum()
    onehot = np.eye(k)[y]

    def nll(theta: np.ndarray) -> tuple[float, np.ndarray]:
        z = logits * theta[:k] + np.r_[0.0, theta[k:]]
        z = z - z.max(axis=1, keepdims=True)
        log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        residual = (np.exp(log_p) - onehot) * w[:, None]         # d(-mean log p)/dz
        grad = np.r_[(residual * logits).sum(axis=0), residual.sum(axis=0)[1:]]
        return float(-(w * log_p[np.arange(len(y)), y]).sum()), grad

    start = np.r_[np.ones(k), np.zeros(k - 1)]
    theta = np.asarray(minimize(nll, start, jac=True, method="L-BFGS-B").x, dtype=np.float64)
    return theta[:k].round(6), np.r_[0.0, theta[k:]].round(6)


def expected_calibration_error(confidence: np.ndarray, correct: np.ndarray, bins: int = ECE_BINS) -> float:
    """Mean |accuracy - confidence| over equal-width confidence bins, weighted by their size."""
    if len(confidence) == 0:
        return 0.0
    index = np.minimum((np.asarray(confidence) * bins).astype(int), bins - 1)
    total = 0.0
    for b in range(bins):
        rows = index == b
        if rows.any():
            total += rows.sum() * abs(float(np.mean(correct[rows])) - float(np.mean(confidence[rows])))
    return round(float(total) / len(confidence), 4)


def cv_report(held_out: np.ndarray, y: np.ndarray, labels: Sequence[str], temperature: float,
              folds: int) -> dict[str, Any]:
    """Cross-validated accuracy, macro F1 and calibration (before and after the temperature)."""
    from sklearn.metrics import f1_score

    predicted = held_out.argmax(axis=1)
    correct = predicted == y
    raw = softmax(held_out).max(axis=1)
    calibrated = softmax(held_out / temperature).max(axis=1)
    return {"folds": folds, "accuracy": round(float(correct.mean()), 4),
            "macro_f1": round(float(f1_score(y, predicted, average="macro", labels=range(len(labels)))), 4),
            "ece_uncalibrated": expected_calibration_error(raw, correct),
            "ece": expected_calibration_error(calibrated, correct), "temperature": temperature}


def softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)

"""Risk models over the signals: the transparent default and a learned logistic regression.

Both turn signal strengths into a 0-100 score and reasons ranked by contribution. The default's
weights are a reasoned prior (documented in the README); the learned model is fitted on past
renewals with outcomes (`csintel risk backtest --save`) and replaces the default only when it
backtests better, so a team without outcome data still gets an explainable score.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from csintel.risk.signals import SIGNALS, Signal, strengths

# Points each signal adds at full strength (they sum to 100).
DEFAULT_WEIGHTS = {
    "negative_sentiment": 14,   # share of the account's tickets that read negative
    "sentiment_worsening": 8,   # negative share up 25+ points in the last 30 days vs before
    "churn_language": 20,       # "cancel", "not renewing", "looking at alternatives"
    "competitor_threat": 16,    # switching or evaluating a named competitor
    "repeated_issue": 12,       # the same error or theme raised again and again
    "volume_surge": 10,         # last 30 days against the account's own earlier rate
    "urgent_share": 8,          # high/urgent priority share
    "low_csat": 7,              # mean CSAT of rated tickets
    "slow_first_response": 5,   # first response slower than the priority's target
}
MODEL_FILE = "risk_model.json"


@dataclass(frozen=True)
class Reason:
    signal: str
    text: str
    contribution: float           # points of the 0-100 score
    tickets: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class RiskModel:
    version: str
    weights: dict[str, float]     # default: points per signal; learned: logistic coefficients
    intercept: float = 0.0
    learned: bool = False
    trained_on: str = ""          # what the learned weights were fitted on (for the model card)

    def score(self, signals: list[Signal]) -> tuple[float, list[Reason]]:
        """The 0-100 score and the reasons behind it, largest contribution first."""
        if not self.learned:
            parts = {s.name: self.weights[s.name] * s.strength for s in signals}
            total = min(100.0, sum(parts.values()))
        else:
            x = strengths(signals)
            logit = self.intercept + float(np.dot([self.weights[n] for n in SIGNALS], x))
            total = 100.0 / (1.0 + np.exp(-logit))
            # Share the score out over the signals that pushed it up, by their logit terms.
            pushes = {s.name: max(0.0, self.weights[s.name] * s.strength) for s in signals}
            mass = sum(pushes.values())
            parts = {n: total * v / mass for n, v in pushes.items()} if mass else {}
        reasons = [Reason(s.name, s.text, round(parts.get(s.name, 0.0), 1), s.tickets) for s in signals
                   if parts.get(s.name, 0.0) > 0]
        reasons.sort(key=lambda r: (-r.contribution, r.signal))
        return round(float(total), 1), reasons

    def to_json(self) -> str:
        return json.dumps({"version": self.version, "weights": self.weights, "intercept": self.intercept,
                           "learned": self.learned, "trained_on": self.trained_on}, indent=2)


DEFAULT_MODEL = RiskModel(version="risk-default-2", weights=dict(DEFAULT_WEIGHTS))


def load_model(model_dir: Path) -> RiskModel:
    """The learned model saved in `model_dir` if there is one, else the default."""
    path = model_dir / MODEL_FILE
    if not path.is_file():
        return DEFAULT_MODEL
    data = json.loads(path.read_text(encoding="utf-8"))
    missing = set(SIGNALS) - set(data.get("weights", {}))
    if missing:
        raise ValueError(f"{path}: the saved risk model lacks weights for {sorted(missing)}; "
                         f"refit it with `csintel risk backtest --save` or delete the file")
    return RiskModel(version=data["version"], weights={k: float(v) for k, v in data["weights"].items()},
                     intercept=float(data.get("intercept", 0.0)), learned=bool(data.get("learned", True)),
                     trained_on=str(data.get("trained_on", "")))


def save_model(model: RiskModel, model_dir: Path) -> Path:
    model_dir.mkdir(parents=True, exist_ok=True)
    path = model_dir / MODEL_FILE
    path.write_text(model.to_json() + "\n", encoding="utf-8")
    return path


def fit_logistic(x: np.ndarray, y: np.ndarray, *, version: str, trained_on: str, c: float = 1.0) -> RiskModel:
    """L2-regularised logistic regression on signal strengths (rows of `strengths()`).

    Coefficients are not forced positive: a signal that does not predict churn in a team's own
    history should be allowed to stop counting; negative ones are shown as such in the model card
    and never produce a reason (only positive pushes are explained).
    """
    from sklearn.linear_model import LogisticRegression

    clf = LogisticRegression(C=c, class_weight="balanced", max_iter=1000)
    clf.fit(x, y)
    weights = {name: round(float(w), 4) for name, w in zip(SIGNALS, clf.coef_[0])}
    return RiskModel(version=version, weights=weights, intercept=round(float(clf.intercept_[0]), 4),
                     learned=True, trained_on=trained_on)

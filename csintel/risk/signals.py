"""Risk signals from one account's support history: each a strength in [0, 1] with its evidence.

The same signals feed the transparent default model and the learned one (`model.py`), in the
weekly scoring and in the backtest, so what is backtested is what runs.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

import numpy as np
import pandas as pd

SIGNALS = ("negative_sentiment", "sentiment_worsening", "churn_language", "competitor_threat", "repeated_issue", "volume_surge",
           "urgent_share", "low_csat", "slow_first_response")
MIN_TICKETS = 2   # one unhappy ticket is not a pattern


@dataclass
class Signal:
    name: str
    strength: float                   # 0..1
    text: str                         # what a CSM reads
    tickets: list[str] = field(default_factory=list)


def account_signals(t: pd.DataFrame, as_of: date, first_response_targets: dict[str, float]) -> list[Signal]:
    """The signals present in an account's tickets over the lookback before `as_of`.

    `t` has one row per ticket with the columns of sql/queries/risk_tickets.sql.
    """
    n = len(t)
    if n < MIN_TICKETS:
        return []
    ids = t["ticket_id"].astype(str)
    out: list[Signal] = []

    negative = t["sentiment"] == "negative"
    share = float(negative.mean())
    if share >= 0.3:
        out.append(Signal("negative_sentiment", min(1.0, (share - 0.2) / 0.5),
                          f"{negative.sum()} of {n} tickets negative ({share:.0%})", _ids(ids[negative])))

    cutoff = pd.Timestamp(datetime.combine(as_of, time.min) - timedelta(days=30))
    recent = t["activity_at"] >= cutoff
    if recent.sum() >= 2 and (~recent).sum() >= 2:
        now_share, before_share = float(negative[recent].mean()), float(negative[~recent].mean())
        if now_share - before_share >= 0.25:
            out.append(Signal("sentiment_worsening", min(1.0, (now_share - before_share) / 0.6),
                              f"negative share rose from {before_share:.0%} to {now_share:.0%} in the last 30 days",
                              _ids(ids[recent & negative])))

    churn = t["churn_language"].fillna(False).astype(bool)
    if churn.any():
        out.append(Signal("churn_language", min(1.0, 0.6 + 0.2 * churn.sum()),
                          f"churn language in {churn.sum()} ticket{'' if churn.sum() == 1 else 's'}", _ids(ids[churn])))

    threat = t["threat_competitors"].map(lambda v: len(items(v)) > 0)
    if threat.any():
        names = sorted({c for v in t.loc[threat, "threat_competitors"] for c in items(v)})
        out.append(Signal("competitor_threat", min(1.0, 0.6 + 0.2 * threat.sum()),
                          f"switching to or evaluating {', '.join(names)}", _ids(ids[threat])))

    repeated = _repeated_issue(t)
    if repeated:
        key, count, rows = repeated
        out.append(Signal("repeated_issue", min(1.0, (count - 2) / 3),
                          f"the same issue ({key}) raised {count} times", _ids(ids[rows])))

    earlier_rate = (~recent).sum() / 2.0  # the lookback's other 60 days, per 30 days
    if recent.sum() >= 4 and recent.sum() >= 2 * max(earlier_rate, 1.0):
        out.append(Signal("volume_surge", min(1.0, recent.sum() / (4 * max(earlier_rate, 1.0))),
                          f"{recent.sum()} tickets in the last 30 days vs {earlier_rate:.1f} per 30 days before",
                          _ids(ids[recent])))

    urgent = t["priority"].isin(["urgent", "high"])
    if urgent.mean() >= 0.3:
        out.append(Signal("urgent_share", min(1.0, float(urgent.mean()) / 0.7),
                          f"{urgent.sum()} of {n} tickets high or urgent priority", _ids(ids[urgent])))

    rated = t["csat"].dropna()
    if len(rated) and rated.mean() <= 3.0:
        low = t["csat"].notna() & (t["csat"] <= 2)
        out.append(Signal("low_csat", min(1.0, (3.5 - rated.mean()) / 2.0),
                          f"mean CSAT {rated.mean():.1f} over {len(rated)} rated ticket{'' if len(rated) == 1 else 's'}", _ids(ids[low])))

    targets = t["priority"].map(first_response_targets).fillna(first_response_targets["normal"])
    slow = t["first_response_minutes"].notna() & (t["first_response_minutes"] > targets)
    if slow.mean() >= 0.3:
        out.append(Signal("slow_first_response", min(1.0, float(slow.mean()) / 0.6),
                          f"{slow.sum()} of {n} first responses missed target", _ids(ids[slow])))
    return out


def strengths(signals: list[Signal]) -> np.ndarray:
    """The signals as a fixed-order feature vector (absent signals are 0)."""
    by_name = {s.name: s.strength for s in signals}
    return np.array([by_name.get(name, 0.0) for name in SIGNALS], dtype=float)


def _repeated_issue(t: pd.DataFrame) -> tuple[str, int, pd.Series] | None:
    """The error code (else theme) the account raised most often, when raised at least 3 times."""
    errors = Counter(e for v in t["errors"] for e in set(items(v)))
    if errors:
        code, count = errors.most_common(1)[0]
        if count >= 3:
            return code, count, t["errors"].map(lambda v: code in items(v))
    themes = Counter(x for x in t["theme_id"] if isinstance(x, str)) if "theme_id" in t else Counter()
    if themes:
        theme, count = themes.most_common(1)[0]
        if count >= 3:
            rows = t["theme_id"] == theme
            label = t.loc[rows, "theme_label"].iloc[0] if "theme_label" in t else None
            return f"“{label}”" if isinstance(label, str) else f"theme {theme}", count, rows
    return None


def items(value: Any) -> list:
    """A list cell from DuckDB: a list, an array, or a missing value (NA/None)."""
    return list(value) if isinstance(value, (list, tuple, np.ndarray)) else []


def _ids(series: pd.Series, limit: int = 8) -> list[str]:
    return [str(x) for x in series.tolist()[:limit]]

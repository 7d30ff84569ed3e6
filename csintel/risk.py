"""Pre-renewal risk: a transparent score from each renewing account's support history.

Each signal is a number in [0, 1] times a documented weight; the score is their sum (0-100) and
the reasons are the signals ranked by contribution, each with the tickets behind it. The weights
are a reasoned default, not fitted: a learned model replaces them once renewals with outcomes
are available to backtest against.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from csintel.config import RiskConfig, SupportConfig
from csintel.warehouse import fetch_df, transaction, upsert, utcnow

MODEL_VERSION = "risk-default-1"

# Points each signal adds at full strength (they sum to 100).
WEIGHTS = {
    "negative_sentiment": 22,   # share of the account's tickets that read negative
    "churn_language": 20,       # "cancel", "not renewing", "looking at alternatives"
    "competitor_threat": 16,    # switching or evaluating a named competitor
    "repeated_issue": 12,       # the same error or theme raised again and again
    "volume_surge": 10,         # last 30 days against the account's own earlier rate
    "urgent_share": 8,          # high/urgent priority share
    "low_csat": 7,              # mean CSAT of rated tickets
    "slow_first_response": 5,   # first response slower than the priority's target
}
MIN_TICKETS = 2   # one unhappy ticket is not a pattern


@dataclass
class Reason:
    signal: str
    text: str
    contribution: float
    tickets: list[str] = field(default_factory=list)


@dataclass
class AccountRisk:
    account_id: str
    name: str
    arr_usd: float
    renewal_date: date
    days_to_renewal: int
    csm_email: str | None
    csm_slack_id: str | None
    tickets: int
    score: float
    band: str
    reasons: list[Reason]


def score_accounts(history: pd.DataFrame, as_of: date, config: RiskConfig,
                   first_response_targets: dict[str, float] | None = None) -> list[AccountRisk]:
    """Score every account in `history` (rows of sql/queries/risk_tickets.sql), riskiest first.

    `first_response_targets` (minutes by priority) define an SLA breach; default: [support]'s.
    """
    targets = first_response_targets or SupportConfig().first_response_targets
    out = []
    for account_id, rows in history.groupby("account_id", sort=True):
        first = rows.iloc[0]
        tickets = rows[rows["ticket_id"].notna()]
        reasons = [r for r in _signals(tickets, as_of, targets) if r.contribution > 0]
        reasons.sort(key=lambda r: (-r.contribution, r.signal))
        score = round(min(100.0, sum(r.contribution for r in reasons)), 1)
        band = "high" if score >= config.high_score else "medium" if score >= config.medium_score else "low"
        renewal = pd.Timestamp(first["renewal_date"]).date()
        out.append(AccountRisk(
            account_id=str(account_id), name=str(first["name"]), arr_usd=float(first["arr_usd"] or 0.0),
            renewal_date=renewal, days_to_renewal=(renewal - as_of).days,
            csm_email=_none(first["csm_email"]), csm_slack_id=_none(first["csm_slack_id"]),
            tickets=len(tickets), score=score, band=band, reasons=reasons,
        ))
    out.sort(key=lambda a: (-a.score, -a.arr_usd, a.account_id))
    return out


def _signals(t: pd.DataFrame, as_of: date, first_response_targets: dict[str, float]) -> list[Reason]:
    n = len(t)
    if n < MIN_TICKETS:
        return []
    ids = t["ticket_id"].astype(str)
    reasons: list[Reason] = []

    negative = t["sentiment"] == "negative"
    share = float(negative.mean())
    if share >= 0.3:
        reasons.append(Reason("negative_sentiment", f"{negative.sum()} of {n} tickets negative ({share:.0%})",
                              WEIGHTS["negative_sentiment"] * min(1.0, (share - 0.2) / 0.5), _ids(ids[negative])))

    churn = t["churn_language"].fillna(False).astype(bool)
    if churn.any():
        reasons.append(Reason("churn_language", f"churn language in {churn.sum()} ticket(s)",
                              WEIGHTS["churn_language"] * min(1.0, 0.6 + 0.2 * churn.sum()), _ids(ids[churn])))

    threat = t["threat_competitors"].map(lambda v: len(_items(v)) > 0)
    if threat.any():
        names = sorted({c for v in t.loc[threat, "threat_competitors"] for c in _items(v)})
        reasons.append(Reason("competitor_threat", f"switching to or evaluating {', '.join(names)}",
                              WEIGHTS["competitor_threat"] * min(1.0, 0.6 + 0.2 * threat.sum()), _ids(ids[threat])))

    repeated = _repeated_issue(t)
    if repeated:
        key, count, rows = repeated
        reasons.append(Reason("repeated_issue", f"the same issue ({key}) raised {count} times",
                              WEIGHTS["repeated_issue"] * min(1.0, (count - 2) / 3), _ids(ids[rows])))

    cutoff = pd.Timestamp(datetime.combine(as_of, time.min) - timedelta(days=30))
    recent = t["activity_at"] >= cutoff
    earlier_rate = (~recent).sum() / 2.0  # the lookback's other 60 days, per 30 days
    if recent.sum() >= 4 and recent.sum() >= 2 * max(earlier_rate, 1.0):
        reasons.append(Reason("volume_surge", f"{recent.sum()} tickets in the last 30 days vs "
                                              f"{earlier_rate:.1f} per 30 days before",
                              WEIGHTS["volume_surge"] * min(1.0, recent.sum() / (4 * max(earlier_rate, 1.0))),
                              _ids(ids[recent])))

    urgent = t["priority"].isin(["urgent", "high"])
    if urgent.mean() >= 0.3:
        reasons.append(Reason("urgent_share", f"{urgent.sum()} of {n} tickets high or urgent priority",
                              WEIGHTS["urgent_share"] * min(1.0, float(urgent.mean()) / 0.7), _ids(ids[urgent])))

    rated = t["csat"].dropna()
    if len(rated) and rated.mean() <= 3.0:
        low = t["csat"].notna() & (t["csat"] <= 2)
        reasons.append(Reason("low_csat", f"mean CSAT {rated.mean():.1f} over {len(rated)} rated ticket(s)",
                              WEIGHTS["low_csat"] * min(1.0, (3.5 - rated.mean()) / 2.0), _ids(ids[low])))

    targets = t["priority"].map(first_response_targets).fillna(first_response_targets["normal"])
    slow = t["first_response_minutes"].notna() & (t["first_response_minutes"] > targets)
    if slow.mean() >= 0.3:
        reasons.append(Reason("slow_first_response", f"{slow.sum()} of {n} first responses missed target",
                              WEIGHTS["slow_first_response"] * min(1.0, float(slow.mean()) / 0.6), _ids(ids[slow])))
    return reasons


def _repeated_issue(t: pd.DataFrame) -> tuple[str, int, pd.Series] | None:
    """The error code (else theme) the account raised most often, when raised at least 3 times."""
    errors = Counter(e for v in t["errors"] for e in set(_items(v)))
    if errors:
        code, count = errors.most_common(1)[0]
        if count >= 3:
            return code, count, t["errors"].map(lambda v: code in _items(v))
    themes = Counter(x for x in t["theme_id"] if isinstance(x, str))
    if themes:
        theme, count = themes.most_common(1)[0]
        if count >= 3:
            rows = t["theme_id"] == theme
            label = t.loc[rows, "theme_label"].iloc[0] if "theme_label" in t else None
            return f"“{label}”" if isinstance(label, str) else f"theme {theme}", count, rows
    return None


def _items(value: Any) -> list:
    """A list cell from DuckDB: a list, an array, or a missing value (NA/None)."""
    return list(value) if isinstance(value, (list, tuple, np.ndarray)) else []


def _ids(series: pd.Series, limit: int = 8) -> list[str]:
    return [str(x) for x in series.tolist()[:limit]]


def _none(value: Any) -> str | None:
    return None if value is None or (isinstance(value, float) and pd.isna(value)) else str(value)


def update_account_risk(con: duckdb.DuckDBPyConnection, config: RiskConfig, as_of: date, week: date,
                        tags_version: str, first_response_targets: dict[str, float] | None = None
                        ) -> list[AccountRisk]:
    """Score the accounts renewing within the window after `as_of` and store them for `week`."""
    history = fetch_df(con, "risk_tickets", {
        "as_of": as_of, "window_days": config.renewal_window_days,
        "lookback_days": config.lookback_days, "model_version": tags_version,
    })
    scored = score_accounts(history, as_of, config, first_response_targets) if not history.empty else []
    rows = [{
        "account_id": a.account_id, "week": week, "model_version": MODEL_VERSION, "score": a.score,
        "band": a.band, "renewal_date": a.renewal_date, "days_to_renewal": a.days_to_renewal,
        "reasons": json.dumps([vars(r) for r in a.reasons]), "computed_at": utcnow(),
    } for a in scored]
    with transaction(con):
        con.execute("DELETE FROM store.account_risk WHERE week = ? AND model_version = ?", [week, MODEL_VERSION])
        upsert(con, "store.account_risk", pd.DataFrame(rows))
    return scored

"""Weekly pre-renewal risk: score every account renewing soon and store the result.

Signals come from `signals.py`, the score and reasons from a `RiskModel` (the default, or the
learned one when `csintel risk backtest --save` found it better on past renewals).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any

import duckdb
import pandas as pd

from csintel.config import RiskConfig, SupportConfig
from csintel.risk.model import DEFAULT_MODEL, Reason, RiskModel
from csintel.risk.signals import account_signals
from csintel.warehouse import fetch_df, transaction, upsert, utcnow


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
                   first_response_targets: dict[str, float] | None = None,
                   model: RiskModel = DEFAULT_MODEL) -> list[AccountRisk]:
    """Score every account in `history` (rows of sql/queries/risk_tickets.sql), riskiest first.

    `first_response_targets` (minutes by priority) define an SLA breach; default: [support]'s.
    """
    targets = first_response_targets or SupportConfig().first_response_targets
    out = []
    for account_id, rows in history.groupby("account_id", sort=True):
        first = rows.iloc[0]
        tickets = rows[rows["ticket_id"].notna()]
        score, reasons = model.score(account_signals(tickets, as_of, targets))
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


def _none(value: Any) -> str | None:
    return None if value is None or (isinstance(value, float) and pd.isna(value)) else str(value)


def update_account_risk(con: duckdb.DuckDBPyConnection, config: RiskConfig, as_of: date, week: date,
                        tags_version: str, first_response_targets: dict[str, float] | None = None,
                        model: RiskModel = DEFAULT_MODEL) -> list[AccountRisk]:
    """Score the accounts renewing within the window after `as_of` and store them for `week`."""
    history = fetch_df(con, "risk_tickets", {
        "as_of": as_of, "window_days": config.renewal_window_days,
        "lookback_days": config.lookback_days, "model_version": tags_version,
    })
    scored = score_accounts(history, as_of, config, first_response_targets, model) if not history.empty else []
    rows = [{
        "account_id": a.account_id, "week": week, "model_version": model.version, "score": a.score,
        "band": a.band, "renewal_date": a.renewal_date, "days_to_renewal": a.days_to_renewal,
        "reasons": json.dumps([vars(r) for r in a.reasons]), "computed_at": utcnow(),
    } for a in scored]
    with transaction(con):
        con.execute("DELETE FROM store.account_risk WHERE week = ? AND model_version = ?", [week, model.version])
        upsert(con, "store.account_risk", pd.DataFrame(rows))
    return scored

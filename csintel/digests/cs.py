"""The Customer Success digest's facts: pre-renewal risk alerts, riskiest first, with their CSM.

Rows and numbers only; the wording is `csintel/routing/wording/cs.py`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date

import duckdb
import pandas as pd

from csintel.config import Settings
from csintel.digests.common import refs
from csintel.digests.content import TicketRef
from csintel.warehouse import fetch_df
from csintel.weeks import Week

AT_RISK = ("high", "medium")
REASONS_SHOWN = 4


@dataclass(frozen=True)
class RiskRow:
    """An account renewing soon whose support history shows risk."""

    name: str
    renewal_date: date
    days_to_renewal: int
    score: float                      # 0..100
    band: str                         # high | medium
    newly_at_risk: bool               # not at risk last week (False when last week was not scored)
    arr_usd: float
    csm_email: str | None
    csm_slack_id: str | None
    reasons: tuple[str, ...]          # the risk model's own explanations, strongest first
    tickets_seen: tuple[TicketRef, ...] = ()


@dataclass(frozen=True)
class RecoveredRow:
    """An account at risk last week and no longer."""

    name: str
    renewal_date: date
    score: float
    last_week_band: str
    arr_usd: float
    csm_slack_id: str | None


@dataclass(frozen=True)
class RenewalWeek:
    """Everything the renewal-risk digest says about a week, as rows and numbers."""

    week: str                         # ISO week label
    renewal_window_days: int
    renewing: int                     # accounts renewing within the window
    at_risk: int
    high: int
    scored_last_week: bool            # "newly at risk" needs last week's scores
    newly_at_risk: int
    arr_at_risk: float
    alerts: tuple[RiskRow, ...]
    recovered: tuple[RecoveredRow, ...]


def renewal_week(con: duckdb.DuckDBPyConnection, week: Week, settings: Settings, risk_version: str) -> RenewalWeek:
    """The CS digest's facts for `week`: up to twice `digest.max_lines` alerts, `max_lines` recovered."""
    cfg = settings.digest
    alerts = fetch_df(con, "risk_week", {"week": week.start, "model_version": risk_version})
    at_risk = alerts[alerts["band"].isin(AT_RISK)]
    # On a first run every alert would read as new.
    scored_last_week = con.execute("SELECT count(*) FROM store.account_risk WHERE week = ? AND model_version = ?",
                                   [week.shift(-1).start, risk_version]).fetchone()[0] > 0
    newly = ~at_risk["last_week_band"].isin(AT_RISK) if scored_last_week else pd.Series(False, index=at_risk.index)

    def alert(a: pd.Series, new: bool) -> RiskRow:
        reasons = json.loads(a["reasons"])
        return RiskRow(
            name=a["name"], renewal_date=a["renewal_date"], days_to_renewal=int(a["days_to_renewal"]),
            score=float(a["score"]), band=a["band"], newly_at_risk=new, arr_usd=float(a["arr_usd"]),
            csm_email=a["csm_email"] or None, csm_slack_id=a["csm_slack_id"] or None,
            reasons=tuple(r["text"] for r in reasons[:REASONS_SHOWN]),
            tickets_seen=refs([t for r in reasons for t in r["tickets"]], cfg.ticket_url))

    recovered = alerts[(alerts["band"] == "low") & alerts["last_week_band"].isin(AT_RISK)]
    return RenewalWeek(
        week=week.label, renewal_window_days=settings.risk.renewal_window_days, renewing=len(alerts),
        at_risk=len(at_risk), high=int((at_risk["band"] == "high").sum()), scored_last_week=scored_last_week,
        newly_at_risk=int(newly.sum()), arr_at_risk=float(at_risk["arr_usd"].sum()),
        alerts=tuple(alert(a, bool(newly[i])) for i, a in at_risk.head(cfg.max_lines * 2).iterrows()),
        recovered=tuple(
            RecoveredRow(name=a["name"], renewal_date=a["renewal_date"], score=float(a["score"]),
                         last_week_band=a["last_week_band"], arr_usd=float(a["arr_usd"]),
                         csm_slack_id=a["csm_slack_id"] or None)
            for _, a in recovered.head(cfg.max_lines).iterrows()),
    )

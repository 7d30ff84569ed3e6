"""The Customer Success digest in words: pre-renewal risk alerts, riskiest first, addressed to the CSM."""

from __future__ import annotations

import duckdb

from csintel.config import Settings
from csintel.digests.content import Digest, Line, Section
from csintel.digests.cs import RecoveredRow, RenewalWeek, RiskRow, renewal_week
from csintel.routing.wording.numbers import money
from csintel.weeks import Week


def build_cs_digest(con: duckdb.DuckDBPyConnection, week: Week, settings: Settings, risk_version: str) -> Digest:
    """The week's renewal-risk digest: its facts from the warehouse, in words."""
    return cs_digest(renewal_week(con, week, settings, risk_version))


def cs_digest(facts: RenewalWeek) -> Digest:
    """The renewal-risk digest of a week's facts; quiet when no account is at risk or recovered."""
    quiet = not facts.alerts and not facts.recovered
    news = f", {facts.newly_at_risk} newly at risk" if facts.scored_last_week else ""
    summary = (f"{facts.at_risk} of {facts.renewing} accounts renewing in the next {facts.renewal_window_days} days "
               f"show risk ({facts.high} high{news}), {money(facts.arr_at_risk)} ARR.")
    if quiet:
        summary = (f"No renewal risk this week: none of the {facts.renewing} accounts renewing in the next "
                   f"{facts.renewal_window_days} days shows risk in its support history.")
    return Digest(
        audience="cs", week=facts.week, title=f"Renewal risk · {facts.week}", summary=summary,
        sections=() if quiet else (
            Section("Accounts at risk before renewal", tuple(_alert_line(a) for a in facts.alerts)),
            Section("Recovered since last week", tuple(_recovered_line(a) for a in facts.recovered),
                    "None this week.")),
        quiet=quiet, stats={"at_risk": facts.at_risk, "high": facts.high, "newly_at_risk": facts.newly_at_risk,
                            "arr_at_risk": facts.arr_at_risk, "recovered": len(facts.recovered)},
    )


def _alert_line(a: RiskRow) -> Line:
    return Line(
        title=f"{a.name} — renews {a.renewal_date:%Y-%m-%d} (in {a.days_to_renewal} days)",
        detail=f"Risk {a.score:.0f}/100 · {money(a.arr_usd)} ARR" + (f" · CSM {a.csm_email}" if a.csm_email else ""),
        badge=f"{a.band.upper()} RISK" + (" · NEW" if a.newly_at_risk else ""),
        reasons=a.reasons, tickets=a.tickets_seen, mention=a.csm_slack_id,
    )


def _recovered_line(a: RecoveredRow) -> Line:
    return Line(title=f"{a.name} — renews {a.renewal_date:%Y-%m-%d}",
                detail=f"Risk now {a.score:.0f}/100 (was {a.last_week_band} last week) · {money(a.arr_usd)} ARR",
                mention=a.csm_slack_id)

"""The Customer Success digest: pre-renewal risk alerts, riskiest first, addressed to the CSM."""

from __future__ import annotations

import json

import duckdb

from csintel.config import Settings
from csintel.digests.common import money, refs
from csintel.digests.content import Digest, Line, Section
from csintel.warehouse import fetch_df
from csintel.weeks import Week


def build_cs_digest(con: duckdb.DuckDBPyConnection, week: Week, settings: Settings, risk_version: str) -> Digest:
    cfg = settings.digest
    alerts = fetch_df(con, "risk_week", {"week": week.start, "model_version": risk_version})
    at_risk = alerts[alerts["band"].isin(["high", "medium"])]
    renewing = len(alerts)
    # "Newly at risk" needs last week's scores; on a first run every alert would read as new.
    scored_last_week = con.execute("SELECT count(*) FROM store.account_risk WHERE week = ? AND model_version = ?",
                                   [week.shift(-1).start, risk_version]).fetchone()[0] > 0

    lines = []
    for _, a in at_risk.head(cfg.max_lines * 2).iterrows():
        reasons = json.loads(a["reasons"])
        newly = scored_last_week and a["last_week_band"] not in ("high", "medium")
        badge = f"{a['band'].upper()} RISK" + (" · NEW" if newly else "")
        ticket_ids = [t for r in reasons for t in r["tickets"]]
        lines.append(Line(
            title=f"{a['name']} — renews {a['renewal_date']:%Y-%m-%d} (in {int(a['days_to_renewal'])} days)",
            detail=f"Risk {a['score']:.0f}/100 · {money(a['arr_usd'])} ARR" + (
                f" · CSM {a['csm_email']}" if a["csm_email"] else ""),
            badge=badge,
            reasons=tuple(r["text"] for r in reasons[:4]),
            tickets=refs(ticket_ids, cfg.ticket_url),
            mention=a["csm_slack_id"] or None,
        ))
    high = int((at_risk["band"] == "high").sum())
    newly = int((~at_risk["last_week_band"].isin(["high", "medium"])).sum()) if scored_last_week else 0
    arr = float(at_risk["arr_usd"].sum())
    recovered = alerts[(alerts["band"] == "low") & alerts["last_week_band"].isin(["high", "medium"])]
    recovered_lines = tuple(
        Line(title=f"{a['name']} — renews {a['renewal_date']:%Y-%m-%d}",
             detail=f"Risk now {a['score']:.0f}/100 (was {a['last_week_band']} last week) · {money(a['arr_usd'])} ARR",
             mention=a["csm_slack_id"] or None)
        for _, a in recovered.head(cfg.max_lines).iterrows())
    quiet = len(lines) == 0 and not recovered_lines
    news = f", {newly} newly at risk" if scored_last_week else ""
    summary = (f"{len(at_risk)} of {renewing} accounts renewing in the next {settings.risk.renewal_window_days} days "
               f"show risk ({high} high{news}), {money(arr)} ARR.")
    if quiet:
        summary = (f"No renewal risk this week: none of the {renewing} accounts renewing in the next "
                   f"{settings.risk.renewal_window_days} days shows risk in its support history.")
    return Digest(
        audience="cs", week=week.label, title=f"Renewal risk · {week.label}", summary=summary,
        sections=() if quiet else (Section("Accounts at risk before renewal", tuple(lines)),
                                   Section("Recovered since last week", recovered_lines, "None this week.")),
        quiet=quiet, stats={"at_risk": len(at_risk), "high": high, "newly_at_risk": newly, "arr_at_risk": arr,
               "recovered": len(recovered_lines)},
    )

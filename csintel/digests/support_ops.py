"""The Support Ops digest: volume, SLA compliance, response and resolution times, CSAT, and the
relationship signals by segment (negative tickets and the ARR behind them, competitors, requests).

Figures come from ticket fields alone, so they are there from the first run; the forecast and
Erlang C staffing of the support-metrics work add their own section when they land.
"""

from __future__ import annotations

import json

import duckdb
import pandas as pd

from csintel.config import Settings
from csintel.digests.common import change, money
from csintel.digests.content import Digest, Line, Section
from csintel.warehouse import fetch_df
from csintel.weeks import Week


def build_support_ops_digest(con: duckdb.DuckDBPyConnection, week: Week, settings: Settings,
                             tags_version: str) -> Digest:
    support = settings.support
    rows = fetch_df(con, "support_week", {"start": week.start_ts, "end": week.end_ts,
                                          "targets": json.dumps(support.first_response_targets)})
    now, before = rows[rows["this_week"]], rows[~rows["this_week"]]
    total, prior = _overall(now), _overall(before)
    tickets = int(total["tickets"]) if total is not None else 0
    if not tickets:
        return Digest(audience="support_ops", week=week.label, title=f"Support operations · {week.label}",
                      summary=f"A quiet week: no tickets closed in {week.label}.", quiet=True)
    last = int(prior["tickets"]) if prior is not None else 0
    sla, target = total["sla_compliance"], support.sla_target
    summary = (f"{tickets} tickets closed ({change(tickets, last)}); first-response SLA met on {_pct(sla)} "
               f"(target {target:.0%}); CSAT {_num(total['csat_mean'], '.2f')} from {int(total['csat_responses'])} "
               f"ratings.")
    headline = (
        Line("SLA compliance", f"{_pct(sla)} this week vs {_pct(prior['sla_compliance'] if prior is not None else None)}"
                               f" last week (target {target:.0%})",
             badge="BELOW TARGET" if pd.notna(sla) and sla < target else None),
        Line("First response", f"median {_minutes(total['frt_median'])}, 90th percentile {_minutes(total['frt_p90'])}"),
        Line("Resolution", f"median {_hours(total['resolution_median_h'])}, "
                           f"90th percentile {_hours(total['resolution_p90_h'])}"),
        Line("CSAT", f"{_num(total['csat_mean'], '.2f')} / 5 from {int(total['csat_responses'])} ratings "
                     f"({total['csat_responses'] / tickets:.0%} response rate)"),
    )
    by_priority = _breakdown(now, "priority", support.first_response_targets, target)
    by_channel = _breakdown(now, "channel", None, target)
    segments = fetch_df(con, "relationship_week", {"start": week.start_ts, "end": week.end_ts,
                                                   "model_version": tags_version})
    relationship = tuple(
        Line(title=str(r["segment"]),
             detail=f"{int(r['tickets'])} tickets · {r['negative_share']:.0%} negative "
                    f"({money(r['negative_arr_usd'])} ARR behind them) · {int(r['competitive_tickets'])} with a "
                    f"competitor in play · {int(r['feature_requests'])} feature requests")
        for _, r in segments.iterrows())
    return Digest(
        audience="support_ops", week=week.label, title=f"Support operations · {week.label}", summary=summary,
        sections=(Section("This week", headline),
                  Section("By priority (first-response target)", by_priority, "No priorities recorded."),
                  Section("By channel", by_channel, "No channels recorded."),
                  Section("Relationship by segment", relationship, "No segments recorded.")),
        stats={"tickets": tickets, "sla_compliance": float(sla) if pd.notna(sla) else -1.0},
    )


GROUPING_FLAGS = {"priority": ("all_priorities", "all_channels"), "channel": ("all_channels", "all_priorities")}


def _overall(frame: pd.DataFrame) -> pd.Series | None:
    rows = frame[(frame["all_priorities"] == 1) & (frame["all_channels"] == 1)]
    return rows.iloc[0] if len(rows) else None


def _breakdown(frame: pd.DataFrame, by: str, targets: dict[str, float] | None, sla_target: float) -> tuple[Line, ...]:
    # GROUPING() flags: a by-priority row has priority grouped (0) and channel rolled up (1).
    own, other = GROUPING_FLAGS[by]
    rows = frame[(frame[own] == 0) & (frame[other] == 1)].sort_values("tickets", ascending=False)
    out = []
    for _, r in rows.iterrows():
        name = str(r[by])
        target = f" (target {_minutes(targets[name])})" if targets and name in targets else ""
        out.append(Line(
            title=f"{name}{target}",
            detail=f"{int(r['tickets'])} tickets · SLA {_pct(r['sla_compliance'])} · first response median "
                   f"{_minutes(r['frt_median'])} · resolution median {_hours(r['resolution_median_h'])} · "
                   f"CSAT {_num(r['csat_mean'], '.1f')}",
            badge="BELOW TARGET" if pd.notna(r["sla_compliance"]) and r["sla_compliance"] < sla_target else None,
        ))
    return tuple(out)


def _pct(value: float | None) -> str:
    return "n/a" if value is None or pd.isna(value) else f"{value:.0%}"


def _num(value: float | None, fmt: str) -> str:
    return "n/a" if value is None or pd.isna(value) else format(value, fmt)


def _minutes(value: float | None) -> str:
    if value is None or pd.isna(value):
        return "n/a"
    return f"{value:.0f} min" if value < 120 else f"{value / 60:.1f} h"


def _hours(value: float | None) -> str:
    if value is None or pd.isna(value):
        return "n/a"
    return f"{value:.1f} h" if value < 48 else f"{value / 24:.1f} days"

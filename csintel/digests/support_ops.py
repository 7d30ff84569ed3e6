"""The Support Ops digest: volume, SLA compliance, response and resolution times, CSAT, and the
relationship signals by segment (negative tickets and the ARR behind them, competitors, requests).

Figures come from ticket fields alone, so they are there from the first run. The forecast is an
ETS model over the last 26 weeks (`csintel/support/forecast.py`); staffing is Erlang C per block
of the week, from the forecast and the measured share of arrivals in each block.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import duckdb
import pandas as pd

from csintel.classify.taxonomy import UNCERTAIN
from csintel.config import Settings
from csintel.digests.common import change, count, money
from csintel.digests.content import Digest, Line, Section
from csintel.warehouse import fetch_df
from csintel.support.erlang import staff_blocks
from csintel.support.forecast import WeeklyForecast, forecast_weekly
from csintel.weeks import Week, week_of


def build_support_ops_digest(con: duckdb.DuckDBPyConnection, week: Week, settings: Settings,
                             tags_version: str) -> Digest:
    support = settings.support
    rows = fetch_df(con, "support_week", {"start": week.start_ts, "end": week.end_ts, "model_version": tags_version,
                                          "targets": json.dumps(support.first_response_targets)})
    now, before = rows[rows["this_week"]], rows[~rows["this_week"]]
    total, prior = _overall(now), _overall(before)
    tickets = int(total["tickets"]) if total is not None else 0
    if not tickets:
        return Digest(audience="support_ops", week=week.label, title=f"Support operations · {week.label}",
                      summary=f"A quiet week: no tickets closed in {week.label}.", quiet=True)
    last = int(prior["tickets"]) if prior is not None else 0
    sla, target = total["sla_compliance"], support.sla_target
    ratings = int(total["csat_responses"])
    sla_text = (f"first-response SLA met on {_pct(sla)} (target {target:.0%})" if pd.notna(sla)
                else "no first-response times recorded")
    csat_text = (f"CSAT {_num(total['csat_mean'], '.2f')} from {count(ratings, 'rating')}" if ratings
                 else "no CSAT ratings")
    summary = f"{count(tickets, 'ticket')} closed ({change(tickets, last)}); {sla_text}; {csat_text}."
    headline: tuple[Line, ...] = (
        Line("SLA compliance", f"{_pct(sla)} this week vs {_pct(prior['sla_compliance'] if prior is not None else None)}"
                               f" last week (target {target:.0%})" if pd.notna(sla)
             else "no first-response times recorded this week",
             badge="BELOW TARGET" if pd.notna(sla) and sla < target else None),
        Line("First response", f"median {_minutes(total['frt_median'])}, 90th percentile {_minutes(total['frt_p90'])}"),
        Line("Resolution", f"median {_hours(total['resolution_median_h'])}, "
                           f"90th percentile {_hours(total['resolution_p90_h'])}"),
        Line("CSAT", f"{_num(total['csat_mean'], '.2f')} / 5 from {count(ratings, 'rating')} "
                     f"({ratings / tickets:.0%} response rate)" if ratings else "no ratings this week"),
        Line("One-touch resolution", f"{_pct(total['one_touch'])} of tickets solved with a single agent reply"
             if pd.notna(total["one_touch"]) else "not recorded (no agent replies in the data)"),
    )
    fit = category_fit(now)
    fit_line = _fit_line(fit, settings)
    if fit_line is not None:
        headline += (fit_line,)
    by_priority = _breakdown(now, "priority", support.first_response_targets, target)
    by_channel = _breakdown(now, "channel", None, target)
    by_category = _breakdown(now, "category", None, target)
    segments = fetch_df(con, "relationship_week", {"start": week.start_ts, "end": week.end_ts,
                                                   "model_version": tags_version})
    relationship = tuple(
        Line(title=str(r["segment"]),
             detail=f"{count(r['tickets'], 'ticket')} · {r['negative_share']:.0%} negative "
                    f"({money(r['negative_arr_usd'])} ARR behind them) · {int(r['competitive_tickets'])} with a "
                    f"competitor in play · {count(r['feature_requests'], 'feature request')}")
        for _, r in segments.iterrows())
    staffing = _forecast_and_staffing(con, week, settings)
    return Digest(
        audience="support_ops", week=week.label, title=f"Support operations · {week.label}", summary=summary,
        sections=(Section("This week", headline),
                  Section("By priority (first-response target)", by_priority, "No priorities recorded."),
                  Section("By channel", by_channel, "No channels recorded."),
                  Section("By category", by_category, "No categories tagged."),
                  Section("Relationship by segment", relationship, "No segments recorded."),
                  Section(f"Forecast and staffing (Erlang C: {support.answer_target:.0%} answered within "
                          f"{_minutes(support.answer_within_minutes)}, {support.handle_minutes:g} min handle time)",
                          staffing, "Not enough history to forecast.")),
        stats={"tickets": tickets, "sla_compliance": float(sla) if pd.notna(sla) else -1.0,
               "tagged": fit.tagged, "uncertain": fit.uncertain, "uncertain_share": round(fit.share, 4)},
    )


@dataclass(frozen=True)
class CategoryFit:
    """How many of the week's tagged tickets fit no category (`uncertain`)."""

    tagged: int
    uncertain: int

    @property
    def share(self) -> float:
        return self.uncertain / self.tagged if self.tagged else 0.0


# Below this many tagged tickets a week's uncertain share is too noisy to call the taxonomy poor
# (2 of 5 is 40%); the share is still shown in the digest.
MIN_FIT_TICKETS = 20


def category_fit(now: pd.DataFrame) -> CategoryFit:
    """The week's tagged tickets and those tagged `uncertain`, from support_week's category rows.
    Untagged tickets (not enriched with this tags version) count in neither."""
    rows = _rows_by(now, "category")
    tagged = int(rows.loc[rows["category"] != UNTAGGED, "tickets"].sum())
    uncertain = int(rows.loc[rows["category"] == UNCERTAIN, "tickets"].sum())
    return CategoryFit(tagged, uncertain)


def poor_fit(tagged: int, uncertain: int, settings: Settings) -> bool:
    """Whether so many tickets fit no category that the taxonomy itself is the problem."""
    return (tagged >= MIN_FIT_TICKETS
            and uncertain / tagged >= settings.models.category_poor_fit_share)


def suggest_command(settings: Settings) -> str:
    """The `taxonomy suggest` command line for this setup: the configured tickets file when there is one."""
    files = settings.sources.tickets
    return f"csintel taxonomy suggest --input {files[0] if files else '<your tickets file>'}"


def _fit_line(fit: CategoryFit, settings: Settings) -> Line | None:
    """The digest's taxonomy-fit line (absent when every tagged ticket has a category). The text
    avoids code spans: every renderer shows digest text literally."""
    if not fit.uncertain:
        return None
    share = "under 1%" if fit.share < 0.005 else f"{fit.share:.0%}"
    detail = (f"{share} of this week's tickets fit no category ({fit.uncertain} of "
              f"{count(fit.tagged, 'tagged ticket')}, \"uncertain\" under By category)")
    if not poor_fit(fit.tagged, fit.uncertain, settings):
        return Line("Taxonomy fit", detail)
    return Line("Taxonomy fit", detail, badge="POOR FIT", reasons=(
        f"{settings.models.category_poor_fit_share:.0%} or more fit no category ([models] category_poor_fit_share): "
        f"the taxonomy likely misses kinds of tickets this team gets",
        f"draft categories from your own tickets with: {suggest_command(settings)} (then edit the file and "
        f"set [models] taxonomy to it)",
    ))


# Hours per week in each staffing block; the blocks themselves are defined in
# sql/queries/arrival_blocks.sql (UTC), which measures each block's share of arrivals.
BLOCK_HOURS = {"Mon-Fri 00-08": 40, "Mon-Fri 08-12": 20, "Mon-Fri 12-18": 30, "Mon-Fri 18-24": 30, "Sat-Sun": 48}
FORECAST_HISTORY_WEEKS = 26


def volume_forecast(con: duckdb.DuckDBPyConnection, week: Week,
                    settings: Settings) -> tuple[pd.Series, list[WeeklyForecast]]:
    """Weekly tickets over the last 26 weeks and the forecast from them: the one source of the
    digest's forecast lines and the report's forecast chart, so the two always agree."""
    bounds = {"since": week.window_start(FORECAST_HISTORY_WEEKS).start_ts, "end": week.end_ts}
    volume = fetch_df(con, "weekly_volume", bounds)
    if volume.empty:
        return pd.Series(dtype=float), []
    history = pd.Series(volume["tickets"].to_numpy(), index=pd.to_datetime(volume["week"]).dt.date)
    if week.start not in history.index:
        history[week.start] = 0          # a silent last week is data, not a gap
    history = history.sort_index()
    return history, forecast_weekly(history, settings.support.forecast_weeks)


def _forecast_and_staffing(con: duckdb.DuckDBPyConnection, week: Week, settings: Settings) -> tuple[Line, ...]:
    """The next weeks' volume with its interval, and the agents each block needs in the first of them."""
    support = settings.support
    bounds = {"since": week.window_start(FORECAST_HISTORY_WEEKS).start_ts, "end": week.end_ts}
    history, forecast = volume_forecast(con, week, settings)
    if history.empty:
        return ()
    lines = [Line(title=week_of(f.week).label,
                  detail=f"{f.tickets:.0f} tickets forecast (80% interval {f.low:.0f}-{f.high:.0f}; {f.method})")
             for f in forecast]
    shares = fetch_df(con, "arrival_blocks", bounds)
    if forecast and not shares.empty:
        profile = dict(zip(shares["block"], shares["share"]))
        blocks = staff_blocks(forecast[0].tickets, profile, support.handle_minutes, support.answer_target,
                              support.answer_within_minutes * 60, BLOCK_HOURS)
        lines += [Line(title=f"{b.block} ({week_of(forecast[0].week).label})",
                       detail=f"{b.arrivals_per_hour:.1f} tickets/hour → {b.staffing.agents} "
                              f"agent{'' if b.staffing.agents == 1 else 's'} "
                              f"(answered in time {b.staffing.service_level:.0%}, occupancy {b.staffing.occupancy:.0%})")
                  for b in blocks]
    return tuple(lines)


UNTAGGED = "untagged"    # support_week.sql's category for a ticket without tags of this version

# GROUPING() columns of sql/queries/support_week.sql: 0 where the row is broken down by that column.
GROUPING_FLAGS = {"priority": "all_priorities", "channel": "all_channels", "category": "all_categories"}


def _rows_by(frame: pd.DataFrame, by: str | None) -> pd.DataFrame:
    """The rows broken down by `by` alone (None: the overall row)."""
    keep = pd.Series(True, index=frame.index)
    for column, flag in GROUPING_FLAGS.items():
        keep &= frame[flag] == (0 if column == by else 1)
    return frame[keep]


def _overall(frame: pd.DataFrame) -> pd.Series | None:
    rows = _rows_by(frame, None)
    return rows.iloc[0] if len(rows) else None


def _breakdown(frame: pd.DataFrame, by: str, targets: dict[str, float] | None, sla_target: float) -> tuple[Line, ...]:
    rows = _rows_by(frame, by).sort_values("tickets", ascending=False)
    out = []
    for _, r in rows.iterrows():
        name = str(r[by])
        target = f" (target {_minutes(targets[name])})" if targets and name in targets else ""
        out.append(Line(
            title=f"{name}{target}",
            detail=f"{count(r['tickets'], 'ticket')} · SLA {_pct(r['sla_compliance'])} · first response median "
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

"""The Support Ops digest's facts: volume, SLA compliance, response and resolution times, CSAT, and the
relationship signals by segment (negative tickets and the ARR behind them, competitors, requests).

Figures come from ticket fields alone, so they are there from the first run. The forecast is an
ETS model over the last 26 weeks (`csintel/support/forecast.py`); staffing is Erlang C per block
of the week, from the forecast and the measured share of arrivals in each block. Rows and numbers
only; the wording is `csintel/routing/wording/support_ops.py`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import duckdb
import pandas as pd

from csintel.classify.taxonomy import UNCERTAIN
from csintel.config import Settings
from csintel.warehouse import fetch_df
from csintel.support.erlang import BlockStaffing, staff_blocks
from csintel.support.forecast import WeeklyForecast, forecast_weekly
from csintel.weeks import Week


@dataclass(frozen=True)
class SupportFigures:
    """One row of support_week: the week overall, or one priority, channel or category. A figure
    the data lacks (no first-response times, no ratings, no agent replies) is None."""

    name: str                             # the priority, channel or category; "" for the week overall
    tickets: int
    sla_compliance: float | None          # share answered within the first-response target
    frt_median: float | None              # first response, minutes
    frt_p90: float | None
    resolution_median_h: float | None     # resolution, hours
    resolution_p90_h: float | None
    csat_mean: float | None
    csat_responses: int
    one_touch: float | None               # share solved with a single agent reply
    target_minutes: float | None = None   # the priority's first-response target


@dataclass(frozen=True)
class SegmentRow:
    """One customer segment's week: negative tickets, the ARR behind them, competitors, requests."""

    segment: str
    tickets: int
    negative_share: float
    negative_arr_usd: float
    competitive_tickets: int
    feature_requests: int


@dataclass(frozen=True)
class CategoryFit:
    """How many of the week's tagged tickets fit no category (`uncertain`)."""

    tagged: int
    uncertain: int

    @property
    def share(self) -> float:
        return self.uncertain / self.tagged if self.tagged else 0.0


@dataclass(frozen=True)
class SupportWeek:
    """Everything the Support Ops digest says about a week with tickets, as rows and numbers."""

    week: str                                   # ISO week label
    overall: SupportFigures
    last_week: SupportFigures | None
    by_priority: tuple[SupportFigures, ...]
    by_channel: tuple[SupportFigures, ...]
    by_category: tuple[SupportFigures, ...]
    fit: CategoryFit
    poor_fit: bool
    poor_fit_share: float                       # [models] category_poor_fit_share
    suggest_command: str
    segments: tuple[SegmentRow, ...]
    forecast: tuple[WeeklyForecast, ...]
    staffing: tuple[BlockStaffing, ...]         # per block of the first forecast week
    sla_target: float                           # share of tickets to answer within their target
    answer_target: float                        # Erlang C: share answered within answer_within_minutes
    answer_within_minutes: float
    handle_minutes: float


def support_week(con: duckdb.DuckDBPyConnection, week: Week, settings: Settings,
                 tags_version: str) -> SupportWeek | None:
    """The Support Ops digest's facts for `week`; None when no ticket closed in it."""
    support = settings.support
    rows = fetch_df(con, "support_week", {"start": week.start_ts, "end": week.end_ts, "model_version": tags_version,
                                          "targets": json.dumps(support.first_response_targets)})
    now, before = rows[rows["this_week"]], rows[~rows["this_week"]]
    overall, last_week = _breakdown(now, None), _breakdown(before, None)
    if not overall or not overall[0].tickets:
        return None
    fit = category_fit(now)
    segments = fetch_df(con, "relationship_week", {"start": week.start_ts, "end": week.end_ts,
                                                   "model_version": tags_version})
    forecast, staffing = _forecast_and_staffing(con, week, settings)
    return SupportWeek(
        week=week.label, overall=overall[0], last_week=last_week[0] if last_week else None,
        by_priority=_breakdown(now, "priority", support.first_response_targets),
        by_channel=_breakdown(now, "channel"), by_category=_breakdown(now, "category"),
        fit=fit, poor_fit=poor_fit(fit.tagged, fit.uncertain, settings),
        poor_fit_share=settings.models.category_poor_fit_share, suggest_command=suggest_command(settings),
        segments=tuple(
            SegmentRow(segment=str(r["segment"]), tickets=int(r["tickets"]), negative_share=float(r["negative_share"]),
                       negative_arr_usd=float(r["negative_arr_usd"]), competitive_tickets=int(r["competitive_tickets"]),
                       feature_requests=int(r["feature_requests"]))
            for _, r in segments.iterrows()),
        forecast=forecast, staffing=staffing, sla_target=support.sla_target, answer_target=support.answer_target,
        answer_within_minutes=support.answer_within_minutes, handle_minutes=support.handle_minutes,
    )


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


def _forecast_and_staffing(con: duckdb.DuckDBPyConnection, week: Week,
                           settings: Settings) -> tuple[tuple[WeeklyForecast, ...], tuple[BlockStaffing, ...]]:
    """The next weeks' volume with its interval, and the agents each block needs in the first of them."""
    support = settings.support
    bounds = {"since": week.window_start(FORECAST_HISTORY_WEEKS).start_ts, "end": week.end_ts}
    history, forecast = volume_forecast(con, week, settings)
    if history.empty:
        return (), ()
    shares = fetch_df(con, "arrival_blocks", bounds)
    if not forecast or shares.empty:
        return tuple(forecast), ()
    profile = dict(zip(shares["block"], shares["share"]))
    blocks = staff_blocks(forecast[0].tickets, profile, support.handle_minutes, support.answer_target,
                          support.answer_within_minutes * 60, BLOCK_HOURS)
    return tuple(forecast), tuple(blocks)


UNTAGGED = "untagged"    # support_week.sql's category for a ticket without tags of this version

# GROUPING() columns of sql/queries/support_week.sql: 0 where the row is broken down by that column.
GROUPING_FLAGS = {"priority": "all_priorities", "channel": "all_channels", "category": "all_categories"}


def _rows_by(frame: pd.DataFrame, by: str | None) -> pd.DataFrame:
    """The rows broken down by `by` alone (None: the overall row)."""
    keep = pd.Series(True, index=frame.index)
    for column, flag in GROUPING_FLAGS.items():
        keep &= frame[flag] == (0 if column == by else 1)
    return frame[keep]


def _breakdown(frame: pd.DataFrame, by: str | None,
               targets: dict[str, float] | None = None) -> tuple[SupportFigures, ...]:
    """The figures broken down by `by`, most tickets first (None: the overall row alone)."""
    rows = _rows_by(frame, by).sort_values("tickets", ascending=False)
    out = []
    for _, r in rows.iterrows():
        name = str(r[by]) if by else ""
        out.append(SupportFigures(
            name=name, tickets=int(r["tickets"]), sla_compliance=_value(r["sla_compliance"]),
            frt_median=_value(r["frt_median"]), frt_p90=_value(r["frt_p90"]),
            resolution_median_h=_value(r["resolution_median_h"]), resolution_p90_h=_value(r["resolution_p90_h"]),
            csat_mean=_value(r["csat_mean"]), csat_responses=int(r["csat_responses"]),
            one_touch=_value(r["one_touch"]),
            target_minutes=targets[name] if targets and name in targets else None))
    return tuple(out)


def _value(value: float | None) -> float | None:
    """A figure as a float, None where the data lacks it (SQL NULL)."""
    return None if value is None or pd.isna(value) else float(value)

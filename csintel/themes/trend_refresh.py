"""Trend refresh: the weekly trend tables rewritten from the window's counts after each theme stage.

`theme_weekly` (per theme, for the whole window) and `trend_weekly` (per theme, category,
competitor and request group, for the weeks judged on a full baseline), both marked by
csintel.themes.trends' one rule set with the thresholds of the [themes] config.
"""

from __future__ import annotations

import duckdb
import pandas as pd

from csintel.config import ThemesConfig
from csintel.themes import storage
from csintel.themes.trends import BASELINE_WEEKS, FADING, NEW, SPIKING, trend_marks
from csintel.weeks import Week

# The automatic `min_volume` (themes.min_trend_tickets = 0): never fewer than this many tickets,
# and at least this share of the window's mean weekly tickets.
MIN_VOLUME_FLOOR = 5
MIN_VOLUME_SHARE = 0.02


def min_trend_volume(cfg: ThemesConfig, window_tickets: int) -> int:
    """The fewest tickets that make news: `cfg.min_trend_tickets`, or for 0 the larger of
    MIN_VOLUME_FLOOR and MIN_VOLUME_SHARE of the window's mean weekly tickets."""
    return cfg.min_trend_tickets or max(MIN_VOLUME_FLOOR, round(MIN_VOLUME_SHARE * window_tickets / cfg.window_weeks))


def refresh_trends(con: duckdb.DuckDBPyConnection, cfg: ThemesConfig, window_tickets: int, window_start: Week,
                   week: Week, tags_version: str) -> int:
    """Rewrite `theme_weekly` for the window's weeks and `trend_weekly` for those of its weeks
    judged on a full baseline; returns the number of themes marked new or spiking in `week`."""
    themes, others = storage.trend_counts(con, window_start, week, tags_version)
    counts = pd.concat([themes.assign(dimension="theme", key=themes["theme_id"]), others], ignore_index=True)
    counts["week"] = pd.to_datetime(counts["week"]).dt.date
    min_volume = min_trend_volume(cfg, window_tickets)
    marks = trend_marks(counts[["dimension", "key", "week", "tickets"]], window_start.start, week.start,
                        min_volume=min_volume, z_threshold=cfg.spike_z)
    # Keep weeks with tickets, plus the weeks where a series went quiet against a real baseline.
    marks = marks[(marks["tickets"] > 0) | (marks["mark"] == FADING)]
    labels = counts.sort_values("week").groupby(["dimension", "key"])["label"].last().rename("label")
    trend = (marks.merge(counts[["dimension", "key", "week", "accounts", "arr_usd"]],
                         on=["dimension", "key", "week"], how="left")
             .join(labels, on=["dimension", "key"])
             .fillna({"accounts": 0, "arr_usd": 0.0})
             .astype({"accounts": int})
             .assign(min_volume=min_volume))
    weekly = (trend[trend["dimension"] == "theme"].rename(columns={"key": "theme_id", "mark": "trend"})
              .merge(themes.assign(week=counts.loc[counts["dimension"] == "theme", "week"])
                     [["theme_id", "week", "negative_share"]], on=["theme_id", "week"], how="left")
              [["theme_id", "week", "tickets", "accounts", "arr_usd", "negative_share", "baseline", "trend",
                "z_score"]])
    # The window's first weeks have a short baseline (everything in them looks new): theme_weekly
    # has always carried them, trend_weekly only keeps what each run could judge properly, so
    # earlier weeks keep the rows their own runs wrote.
    judged = min(window_start.shift(BASELINE_WEEKS), week).start
    storage.replace_trends(con, weekly, trend[trend["week"] >= judged], window_start.start, judged, week.start)
    this_week = weekly[weekly["week"] == week.start]
    return int(this_week["trend"].isin([NEW, SPIKING]).sum())

"""Weekly trend marks: new, spiking, fading or steady against each series' own recent past.

One rule set serves every dimension a digest follows (themes, categories, competitors,
feature-request groups): each is a series of weekly ticket counts per key.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd

NEW, SPIKING, FADING, STEADY = "new", "spiking", "fading", "steady"
NEW_PRIOR_SHARE = 0.15   # a new theme's earlier tickets are at most this share of its recent ones
TREND_ORDER = (NEW, SPIKING, FADING, STEADY)  # the order a digest reads them in
BASELINE_WEEKS = 8       # trailing weeks a week is compared with
NEW_WITHIN_WEEKS = 3     # a new series' volume arrived within this many weeks (the week included)
FADE_RATIO = 0.4         # a week at or below this share of its baseline is fading
# The `trend_weekly` numbers behind each mark (accounts, ARR and labels are joined by the caller).
MARK_COLUMNS = ["dimension", "key", "week", "tickets", "baseline", "z_score", "ratio", "recent_tickets",
                "earlier_tickets", "mark"]


def trend_marks(
    counts: pd.DataFrame,
    first_week: date,
    last_week: date,
    *,
    min_volume: int,
    z_threshold: float,
    baseline_weeks: int = BASELINE_WEEKS,
    new_within_weeks: int = NEW_WITHIN_WEEKS,
    fade_ratio: float = FADE_RATIO,
) -> pd.DataFrame:
    """Mark every series in every week from `first_week` to `last_week`, with the numbers behind it.

    One rule set for every (dimension, key) series, each on its own: a category, a competitor or
    a request group is new, spiking or fading exactly as a theme is. In a week,

    - new: at least `min_volume` tickets over the last `new_within_weeks` weeks (including the
      week), and at most NEW_PRIOR_SHARE of that number in all earlier weeks;
    - spiking: at least `min_volume` tickets, z = (x - λ) / sqrt(max(λ, 1)) >= `z_threshold`
      and at least double the baseline λ;
    - fading: baseline of at least `min_volume` and tickets <= `fade_ratio` * baseline;
    - steady: anything else.

    Args:
        counts: columns dimension, key, week (a Monday), tickets; missing weeks count as zero and
            duplicate rows are summed. Rows before `first_week` serve as baseline; rows after
            `last_week` are ignored.
        first_week, last_week: the Mondays to mark (inclusive).
        min_volume: the fewest tickets that make news (see above); the stage passes `[themes]
            min_trend_tickets` or its automatic value (csintel.themes.trend_refresh).
        z_threshold: Poisson z-score a spike must reach; the stage passes `[themes] spike_z`.
            Both have their only default in the config.
        baseline_weeks: trailing weeks (before the week) averaged into the baseline; a series
            younger than that is averaged from its first week, one first seen in the week has a
            baseline of 0.
        new_within_weeks: how recent a series' volume must be for it to be new.
        fade_ratio: share of its baseline at or below which a series is fading.

    Returns:
        Columns MARK_COLUMNS: per week, one row per series with tickets that week or in its
        baseline window (dormant series are left out), where ratio = tickets / baseline (NaN
        when the baseline is 0), recent_tickets = tickets over the `new_within_weeks` weeks ending with the week and
        earlier_tickets = all tickets before those. Ordered by week, dimension, mark (new,
        spiking, fading, steady), tickets descending, key.
    """
    first, last = _monday(first_week, "first_week"), _monday(last_week, "last_week")
    by = ["dimension", "key"]
    series = _series(counts, by)
    frames = []
    week = first
    while week <= last:
        marked = _classify(series, week, by, baseline_weeks, new_within_weeks, min_volume, z_threshold,
                           fade_ratio)
        if not marked.empty:
            frames.append(_ordered(marked.assign(week=week), ["dimension", "key"]))
        week += timedelta(weeks=1)
    if not frames:
        return _empty()
    out = pd.concat(frames, ignore_index=True)[MARK_COLUMNS]
    return out.sort_values(["week", "dimension"], kind="stable").reset_index(drop=True)


def _series(weekly: pd.DataFrame, by: Sequence[str]) -> pd.DataFrame:
    """Weekly counts with string keys and normalised Monday timestamps."""
    if weekly.empty:
        return pd.DataFrame({**{c: pd.Series(dtype=object) for c in by},
                             "week": pd.Series(dtype="datetime64[ns]"), "tickets": pd.Series(dtype=np.int64)})
    df = pd.DataFrame({c: weekly[c].astype(str) for c in by})
    df["week"] = pd.to_datetime(weekly["week"]).dt.normalize()
    df["tickets"] = pd.to_numeric(weekly["tickets"]).fillna(0).astype(np.int64)
    if (df["week"].dt.weekday != 0).any():
        raise ValueError("every week in the counts must be a Monday")
    return df


def _classify(df: pd.DataFrame, target: date, by: list[str], baseline_weeks: int, new_within_weeks: int,
              min_volume: int, z_threshold: float, fade_ratio: float) -> pd.DataFrame:
    """The mark of every series in `target` with the numbers behind it (see trend_marks)."""
    df = df.assign(age=(pd.Timestamp(target) - df["week"]).dt.days // 7)  # 0 = `target`, 1 = the one before
    df = df[(df["age"] >= 0) & (df["tickets"] > 0)]
    if df.empty:
        return pd.DataFrame()

    first_age = df.groupby(by)["age"].max()
    horizon = max(baseline_weeks, new_within_weeks - 1)
    recent = df[df["age"] <= horizon].pivot_table(
        index=by, columns="age", values="tickets", aggfunc="sum", fill_value=0
    )
    grid = recent.reindex(index=first_age.index, columns=range(horizon + 1), fill_value=0)
    counts = grid.to_numpy(dtype=np.float64)
    oldest = first_age.to_numpy()

    tickets = counts[:, 0]
    # The baseline window starts at the later of the series' first week and baseline_weeks ago:
    # zeros before a theme existed would drag a young theme's baseline down.
    span = np.minimum(oldest, baseline_weeks)
    baseline_sum = counts[:, 1 : baseline_weeks + 1].sum(axis=1)
    baseline = np.divide(baseline_sum, span, out=np.zeros_like(baseline_sum), where=span > 0)
    z_score = (tickets - baseline) / np.sqrt(np.maximum(baseline, 1.0))
    new_total = counts[:, :new_within_weeks].sum(axis=1)

    # A few stray older tickets (a clustering artefact, or a rare early report) must not hide a
    # new problem: "new" means nearly all of the theme's volume arrived in the recent weeks.
    before = df[df["age"] >= new_within_weeks].groupby(by)["tickets"].sum()
    before_total = before.reindex(first_age.index, fill_value=0).to_numpy(dtype=np.float64)
    is_new = (before_total <= NEW_PRIOR_SHARE * new_total) & (new_total >= min_volume)
    # Weekly ticket counts are over-dispersed (launches, outages, holidays), so a Poisson z alone
    # fires on small absolute moves of big themes (400 -> 460 is z = 3) and on tiny themes;
    # requiring min_volume and at least double the baseline means 1 -> 3 is never a spike (3 is
    # below min_volume, and its z is only 2) and a big theme must really jump.
    is_spiking = (tickets >= min_volume) & (z_score >= z_threshold) & (tickets >= 2 * baseline)
    is_fading = (baseline >= min_volume) & (tickets <= fade_ratio * baseline)
    mark = np.select([is_new, is_spiking, is_fading], [NEW, SPIKING, FADING], default=STEADY)

    out = first_age.index.to_frame(index=False)
    out = out.assign(
        tickets=tickets.astype(np.int64),
        baseline=baseline,
        z_score=z_score,
        ratio=np.divide(tickets, baseline, out=np.full_like(tickets, np.nan), where=baseline > 0),
        recent_tickets=new_total.astype(np.int64),
        earlier_tickets=before_total.astype(np.int64),
        mark=mark,
    )
    return out[(tickets > 0) | (baseline_sum > 0)]


def _ordered(df: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    rank = df["mark"].map({t: i for i, t in enumerate(TREND_ORDER)})
    return (
        df.assign(_rank=rank)
        .sort_values(["_rank", "tickets", *keys], ascending=[True, False, *[True] * len(keys)], kind="stable")
        .drop(columns="_rank")
        .reset_index(drop=True)
    )


def _monday(value: date | datetime | pd.Timestamp, name: str) -> date:
    day = value.date() if isinstance(value, (datetime, pd.Timestamp)) else value
    if day.weekday() != 0:
        raise ValueError(f"{name} must be a Monday, got {day} ({day:%A})")
    return day


def _empty() -> pd.DataFrame:
    numeric = {"tickets": np.int64, "recent_tickets": np.int64, "earlier_tickets": np.int64,
               "baseline": np.float64, "z_score": np.float64, "ratio": np.float64}
    return pd.DataFrame({c: pd.Series(dtype=numeric.get(c, object)) for c in MARK_COLUMNS})

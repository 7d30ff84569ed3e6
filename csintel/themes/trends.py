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
COLUMNS = ["theme_id", "week", "tickets", "baseline", "z_score", "trend"]
# The `trend_weekly` numbers behind each mark (accounts, ARR and labels are joined by the caller).
MARK_COLUMNS = ["dimension", "key", "week", "tickets", "baseline", "z_score", "ratio", "recent_tickets",
                "earlier_tickets", "mark"]


def weekly_trends(
    weekly: pd.DataFrame,
    week: date,
    *,
    baseline_weeks: int = BASELINE_WEEKS,
    new_within_weeks: int = 3,
    min_volume: int = 5,
    z_threshold: float = 3.0,
    fade_ratio: float = 0.4,
) -> pd.DataFrame:
    """Classify every active theme's tickets in `week` against its trailing baseline.

    - new: at least `min_volume` tickets over the last `new_within_weeks` weeks (including
      `week`), and at most NEW_PRIOR_SHARE of that number in all earlier weeks;
    - spiking: at least `min_volume` tickets, z = (x - λ) / sqrt(max(λ, 1)) >= `z_threshold`
      and at least double the baseline λ;
    - fading: baseline of at least `min_volume` and tickets <= `fade_ratio` * baseline;
    - steady: anything else.

    Args:
        weekly: columns theme_id, week (a Monday), tickets; missing weeks count as zero and
            duplicate rows are summed. Rows after `week` are ignored.
        week: the Monday to classify.
        baseline_weeks: trailing weeks (before `week`) averaged into the baseline; a theme
            younger than that is averaged from its first week, a theme first seen in `week`
            has a baseline of 0.
        new_within_weeks: how recent a theme's first week must be for it to be new.
        min_volume: the fewest tickets that make news (see above).
        z_threshold: Poisson z-score a spike must reach.
        fade_ratio: share of its baseline at or below which a theme is fading.

    Returns:
        One row per theme with tickets in `week` or in its baseline window (dormant themes are
        left out), columns theme_id, week, tickets, baseline, z_score, trend; ordered by trend
        (new, spiking, fading, steady), then tickets descending, then theme_id.
    """
    target = _monday(week, "week")
    series = _series(weekly, ["theme_id"])
    out = _classify(series, target, ["theme_id"], baseline_weeks, new_within_weeks, min_volume, z_threshold,
                    fade_ratio)
    if out.empty:
        return _empty(COLUMNS)
    out = out.rename(columns={"mark": "trend"}).assign(week=target)[COLUMNS]
    return _ordered(out, ["theme_id"])


def trend_marks(
    counts: pd.DataFrame,
    first_week: date,
    last_week: date,
    *,
    baseline_weeks: int = BASELINE_WEEKS,
    new_within_weeks: int = 3,
    min_volume: int = 5,
    z_threshold: float = 3.0,
    fade_ratio: float = 0.4,
) -> pd.DataFrame:
    """Mark every series in every week from `first_week` to `last_week`, with the numbers behind it.

    The rules are `weekly_trends`'s (which see), applied to each (dimension, key) series on its
    own: a category, a competitor or a request group is new, spiking or fading exactly as a
    theme is, and never on fewer than `min_volume` tickets.

    Args:
        counts: columns dimension, key, week (a Monday), tickets; missing weeks count as zero.
            Rows before `first_week` serve as baseline; rows after `last_week` are ignored.
        first_week, last_week: the Mondays to mark (inclusive).

    Returns:
        Columns MARK_COLUMNS: per week, one row per series with tickets that week or in its
        baseline window, where ratio = tickets / baseline (NaN when the baseline is 0),
        recent_tickets = tickets over the `new_within_weeks` weeks ending with the week and
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
        return _empty(MARK_COLUMNS)
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
    """The mark of every series in `target` with the numbers behind it (see weekly_trends)."""
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
    mark = "trend" if "trend" in df else "mark"
    rank = df[mark].map({t: i for i, t in enumerate(TREND_ORDER)})
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


def _empty(columns: list[str]) -> pd.DataFrame:
    numeric = {"tickets": np.int64, "recent_tickets": np.int64, "earlier_tickets": np.int64,
               "baseline": np.float64, "z_score": np.float64, "ratio": np.float64}
    return pd.DataFrame({c: pd.Series(dtype=numeric.get(c, object)) for c in columns})

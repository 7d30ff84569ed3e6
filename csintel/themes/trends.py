"""Weekly trend of each theme: new, spiking, fading or steady against its own recent past."""

from __future__ import annotations

from datetime import date, datetime

import numpy as np
import pandas as pd

NEW, SPIKING, FADING, STEADY = "new", "spiking", "fading", "steady"
NEW_PRIOR_SHARE = 0.15   # a new theme's earlier tickets are at most this share of its recent ones
TREND_ORDER = (NEW, SPIKING, FADING, STEADY)  # the order a digest reads them in
COLUMNS = ["theme_id", "week", "tickets", "baseline", "z_score", "trend"]


def weekly_trends(
    weekly: pd.DataFrame,
    week: date,
    *,
    baseline_weeks: int = 8,
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
    target = _as_date(week)
    if target.weekday() != 0:
        raise ValueError(f"week must be a Monday, got {target} ({target:%A})")
    if weekly.empty:
        return _empty()
    df = pd.DataFrame(
        {
            "theme_id": weekly["theme_id"].astype(str),
            "week": pd.to_datetime(weekly["week"]).dt.normalize(),
            "tickets": pd.to_numeric(weekly["tickets"]).fillna(0).astype(np.int64),
        }
    )
    if (df["week"].dt.weekday != 0).any():
        raise ValueError("every week in `weekly` must be a Monday")
    df["age"] = (pd.Timestamp(target) - df["week"]).dt.days // 7  # 0 = `week`, 1 = the one before
    df = df[(df["age"] >= 0) & (df["tickets"] > 0)]
    if df.empty:
        return _empty()

    first_age = df.groupby("theme_id")["age"].max()
    horizon = max(baseline_weeks, new_within_weeks - 1)
    recent = df[df["age"] <= horizon].pivot_table(
        index="theme_id", columns="age", values="tickets", aggfunc="sum", fill_value=0
    )
    grid = recent.reindex(index=first_age.index, columns=range(horizon + 1), fill_value=0)
    counts = grid.to_numpy(dtype=np.float64)
    oldest = first_age.to_numpy()

    tickets = counts[:, 0]
    # The baseline window starts at the later of the theme's first week and baseline_weeks ago:
    # zeros before a theme existed would drag a young theme's baseline down.
    span = np.minimum(oldest, baseline_weeks)
    baseline_sum = counts[:, 1 : baseline_weeks + 1].sum(axis=1)
    baseline = np.divide(baseline_sum, span, out=np.zeros_like(baseline_sum), where=span > 0)
    z_score = (tickets - baseline) / np.sqrt(np.maximum(baseline, 1.0))
    new_total = counts[:, :new_within_weeks].sum(axis=1)

    # A few stray older tickets (a clustering artefact, or a rare early report) must not hide a
    # new problem: "new" means nearly all of the theme's volume arrived in the recent weeks.
    before = df[df["age"] >= new_within_weeks].groupby("theme_id")["tickets"].sum()
    before_total = before.reindex(first_age.index, fill_value=0).to_numpy(dtype=np.float64)
    is_new = (before_total <= NEW_PRIOR_SHARE * new_total) & (new_total >= min_volume)
    # Weekly ticket counts are over-dispersed (launches, outages, holidays), so a Poisson z alone
    # fires on small absolute moves of big themes (400 -> 460 is z = 3) and on tiny themes;
    # requiring min_volume and at least double the baseline means 1 -> 3 is never a spike (3 is
    # below min_volume, and its z is only 2) and a big theme must really jump.
    is_spiking = (tickets >= min_volume) & (z_score >= z_threshold) & (tickets >= 2 * baseline)
    is_fading = (baseline >= min_volume) & (tickets <= fade_ratio * baseline)
    trend = np.select([is_new, is_spiking, is_fading], [NEW, SPIKING, FADING], default=STEADY)

    out = pd.DataFrame(
        {
            "theme_id": first_age.index.astype(str),
            "week": target,
            "tickets": tickets.astype(np.int64),
            "baseline": baseline,
            "z_score": z_score,
            "trend": trend,
        }
    )
    out = out[(tickets > 0) | (baseline_sum > 0)]
    rank = out["trend"].map({t: i for i, t in enumerate(TREND_ORDER)})
    return (
        out.assign(_rank=rank)
        .sort_values(["_rank", "tickets", "theme_id"], ascending=[True, False, True], kind="stable")
        .drop(columns="_rank")
        .reset_index(drop=True)
    )


def _as_date(value: date | datetime | pd.Timestamp) -> date:
    if isinstance(value, (datetime, pd.Timestamp)):
        return value.date()
    return value


def _empty() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in COLUMNS}).astype(
        {"tickets": np.int64, "baseline": np.float64, "z_score": np.float64}
    )

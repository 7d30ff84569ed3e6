"""Weekly ticket-volume forecast with a prediction interval, for the Support Ops staffing view.

Six weeks or more: exponential smoothing state-space models (statsmodels ETSModel) with additive
errors, so the intervals are analytic and deterministic: level only, additive trend or damped
trend, whichever has the lowest AICc. Fewer than six weeks: the mean, with a Poisson interval.

Annual seasonality, the only season weekly counts have, is deliberately not modelled: its 52
seasonal states need two full years (104 weeks) of history, and even then rest on two or three
observations each. In simulations of 2-3 years of weekly counts, adding a damped-trend
52-week-season ETS candidate (chosen by AICc, or by a 13-week holdout) improved the 4-week forecast
only when the season's amplitude was about four times the weekly noise, and made it worse with a
weaker season or none.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.tsa.exponential_smoothing.ets import ETSModel

MIN_WEEKS_FOR_ETS = 6
MEAN_METHOD = "mean"
# (method label, ETSModel keyword arguments)
ETS_CANDIDATES: tuple[tuple[str, dict], ...] = (
    ("ets (level)", {"trend": None}),
    ("ets (additive trend)", {"trend": "add"}),
    ("ets (damped trend)", {"trend": "add", "damped_trend": True}),
)


@dataclass(frozen=True)
class WeeklyForecast:
    week: date            # Monday
    tickets: float        # point forecast
    low: float            # lower bound of the interval
    high: float
    method: str           # "ets (...)" or "mean"


def forecast_weekly(history: pd.Series, horizon: int = 4, *, interval: float = 0.8) -> list[WeeklyForecast]:
    """Forecast tickets for the `horizon` weeks after the last week of `history`.

    Args:
        history: tickets per week, indexed by the weeks' Mondays. Weeks missing between the first
            and the last, and missing values, count as 0 tickets.
        horizon: number of weeks to forecast.
        interval: coverage of the prediction interval, e.g. 0.8 for the 10th to 90th percentile.

    Returns:
        One forecast per week, in order; empty for an empty history or a zero horizon. Points and
        bounds are never negative, and no interval is narrower than Poisson noise around its point.

    Raises:
        ValueError: on a negative horizon, `interval` outside (0, 1), an index entry that is not a
            Monday or appears twice, or a negative or infinite count.
    """
    if horizon < 0:
        raise ValueError(f"horizon must be >= 0, got {horizon}")
    if not 0 < interval < 1:
        raise ValueError(f"interval must be in (0, 1), got {interval}")
    weekly = _weekly_counts(history)
    if weekly.empty or horizon == 0:
        return []
    last = weekly.index[-1].date()
    weeks = [last + timedelta(weeks=step) for step in range(1, horizon + 1)]
    values = weekly.to_numpy(dtype=float)
    fitted = _ets_forecast(values, horizon, interval) if len(values) >= MIN_WEEKS_FOR_ETS else None
    if fitted is None:
        return _mean_forecast(values, weeks, interval)
    method, points, lows, highs = fitted
    result = []
    for week, point, low, high in zip(weeks, points, lows, highs, strict=True):
        point = max(float(point), 0.0)
        noise_low, noise_high = stats.poisson.interval(interval, point) if point > 0 else (0.0, 0.0)
        result.append(WeeklyForecast(week=week, tickets=point, low=max(min(float(low), float(noise_low)), 0.0),
                                     high=max(float(high), float(noise_high), point), method=method))
    return result


def _weekly_counts(history: pd.Series) -> pd.Series:
    """The history on a gap-free Monday index, with missing weeks as 0."""
    if history.empty:
        return pd.Series(dtype=float)
    index = pd.DatetimeIndex(pd.to_datetime(history.index))
    if index.tz is not None:
        index = index.tz_localize(None)
    index = index.normalize()
    if (index.day_of_week != 0).any():
        bad = index[index.day_of_week != 0][0].date()
        raise ValueError(f"history must be indexed by week Mondays; {bad} is a {bad:%A}")
    if index.has_duplicates:
        raise ValueError(f"history has week {index[index.duplicated()][0].date()} more than once")
    counts = pd.Series(pd.to_numeric(history.to_numpy(), errors="raise"), index=index, dtype=float)
    counts = counts.fillna(0.0).sort_index()
    if (counts < 0).any() or not np.isfinite(counts.to_numpy()).all():
        raise ValueError("history counts must be finite and >= 0")
    full = pd.date_range(counts.index[0], counts.index[-1], freq="7D")
    return counts.reindex(full, fill_value=0.0)


def _ets_forecast(values: np.ndarray, horizon: int,
                  interval: float) -> tuple[str, np.ndarray, np.ndarray, np.ndarray] | None:
    """The lowest-AICc ETS model's forecast, or None when no candidate fits."""
    best: tuple[float, str, pd.DataFrame] | None = None
    # Short or degenerate series make the optimiser warn (convergence, zero variance); the result is
    # still usable or is discarded below, so the warnings would only confuse the digest's reader.
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        for method, options in ETS_CANDIDATES:
            try:
                fit = ETSModel(pd.Series(values), error="add", **options).fit(disp=False)
                frame = fit.get_prediction(start=len(values), end=len(values) + horizon - 1) \
                           .summary_frame(alpha=1 - interval)
            except (ValueError, np.linalg.LinAlgError):
                continue
            usable = np.isfinite(frame[["mean", "pi_lower", "pi_upper"]].to_numpy()).all()
            # Too few weeks for a model's parameters make its AICc infinite (or NaN): it never wins.
            score = fit.aicc if math.isfinite(fit.aicc) else math.inf
            if usable and (best is None or score < best[0]):
                best = (score, method, frame)
    if best is None:
        return None
    _, method, frame = best
    return method, frame["mean"].to_numpy(), frame["pi_lower"].to_numpy(), frame["pi_upper"].to_numpy()


def _mean_forecast(values: np.ndarray, weeks: list[date], interval: float) -> list[WeeklyForecast]:
    """The mean of a short history, its interval from a Poisson count whose rate is itself uncertain.

    With a Jeffreys gamma prior on the weekly rate, a future week's count is negative binomial with
    r = total + 1/2 and p = n / (n + 1): Poisson noise widened by the doubt a few weeks leave.
    """
    n, total = len(values), float(values.sum())
    mean = total / n
    low, high = stats.nbinom.interval(interval, total + 0.5, n / (n + 1))
    low, high = min(float(low), mean), max(float(high), mean)
    return [WeeklyForecast(week=week, tickets=mean, low=low, high=high, method=MEAN_METHOD) for week in weeks]

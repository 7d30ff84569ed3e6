import warnings
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from csintel.support.forecast import WeeklyForecast, forecast_weekly

START = date(2025, 1, 6)  # a Monday


def weekly(values, start: date = START) -> pd.Series:
    index = pd.date_range(start, periods=len(values), freq="W-MON")
    return pd.Series(np.asarray(values, dtype=float), index=index)


def widths(forecasts: list[WeeklyForecast]) -> list[float]:
    return [f.high - f.low for f in forecasts]


def test_flat_series_forecasts_its_level():
    noise = np.random.default_rng(0).normal(0, 12, 26)
    forecasts = forecast_weekly(weekly(100 + noise))
    assert len(forecasts) == 4
    assert forecasts[0].method.startswith("ets")
    for f in forecasts:
        assert f.tickets == pytest.approx(100, abs=8)
        assert f.low < 100 < f.high
        assert f.low <= f.tickets <= f.high


def test_trending_series_continues_the_trend():
    noise = np.random.default_rng(1).normal(0, 4, 20)
    forecasts = forecast_weekly(weekly(50 + 6 * np.arange(20) + noise))
    assert "trend" in forecasts[0].method
    points = [f.tickets for f in forecasts]
    # The next weeks lie on the line's continuation (t = 20..23), climbing about 6 a week.
    assert points == pytest.approx([50 + 6 * t for t in range(20, 24)], abs=10)
    assert all(4 < b - a < 8 for a, b in zip(points, points[1:]))


def test_intervals_widen_with_horizon():
    walk = 200 + np.cumsum(np.random.default_rng(2).normal(0, 15, 40))
    forecasts = forecast_weekly(weekly(walk), horizon=6)
    spans = widths(forecasts)
    assert all(b >= a for a, b in zip(spans, spans[1:]))
    assert spans[-1] > spans[0] * 1.5


def test_wider_coverage_gives_wider_intervals():
    walk = 200 + np.cumsum(np.random.default_rng(2).normal(0, 15, 40))
    narrow = forecast_weekly(weekly(walk), interval=0.5)
    wide = forecast_weekly(weekly(walk), interval=0.95)
    assert all(w.low < n.low and w.high > n.high for n, w in zip(narrow, wide))
    assert [n.tickets for n in narrow] == [w.tickets for w in wide]


def test_short_history_uses_the_mean_with_a_poisson_interval():
    forecasts = forecast_weekly(weekly([10, 12, 9, 13, 11]), horizon=3)
    assert {f.method for f in forecasts} == {"mean"}
    assert all(f.tickets == pytest.approx(11.0) for f in forecasts)
    # At least as wide as Poisson noise around the mean: the rate itself is uncertain after 5 weeks.
    poisson_low, poisson_high = stats.poisson.interval(0.8, 11.0)
    assert all(f.low <= poisson_low and f.high >= poisson_high for f in forecasts)
    assert forecasts[0].high - forecasts[0].low < 15
    single = forecast_weekly(weekly([40]), horizon=1)[0]
    assert (single.method, single.tickets) == ("mean", 40.0)
    assert single.low < 40 < single.high


def test_six_weeks_is_enough_for_ets():
    assert forecast_weekly(weekly([10, 12, 9, 13, 11, 10]))[0].method.startswith("ets")


def test_empty_history_and_zero_horizon():
    assert forecast_weekly(pd.Series(dtype=float)) == []
    assert forecast_weekly(weekly([5, 6, 7]), horizon=0) == []


def test_weeks_are_consecutive_mondays_after_the_last_week():
    history = weekly([10, 20, 30, 40, 50, 60, 70]).iloc[::-1]  # order must not matter
    forecasts = forecast_weekly(history, horizon=5)
    last = START + timedelta(weeks=6)
    assert [f.week for f in forecasts] == [last + timedelta(weeks=k) for k in range(1, 6)]
    assert all(type(f.week) is date and f.week.weekday() == 0 for f in forecasts)


def test_missing_weeks_and_values_count_as_zero():
    history = pd.Series([12.0, np.nan, 6.0],
                        index=[date(2025, 1, 6), date(2025, 1, 13), date(2025, 1, 27)])
    forecasts = forecast_weekly(history, horizon=1)
    # Four weeks (Jan 6 to Jan 27) with 18 tickets: the mean is 4.5, not 9 or 6.
    assert forecasts[0].tickets == pytest.approx(4.5)
    assert forecasts[0].week == date(2025, 2, 3)


def test_never_negative():
    falling = np.maximum(0, 120 - 15 * np.arange(10) + np.random.default_rng(3).normal(0, 3, 10))
    for f in forecast_weekly(weekly(falling), horizon=6):
        assert 0 <= f.low <= f.tickets <= f.high
    for f in forecast_weekly(weekly([0] * 8)):
        assert (f.tickets, f.low, f.high) == (0.0, 0.0, 0.0)


def test_degenerate_series_get_a_noise_floor_and_no_warnings():
    # A constant series and an exact line fit perfectly: statsmodels warns while fitting them and
    # its intervals collapse to nothing. Neither may reach the caller.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        constant = forecast_weekly(weekly([50] * 10))
        line = forecast_weekly(weekly([10, 20, 30, 40, 50, 60, 70, 80]))
    assert caught == []
    assert all(f.tickets == pytest.approx(50) and f.low < 50 < f.high for f in constant)
    assert [f.tickets for f in line] == pytest.approx([90, 100, 110, 120])
    assert all(f.high - f.low > 2 * np.sqrt(f.tickets) for f in line)


def test_deterministic():
    history = weekly(80 + np.random.default_rng(4).normal(0, 10, 30))
    assert forecast_weekly(history) == forecast_weekly(history)


def test_accepts_dates_and_strings_as_the_index():
    values = [10.0, 11.0, 12.0]
    as_dates = pd.Series(values, index=[START + timedelta(weeks=k) for k in range(3)])
    as_text = pd.Series(values, index=[str(START + timedelta(weeks=k)) for k in range(3)])
    assert forecast_weekly(as_dates) == forecast_weekly(as_text) == forecast_weekly(weekly(values))


@pytest.mark.parametrize(("history", "kwargs", "message"), [
    (pd.Series([1.0], index=[date(2025, 1, 7)]), {}, "Mondays"),
    (pd.Series([1.0, 2.0], index=[START, START]), {}, "more than once"),
    (weekly([3, -1, 4]), {}, ">= 0"),
    (weekly([3, np.inf, 4]), {}, ">= 0"),
    (weekly([3, 4]), {"horizon": -1}, "horizon"),
    (weekly([3, 4]), {"interval": 1.0}, "interval"),
    (weekly([3, 4]), {"interval": 0.0}, "interval"),
])
def test_rejects_bad_input(history, kwargs, message):
    with pytest.raises(ValueError, match=message):
        forecast_weekly(history, **kwargs)

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from csintel.config import ThemesConfig
from csintel.themes.trend_refresh import min_trend_volume
from csintel.themes.trends import trend_marks

WEEK = date(2026, 11, 16)  # a Monday
# The thresholds these cases were written for; the pipeline passes the config's (spike_z 4.0).
MIN_VOLUME, Z = 5, 3.0
COLUMNS = ["theme_id", "week", "tickets", "baseline", "z_score", "trend"]


def weekly_trends(weekly, week, *, min_volume=MIN_VOLUME, z_threshold=Z):
    """One week of theme series, read through the one trend API (`trend_marks`)."""
    series = weekly.assign(dimension="theme").rename(columns={"theme_id": "key"})
    out = trend_marks(series, week, week, min_volume=min_volume, z_threshold=z_threshold)
    return out.rename(columns={"key": "theme_id", "mark": "trend"})[COLUMNS]


def ago(weeks):
    return WEEK - timedelta(weeks=weeks)


def frame(rows):
    return pd.DataFrame(rows, columns=["theme_id", "week", "tickets"])


def history(theme, per_week, this_week, weeks=8):
    return [(theme, ago(a), per_week) for a in range(1, weeks + 1)] + [(theme, WEEK, this_week)]


def trend_of(df, **kwargs):
    out = weekly_trends(df, WEEK, **kwargs)
    return dict(zip(out["theme_id"], out["trend"]))


@pytest.fixture(scope="module")
def mixed():
    rows = (
        history("steady", 10, 11)
        + history("spike", 2, 12)
        + history("fade", 10, 3)
        + history("small", 1, 3)
        + [("new", ago(1), 3), ("new", WEEK, 4), ("young", ago(2), 6), ("young", WEEK, 6)]
        + [("dormant", ago(20), 50), ("future", WEEK + timedelta(weeks=1), 9)]
    )
    return weekly_trends(frame(rows), WEEK)


def test_classifies_each_theme(mixed):
    assert dict(zip(mixed["theme_id"], mixed["trend"])) == {
        "young": "new",
        "new": "new",
        "spike": "spiking",
        "fade": "fading",
        "steady": "steady",
        "small": "steady",  # 1 -> 3 is not a spike
    }


def test_output_columns_order_and_values(mixed):
    assert list(mixed.columns) == COLUMNS
    assert list(mixed["theme_id"]) == ["young", "new", "spike", "fade", "steady", "small"]
    assert (mixed["week"] == WEEK).all()
    spike = mixed.set_index("theme_id").loc["spike"]
    assert (spike["tickets"], spike["baseline"]) == (12, 2.0)
    assert spike["z_score"] == pytest.approx((12 - 2) / 2**0.5)
    # A theme younger than the baseline window is averaged from its first week (6, 0 -> 3).
    assert mixed.set_index("theme_id").loc["young", "baseline"] == 3.0


def test_small_rise_is_never_a_spike_even_with_a_low_volume_floor():
    df = frame(history("t", 1, 3))
    assert trend_of(df, min_volume=1) == {"t": "steady"}  # z = 2


def test_big_theme_needs_to_double_to_spike():
    df = frame(history("big", 400, 470))  # z = 3.5 but only +18%
    assert trend_of(df) == {"big": "steady"}
    assert trend_of(frame(history("big", 400, 800))) == {"big": "spiking"}


def test_missing_weeks_count_as_zero():
    df = frame([("t", ago(8), 16), ("t", WEEK, 8)])  # baseline 16 / 8 weeks = 2
    out = weekly_trends(df, WEEK)
    assert out.loc[0, "baseline"] == 2.0 and out.loc[0, "trend"] == "spiking"


def test_new_needs_volume_and_recency():
    assert trend_of(frame([("t", ago(2), 2), ("t", WEEK, 2)])) == {"t": "steady"}  # 4 < 5
    assert trend_of(frame([("t", ago(3), 3), ("t", WEEK, 3)])) == {"t": "steady"}  # too old


def test_quiet_week_of_a_busy_theme_is_fading():
    out = weekly_trends(frame(history("t", 10, 0)), WEEK)
    assert out.loc[0, "tickets"] == 0 and out.loc[0, "trend"] == "fading"


def test_accepts_timestamps_and_sums_duplicates():
    stamp = pd.Timestamp(WEEK)
    df = frame([("t", pd.Timestamp(ago(1)), 3), ("t", stamp, 2), ("t", stamp, 4)])
    out = weekly_trends(df, pd.Timestamp(WEEK))
    assert out.loc[0, "tickets"] == 6 and out.loc[0, "week"] == WEEK


def test_empty_and_invalid_input():
    empty = weekly_trends(frame([]), WEEK)
    assert empty.empty and list(empty.columns) == COLUMNS
    with pytest.raises(ValueError):
        weekly_trends(frame([("t", WEEK, 1)]), WEEK + timedelta(days=1))
    with pytest.raises(ValueError):
        weekly_trends(frame([("t", WEEK + timedelta(days=2), 1)]), WEEK)


def test_new_theme_with_a_few_stray_older_tickets_is_still_new():
    weekly = pd.DataFrame({"theme_id": ["t"] * 4,
                           "week": [date(2026, 8, 31), date(2026, 9, 28), date(2026, 11, 9), date(2026, 11, 16)],
                           "tickets": [1, 1, 7, 10]})
    row = weekly_trends(weekly, date(2026, 11, 16)).iloc[0]
    assert row["trend"] == "new"
    weekly.loc[0, "tickets"] = 6    # a real earlier presence: no longer new
    assert weekly_trends(weekly, date(2026, 11, 16)).iloc[0]["trend"] != "new"


def dims(rows):
    return pd.DataFrame(rows, columns=["dimension", "key", "week", "tickets"])


def test_one_rule_set_marks_every_dimension_with_its_numbers():
    from csintel.themes.trends import MARK_COLUMNS

    rows = (
        [("category", "billing", ago(a), 10) for a in range(1, 9)] + [("category", "billing", WEEK, 30)]
        + [("competitor", "HubSpot", ago(a), 1) for a in range(1, 9)] + [("competitor", "HubSpot", WEEK, 3)]
        + [("request_group", "bulk-export", ago(1), 3), ("request_group", "bulk-export", WEEK, 4)]
        + [("theme", "th-1", ago(a), 10) for a in range(1, 9)] + [("theme", "th-1", WEEK, 2)]
        + [("category", "quiet", ago(20), 5)]
    )
    out = trend_marks(dims(rows), ago(1), WEEK, min_volume=MIN_VOLUME, z_threshold=Z)
    assert list(out.columns) == MARK_COLUMNS
    now = out[out["week"] == WEEK].set_index(["dimension", "key"])
    assert now["mark"].to_dict() == {
        ("category", "billing"): "spiking", ("competitor", "HubSpot"): "steady",   # 1 -> 3: below min volume
        ("request_group", "bulk-export"): "new", ("theme", "th-1"): "fading",
    }
    billing = now.loc[("category", "billing")]
    assert (billing["tickets"], billing["baseline"], billing["ratio"]) == (30, 10.0, 3.0)
    assert billing["z_score"] == pytest.approx(20 / 10**0.5)
    assert (billing["recent_tickets"], billing["earlier_tickets"]) == (50, 60)
    group = now.loc[("request_group", "bulk-export")]
    assert (group["recent_tickets"], group["earlier_tickets"]) == (7, 0) and group["baseline"] == 3.0
    assert np.isnan(out.set_index(["dimension", "key", "week"]).loc[("request_group", "bulk-export", ago(1)), "ratio"])
    assert list(out["week"].unique()) == [ago(1), WEEK]


def test_the_min_volume_rule_holds_for_every_dimension():
    for dimension in ("theme", "category", "competitor", "request_group"):
        rows = [(dimension, "k", ago(a), 1) for a in range(1, 9)] + [(dimension, "k", WEEK, 4)]
        assert trend_marks(dims(rows), WEEK, WEEK, min_volume=5, z_threshold=3.0)["mark"].tolist() == ["steady"]
        assert trend_marks(dims(rows), WEEK, WEEK, min_volume=4, z_threshold=3.0)["mark"].tolist() == ["spiking"]


def test_the_thresholds_the_config_owns_have_no_default_here():
    rows = [("theme", "k", ago(a), 1) for a in range(1, 9)] + [("theme", "k", WEEK, 4)]
    with pytest.raises(TypeError):
        trend_marks(dims(rows), WEEK, WEEK)    # no function-level min volume or z
    with pytest.raises(TypeError):
        trend_marks(dims(rows), WEEK, WEEK, min_volume=4)


def test_min_trend_volume_is_the_configs_or_two_percent_of_a_mean_week():
    assert min_trend_volume(ThemesConfig(min_trend_tickets=7), 1_000_000) == 7
    assert min_trend_volume(ThemesConfig(window_weeks=12), 1_200) == 5          # 2 a week: the floor
    assert min_trend_volume(ThemesConfig(window_weeks=12), 120_000) == 200      # 2% of 10,000 a week

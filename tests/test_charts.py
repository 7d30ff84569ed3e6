"""The theme trend chart: a fixed-size PNG, the same bytes for the same data."""

from __future__ import annotations

import struct
import subprocess
import sys
from datetime import date, timedelta

import pandas as pd
import pytest

from csintel.digests.charts import theme_trend_chart

WEEK = "2026-W47"
MONDAY = date(2026, 11, 16)


def frame(counts: dict[str, list[int]], *, labels: dict[str, str] | None = None,
          trends: dict[str, str] | None = None) -> pd.DataFrame:
    """One row per theme-week, the last count being the digest's week; zeros left out."""
    rows = []
    for theme, weekly in counts.items():
        for back, tickets in enumerate(reversed(weekly)):
            if tickets:
                rows.append({"theme_id": theme, "label": (labels or {}).get(theme, theme),
                             "week": MONDAY - timedelta(weeks=back), "tickets": tickets,
                             "trend": (trends or {}).get(theme, "steady")})
    return pd.DataFrame(rows)


def png_size(png: bytes) -> tuple[int, int]:
    return struct.unpack(">II", png[16:24])


THREE = {"a": [3, 5, 9], "b": [1, 2, 7], "c": [8, 6, 2]}


def test_draws_a_fixed_size_png_named_for_the_week() -> None:
    chart = theme_trend_chart(frame(THREE), WEEK)
    assert chart is not None
    assert chart.png.startswith(b"\x89PNG\r\n\x1a\n")
    assert png_size(chart.png) == (900, 450)
    assert chart.filename == "themes-2026-W47.png"
    assert WEEK in chart.title


def test_same_data_gives_the_same_bytes_whatever_the_row_order() -> None:
    data = frame(THREE)
    first = theme_trend_chart(data, WEEK)
    shuffled = theme_trend_chart(data.sample(frac=1.0, random_state=3), WEEK)
    assert first is not None and shuffled is not None
    assert first.png == shuffled.png
    assert b"Software" not in first.png and b"matplotlib" not in first.png.lower()


def test_empty_frame_gives_none() -> None:
    empty = pd.DataFrame(columns=["theme_id", "label", "week", "tickets"])
    assert theme_trend_chart(empty, WEEK) is None


def test_only_the_top_themes_of_the_last_week_are_drawn() -> None:
    limited = theme_trend_chart(frame(THREE), WEEK, top=2)
    # "c" was largest in earlier weeks but is smallest in the digest's week.
    only_top = theme_trend_chart(frame({"a": THREE["a"], "b": THREE["b"]}), WEEK, top=2)
    everything = theme_trend_chart(frame(THREE), WEEK, top=3)
    assert limited is not None and only_top is not None and everything is not None
    assert limited.png == only_top.png
    assert limited.png != everything.png


def test_missing_weeks_count_as_zero_and_the_axis_reaches_the_digest_week() -> None:
    gap = frame({"a": [4, 0, 6, 0]})
    zeros = pd.concat([gap, pd.DataFrame([
        {"theme_id": "a", "label": "a", "week": MONDAY - timedelta(weeks=2), "tickets": 0,
         "trend": "steady"},
        {"theme_id": "a", "label": "a", "week": MONDAY, "tickets": 0, "trend": "steady"},
    ])])
    drawn_gap, drawn_zeros = theme_trend_chart(gap, WEEK), theme_trend_chart(zeros, WEEK)
    assert drawn_gap is not None and drawn_zeros is not None
    assert drawn_gap.png == drawn_zeros.png
    # Without the digest's week the axis would stop a week earlier.
    earlier = theme_trend_chart(gap, "2026-W46")
    assert earlier is not None and earlier.png != drawn_gap.png


def test_this_weeks_new_or_spiking_themes_are_emphasised() -> None:
    steady = theme_trend_chart(frame(THREE), WEEK)
    spiking = theme_trend_chart(frame(THREE, trends={"b": "spiking"}), WEEK)
    assert steady is not None and spiking is not None
    assert spiking.png != steady.png
    # A trend from an earlier week is old news: drawn like any other theme.
    old = frame(THREE)
    old.loc[(old["theme_id"] == "b") & (old["week"] < MONDAY), "trend"] = "new"
    redrawn = theme_trend_chart(old, WEEK)
    assert redrawn is not None and redrawn.png == steady.png


def test_long_labels_are_truncated_and_customer_text_is_not_mathtext() -> None:
    stem = "Customers cannot export invoices to PDF from the billing page"
    one = theme_trend_chart(frame(THREE, labels={"a": stem + " on Safari"}), WEEK)
    other = theme_trend_chart(frame(THREE, labels={"a": stem + " on Firefox"}), WEEK)
    assert one is not None and other is not None and one.png == other.png
    # Unescaped, `$\nosuchcommand$` fails to parse when drawn; a leading "_" would hide a label.
    odd = {"a": r"refund $\nosuchcommand$ twice", "b": "_private", "c": "$5 $10"}
    chart = theme_trend_chart(frame(THREE, labels=odd), WEEK)
    assert chart is not None and chart.png.startswith(b"\x89PNG")


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError, match="tickets"):
        theme_trend_chart(pd.DataFrame({"theme_id": ["a"], "label": ["a"],
                                        "week": [MONDAY]}), WEEK)
    with pytest.raises(ValueError):
        theme_trend_chart(frame(THREE), WEEK, top=0)
    with pytest.raises(ValueError):
        theme_trend_chart(frame(THREE), "last week")


def test_importing_the_module_does_not_import_matplotlib() -> None:
    code = ("import sys, csintel.digests.charts; "
            "assert 'matplotlib' not in sys.modules, 'imported eagerly'")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)

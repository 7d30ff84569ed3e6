from datetime import date, datetime, timezone

import pytest

from csintel.weeks import last_complete_week, parse_week, week_of, weeks_between


def test_parse_week_forms():
    assert parse_week("2026-W47").start == date(2026, 11, 16)
    assert parse_week("2026-11-22").label == "2026-W47"
    assert parse_week("2026W01").start == date(2025, 12, 29)   # ISO week 1 can start in December
    with pytest.raises(ValueError, match="not a week"):
        parse_week("last week")
    with pytest.raises(ValueError, match="not a valid ISO week"):
        parse_week("2026-W60")


def test_last_complete_week_and_ranges():
    assert last_complete_week(datetime(2026, 11, 25, tzinfo=timezone.utc)).label == "2026-W47"
    assert last_complete_week(datetime(2026, 11, 23, tzinfo=timezone.utc)).label == "2026-W47"
    weeks = weeks_between(date(2026, 11, 1), date(2026, 11, 22))
    assert [w.label for w in weeks] == ["2026-W44", "2026-W45", "2026-W46", "2026-W47"]
    assert week_of(date(2026, 11, 22)).end_ts == datetime(2026, 11, 23)

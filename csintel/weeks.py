"""ISO weeks: the unit every digest, trend and rerun is keyed on."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone


@dataclass(frozen=True, order=True)
class Week:
    start: date  # Monday

    @property
    def end(self) -> date:
        """Sunday, inclusive."""
        return self.start + timedelta(days=6)

    @property
    def label(self) -> str:
        year, number, _ = self.start.isocalendar()
        return f"{year}-W{number:02d}"

    @property
    def start_ts(self) -> datetime:
        return datetime.combine(self.start, time.min)

    @property
    def end_ts(self) -> datetime:
        """Exclusive upper bound: the next Monday at midnight (UTC)."""
        return datetime.combine(self.start + timedelta(days=7), time.min)

    def shift(self, weeks: int) -> Week:
        return Week(self.start + timedelta(weeks=weeks))

    def window_start(self, weeks: int) -> Week:
        """The first week of the `weeks`-long window that ends with this one."""
        return self.shift(-(weeks - 1))

    def __str__(self) -> str:
        return self.label


def week_of(day: date | datetime) -> Week:
    d = day.date() if isinstance(day, datetime) else day
    return Week(d - timedelta(days=d.weekday()))


def parse_week(text: str) -> Week:
    """'2026-W47' or any date inside the week ('2026-11-18')."""
    m = re.fullmatch(r"(\d{4})-?W(\d{1,2})", text.strip(), flags=re.IGNORECASE)
    if m:
        try:
            return Week(date.fromisocalendar(int(m[1]), int(m[2]), 1))
        except ValueError as exc:
            raise ValueError(f"'{text}' is not a valid ISO week: {exc}") from exc
    try:
        return week_of(date.fromisoformat(text.strip()))
    except ValueError:
        raise ValueError(f"'{text}' is not a week: use 2026-W47 or a date such as 2026-11-18") from None


def last_complete_week(now: datetime | None = None) -> Week:
    """The default week of a run: the most recent week that has ended (a Monday run digests last week)."""
    today = (now or datetime.now(timezone.utc)).date()
    return week_of(today).shift(-1)


def weeks_between(since: date, until: date) -> list[Week]:
    """Every week touching [since, until], oldest first."""
    first, last = week_of(since), week_of(until)
    out, w = [], first
    while w <= last:
        out.append(w)
        w = w.shift(1)
    return out

"""Numbers as the digests write them: counts with their nouns, money, changes, shares and durations.

A figure the data lacks (None) reads "n/a" rather than "0" or "nan".
"""

from __future__ import annotations


def count(n: float | int, noun: str, plural: str | None = None) -> str:
    """'1 account', '3 accounts', '0 tickets': a count with its noun in the right number."""
    n = int(n or 0)
    return f"{n} {noun if n == 1 else plural or noun + 's'}"


def money(value: float | None) -> str:
    v = float(value or 0)
    if v >= 1_000_000:
        return f"${v / 1_000_000:.1f}M"
    if v >= 1_000:
        return f"${v / 1_000:.0f}k"
    return f"${v:.0f}"


def change(now: float, before: float) -> str:
    """'+35% vs last week', 'new this week', 'flat'."""
    if before <= 0:
        return "new this week" if now > 0 else "none last week"
    pct = (now - before) / before
    if abs(pct) < 0.05:
        return "flat vs last week"
    return f"{pct:+.0%} vs last week"


def pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0%}"


def num(value: float | None, fmt: str) -> str:
    return "n/a" if value is None else format(value, fmt)


def minutes(value: float | None) -> str:
    if value is None:
        return "n/a"
    return f"{value:.0f} min" if value < 120 else f"{value / 60:.1f} h"


def hours(value: float | None) -> str:
    if value is None:
        return "n/a"
    return f"{value:.1f} h" if value < 48 else f"{value / 24:.1f} days"

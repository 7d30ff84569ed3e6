"""Small formatting helpers shared by the digest builders (numbers and ticket links)."""

from __future__ import annotations

from typing import Iterable

from csintel.digests.content import TicketRef
from csintel.text import short_quote


def refs(ticket_ids: Iterable[str], url_template: str, limit: int = 5) -> tuple[TicketRef, ...]:
    """Links to the first `limit` tickets (the helpdesk URL when a template is configured)."""
    out = []
    for tid in list(dict.fromkeys(str(t) for t in ticket_ids))[:limit]:
        out.append(TicketRef(tid, url_template.replace("{id}", tid) if url_template else None))
    return tuple(out)


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


def quote(text: str | None, chars: int, prefer: str | None = None) -> str | None:
    """A short quote of already-redacted display text."""
    if not text:
        return None
    return short_quote(text, max_chars=chars, prefer=prefer) or None

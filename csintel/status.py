"""`csintel status`: the last runs and what is pending, read from the warehouse alone.

Reads only (no models load), so it answers in a second even while a run holds the warehouse's
write lock elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import duckdb

from csintel.config import AUDIENCES, Settings
from csintel.warehouse import query
from csintel.weeks import Week, last_complete_week


@dataclass
class Status:
    runs: list[dict[str, Any]]
    tag_version: str | None
    untagged: int
    untagged_span: tuple[datetime, datetime] | None
    weeks_not_digested: list[str]
    running: int
    last_week: str
    undelivered: list[str] = field(default_factory=list)   # audiences of the last week not yet sent

    @property
    def pending(self) -> bool:
        return bool(self.untagged or self.weeks_not_digested or self.undelivered)


def read_status(con: duckdb.DuckDBPyConnection, settings: Settings, limit: int = 10,
                now: datetime | None = None) -> Status:
    last = last_complete_week(now)
    runs = _records(con.execute(query("status_runs"), {"limit": limit}))
    (p,) = _records(con.execute(query("status_pending"), {"this_week": last.shift(1).start}))
    sent = {a for (a,) in con.execute(
        "SELECT DISTINCT audience FROM store.deliveries WHERE week = ? AND status = 'sent'", [last.start]
    ).fetchall()}
    wanted = [a for a in AUDIENCES if a not in settings.routing.disabled]
    weeks = [Week(w).label for w in p["weeks_not_digested"] or []]
    return Status(
        runs=runs,
        tag_version=p["tag_version"],
        untagged=p["untagged"],
        untagged_span=(p["untagged_oldest"], p["untagged_newest"]) if p["untagged"] else None,
        weeks_not_digested=weeks,
        running=p["running"],
        last_week=last.label,
        # Only owed once the week has been digested at all; before that it is a pending week.
        undelivered=[] if last.label in weeks else [a for a in wanted if a not in sent],
    )


def _records(cursor: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def format_status(s: Status) -> str:
    lines = ["Last runs:"]
    if not s.runs:
        lines.append("  (none yet: `csintel run` starts the weekly pipeline)")
    for r in s.runs:
        week = Week(_as_date(r["week"])).label if r["week"] is not None else "-"
        took = f"{r['seconds']:.0f} s" if r["seconds"] is not None else "-"
        error = f"  {r['error'][:120]}" if r["error"] else ""
        lines.append(f"  {r['started_at']:%Y-%m-%d %H:%M}  {r['flow']:<9} {week:<9} {r['status']:<10} {took:>7}{error}")
    lines.append("Pending:")
    if s.untagged:
        first, last = s.untagged_span or (None, None)
        lines.append(f"  {s.untagged} tickets without current tags ({s.tag_version or 'none yet'}), "
                     f"{first:%Y-%m-%d} to {last:%Y-%m-%d}: `csintel enrich` or the next run tags them")
    if s.weeks_not_digested:
        lines.append(f"  weeks with tickets but no completed weekly run: {', '.join(s.weeks_not_digested)}"
                     f" (`csintel run --week W`, or `csintel backfill`)")
    if s.undelivered:
        lines.append(f"  {s.last_week} digests not delivered: {', '.join(s.undelivered)} (`csintel digest`)")
    if s.running:
        lines.append(f"  {s.running} run(s) marked running: in progress now, or killed (the next run resumes them)")
    if not s.pending and not s.running:
        lines.append("  nothing: every ticket is tagged and every week digested and delivered")
    return "\n".join(lines)


def _as_date(v: Any) -> date:
    return v.date() if isinstance(v, datetime) else v

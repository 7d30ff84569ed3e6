"""`csintel status`: the last runs and what is pending, read from the warehouse alone.

Reads only (no models load). While a run holds the warehouse, DuckDB lets no other process open
the file, so the CLI reads the snapshot the run refreshes between its stages instead
(`csintel.snapshot`) and says so, with the live run's stage from the lock file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import json
import re

import duckdb

from csintel.config import AUDIENCES, Settings
from csintel.warehouse import query
from csintel.weeks import Week, last_complete_week, parse_week, week_of

WEEK_LABEL = re.compile(r"\d{4}-W\d{2}")


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
    newest_ticket: datetime | None = None
    source: str = "warehouse"        # or where the figures came from: "snapshot of <time> (...)"

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
    backfilled = _backfilled_weeks(con)
    weeks = [Week(w).label for w in p["weeks_not_digested"] or [] if w not in backfilled]
    return Status(
        runs=runs,
        tag_version=p["tag_version"],
        untagged=p["untagged"],
        untagged_span=(p["untagged_oldest"], p["untagged_newest"]) if p["untagged"] else None,
        weeks_not_digested=weeks,
        running=p["running"],
        last_week=last.label,
        # Only owed once the week has been digested at all; before that it is a pending week.
        # and a week without tickets owes nothing (runs do not post it).
        undelivered=[] if last.label in weeks or not _has_tickets(con, last) else [a for a in wanted if a not in sent],
        newest_ticket=p["newest_ticket"],
    )


def _has_tickets(con: duckdb.DuckDBPyConnection, week: Week) -> bool:
    return con.execute("SELECT count(*) > 0 FROM store.tickets WHERE activity_at >= ? AND activity_at < ?",
                       [week.start_ts, week.end_ts]).fetchall()[0][0]


def _backfilled_weeks(con: duckdb.DuckDBPyConnection) -> set[date]:
    """Weeks a completed backfill ran: its counts hold one entry per week label."""
    weeks: set[date] = set()
    for (counts,) in con.execute("SELECT counts FROM store.runs WHERE flow = 'backfill' AND status = 'completed'"
                                 ).fetchall():
        for key in json.loads(counts or "{}"):
            if WEEK_LABEL.fullmatch(key):
                weeks.add(parse_week(key).start)
    return weeks


def week_ranges(labels: list[str]) -> str:
    """'2017-W03 to 2017-W14 (12 weeks), 2026-W47': consecutive weeks as one range."""
    runs: list[list[Week]] = []
    for week in sorted(parse_week(w) for w in labels):
        if runs and runs[-1][-1].shift(1) == week:
            runs[-1].append(week)
        else:
            runs.append([week])
    return ", ".join(r[0].label if len(r) == 1 else f"{r[0].label} to {r[-1].label} ({len(r)} weeks)"
                     for r in runs)


def _records(cursor: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def format_status(s: Status) -> str:
    lines = [] if s.source == "warehouse" else [f"(read from the {s.source})"]
    lines.append("Last runs:")
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
        lines.append(f"  {_count(len(s.weeks_not_digested), 'week')} with tickets but no completed run: "
                     f"{week_ranges(s.weeks_not_digested)} (`csintel run --week W`, or `csintel backfill "
                     f"--since {parse_week(s.weeks_not_digested[0]).start} --until "
                     f"{parse_week(s.weeks_not_digested[-1]).end}`)")
    if s.undelivered:
        lines.append(f"  {s.last_week} digests not delivered: {', '.join(s.undelivered)} (`csintel digest`)")
    if s.running:
        lines.append(f"  {s.running} run(s) marked running: in progress now, or killed (the next run resumes them)")
    if not s.pending and not s.running:
        lines.append("  nothing: every ticket is tagged and every week digested and delivered")
    if s.newest_ticket is not None:
        newest = week_of(s.newest_ticket)
        stale = newest < parse_week(s.last_week)
        lines.append(f"Newest ticket: {s.newest_ticket:%Y-%m-%d} ({newest.label})"
                     + (f": older than {s.last_week}, the week a run without --week digests" if stale else ""))
    return "\n".join(lines)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _as_date(v: Any) -> date:
    return v.date() if isinstance(v, datetime) else v

"""Load tickets and accounts into the warehouse: validate, quarantine, upsert in batches."""

from __future__ import annotations

import hashlib
import json
import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Callable, Iterable, Iterator

import duckdb
import pandas as pd

from csintel.sources import IncrementalSource, RawRow, RowSource
from csintel.sources.records import RowError, account_record, ticket_record
from csintel.sources.state import load_state, save_state
from csintel.warehouse import transaction, upsert, utcnow

BATCH_ROWS = 1000     # rows per transaction: memory stays flat whatever the export's size
BATCH_CHARS = 4_000_000    # ... and so does a batch of long rows (text characters held at once)
INGEST_MEMORY_LIMIT = "256MB"   # DuckDB's cache while a file loads (see _bounded_cache)
TICKET_KEY = ("source", "ticket_id")
RAW_CHARS = 2000          # how much of a quarantined row is kept ...
RAW_VALUE_CHARS = 300     # ... each value cut to this when the whole row is longer
UNDATED_RULES = ("quarantine", "ingest_week")
NO_TIMESTAMP = ("no timestamp: created_at, solved_at and updated_at are all empty, so the ticket belongs "
                "to no week (sources.undated = \"quarantine\")")


@dataclass
class IngestReport:
    loaded: int = 0
    quarantined: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    undated: int = 0      # stored without a timestamp, counted in the week they were ingested
    notes: list[str] = field(default_factory=list)   # what the readers noticed about whole files

    def add_quarantined(self, reason: str) -> None:
        self.quarantined += 1
        key = reason_key(reason)
        self.reasons[key] = self.reasons.get(key, 0) + 1


def reason_key(reason: str) -> str:
    """A quarantine reason without its particulars, for counting: "csat must be an integer from 1 to
    5, got 'five'" and "..., got 7" are both "csat must be an integer from 1 to 5"."""
    return re.split(r":|, got | at character | at byte | in column | \(", reason, maxsplit=1)[0].strip()


@dataclass
class SyncReport(IngestReport):
    pages: int = 0        # pages committed, each with its resume point


def ingest_accounts(con: duckdb.DuckDBPyConnection, source: RowSource, run_id: str | None = None) -> IngestReport:
    """Upsert accounts on account_id; bad rows go to the quarantine."""
    now = utcnow()
    return _ingest(con, source, "account", "store.accounts",
                   lambda raw: account_record(raw, ingested_at=now), run_id)


def ingest_tickets(con: duckdb.DuckDBPyConnection, source: RowSource, *, max_text_chars: int,
                   run_id: str | None = None, undated: str = "quarantine") -> IngestReport:
    """Upsert tickets on (source, id), keeping the newest version; bad rows go to the quarantine.

    Tickets without an account id are joined to an account by the requester's email domain.
    A ticket with no timestamp at all is quarantined (`undated="quarantine"`, the default) or
    stored and counted in the week it was ingested (`"ingest_week"`); either way the report
    counts it (reason "no timestamp", or `undated`).
    """
    if undated not in UNDATED_RULES:
        raise ValueError(f"undated must be one of {UNDATED_RULES}, got {undated!r}")
    report = IngestReport()
    build = _ticket_builder(con, source.name, max_text_chars)

    def dated(raw: dict[str, Any]) -> dict[str, Any]:
        record = build(raw)
        if record["updated_at"] is None:   # updated_at falls back to solved_at, then created_at
            if undated == "quarantine":
                raise RowError(NO_TIMESTAMP)
            report.undated += 1
        return record

    return _ingest(con, source, "ticket", "store.tickets", dated, run_id, newest_of=TICKET_KEY, report=report)


def ingest_incremental(con: duckdb.DuckDBPyConnection, source: IncrementalSource, *, max_text_chars: int,
                       run_id: str | None = None) -> SyncReport:
    """Sync a helpdesk page by page from where its last run stopped.

    Each page's tickets (newest version wins, bad rows quarantined) and the source's resume point
    are committed in one transaction: a run killed at any moment and rerun ends with every ticket
    stored once, at its newest version, with none skipped. Only one page is held in memory.
    """
    build = _ticket_builder(con, source.name, max_text_chars)
    report = SyncReport()
    for page in source.pages(load_state(con, source.name)):
        _write_chunk(con, page.rows, "ticket", "store.tickets", build, run_id, TICKET_KEY, report,
                     before_commit=partial(save_state, con, source.name, page.state, run_id))
        report.pages += 1
    return report


def _ticket_builder(con: duckdb.DuckDBPyConnection, source_name: str,
                    max_text_chars: int) -> Callable[[dict[str, Any]], dict[str, Any]]:
    now = utcnow()
    domains = dict(con.execute(
        "SELECT domain, min(account_id) FROM store.accounts WHERE domain IS NOT NULL GROUP BY domain"
    ).fetchall())

    def build(raw: dict[str, Any]) -> dict[str, Any]:
        record = ticket_record(raw, source_name, max_text_chars=max_text_chars, ingested_at=now)
        if not record["account_id"] and record["requester_email"] and "@" in record["requester_email"]:
            record["account_id"] = domains.get(record["requester_email"].rsplit("@", 1)[1])
        return record

    return build


def _ingest(con: duckdb.DuckDBPyConnection, source: RowSource, kind: str, table: str,
            build: Callable[[dict[str, Any]], dict[str, Any]], run_id: str | None,
            newest_of: tuple[str, ...] | None = None, report: IngestReport | None = None) -> IngestReport:
    report = report or IngestReport()
    with _bounded_cache(con):
        for chunk in _chunks(source.rows(), BATCH_ROWS, BATCH_CHARS):
            _write_chunk(con, chunk, kind, table, build, run_id, newest_of, report)
    report.notes = list(getattr(source, "notes", []))
    return report


@contextmanager
def _bounded_cache(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """Cap DuckDB's memory while a file loads, then restore the setting.

    DuckDB keeps the blocks it writes cached up to its memory_limit (80% of RAM by default), so
    without a cap the process grows with the warehouse, not with the batch: a 289 MB CSV peaked
    at 1.0 GB (benchmarks/bench_file_ingest.py). A file-backed warehouse writes the blocks out and
    evicts them under the cap; an in-memory one cannot evict, so it is left alone.
    """
    path = con.execute("SELECT path FROM duckdb_databases() WHERE database_name = current_database()").fetchone()
    if not path or not path[0]:
        yield
        return
    before = con.execute("SELECT current_setting('memory_limit')").fetchone()[0]
    con.execute(f"SET memory_limit = '{INGEST_MEMORY_LIMIT}'")
    try:
        yield
    finally:
        con.execute(f"SET memory_limit = '{before}'")


def _write_chunk(con: duckdb.DuckDBPyConnection, chunk: list[RawRow], kind: str, table: str,
                 build: Callable[[dict[str, Any]], dict[str, Any]], run_id: str | None,
                 newest_of: tuple[str, ...] | None, report: IngestReport,
                 before_commit: Callable[[], None] | None = None) -> None:
    """Validate a chunk and write its good rows and its quarantined ones in one transaction."""
    good: list[dict[str, Any]] = []
    bad: list[dict[str, Any]] = []
    for row in chunk:
        try:
            if row.data is None or row.error:
                raise RowError(row.error or "unreadable row")
            good.append(build(row.data))
        except RowError as exc:
            bad.append(_quarantine_row(kind, row, str(exc), run_id))
            report.add_quarantined(str(exc))
    frame = pd.DataFrame(good)
    if newest_of and not frame.empty:
        # The same ticket can come twice in one export: the newest version wins.
        frame = (frame.sort_values("updated_at", na_position="first", kind="stable")
                      .drop_duplicates(list(newest_of), keep="last"))
    with transaction(con):
        if newest_of and not frame.empty:
            frame = _drop_older_than_stored(con, table, frame)
        report.loaded += upsert(con, table, frame)
        upsert(con, "store.quarantine", pd.DataFrame(bad))
        if before_commit is not None:
            before_commit()


def _drop_older_than_stored(con: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame) -> pd.DataFrame:
    """An older copy of a ticket (a stale export re-read) never replaces a newer stored one."""
    con.register("_incoming", frame[["source", "ticket_id", "updated_at"]])
    try:
        stale = con.execute(
            f"SELECT i.source, i.ticket_id FROM _incoming i JOIN {table} t USING (source, ticket_id) "
            "WHERE t.updated_at > i.updated_at"
        ).fetchall()
    finally:
        con.unregister("_incoming")
    if not stale:
        return frame
    drop = set(stale)
    keep = [(s, t) not in drop for s, t in zip(frame["source"], frame["ticket_id"])]
    return frame[keep]


def _quarantine_row(kind: str, row: RawRow, reason: str, run_id: str | None) -> dict[str, Any]:
    raw = json.dumps(row.data, default=str, ensure_ascii=False, sort_keys=True) if row.data is not None else ""
    if len(raw) > RAW_CHARS and isinstance(row.data, dict):
        # Cut each value rather than the JSON, so the quarantine's raw still parses and names the id.
        raw = json.dumps({k: _shorten(v) for k, v in row.data.items()}, default=str, ensure_ascii=False, sort_keys=True)
    return {
        "kind": kind,
        "origin": row.origin,
        "row_number": row.row_number,
        "reason": reason,
        "raw": raw[:2 * RAW_CHARS],
        "row_hash": hashlib.sha256(f"{row.origin}|{row.row_number}|{raw}".encode("utf-8", "replace")).hexdigest()[:24],
        "quarantined_at": utcnow(),
        "run_id": run_id,
    }


def _shorten(value: Any) -> Any:
    text = value if isinstance(value, str) else json.dumps(value, default=str, ensure_ascii=False)
    return value if len(text) <= RAW_VALUE_CHARS else text[:RAW_VALUE_CHARS] + "…"


def _chunks(rows: Iterable[RawRow], size: int, max_chars: int) -> Iterator[list[RawRow]]:
    """Batches of at most `size` rows and about `max_chars` characters of text."""
    chunk: list[RawRow] = []
    chars = 0
    for row in rows:
        chunk.append(row)
        chars += _chars(row.data)
        if len(chunk) >= size or chars >= max_chars:
            yield chunk
            chunk, chars = [], 0
    if chunk:
        yield chunk


def _chars(value: Any) -> int:
    """About how many characters a raw row holds (nested comments included)."""
    if isinstance(value, str):
        return len(value)
    if isinstance(value, dict):
        return sum(_chars(v) for v in value.values())
    if isinstance(value, list):
        return sum(_chars(v) for v in value)
    return 8

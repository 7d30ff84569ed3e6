"""Resume points of incremental sources, kept in the warehouse beside the tickets they cover.

`save_state` does not open a transaction of its own: the caller writes a page's tickets and its
state in one transaction, which is what makes a killed sync resume without loss or duplicates.
"""

from __future__ import annotations

import json
from typing import Any

import duckdb

from csintel.warehouse import utcnow


def load_state(con: duckdb.DuckDBPyConnection, source: str) -> dict[str, Any] | None:
    """The state saved with `source`'s last committed page, or None before its first sync."""
    row = con.execute("SELECT state FROM store.source_state WHERE source = ?", [source]).fetchone()
    return json.loads(row[0]) if row else None


def save_state(con: duckdb.DuckDBPyConnection, source: str, state: dict[str, Any],
               run_id: str | None = None) -> None:
    """Record where `source` resumes; call inside the transaction that stores the page's rows."""
    con.execute(
        "INSERT INTO store.source_state VALUES (?, ?, 1, ?, ?) ON CONFLICT (source) DO UPDATE SET "
        "state = excluded.state, pages = store.source_state.pages + 1, updated_at = excluded.updated_at, "
        "run_id = excluded.run_id",
        [source, json.dumps(state, sort_keys=True), utcnow(), run_id],
    )


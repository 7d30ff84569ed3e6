"""The run record: a run's row in `runs` (started, finished, failed, partial), and the rows of
runs that a kill cut short.

A run killed with SIGKILL (or by the OOM killer, or a lost machine) cannot record that it
stopped: its row in `runs` stays 'running'. It carries its pid and host (migration 006), and the
next run, which holds the lock (`csintel.runs.lock`) and so knows no other run is live, marks such
rows 'killed'.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import uuid
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import duckdb

from csintel.warehouse import query, utcnow

log = logging.getLogger(__name__)

# Runs started by this process: the only 'running' rows that may still be live while it holds the lock.
_CLAIMED: set[str] = set()


@dataclass
class RunRecord:
    """What a tracked run yields: its id, and the counts (and versions) its stages fill in."""

    run_id: str = ""
    counts: dict[str, Any] = field(default_factory=dict)
    versions: dict[str, str] = field(default_factory=dict)


def start_run(con: duckdb.DuckDBPyConnection, flow: str, week: date | None) -> str:
    """Write a new run's row, 'running'; returns its id."""
    run_id = f"{flow}-{uuid.uuid4().hex[:12]}"
    con.execute(
        "INSERT INTO store.runs (run_id, flow, week, started_at, status) VALUES (?, ?, ?, ?, 'running')",
        [run_id, flow, week, utcnow()],
    )
    return run_id


def finish_run(con: duckdb.DuckDBPyConnection, run_id: str, counts: dict[str, Any], error: str | None = None,
               versions: dict[str, str] | None = None, status: str | None = None) -> None:
    """Mark a run finished: 'failed' with an error, else 'completed', unless `status` says otherwise
    ('partial': it ran to the end but something, e.g. a delivery, failed; `error` says what)."""
    con.execute(
        query("run_finish"),
        [utcnow(), status or ("failed" if error else "completed"), json.dumps(counts, default=str), error,
         json.dumps(versions) if versions else None, run_id],
    )


def claim_run(con: duckdb.DuckDBPyConnection, run_id: str) -> list[str]:
    """Stamp this process on its run and mark the runs a kill left 'running' as 'killed'.

    Call it holding `exclusive_run`: then no other process can be running a run of this
    warehouse, so every 'running' row that this process did not claim is one whose process
    ended without finishing (including rows with no pid: killed between starting and
    stamping; and rows whose pid a restarted container reused for this process).

    Returns:
        The run ids marked 'killed'.
    """
    _CLAIMED.add(run_id)
    con.execute("UPDATE store.runs SET pid = ?, host = ? WHERE run_id = ?", [os.getpid(), socket.gethostname(), run_id])
    stale = [r for r in con.execute("SELECT run_id, pid, host FROM store.runs WHERE status = 'running'").fetchall()
             if r[0] not in _CLAIMED]
    for stale_id, stale_pid, stale_host in stale:
        con.execute(
            "UPDATE store.runs SET status = 'killed', error = ? WHERE run_id = ?",
            [f"ended without finishing: process {stale_pid or '?'} on {stale_host or '?'} was killed or "
             f"crashed; found by {run_id}", stale_id])
        log.warning("run %s never finished (process %s on %s was killed or crashed): marked 'killed'; "
                    "this run redoes what it left undone", stale_id, stale_pid, stale_host)
    return [r[0] for r in stale]


def delivery_failures(counts: dict[str, Any]) -> list[str]:
    """'audience -> channel: error' for every failed delivery recorded anywhere in a run's counts."""
    found: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            if value.get("status") == "failed" and "audience" in value and "channel" in value:
                found.append(f"{value['audience']} -> {value['channel']}: {value.get('error') or 'failed'}")
            for inner in value.values():
                walk(inner)
        elif isinstance(value, list):
            for inner in value:
                walk(inner)

    walk(counts)
    return found

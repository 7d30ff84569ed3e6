"""Watching a run: a read-only snapshot of the warehouse that readers use while a run holds it.

DuckDB lets one process open a database file for writing and then no other process may open it
at all, not even read-only; and a reader holding the file open would make the run's next stage
fail to open it. So readers (`csintel status`, `report`, `export`) never touch the live file while
a run holds the warehouse:

- a run copies the warehouse to `<warehouse>.snapshot` (write to a temporary name, then rename)
  when it starts, after each stage (when the stage has closed its connection, so the file is
  whole) and when it ends;
- a reader takes a shared lock on the run lock (`csintel.runs.lock`) without waiting. If it gets
  it, no run is live: it reads the warehouse itself, and a run starting meanwhile waits for it
  (readers are short). If a run holds the lock, it reads the latest snapshot instead and says so.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import shutil
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import duckdb

from csintel.config import Settings
from csintel.runs.lock import describe_holder, lock_path, read_holder
from csintel.warehouse import WarehouseBusyError, connect, utcnow

log = logging.getLogger(__name__)

SNAPSHOT_SUFFIX = ".snapshot"
INFO_SUFFIX = ".json"
WAL_SUFFIX = ".wal"


def snapshot_path(warehouse: Path) -> Path:
    """Where a warehouse's snapshot lives: beside it."""
    return warehouse.with_name(warehouse.name + SNAPSHOT_SUFFIX)


def refresh_snapshot(settings: Settings, after: str) -> Path | None:
    """Copy the warehouse to its snapshot; call it with no connection of this process open.

    Args:
        settings: The run's settings (an in-memory warehouse has no snapshot).
        after: What the run has just done ("start", "ingest", "enrich", ..., "finish"), shown
            to readers.

    Returns:
        The snapshot's path, or None when there is nothing to copy. A failed copy is logged,
        never raised: watching a run must not break it.
    """
    if str(settings.warehouse.path) == ":memory:":
        return None
    source = settings.warehouse_path
    target = snapshot_path(source)
    if not source.exists():
        return None
    try:
        tmp = target.with_name(target.name + ".tmp")
        shutil.copyfile(source, tmp)
        # A closed DuckDB database has no write-ahead log left; if one is there, it belongs
        # with the copy (DuckDB replays `<file>.wal` on open).
        wal = source.with_name(source.name + WAL_SUFFIX)
        if wal.exists():
            shutil.copyfile(wal, target.with_name(target.name + WAL_SUFFIX + ".tmp"))
            os.replace(target.with_name(target.name + WAL_SUFFIX + ".tmp"), target.with_name(target.name + WAL_SUFFIX))
        else:
            target.with_name(target.name + WAL_SUFFIX).unlink(missing_ok=True)
        os.replace(tmp, target)
        info = {"taken_at": utcnow().isoformat(timespec="seconds"), "after": after}
        target.with_name(target.name + INFO_SUFFIX).write_text(json.dumps(info), encoding="utf-8")
    except OSError as exc:
        log.warning("could not refresh the warehouse snapshot %s: %s", target, exc)
        return None
    return target


@contextmanager
def stage_connection(settings: Settings, stage: str) -> Iterator[duckdb.DuckDBPyConnection]:
    """The warehouse for one stage of a run; once the stage has closed it, the snapshot is refreshed."""
    with connect(settings.warehouse_path) as con:
        yield con
    refresh_snapshot(settings, stage)


@dataclass(frozen=True)
class Source:
    """Where a reader's figures come from."""

    path: Path
    live: bool                       # the warehouse itself; else its snapshot
    note: str = ""                   # for a snapshot: how old, and which run holds the warehouse

    def describe(self) -> str:
        return "warehouse" if self.live else self.note


@contextmanager
def open_for_reading(settings: Settings) -> Iterator[tuple[duckdb.DuckDBPyConnection, Source]]:
    """A read-only connection to the warehouse, or to its snapshot while a run holds it.

    Raises:
        FileNotFoundError: When there is no warehouse yet.
        WarehouseBusyError: When a run holds the warehouse and has left no snapshot yet.
    """
    path = settings.warehouse_path
    if not path.exists():
        raise FileNotFoundError(f"no warehouse at {path}: run `csintel init` or `csintel run` first")
    lock = lock_path(path)
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            with _snapshot(settings, read_holder(lock)) as opened:
                yield opened
            return
        # No run is live, and none can start until this shared lock is released.
        try:
            with connect(path, read_only=True) as con:
                yield con, Source(path, live=True)
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


@contextmanager
def _snapshot(settings: Settings,
              holder: dict[str, Any] | None) -> Iterator[tuple[duckdb.DuckDBPyConnection, Source]]:
    target = snapshot_path(settings.warehouse_path)
    if not target.exists():
        raise WarehouseBusyError(f"the warehouse {settings.warehouse_path} is in use by {describe_holder(holder)} "
                                 f"and has no snapshot yet ({target}): try again after the run's first stage")
    try:
        info = json.loads(target.with_name(target.name + INFO_SUFFIX).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        info = {}
    note = (f"snapshot of {info.get('taken_at', '?')} UTC, taken after the run's {info.get('after', '?')} stage: "
            f"the warehouse is in use by {describe_holder(holder)}")
    with connect(target, read_only=True) as con:
        yield con, Source(target, live=False, note=note)

"""Running the pipeline like production: one run per warehouse at a time, runs that a kill cut
short found and marked, and the heavy tagging work spread over a Dask cluster.

DuckDB allows one writing process per file, and each stage opens the warehouse for itself, so
without a run-wide lock a second run could slip in between two stages of the first and make it
fail half way. `exclusive_run` holds an OS lock beside the warehouse for the whole run; the OS
drops it when the process dies, however it dies, so a killed run never blocks the next one.

A run killed with SIGKILL (or by the OOM killer, or a lost machine) cannot record that it
stopped: its row in `runs` stays 'running'. It carries its pid and host (migration 006), and the
next run, which holds the lock and so knows no other run is live, marks such rows 'killed'.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import socket
import threading
import time
from collections import deque
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, TypeVar

import duckdb

from csintel.config import DaskConfig, Settings
from csintel.warehouse import WarehouseBusyError, utcnow

if TYPE_CHECKING:
    from prefect_dask import DaskTaskRunner

log = logging.getLogger(__name__)

LOCK_SUFFIX = ".run-lock"
POLL_SECONDS = 0.5

# (lock file, thread) -> depth: a run started inside a run of the same thread (a subflow that is
# tracked too) shares its parent's hold instead of waiting for itself.
_HELD: dict[tuple[str, int], int] = {}
# Runs started by this process: the only 'running' rows that may still be live while it holds the lock.
_CLAIMED: set[str] = set()

T = TypeVar("T")
R = TypeVar("R")


def lock_path(warehouse: Path) -> Path:
    """The lock file of a warehouse: beside it, so every process that can open it finds it."""
    return warehouse.with_name(warehouse.name + LOCK_SUFFIX)


@contextmanager
def exclusive_run(settings: Settings, flow: str) -> Iterator[None]:
    """Hold the warehouse for one run, waiting up to `[warehouse] lock_timeout_s` for another.

    Raises:
        WarehouseBusyError: When another run still holds it after the wait; the message names
            that run's flow, process, host and start time.
    """
    if str(settings.warehouse.path) == ":memory:":
        yield
        return
    path = lock_path(settings.warehouse_path)
    key = (str(path), threading.get_ident())
    if key in _HELD:
        _HELD[key] += 1
        try:
            yield
        finally:
            _HELD[key] -= 1
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        _acquire(fd, path, settings.warehouse.lock_timeout_s)
        _write_holder(fd, {"pid": os.getpid(), "host": socket.gethostname(), "flow": flow,
                           "since": utcnow().isoformat(timespec="seconds")})
        _HELD[key] = 1
        try:
            yield
        finally:
            del _HELD[key]
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _acquire(fd: int, path: Path, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    warned = False
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            holder = describe_holder(read_holder(path))
            if time.monotonic() >= deadline:
                raise WarehouseBusyError(
                    f"the warehouse {path.with_name(path.name.removesuffix(LOCK_SUFFIX))} is in use by {holder}; "
                    f"waited {timeout_s:g} s. Let it finish (or stop it), raise [warehouse] "
                    f"lock_timeout_s to wait longer, or point [warehouse] path elsewhere") from None
            if not warned:
                log.warning("waiting up to %g s for %s to finish", timeout_s, holder)
                warned = True
            time.sleep(min(POLL_SECONDS, max(0.0, deadline - time.monotonic())))


def _write_holder(fd: int, info: dict[str, Any]) -> None:
    os.ftruncate(fd, 0)
    os.pwrite(fd, json.dumps(info).encode("utf-8"), 0)


def read_holder(path: Path) -> dict[str, Any] | None:
    """What the last run to take the lock wrote about itself (it may have finished since)."""
    try:
        return json.loads(path.read_text(encoding="utf-8") or "null")
    except (OSError, json.JSONDecodeError):
        return None


def describe_holder(info: dict[str, Any] | None) -> str:
    if not info:
        return "another csintel run"
    return (f"another csintel run ({info.get('flow', '?')} flow, pid {info.get('pid', '?')} on "
            f"{info.get('host', '?')}, since {info.get('since', '?')} UTC)")


def current_holder(settings: Settings) -> dict[str, Any] | None:
    """The run holding the warehouse now, or None; asks the OS, so it never waits or misleads."""
    path = lock_path(settings.warehouse_path)
    if not path.exists():
        return None
    fd = os.open(path, os.O_RDONLY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return read_holder(path) or {}
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


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


def dask_task_runner(cfg: DaskConfig) -> DaskTaskRunner | None:
    """Prefect's Dask task runner for `[dask]`, or None when Dask is not configured.

    Raises:
        RuntimeError: When Dask is configured but prefect-dask is not installed.
    """
    if not cfg.address:
        return None
    try:
        from prefect_dask import DaskTaskRunner
    except ImportError as exc:
        raise RuntimeError("[dask] address is set but prefect-dask is missing: "
                           "pip install 'csintel[dask]' (on the workers too)") from exc
    if cfg.address == "local":
        # Processes, not threads: tagging holds the GIL in its Python parts (rules, sentiment).
        return DaskTaskRunner(cluster_kwargs={"n_workers": cfg.n_workers, "threads_per_worker": cfg.threads_per_worker,
                                              "processes": True, "dashboard_address": None})
    return DaskTaskRunner(address=cfg.address)


def in_order(submit: Callable[[T], R], items: Iterable[T], ahead: int) -> Iterator[R]:
    """Submit `items` keeping at most `ahead` in flight; yield what `submit` returned, in order.

    The consumer handles each result before the next item is submitted past the window, so
    memory stays bounded and a kill loses at most `ahead` submitted items.
    """
    pending: deque[R] = deque()
    for item in items:
        pending.append(submit(item))
        if len(pending) >= ahead:
            yield pending.popleft()
    while pending:
        yield pending.popleft()

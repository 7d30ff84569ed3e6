"""The run lock: one run per warehouse at a time, held for the whole run.

DuckDB allows one writing process per file, and each stage opens the warehouse for itself, so
without a run-wide lock a second run could slip in between two stages of the first and make it
fail half way. `exclusive_run` holds an OS lock beside the warehouse for the whole run; the OS
drops it when the process dies, however it dies, so a killed run never blocks the next one.
Readers (`csintel.snapshot`) ask the same lock, without waiting, whether a run is live.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import socket
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from csintel.config import Settings
from csintel.warehouse import WarehouseBusyError, utcnow

log = logging.getLogger(__name__)

LOCK_SUFFIX = ".run-lock"
POLL_SECONDS = 0.5

# (lock file, thread) -> depth: a run started inside a run of the same thread (a subflow that is
# tracked too) shares its parent's hold instead of waiting for itself.
_HELD: dict[tuple[str, int], int] = {}


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

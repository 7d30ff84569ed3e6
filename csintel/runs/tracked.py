"""The tracked run: the context manager each flow runs its stages in.

It takes the lock, writes the run's row, claims the rows of killed runs, keeps the readers'
snapshot current, and finishes the row as completed, partial (a delivery failed) or failed.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from csintel.config import Settings
from csintel.pipeline import loaded_versions
from csintel.runs.lock import exclusive_run
from csintel.runs.record import RunRecord, claim_run, delivery_failures, finish_run, start_run
from csintel.snapshot import refresh_snapshot
from csintel.warehouse import connect
from csintel.weeks import Week


@contextmanager
def tracked_run(settings: Settings, flow: str, week: Week | None) -> Iterator[RunRecord]:
    """Record a run in the `runs` table: counts on success, the error on failure.

    The run holds the warehouse throughout (a second run waits, see csintel.runs.lock), and marks
    runs that a kill left 'running' as 'killed'.
    """
    record = RunRecord()
    with exclusive_run(settings, flow):
        with connect(settings.warehouse_path) as con:
            record.run_id = start_run(con, flow, week.start if week else None)
            claim_run(con, record.run_id)
        # Readers see this run as running from now on, and each stage's result as it lands.
        refresh_snapshot(settings, "start")
        try:
            yield record
        except BaseException as exc:
            with connect(settings.warehouse_path) as con:
                finish_run(con, record.run_id, record.counts, error=f"{type(exc).__name__}: {exc}",
                           versions=record.versions or loaded_versions(settings))
            refresh_snapshot(settings, "finish")
            raise
        # A run that got to the end but could not deliver everything is not 'completed': a
        # scheduler (and `csintel status`) must see it, and the CLI exits non-zero.
        failures = delivery_failures(record.counts)
        with connect(settings.warehouse_path) as con:
            finish_run(con, record.run_id, record.counts, versions=record.versions or loaded_versions(settings),
                       error=("delivery failed: " + "; ".join(failures)) if failures else None,
                       status="partial" if failures else None)
        refresh_snapshot(settings, "finish")


"""Watching a run: `status`, `report` and `export` answer while a run holds the warehouse, from the
snapshot the run refreshes between stages, and a reader never makes a run fail."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from csintel.cli import main
from csintel.config import settings_from_dict
from csintel.runs.tracked import tracked_run
from csintel.snapshot import open_for_reading, snapshot_path, stage_connection
from csintel.warehouse import WarehouseBusyError, connect, upsert
from csintel.weeks import parse_week

ROOT = Path(__file__).resolve().parents[1]


def _ticket(tid: str, when: str) -> dict:
    return {"source": "file", "ticket_id": tid, "subject": "s", "body": "b", "customer_text": "b",
            "display_text": "b", "activity_at": pd.Timestamp(when), "content_hash": f"h{tid}",
            "ingested_at": pd.Timestamp("2026-11-20")}


@pytest.fixture()
def config(tmp_path: Path) -> Path:
    cfg = tmp_path / "csintel.toml"
    cfg.write_text('[warehouse]\npath = "w.duckdb"\nlock_timeout_s = 0.5\n', encoding="utf-8")
    with connect(tmp_path / "w.duckdb") as con:
        upsert(con, "store.tickets", pd.DataFrame([_ticket("1", "2026-11-10 10:00")]))
    return cfg


def _status(cfg: Path) -> subprocess.CompletedProcess:
    """`csintel status` in its own process, as a person watching would run it."""
    return subprocess.run([sys.executable, "-m", "csintel.cli", "status", "--config", str(cfg)],
                          cwd=cfg.parent, env={**os.environ, "PYTHONPATH": str(ROOT)},
                          capture_output=True, text=True, timeout=120)


def test_status_and_export_answer_while_a_stage_holds_the_warehouse(config: Path, tmp_path: Path, capsys) -> None:
    settings = settings_from_dict({"warehouse": {"path": "w.duckdb"}}, base_dir=tmp_path)
    with tracked_run(settings, "weekly", parse_week("2026-W47")):
        with stage_connection(settings, "ingest") as con:
            upsert(con, "store.tickets", pd.DataFrame([_ticket("2", "2026-11-17 10:00")]))
            # The stage holds DuckDB's write lock: no other process may open the file now...
            plain = subprocess.run([sys.executable, "-c", "import duckdb, sys; duckdb.connect(sys.argv[1], read_only=True)",
                                    str(settings.warehouse_path)], capture_output=True, text=True, timeout=60)
            assert plain.returncode != 0 and "lock" in plain.stderr.lower()
            # ...and yet status answers, from the snapshot.
            during = _status(config)
        after_ingest = _status(config)
        assert main(["export", "--config", str(config), "--to", str(tmp_path / "lake"), "--view", "tickets"]) == 0
        assert "reading the snapshot" in capsys.readouterr().err
    assert during.returncode == 0, during.stderr
    assert "(read from the snapshot of" in during.stdout and "taken after the run's start stage" in during.stdout
    assert f"in use by another csintel run (weekly flow, pid {os.getpid()}" in during.stdout
    assert "weekly    2026-W47  running" in during.stdout
    assert "Newest ticket: 2026-11-10" in during.stdout          # the snapshot predates the stage's write
    assert "taken after the run's ingest stage" in after_ingest.stdout
    assert "Newest ticket: 2026-11-17" in after_ingest.stdout
    lake = duckdb.sql(f"SELECT count(*) FROM read_parquet('{tmp_path}/lake/tickets/*/*.parquet')").fetchall()
    assert lake == [(2,)]
    # Once the run is over, readers read the warehouse itself again.
    done = _status(config)
    assert "read from the" not in done.stdout and "weekly    2026-W47  completed" in done.stdout
    with connect(settings.warehouse_path, read_only=True) as con:
        assert con.execute("SELECT status FROM runs").fetchall() == [("completed",)]
    with duckdb.connect(str(snapshot_path(settings.warehouse_path)), read_only=True) as con:
        assert con.execute("SELECT status FROM store.runs").fetchall() == [("completed",)]


def test_a_reader_makes_a_starting_run_wait_never_fail_mid_way(config: Path, tmp_path: Path) -> None:
    settings = settings_from_dict({"warehouse": {"path": "w.duckdb", "lock_timeout_s": 0.5}}, base_dir=tmp_path)
    outcome: list[BaseException | None] = []

    def start_a_run() -> None:
        try:
            with tracked_run(settings, "weekly", parse_week("2026-W47")):
                pass
            outcome.append(None)
        except BaseException as exc:  # noqa: BLE001 (the test inspects it)
            outcome.append(exc)

    with open_for_reading(settings) as (con, source):
        assert source.live
        runner = threading.Thread(target=start_a_run)
        runner.start()
        runner.join()
        assert con.execute("SELECT count(*) FROM tickets").fetchall() == [(1,)]
    # The run never started: it waited for the reader and stopped cleanly with the lock message.
    assert isinstance(outcome[0], WarehouseBusyError)
    start_a_run()
    assert outcome[1] is None


def test_a_run_that_left_no_snapshot_yet_gives_a_clear_message(config: Path, tmp_path: Path) -> None:
    settings = settings_from_dict({"warehouse": {"path": "w.duckdb"}}, base_dir=tmp_path)
    from csintel.runs.lock import exclusive_run

    with exclusive_run(settings, "weekly"):
        with pytest.raises(WarehouseBusyError, match="no snapshot yet"):
            with open_for_reading(settings):
                pass
    with open_for_reading(settings) as (_, source):
        assert source.live

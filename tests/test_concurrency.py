"""Two runs against one warehouse, as two real processes: the second waits for the first (or,
with a short `lock_timeout_s`, stops and names it), and the warehouse ends up as one run left it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from csintel.config import load_settings
from csintel.runs.lock import current_holder
from csintel.warehouse import connect
from tests.conftest import share_onnx_exports

WEEK = "2026-W47"
CSINTEL = str(Path(sys.executable).with_name("csintel"))


def write_config(root: Path, sample: Path, name: str, lock_timeout_s: float) -> Path:
    # Every ticket is ingested; a four-week window has the run tag and cluster ~220 of them, which
    # keeps the first run busy while the others start.
    share_onnx_exports(root)
    path = root / f"{name}.toml"
    path.write_text(f"""
[warehouse]
path = "warehouse.duckdb"
lock_timeout_s = {lock_timeout_s}
[sources]
tickets = ["{sample / 'tickets.jsonl'}"]
accounts = ["{sample / 'accounts.csv'}"]
[themes]
window_weeks = 4
[slack]
outbox = "outbox"
""", encoding="utf-8")
    return path


def start(config: Path, env: dict[str, str], *command: str) -> subprocess.Popen:
    return subprocess.Popen([CSINTEL, *command, "--config", str(config)], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, env=env, cwd=config.parent)


def test_a_second_run_waits_or_stops_and_the_warehouse_stays_whole(small_sample, tmp_path, prefect_harness):
    from prefect.settings import PREFECT_API_URL

    env = {**os.environ, "PREFECT_API_URL": str(PREFECT_API_URL.value()), "PREFECT_HOME": str(tmp_path / "prefect")}
    patient = write_config(tmp_path, small_sample, "patient", 600)
    hasty = write_config(tmp_path, small_sample, "hasty", 1)
    settings = load_settings(patient)

    first = start(patient, env, "run", "--week", WEEK)
    deadline = time.monotonic() + 120
    while (current_holder(settings) or {}).get("pid") != first.pid:
        assert first.poll() is None, first.communicate()[0]
        assert time.monotonic() < deadline, "the first run never took the warehouse"
        time.sleep(0.05)

    # With the default wait, a second run waits for the first, then runs. It starts at once: the
    # first run's clustering no longer compiles for ~20 s, so it ends soon.
    second = start(patient, env, "run", "--week", WEEK)
    # With a one-second wait, another run stops with a message naming the first.
    out, _ = start(hasty, env, "ingest").communicate(timeout=120)
    assert first.poll() is None, "the first run ended too soon for this test to mean anything"
    assert f"pid {first.pid}" in out and "lock_timeout_s" in out and "weekly flow" in out, out
    first_out, _ = first.communicate(timeout=400)
    second_out, _ = second.communicate(timeout=400)
    assert first.returncode == 0, first_out[-3000:]
    assert second.returncode == 0, second_out[-3000:]
    assert "waiting up to 600 s for another csintel run (weekly flow, pid" in second_out

    with connect(settings.warehouse_path) as con:
        runs = con.execute("SELECT pid, status, started_at, finished_at, counts FROM runs ORDER BY started_at").fetchall()
        tickets, distinct = con.execute("SELECT count(*), count(DISTINCT (source, ticket_id)) FROM tickets").fetchone()
        sent = con.execute("SELECT count(*), count(DISTINCT delivery_key) FROM store.deliveries").fetchone()
    assert [(r[0], r[1]) for r in runs] == [(first.pid, "completed"), (second.pid, "completed")]
    assert runs[1][2] >= runs[0][3]                   # the second started after the first finished
    assert '"tagged": 0' in runs[1][4]                # and found everything already tagged
    assert tickets == distinct > 500
    assert sent[0] == sent[1] > 0
    assert current_holder(settings) is None


def test_a_negative_lock_timeout_is_refused(tmp_path):
    from csintel.config import ConfigError

    path = tmp_path / "c.toml"
    path.write_text("[warehouse]\nlock_timeout_s = -1\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="lock_timeout_s"):
        load_settings(path)


def test_a_run_inside_a_run_of_the_same_thread_shares_its_hold(tmp_path):
    from csintel.config import settings_from_dict
    from csintel.runs.lock import exclusive_run

    settings = settings_from_dict({"warehouse": {"path": "w.duckdb", "lock_timeout_s": 0}}, base_dir=tmp_path)
    with exclusive_run(settings, "weekly"):
        assert current_holder(settings)["pid"] == os.getpid()
        with exclusive_run(settings, "enrich"):          # would wait for itself without the sharing
            pass
        assert current_holder(settings)["flow"] == "weekly"
    assert current_holder(settings) is None


def test_the_next_run_marks_runs_left_running_as_killed():
    from csintel.runs.record import claim_run, start_run

    with connect(None) as con:
        dead = start_run(con, "weekly", None)
        con.execute("UPDATE store.runs SET pid = 999999999, host = 'elsewhere' WHERE run_id = ?", [dead])
        never_stamped = start_run(con, "weekly", None)
        # A restarted container can give the next run the pid of the one it killed.
        same_pid = start_run(con, "weekly", None)
        con.execute("UPDATE store.runs SET pid = ?, host = ? WHERE run_id = ?", [os.getpid(), socket.gethostname(), same_pid])
        finished = start_run(con, "weekly", None)
        con.execute("UPDATE store.runs SET status = 'completed' WHERE run_id = ?", [finished])
        outer = start_run(con, "weekly", None)
        assert sorted(claim_run(con, outer)) == sorted([dead, never_stamped, same_pid])
        inner = start_run(con, "enrich", None)
        assert claim_run(con, inner) == []             # the enclosing run of this process is live
        rows = dict(con.execute("SELECT run_id, status FROM runs").fetchall())
        me = con.execute("SELECT pid FROM runs WHERE run_id = ?", [outer]).fetchone()[0]
        error = con.execute("SELECT error FROM runs WHERE run_id = ?", [dead]).fetchone()[0]
    assert rows == {dead: "killed", never_stamped: "killed", same_pid: "killed", finished: "completed",
                    outer: "running", inner: "running"}
    assert me == os.getpid() and "999999999 on elsewhere" in error and outer in error

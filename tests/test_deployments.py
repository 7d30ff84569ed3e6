"""Deployments: `csintel serve` against a real Prefect server on 127.0.0.1, and prefect.yaml in step."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
import yaml

from csintel.config import REPO_ROOT, ScheduleConfig, load_settings
from csintel.warehouse import connect
from tests.conftest import write_sample_config

WEEK = "2026-W47"


def test_prefect_yaml_declares_the_served_deployments(tmp_path):
    from flows.deployments import deployments

    served = {f"{d.flow_name}/{d.name}": d for d in deployments(load_settings(None), None)}
    spec = yaml.safe_load((REPO_ROOT / "prefect.yaml").read_text())
    declared = {}
    for entry in spec["deployments"]:
        path, fn = entry["entrypoint"].split(":")
        module = __import__(path.removesuffix(".py").replace("/", "."), fromlist=[fn])
        declared[f"{getattr(module, fn).name}/{entry['name']}"] = entry
    assert declared.keys() == served.keys()
    weekly = declared["csintel-weekly/weekly"]["schedules"][0]
    assert (weekly["cron"], weekly["timezone"]) == (ScheduleConfig().weekly_cron, ScheduleConfig().timezone)
    assert all(not entry.get("schedules") for name, entry in declared.items() if name != "csintel-weekly/weekly")


def test_serve_list_shows_the_configured_schedule(tmp_path, capsys):
    from csintel.cli import main

    cfg = tmp_path / "csintel.toml"
    cfg.write_text('[schedule]\nweekly_cron = "30 6 * * 1"\ntimezone = "Europe/Berlin"\n', encoding="utf-8")
    assert main(["serve", "--list", "--config", str(cfg)]) == 0
    out = capsys.readouterr().out
    assert "csintel-weekly/weekly: 30 6 * * 1 (Europe/Berlin)" in out
    assert "csintel-backfill/backfill: on demand" in out


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Proc:
    """A child process whose output goes to a log file, quoted when it dies early."""

    def __init__(self, args: list[str], env: dict[str, str], log: Path, cwd: Path | None = None) -> None:
        self.log = log
        with open(log, "wb") as fh:
            self.p = subprocess.Popen(args, env=env, cwd=cwd, stdout=fh, stderr=subprocess.STDOUT)

    def check_alive(self, what: str) -> None:
        if self.p.poll() is not None:
            tail = self.log.read_text(errors="replace")[-3000:]
            raise AssertionError(f"{what}: exited early with {self.p.returncode}:\n{tail}")

    def stop(self) -> None:
        self.p.terminate()
        try:
            self.p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.p.kill()


def wait_for(check, timeout: float, what: str, procs: list[Proc]):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for p in procs:
            p.check_alive(what)
        try:
            result = check()
        except requests.RequestException:
            result = None
        if result:
            return result
        time.sleep(1)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


@pytest.fixture(scope="module")
def prefect_server(tmp_path_factory):
    """A real Prefect API server on 127.0.0.1 with its own SQLite database."""
    home = tmp_path_factory.mktemp("prefect-server")
    port = _free_port()
    env = {**os.environ, "PREFECT_HOME": str(home), "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    env.pop("PREFECT_API_URL", None)
    server = Proc([sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1",
                   "--port", str(port), "--no-services"], env, home / "server.log")
    api = f"http://127.0.0.1:{port}/api"
    try:
        wait_for(lambda: requests.get(f"{api}/health", timeout=2).ok, 120, "the Prefect server", [server])
        yield api, env, server
    finally:
        server.stop()


def test_serve_deploys_the_weekly_flow_and_runs_it_when_triggered(prefect_server, small_sample, tmp_path):
    api, env, server = prefect_server
    # A two-week window: the triggered run tags and clusters ~110 tickets, not the whole sample.
    cfg = write_sample_config(tmp_path, small_sample, """
[slack]
outbox = "outbox"
[schedule]
timezone = "America/New_York"
[themes]
window_weeks = 2
""")
    env = {**env, "PREFECT_API_URL": api, "PREFECT_RUNNER_POLL_FREQUENCY": "1", "HF_HUB_OFFLINE": "1"}
    serve = Proc([sys.executable, "-m", "csintel.cli", "serve", "--config", str(cfg)], env,
                 tmp_path / "serve.log", cwd=tmp_path)
    try:
        weekly = wait_for(lambda: _get(f"{api}/deployments/name/csintel-weekly/weekly"), 120,
                          "the weekly deployment", [server, serve])
        (schedule,) = weekly["schedules"]
        assert schedule["schedule"]["cron"] == "0 7 * * 1"
        assert schedule["schedule"]["timezone"] == "America/New_York"
        assert weekly["parameters"] == {"config": str(cfg.resolve())}

        # A data-team style trigger: a past week, as a dry run, through the API.
        # (SQLite behind the server answers 503 while the runner holds it busy: retry like a client.)
        run = wait_for(lambda: _post(f"{api}/deployments/{weekly['id']}/create_flow_run",
                                     {"parameters": {"week": WEEK, "dry_run": True, "config": str(cfg.resolve())}}),
                       60, "the flow run to be created", [server, serve])
        run_id = run["id"]
        final = wait_for(lambda: _finished(f"{api}/flow_runs/{run_id}"), 300, "the triggered flow run",
                         [server, serve])
        assert final["state"]["type"] == "COMPLETED", (final["state"], serve.log.read_text()[-3000:])
    finally:
        serve.stop()

    with connect(tmp_path / "warehouse.duckdb", read_only=True) as con:
        runs = con.execute("SELECT flow, week, status FROM runs").fetchall()
        tagged = con.execute("SELECT count(*) FROM ticket_tags").fetchone()[0]
        deliveries = con.execute("SELECT count(*) FROM deliveries").fetchone()[0]
    assert ("weekly", load_week(WEEK), "completed") in runs
    assert tagged > 0
    assert deliveries == 0                 # a dry run sends nothing
    artifacts = requests.post(f"{api}/artifacts/filter",
                              json={"artifacts": {"flow_run_id": {"any_": [run_id]}}}, timeout=10).json()
    keys = {a["key"] for a in artifacts}
    assert {"product-digest", "cs-digest", "sales-digest", "support-ops-digest", "run-figures"} <= keys
    product = next(a for a in artifacts if a["key"] == "product-digest")
    assert WEEK in product["data"]


def load_week(label: str):
    from csintel.weeks import parse_week

    return parse_week(label).start


def _get(url: str) -> dict | None:
    r = requests.get(url, timeout=5)
    return r.json() if r.ok else None


def _post(url: str, body: dict) -> dict | None:
    r = requests.post(url, json=body, timeout=10)
    if r.status_code == 503:
        return None
    r.raise_for_status()
    return r.json()


def _finished(url: str) -> dict | None:
    run = _get(url)
    return run if run and run["state"] and run["state"]["type"] in {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"} else None

"""Soak: weekly runs SIGKILLed at 30 random instants and resumed; nothing lost, nothing doubled.

The suite's `tests/test_kill_resume.py` aims one kill at each stage and `tests/test_exactly_once.py`
aims kills at the posting instant; this script is the issue's "30 random kills". It plays
episodes: an empty warehouse, then `csintel run` again and again, each killed at a uniformly random
delay after it starts (up to 1.1 x the latest whole run's duration: the load on a shared machine
moves, and a window fixed at the start would let every run finish once it falls), until one run finishes on its own; the
episode then has to match a clean run exactly: the same warehouse counts and every digest part in
Slack exactly once. Episodes repeat until 30 kills have landed. The data is a seeded slice of the
bundled sample (which this project generated); Slack is faked on 127.0.0.1 and one Prefect server
serves every run.

    PYTHONPATH=. .venv/bin/python benchmarks/soak_kills.py [--kills 30] [--seed 16] [--fraction 0.1]

Writes benchmarks/results/soak_kills.json. Slow (each kill is a real `csintel run`).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.conftest import write_sample_config  # noqa: E402  (the config the kill tests write)
from tests.fakes.slack_server import running_fake_slack  # noqa: E402  (the fake Slack the tests use)

WEEK = "2026-W47"
CSINTEL = str(Path(sys.executable).with_name("csintel"))
RESULTS = ROOT / "benchmarks" / "results" / "soak_kills.json"


def slice_sample(out: Path, fraction: float, seed: int) -> Path:
    """A seeded fraction of the bundled sample's tickets, with all its accounts."""
    rng = random.Random(seed)
    src = ROOT / "data" / "sample"
    lines = (src / "tickets.jsonl").read_text(encoding="utf-8").splitlines()
    kept = [ln for ln in lines if rng.random() < fraction]
    (out / "tickets.jsonl").write_text("\n".join(kept) + "\n", encoding="utf-8")
    (out / "accounts.csv").write_bytes((src / "accounts.csv").read_bytes())
    return out


def write_config(folder: Path, sample: Path, slack_url: str) -> Path:
    return write_sample_config(folder, sample, f"""
[slack]
base_url = "{slack_url}"
outbox = "outbox"
""")


def run(config: Path, env: dict[str, str], kill_after: float | None) -> tuple[int, float, int]:
    """One `csintel run`; killed after `kill_after` seconds unless it ends first. (rc, seconds, pid)"""
    start = time.monotonic()
    proc = subprocess.Popen([CSINTEL, "run", "--config", str(config), "--week", WEEK], cwd=config.parent,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    try:
        rc = proc.wait(timeout=kill_after if kill_after is not None else 900)
    except subprocess.TimeoutExpired:
        os.kill(proc.pid, signal.SIGKILL)
        rc = proc.wait()
    return rc, time.monotonic() - start, proc.pid


def ledger_key(message: dict) -> tuple:
    payload = message["metadata"]["event_payload"]
    return message["channel"], payload["week"], payload["audience"], payload["content_hash"], payload["part"]


def warehouse_counts(warehouse: Path) -> dict[str, int]:
    """What a finished week leaves in the warehouse, to compare the soaked run with a clean one."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return {name: con.execute(sql).fetchone()[0] for name, sql in {
            "tickets": "SELECT count(*) FROM tickets",
            "distinct_tickets": "SELECT count(DISTINCT (source, ticket_id)) FROM tickets",
            "tags": "SELECT count(*) FROM ticket_tags",
            "distinct_tags": "SELECT count(DISTINCT (source, ticket_id)) FROM ticket_tags",
            "ticket_themes_this_week": "SELECT count(*) FROM ticket_themes WHERE run_week = DATE '2026-11-16'",
            "account_risk_this_week": "SELECT count(*) FROM account_risk WHERE week = DATE '2026-11-16'",
            "audiences_sent": "SELECT count(DISTINCT audience) FROM deliveries WHERE status = 'sent'",
            "deliveries_not_sent": "SELECT count(*) FROM deliveries WHERE status <> 'sent'",
        }.items()}
    finally:
        con.close()


def run_statuses(warehouse: Path) -> dict[int, str]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return dict(con.execute("SELECT pid, status FROM runs WHERE flow = 'weekly'").fetchall())
    finally:
        con.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--kills", type=int, default=30)
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--fraction", type=float, default=0.1, help="share of the bundled sample's tickets")
    args = parser.parse_args()
    from prefect.settings import PREFECT_API_URL
    from prefect.testing.utilities import prefect_test_harness

    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as tmp, running_fake_slack() as slack, \
            prefect_test_harness(server_startup_timeout=300):
        root = Path(tmp)
        (root / "sample").mkdir()
        sample = slice_sample(root / "sample", args.fraction, args.seed)
        env = {**os.environ, "SLACK_BOT_TOKEN": slack.token, "PREFECT_API_URL": str(PREFECT_API_URL.value()),
               "PREFECT_HOME": str(root / "prefect")}

        # A clean run, in its own folder: its duration sets the range of the kill delays, and what
        # it leaves (warehouse counts, Slack messages) is what the soaked run must end with.
        (root / "clean").mkdir()
        rc, clean_s, _ = run(write_config(root / "clean", sample, slack.base_url), env, None)
        if rc != 0:
            raise SystemExit(f"the clean run failed (rc {rc})")
        clean = warehouse_counts(root / "clean" / "warehouse.duckdb")
        clean_posts = Counter(ledger_key(m) for m in slack.messages)
        clean_files = len(slack.files)
        slack.messages.clear()
        slack.files.clear()

        episodes: list[dict] = []
        full_s = clean_s
        t0 = time.monotonic()
        while sum(e["killed"] for e in episodes) < args.kills:
            folder = root / f"episode{len(episodes)}"
            folder.mkdir()
            config = write_config(folder, sample, slack.base_url)
            slack.messages.clear()
            slack.files.clear()
            killed: list[int] = []
            delays: list[float] = []
            window = 1.1 * full_s
            while True:
                delay = rng.uniform(0.0, window)
                rc, took, pid = run(config, env, delay)
                if rc != -signal.SIGKILL:
                    break
                killed.append(pid)
                delays.append(round(delay, 2))
            if not killed:
                # A whole run from an empty warehouse: the machine's load moves, and with it how
                # long a run takes, so the kill window follows the latest such run.
                full_s = took
            soaked = warehouse_counts(folder / "warehouse.duckdb")
            posts = Counter(ledger_key(m) for m in slack.messages)
            statuses = run_statuses(folder / "warehouse.duckdb")
            episodes.append({
                "killed": len(killed), "kill_delays_s": delays, "kill_window_s": round(window, 1), "final_rc": rc,
                "final_run_status": statuses.get(pid),
                "warehouse_matches_clean_run": soaked == clean, **({} if soaked == clean else {"soaked": soaked}),
                # Parts compare by (channel, week, audience, content hash, part): the same digest.
                "slack_parts_lost": len(set(clean_posts) - set(posts)),
                "slack_parts_posted_twice": sum(n > 1 for n in posts.values()),
                "slack_files": len(slack.files),
                "killed_runs_marked_killed": sum(statuses.get(p) == "killed" for p in killed),
                "killed_runs_without_a_row": sum(p not in statuses for p in killed),
            })
            print(json.dumps(episodes[-1]), flush=True)
        total = lambda key: sum(e[key] for e in episodes)  # noqa: E731
        result = {
            "data": f"bundled sample (written by this project), seeded {args.fraction:.0%} slice of its tickets",
            "week": WEEK, "seed": args.seed, "clean_run_s": round(clean_s, 1), "clean": clean,
            "slack_parts_clean": len(clean_posts), "slack_files_clean": clean_files,
            "episodes": len(episodes), "kills": total("killed"), "soak_wall_s": round(time.monotonic() - t0, 1),
            "episodes_matching_clean_run": sum(e["warehouse_matches_clean_run"] for e in episodes),
            "episodes_completed": sum(e["final_run_status"] == "completed" for e in episodes),
            "slack_parts_lost": total("slack_parts_lost"), "slack_parts_posted_twice": total("slack_parts_posted_twice"),
            "killed_runs_marked_killed": total("killed_runs_marked_killed"),
            "killed_runs_without_a_row": total("killed_runs_without_a_row"),
            "per_episode": episodes,
        }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps({k: v for k, v in result.items() if k != "kill_delays_s"}, indent=2))


if __name__ == "__main__":
    main()

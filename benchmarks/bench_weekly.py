"""Wall time of each stage of the weekly pipeline on the bundled sample, cold and rerun.

The obvious alternative to csintel's incremental design is recomputing everything each run; the
cold run is that cost, the rerun (same week, nothing new) is what the caches and ledgers save.
Stages are called as plain functions (no Prefect), into a fresh temporary warehouse.

Run: .venv/bin/python benchmarks/bench_weekly.py [--week 2026-W47]; writes
benchmarks/results/bench_weekly.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

from csintel import pipeline
from csintel.config import SAMPLE_DIR, settings_from_dict
from csintel.warehouse import connect
from csintel.weeks import parse_week

RESULTS = Path(__file__).parent / "results" / "bench_weekly.json"


def run_once(settings, week) -> dict[str, float]:
    times: dict[str, float] = {}

    def timed(name, fn, *args):
        start = time.perf_counter()
        out = fn(*args)
        times[name] = round(time.perf_counter() - start, 2)
        return out

    with connect(settings.warehouse_path) as con:
        timed("ingest", pipeline.ingest_stage, con, settings)
        timed("enrich", pipeline.enrich_stage, con, settings, *pipeline.window(settings, week))
        timed("cluster", pipeline.cluster_stage, con, settings, week)
        timed("risk", pipeline.risk_stage, con, settings, week)
        digests = timed("digests", pipeline.build_digests, con, settings, week)
        timed("deliver", pipeline.deliver_stage, con, settings, digests)
    times["total"] = round(sum(times.values()), 2)
    return times


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--week", default="2026-W47")
    args = ap.parse_args()
    week = parse_week(args.week)
    with tempfile.TemporaryDirectory() as tmp:
        settings = settings_from_dict({
            "warehouse": {"path": "w.duckdb"}, "slack": {"outbox": "outbox"},
            "sources": {"tickets": [str(SAMPLE_DIR / "tickets.jsonl")], "accounts": [str(SAMPLE_DIR / "accounts.csv")]},
        }, base_dir=tmp)
        start = time.perf_counter()
        pipeline.make_enricher(settings)
        load_s = round(time.perf_counter() - start, 2)
        cold = run_once(settings, week)
        rerun = run_once(settings, week)
    result = {
        "week": week.label, "tickets_in_sample": sum(1 for _ in open(SAMPLE_DIR / "tickets.jsonl")),
        "model_load_seconds": load_s, "cold": cold, "rerun": rerun,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()

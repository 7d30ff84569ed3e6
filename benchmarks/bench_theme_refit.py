"""Theme stage on the bundled sample: incremental (refit only when due) against refitting every
week, over a run of weekly runs, plus a rerun of the last week.

For each week it records the stage's wall time, what it did (refit/assign and why) and, for the
last week, whether the planted signals come out: the CAL-503 emerging theme marked new, the
CSV-export theme (HTTP 504) spiking, and no other theme spiking in the quiet weeks before.

Run: .venv/bin/python benchmarks/bench_theme_refit.py [--first 2026-W40] [--last 2026-W47]
writes benchmarks/results/bench_theme_refit.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np

from csintel import pipeline
from csintel.config import SAMPLE_DIR, settings_from_dict
from csintel.themes.cluster import cluster_embeddings
from csintel.warehouse import connect
from csintel.weeks import parse_week, weeks_between

RESULTS = Path(__file__).parent / "results" / "bench_theme_refit.json"


def planted_theme(con, tickets: list[str]) -> str | None:
    """The theme most of the planted tickets landed in."""
    rows = con.execute("SELECT theme_id FROM ticket_themes WHERE ticket_id IN (SELECT unnest(?)) AND theme_id IS NOT NULL",
                       [tickets]).fetchall()
    return Counter(r[0] for r in rows).most_common(1)[0][0] if rows else None


def run_mode(settings, weeks, truth, force: bool) -> dict:
    out = {"weeks": {}}
    emerging = list(truth["planted"]["emerging"]["tickets"])
    spike = [t for t, lab in truth["tickets"].items() if lab["theme"] == truth["planted"]["spiking"]["theme"]]
    with connect(settings.warehouse_path) as con:
        for wk in weeks:
            start = time.perf_counter()
            report = pipeline.cluster_stage(con, settings, wk, refit=force)
            seconds = round(time.perf_counter() - start, 2)
            marks = dict(con.execute("SELECT theme_id, trend FROM theme_weekly WHERE week = ?", [wk.start]).fetchall())
            cal, csv = planted_theme(con, emerging), planted_theme(con, spike)
            out["weeks"][wk.label] = {
                "seconds": seconds, "mode": report["mode"], "reason": report["reason"], "themes": report["themes"],
                "emerging_mark": marks.get(cal), "spike_mark": marks.get(csv),
                "other_spiking": sorted(t for t, m in marks.items() if m == "spiking" and t not in (cal, csv)),
            }
        start = time.perf_counter()
        report = pipeline.cluster_stage(con, settings, weeks[-1])
        out["rerun_last_week"] = {"seconds": round(time.perf_counter() - start, 2), "mode": report["mode"],
                                  "reason": report["reason"]}
    out["total_seconds"] = round(sum(w["seconds"] for w in out["weeks"].values()), 2)
    out["refits"] = sum(w["mode"] == "refit" for w in out["weeks"].values())
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--first", default="2026-W40")
    ap.add_argument("--last", default="2026-W47")
    args = ap.parse_args()
    weeks = weeks_between(parse_week(args.first).start, parse_week(args.last).start)
    truth = json.loads((SAMPLE_DIR / "ground_truth.json").read_text())
    with tempfile.TemporaryDirectory() as tmp:
        def settings_for(name: str):
            return settings_from_dict({"warehouse": {"path": name}, "sources": {
                "tickets": [str(SAMPLE_DIR / "tickets.jsonl")], "accounts": [str(SAMPLE_DIR / "accounts.csv")]}},
                base_dir=tmp)

        base = settings_for("base.duckdb")
        with connect(base.warehouse_path) as con:
            pipeline.ingest_stage(con, base)
            pipeline.enrich_stage(con, base, pipeline.window(base, weeks[0])[0], weeks[-1].end_ts)
        # UMAP compiles with numba on first use (~10 s): pay it before timing either mode.
        cluster_embeddings(np.random.default_rng(0).standard_normal((300, 384)))
        results = {}
        for mode, force in (("incremental", False), ("refit_every_week", True)):
            settings = settings_for(f"{mode}.duckdb")
            shutil.copy(base.warehouse_path, settings.warehouse_path)
            results[mode] = run_mode(settings, weeks, truth, force)
    result = {"first": weeks[0].label, "last": weeks[-1].label, **results,
              "machine": {"cpus": os.cpu_count(), "load_average_1m": round(os.getloadavg()[0], 1)}}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()

"""How fast the CLI answers: `--version`, a missing input, and `csintel tag` of 10 rows in a fresh
process (the ONNX export already cached, as after a first run), against the obvious baseline: the
same 10 rows tagged through `csintel.pipeline.make_enricher`, the import path `csintel tag` used
before (it pulls in the whole pipeline).

    .venv/bin/python benchmarks/bench_cli_fast.py   ->  benchmarks/results/bench_cli_fast.json

Each figure is the median of --repeat fresh processes; the load average is recorded beside it,
because on a shared 2-core machine it moves every figure.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample" / "tickets.jsonl"

BASELINE = """
import io, sys
from pathlib import Path
from csintel.config import load_settings
from csintel.pipeline import make_enricher
from csintel.file_tagging import tag_file
tag_file(Path(sys.argv[1]), io.StringIO(), make_enricher(load_settings(None)), 50000)
"""


def timed(args: list[str], cwd: Path) -> tuple[float, float]:
    """Wall seconds and CPU seconds (user + system) of one fresh process. On a loaded machine the
    CPU time is the steadier figure: close to what the wall time is when the cores are free."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    subprocess.run(args, cwd=cwd, env=env, check=False, capture_output=True)
    wall = time.monotonic() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    py = sys.executable
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        ten = work / "ten.jsonl"
        ten.write_text("".join(SAMPLE.read_text(encoding="utf-8").splitlines(keepends=True)[:10]), encoding="utf-8")
        cli = [py, "-m", "csintel.cli"]
        timed([*cli, "tag", "--input", str(ten), "--output", str(work / "out.jsonl")], work)   # exports ONNX once
        cases = {
            "version": [*cli, "--version"],
            "tag_missing_input": [*cli, "tag", "--input", str(work / "missing.csv"), "--output", "-"],
            "tag_10_rows": [*cli, "tag", "--input", str(ten), "--output", str(work / "out.jsonl")],
            "baseline_tag_10_rows_via_pipeline": [py, "-c", BASELINE, str(ten)],
        }
        result: dict[str, object] = {"repeat": args.repeat, "cpus": os.cpu_count()}
        for name, command in cases.items():
            runs = [timed(command, work) for _ in range(args.repeat)]
            result[name] = {"median_wall_s": round(statistics.median(w for w, _ in runs), 2),
                            "median_cpu_s": round(statistics.median(c for _, c in runs), 2),
                            "runs_wall_s": [round(w, 2) for w, _ in runs],
                            "load_average_1min": round(os.getloadavg()[0], 1)}
            print(name, result[name], flush=True)
    out = ROOT / "benchmarks" / "results" / "bench_cli_fast.json"
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()

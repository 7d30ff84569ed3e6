"""File ingest: the fuzz (0 crashes, 0 valid rows lost) and peak memory on a large CSV.

Cases, each in a fresh child process whose peak RSS is reported (`VmHWM` from /proc: the peak of
the child's own memory; `ru_maxrss` would include the parent's, carried over by fork and exec):

- `fuzz-csv`, `fuzz-jsonl`: `tests/fuzz_files.py` writes 10,000 rows, 20% broken in 17 ways per
  format (1 MB fields, rows past `sources.max_row_chars`, unclosed quotes, ...), at the default
  limits; `ingest_tickets` loads them into a DuckDB file and the result is checked against the
  generator's truth: valid rows lost or garbled, broken rows stored or quarantined with another
  reason, crashes.
- `large-new`: a CSV of about `--mb` MB (valid rows with 3,000-character bodies, a fifth of them
  multi-line, non-ASCII text) through `ingest_tickets` into a DuckDB file (about 145 rows/s here:
  cleaning and redacting the text is the cost, so 300 MB takes ~10 minutes).
- `large-new-read`, `large-old-read`: the same file through the new reader and through the reader
  this change replaced (the whole file read, decoded and wrapped in a StringIO, then
  `csv.DictReader`), rows only, no ingest: the reader's own memory, side by side.
- `fuzz-csv-old`: the fuzz CSV through that old reader (it stops at the first field over csv's
  131,072-character limit).

    .venv/bin/python benchmarks/bench_file_ingest.py              # 10,000-row fuzz + a 300 MB CSV
    .venv/bin/python benchmarks/bench_file_ingest.py --mb 30      # quicker
    .venv/bin/python benchmarks/bench_file_ingest.py --only fuzz  # rerun some cases, keep the rest
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Iterator

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "benchmarks" / "results" / "bench_file_ingest.json"
CASES = ["fuzz-csv", "fuzz-csv-old", "fuzz-jsonl", "large-new-read", "large-old-read", "large-new"]


class OldCsvSource:
    """The CSV reader before issue 16, verbatim in what matters: the whole file in memory."""

    name = "file"

    def __init__(self, path: Path) -> None:
        self.path = path

    def rows(self) -> Iterator[Any]:
        from csintel.sources import RawRow

        origin = str(self.path)
        text = self.path.read_bytes().decode("utf-8-sig", errors="surrogateescape")
        reader = csv.DictReader(io.StringIO(text, newline=""))
        for i, row in enumerate(reader, start=1):
            if None in row:
                yield RawRow(origin, i, {k: v for k, v in row.items() if k}, "more fields than the header has columns")
                continue
            yield RawRow(origin, i, {k: (v if v != "" else None) for k, v in row.items()})


def peak_rss_mb() -> float:
    """This process's peak resident memory since its exec (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def child(case: str, path: Path, warehouse: Path, truth_path: Path | None) -> dict[str, Any]:
    sys.path.insert(0, str(REPO))
    from csintel.ingest import ingest_tickets
    from csintel.sources.files import FileSource
    from csintel.warehouse import connect

    con = connect(warehouse)
    source = OldCsvSource(path) if "-old" in case else FileSource([path], kind="ticket")
    start = time.perf_counter()
    out: dict[str, Any] = {"case": case, "file_mb": round(path.stat().st_size / 1e6, 1)}
    if case.endswith("-read"):
        rows = sum(1 for _ in source.rows())
        out.update(rows=rows, seconds=round(time.perf_counter() - start, 1),
                   peak_rss_mb=peak_rss_mb())
        return out
    try:
        report = ingest_tickets(con, source, max_text_chars=50_000)
        out.update(loaded=report.loaded, quarantined=report.quarantined, reasons=report.reasons, crashed=None)
    except Exception as exc:   # the old reader's failure is a result, not a benchmark bug
        out.update(crashed=f"{type(exc).__name__}: {str(exc)[:200]}",
                   loaded=con.execute("SELECT count(*) FROM store.tickets").fetchone()[0])
    out["seconds"] = round(time.perf_counter() - start, 1)
    out["peak_rss_mb"] = peak_rss_mb()
    if truth_path is not None:
        from tests.fuzz_files import FuzzTruth, check

        raw = json.loads(truth_path.read_text())
        truth = FuzzTruth(valid=raw["valid"], broken={int(k): (v[0], tuple(v[1])) for k, v in raw["broken"].items()},
                          starts=raw["starts"])
        stored = dict(con.execute("SELECT ticket_id, body FROM store.tickets").fetchall())
        quarantine = con.execute("SELECT row_number, reason FROM quarantine").fetchall()
        result = check(truth, stored, quarantine)
        out.update(valid_rows=len(truth.valid), broken_rows=len(truth.broken), valid_lost=len(result.lost),
                   valid_garbled=len(result.garbled), broken_stored=len(result.stored_broken),
                   broken_wrong_reason=len(result.wrong_reason), broken_merged_into_neighbour=result.merged,
                   wrong_examples=[list(w) for w in result.wrong_reason[:5]])
    return out


def run_child(case: str, path: Path, tmp: Path, truth: Path | None = None) -> dict[str, Any]:
    warehouse = tmp / f"{case}.duckdb"
    cmd = [sys.executable, __file__, "--child", case, "--path", str(path), "--warehouse", str(warehouse)]
    if truth is not None:
        cmd += ["--truth", str(truth)]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        return {"case": case, "crashed": f"exit {done.returncode}: {done.stderr[-500:]}"}
    result = json.loads(done.stdout.strip().splitlines()[-1])
    print(json.dumps(result), flush=True)
    return result


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=10_000)
    ap.add_argument("--mb", type=int, default=300)
    ap.add_argument("--child")
    ap.add_argument("--path", type=Path)
    ap.add_argument("--warehouse", type=Path)
    ap.add_argument("--truth", type=Path)
    ap.add_argument("--only", choices=["fuzz", "large"], help="rerun these cases, keep the others' results")
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.path, args.warehouse, args.truth)))
        return

    sys.path.insert(0, str(REPO))
    from tests.fuzz_files import write_fuzz

    results: dict[str, Any] = {"machine": f"{platform.node()} {os.cpu_count()} cores", "cases": []}
    with tempfile.TemporaryDirectory() as td:
        tmp = Path(td)
        for fmt in ("csv", "jsonl") if args.only in (None, "fuzz") else ():
            path = tmp / f"fuzz.{fmt}"
            truth = write_fuzz(path, args.rows, fmt, seed=16)
            truth_path = tmp / f"fuzz-{fmt}.truth.json"
            truth_path.write_text(json.dumps({"valid": truth.valid, "starts": truth.starts,
                                              "broken": {k: [v[0], list(v[1])] for k, v in truth.broken.items()}}))
            results["cases"].append(run_child(f"fuzz-{fmt}", path, tmp, truth_path))
            if fmt == "csv":
                results["cases"].append(run_child("fuzz-csv-old", path, tmp))
            path.unlink()
        if args.only in (None, "large"):
            large = tmp / "large.csv"
            rows = int(args.mb * 1e6 / 3_300)
            write_fuzz(large, rows, "csv", seed=17, broken_share=0, big_valid=3_000)
            results["cases"].append(run_child("large-new-read", large, tmp))
            results["cases"].append(run_child("large-old-read", large, tmp))
            results["cases"].append(run_child("large-new", large, tmp))
    if args.only and RESULTS.exists():
        rerun = {c["case"] for c in results["cases"]}
        kept = [c for c in json.loads(RESULTS.read_text())["cases"] if c["case"] not in rerun]
        results["cases"] = sorted(kept + results["cases"], key=lambda c: CASES.index(c["case"]))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()

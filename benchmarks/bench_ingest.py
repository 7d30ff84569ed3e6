"""Zendesk ingest: the paged, batched, resumable sync against a plain row-by-row loop.

Each measurement runs in a fresh child process holding an in-process fake Zendesk (tests/fakes,
tickets generated on demand, so the fake itself costs no memory) and a DuckDB warehouse file:

- `incremental`: `ingest_incremental` (one transaction per export page: rows + resume cursor),
  at n/5 and at n tickets, to show its memory stays flat as the export grows;
- `row_by_row`: the obvious loop: fetch each page (the same client and mapping), validate each
  ticket, `INSERT OR REPLACE` it on its own (autocommit), no resume point. It commits (and syncs
  the WAL) once a ticket, so it runs at n/5 only and is compared with the n/5 incremental run.

Both include fetching every solved/closed ticket's comments (one request each), which on a real
account is bounded by Zendesk's rate limit; here it is bounded by the fake on the same cores.
Memory is sampled every 50 ms: the child's RSS (psutil) and, beside it, what DuckDB's buffer
manager holds (`duckdb_memory()`): DuckDB caches the table it writes, up to its memory_limit
(80% of RAM by default, evictable), so RSS grows with the warehouse. RSS minus DuckDB's share is
what the pipeline itself holds, roughly (the allocator keeps freed pages too). The exact figure
for "never holds the export" is the Python heap peak (`tracemalloc`, mode `heap`); tracing makes
a run ~5x slower, so it runs at n/25 and n/5.

    .venv/bin/python benchmarks/bench_ingest.py            # 50,000 tickets (a few minutes)
    .venv/bin/python benchmarks/bench_ingest.py --n 5000   # quicker
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "benchmarks" / "results" / "bench_ingest.json"


def child(mode: str, n: int, page_size: int, workers: int) -> dict[str, Any]:
    sys.path.insert(0, str(REPO))
    import psutil

    from csintel.config import settings_from_dict
    from csintel.ingest import ingest_incremental
    from csintel.sources.records import ticket_record
    from csintel.sources.zendesk import ZendeskSource
    from csintel.sources.zendesk.client import ZendeskClient
    from csintel.warehouse import connect, utcnow
    from tests.fakes.zendesk_server import FakeZendesk

    proc = psutil.Process()
    peak = {"rss": 0, "outside_duckdb": 0, "duckdb": 0}
    done = threading.Event()

    def sample(cursor: Any) -> None:
        while not done.is_set():
            rss = proc.memory_info().rss
            duck = int(cursor.execute("SELECT sum(memory_usage_bytes) FROM duckdb_memory()").fetchone()[0] or 0)
            peak["rss"] = max(peak["rss"], rss)
            peak["duckdb"] = max(peak["duckdb"], duck)
            peak["outside_duckdb"] = max(peak["outside_duckdb"], rss - duck)
            time.sleep(0.05)

    with FakeZendesk(n_tickets=n, record=False) as fake, tempfile.TemporaryDirectory() as tmp:
        os.environ["ZENDESK_API_TOKEN"] = fake.token
        config = settings_from_dict({"sources": {"zendesk": {
            "base_url": fake.base_url, "email": fake.email, "start": "2025-12-01",
            "page_size": page_size, "comment_workers": workers}}}).sources.zendesk
        source = ZendeskSource(ZendeskClient.from_config(config), config)
        con = connect(Path(tmp) / "w.duckdb")
        baseline = proc.memory_info().rss
        sampler = threading.Thread(target=sample, args=(con.cursor(),), daemon=True)
        sampler.start()
        if mode == "heap":
            tracemalloc.start()
        start = time.perf_counter()
        if mode in ("incremental", "heap"):
            loaded = ingest_incremental(con, source, max_text_chars=50_000).loaded
        else:
            loaded = 0
            now = utcnow()
            for page in source.pages(None):
                for row in page.rows:
                    record = ticket_record(row.data, "zendesk", max_text_chars=50_000, ingested_at=now)
                    cols = list(record)
                    con.execute(f"INSERT OR REPLACE INTO store.tickets ({', '.join(cols)}) "
                                f"VALUES ({', '.join('?' * len(cols))})", list(record.values()))
                    loaded += 1
        seconds = time.perf_counter() - start
        heap_peak = tracemalloc.get_traced_memory()[1] if mode == "heap" else None
        tracemalloc.stop()
        done.set()
        sampler.join()
        stored = con.execute("SELECT count(*) FROM store.tickets").fetchone()[0]
        con.close()
        requests = fake.requests
    return {"mode": mode, "tickets_exported": n, "tickets_stored": stored, "loaded": loaded,
            "seconds": round(seconds, 2), "stored_per_s": round(stored / seconds, 1),
            "exported_per_s": round(n / seconds, 1), "http_requests": requests,
            "peak_rss_mb": mb(peak["rss"]), "rss_growth_mb": mb(peak["rss"] - baseline),
            "peak_duckdb_mb": mb(peak["duckdb"]),
            "peak_outside_duckdb_growth_mb": mb(peak["outside_duckdb"] - baseline),
            "python_heap_peak_mb": mb(heap_peak) if heap_peak is not None else None}


def mb(n: int) -> float:
    return round(n / 2**20, 1)


def measure(mode: str, n: int, page_size: int, workers: int) -> dict[str, Any]:
    out = subprocess.run([sys.executable, __file__, "--child", mode, "--n", str(n), "--page-size", str(page_size),
                          "--workers", str(workers)], capture_output=True, text=True, check=False)
    if out.returncode:
        raise SystemExit(f"{mode} n={n} failed:\n{out.stderr[-3000:]}")
    result = json.loads(out.stdout.strip().splitlines()[-1])
    if mode == "heap":
        print(f"  {mode:<12} n={n:>6}: Python heap peak {result['python_heap_peak_mb']} MB "
              f"({result['seconds']} s traced)", flush=True)
        return result
    print(f"  {mode:<12} n={n:>6}: {result['stored_per_s']:>7} stored/s, {result['seconds']:>7} s, "
          f"peak RSS {result['peak_rss_mb']} MB (+{result['rss_growth_mb']} MB; DuckDB cache "
          f"{result['peak_duckdb_mb']} MB; outside DuckDB +{result['peak_outside_duckdb_growth_mb']} MB)", flush=True)
    return result


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--n", type=int, default=50_000, help="tickets in the fake account (50,000)")
    p.add_argument("--page-size", type=int, default=100, help="tickets per export page ([sources.zendesk] page_size)")
    p.add_argument("--workers", type=int, default=4, help="comment_workers")
    p.add_argument("--child", choices=["incremental", "row_by_row", "heap"], help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.n, args.page_size, args.workers)))
        return
    small = max(args.n // 5, 100)
    print(f"bench_ingest: n={args.n}, page_size={args.page_size}, comment_workers={args.workers}", flush=True)
    runs = [measure("incremental", small, args.page_size, args.workers),
            measure("incremental", args.n, args.page_size, args.workers),
            measure("row_by_row", small, args.page_size, args.workers),
            measure("heap", max(args.n // 25, 100), args.page_size, args.workers),
            measure("heap", small, args.page_size, args.workers)]
    inc_small, inc, naive, heap_tiny, heap_small = runs
    result = {
        "benchmark": "bench_ingest",
        "command": "python benchmarks/bench_ingest.py" + (f" --n {args.n}" if args.n != 50_000 else ""),
        "n": args.n, "page_size": args.page_size, "comment_workers": args.workers,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "note": "2 shared cores, other work running: timings are noisy; the fake server shares them"},
        "runs": runs,
        "speedup_vs_row_by_row_same_n": round(inc_small["stored_per_s"] / naive["stored_per_s"], 2),
        "rss_growth_ratio_n_vs_n_over_5": round(inc["rss_growth_mb"] / max(inc_small["rss_growth_mb"], 0.1), 2),
        "outside_duckdb_growth_ratio_n_vs_n_over_5": round(
            inc["peak_outside_duckdb_growth_mb"] / max(inc_small["peak_outside_duckdb_growth_mb"], 0.1), 2),
        "python_heap_peak_ratio_n_over_5_vs_n_over_25": round(
            heap_small["python_heap_peak_mb"] / max(heap_tiny["python_heap_peak_mb"], 0.1), 2),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(f"speed-up {result['speedup_vs_row_by_row_same_n']}x at n={small}; wrote {RESULTS}")


if __name__ == "__main__":
    main()

"""A weekly run of M new tickets on top of N already processed: plain, rerun, and on local Dask.

What is real and what is synthesized (so the history costs minutes, not the ~30 min of encoding
a real 200k history takes on 2 cores):
- the new week: M tickets from the sample generator (`generate(..., weeks=4, seed=8)`, its last
  week only), run through the real pipeline (`csintel run`): ingest, encode, tag, cluster, risk,
  digests, delivery to the outbox;
- the history: a pool of P generated tickets (`generate(..., seed=7)`) is ingested, encoded and
  tagged for real, once. Each of the N history tickets is a copy of a random pool ticket (same
  texts, tags and competitor mentions) with its own id, a solved time drawn uniformly over the
  `--history-weeks` weeks before the measured week, a synthetic content hash, and as embedding
  the pool ticket's vector plus Gaussian noise (sigma `--noise` per dimension), renormalised, so
  the clusterer sees N distinct points around P real ones. The pool rows themselves are removed.
  The week before the measured one is then clustered for real, so the measured run keeps themes.

Each measured run is a `csintel run` process against one Prefect server started here; wall time
covers the whole process (imports and model load included) and peak memory is the largest sum
of the resident memory of the run's process tree (Dask workers included), sampled every 0.2 s.
The rerun repeats the same week on the result of the plain run; the Dask run starts again from
the same pre-run warehouse, with `[dask] address = "local"`.

Run: .venv/bin/python benchmarks/bench_scale.py [--history 200000 --new 10000 --pool 3000]
writes benchmarks/results/bench_scale.json (with --history/--new below the defaults, the name
gets a suffix so the full-size result is kept).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import psutil
import pyarrow as pa

from csintel import pipeline
from csintel.config import REPO_ROOT, Settings, settings_from_dict
from csintel.ingest import ingest_accounts, ingest_tickets
from csintel.sources.files import FileSource
from csintel.warehouse import connect, transaction, utcnow
from csintel.weeks import Week, parse_week

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))   # the sample generator (tools/) is not installed
from tools.sample import generate  # noqa: E402

RESULTS = Path(__file__).parent / "results"
CSINTEL = str(Path(sys.executable).with_name("csintel"))
N_ACCOUNTS = 400
EMBED_CHUNK = 20_000
TASK_DONE = re.compile(r"(\d\d:\d\d:\d\d\.\d+) \| INFO +\| Task run '([\w-]+?)-\w+' - Finished in state Completed")
FLOW_START = re.compile(r"(\d\d:\d\d:\d\d\.\d+) \| INFO +\| Flow run '[\w-]+' - Beginning (?:sub)?flow run '[\w-]+' "
                        r"for flow '([\w-]+)'")
FLOW_DONE = re.compile(r"(\d\d:\d\d:\d\d\.\d+) \| INFO +\| Flow run '[\w-]+' - Finished in state Completed")


def new_week_file(root: Path, n_new: int, week: Week) -> tuple[Path, Path]:
    """M generated tickets solved in `week` (the generator needs 4 weeks for its trends)."""
    gen = root / "generated-new"
    generate(gen, n_tickets=int(n_new * 4.4) + 100, n_accounts=N_ACCOUNTS, weeks=4,
             last_week_end=week.end, seed=8)
    kept = []
    for line in (gen / "tickets.jsonl").read_text(encoding="utf-8").splitlines():
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            continue                       # the generator's deliberately malformed rows
        when = row.get("solved_at") or row.get("created_at") or ""
        if week.start.isoformat() <= when[:10] <= week.end.isoformat():
            kept.append(line)
    if len(kept) < n_new:
        raise RuntimeError(f"the generator gave {len(kept)} tickets in {week.label}, fewer than {n_new}")
    out = root / "new"
    out.mkdir()
    (out / "tickets.jsonl").write_text("\n".join(kept[:n_new]) + "\n", encoding="utf-8")
    shutil.copy(gen / "accounts.csv", out / "accounts.csv")
    return out / "tickets.jsonl", out / "accounts.csv"


def build_history(settings: Settings, root: Path, accounts: Path, n_history: int, pool_size: int,
                  history_weeks: int, noise: float, week: Week) -> dict[str, Any]:
    """The processed history (see the module docstring); returns what it did and how long it took."""
    rng = np.random.default_rng(42)
    times: dict[str, float] = {}
    generate(root / "pool", n_tickets=pool_size, n_accounts=N_ACCOUNTS, weeks=13, last_week_end=week.end, seed=7)
    with connect(settings.warehouse_path) as con:
        start = time.perf_counter()
        ingest_accounts(con, FileSource([accounts]))
        ingest_tickets(con, FileSource([root / "pool" / "tickets.jsonl"]), max_text_chars=settings.sources.max_text_chars)
        first, last = con.execute("SELECT min(activity_at), max(activity_at) + INTERVAL 1 second "
                                  "FROM store.tickets").fetchone()
        times["ingest_pool_s"] = round(time.perf_counter() - start, 1)
        start = time.perf_counter()
        tagged = pipeline.enrich_stage(con, settings, first, last)
        times["tag_pool_s"] = round(time.perf_counter() - start, 1)
        pool = con.execute("SELECT t.source, t.ticket_id, t.content_hash, e.vector FROM store.tickets t "
                           "JOIN store.embeddings e USING (content_hash) JOIN store.ticket_tags g "
                           "USING (source, ticket_id) ORDER BY t.ticket_id").df()
        vectors = np.stack(pool["vector"].to_numpy()).astype(np.float32)

        start = time.perf_counter()
        pick = rng.integers(0, len(pool), n_history)
        span = history_weeks * 7 * 86400
        solved = [datetime.combine(week.start, datetime.min.time()) - timedelta(seconds=float(s))
                  for s in rng.uniform(60, span, n_history)]
        replicas = pd.DataFrame({
            "i": np.arange(n_history), "pool_source": pool["source"].to_numpy()[pick],
            "pool_id": pool["ticket_id"].to_numpy()[pick], "at": solved,
            "hash": [f"h{i:015x}" for i in range(n_history)],
        })
        con.register("_replicas", replicas)
        with transaction(con):
            con.execute("""
                INSERT INTO store.tickets BY NAME
                SELECT t.* REPLACE ('H-' || r.i AS ticket_id, r.hash AS content_hash,
                                    r.at - (t.activity_at - coalesce(t.created_at, t.activity_at)) AS created_at,
                                    CASE WHEN t.solved_at IS NULL THEN NULL ELSE r.at END AS solved_at,
                                    r.at AS updated_at, r.at AS activity_at, ? AS ingested_at)
                FROM _replicas r JOIN store.tickets t ON t.source = r.pool_source AND t.ticket_id = r.pool_id
            """, [utcnow()])
            con.execute("""
                INSERT INTO store.ticket_tags BY NAME
                SELECT g.* REPLACE ('H-' || r.i AS ticket_id, r.hash AS content_hash)
                FROM _replicas r JOIN store.ticket_tags g ON g.source = r.pool_source AND g.ticket_id = r.pool_id
            """)
            con.execute("""
                INSERT INTO store.competitor_mentions BY NAME
                SELECT m.* REPLACE ('H-' || r.i AS ticket_id)
                FROM _replicas r JOIN store.competitor_mentions m ON m.source = r.pool_source AND m.ticket_id = r.pool_id
            """)
            for table in ("store.competitor_mentions", "store.ticket_tags", "store.tickets"):
                con.execute(f"DELETE FROM {table} WHERE ticket_id NOT LIKE 'H-%'")
        con.unregister("_replicas")
        model = pipeline.make_enricher(settings).embedder.name
        for lo in range(0, n_history, EMBED_CHUNK):
            idx = pick[lo:lo + EMBED_CHUNK]
            v = vectors[idx] + rng.normal(0.0, noise, (len(idx), vectors.shape[1])).astype(np.float32)
            v /= np.linalg.norm(v, axis=1, keepdims=True)
            table = pa.table({
                "content_hash": replicas["hash"].to_numpy()[lo:lo + EMBED_CHUNK],
                "model": [model] * len(idx),
                "vector": pa.FixedSizeListArray.from_arrays(pa.array(v.ravel()), v.shape[1]),
            })
            con.register("_vectors", table)
            con.execute("INSERT INTO store.embeddings SELECT content_hash, model, vector::FLOAT[] FROM _vectors")
            con.unregister("_vectors")
        times["replicate_s"] = round(time.perf_counter() - start, 1)

        start = time.perf_counter()
        prior = pipeline.cluster_stage(con, settings, week.shift(-1))
        times["cluster_prior_week_s"] = round(time.perf_counter() - start, 1)
        in_window = con.execute("SELECT count(*) FROM store.tickets WHERE activity_at >= ?",
                                [pipeline.window(settings, week)[0]]).fetchone()[0]
        con.execute("CHECKPOINT")
    return {"pool_tagged": tagged["tagged"], "tags_version": tagged["model_version"], "history_tickets": n_history, "history_weeks": history_weeks,
            "history_in_measured_window": in_window, "prior_week_themes": prior["themes"], "setup_seconds": times}


class TreeMemory:
    """The peak of the summed RSS of a process and all its descendants, sampled in a thread."""

    def __init__(self, pid: int) -> None:
        self.peak = 0
        self._proc = psutil.Process(pid)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while not self._stop.wait(0.2):
            try:
                procs = [self._proc, *self._proc.children(recursive=True)]
            except psutil.NoSuchProcess:
                return
            total = 0
            for p in procs:
                try:
                    total += p.memory_info().rss
                except psutil.NoSuchProcess:
                    pass
            self.peak = max(self.peak, total)

    def stop(self) -> int:
        self._stop.set()
        self._thread.join()
        return self.peak


def measured_run(config: Path, week: Week, env: dict[str, str], label: str) -> dict[str, Any]:
    print(f"[bench_scale] {label}: csintel run --config {config} --week {week.label}", flush=True)
    start = time.perf_counter()
    proc = subprocess.Popen([CSINTEL, "run", "--config", str(config), "--week", week.label], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=config.parent)
    memory = TreeMemory(proc.pid)
    out, _ = proc.communicate()
    wall = time.perf_counter() - start
    peak = memory.stop()
    (config.parent / f"{label}.log").write_text(out, encoding="utf-8")
    if proc.returncode != 0:
        raise RuntimeError(f"{label} failed (rc {proc.returncode}):\n{out[-4000:]}")
    settings = pipeline_settings(config)
    with connect(settings.warehouse_path) as con:
        counts = json.loads(con.execute("SELECT counts FROM runs WHERE flow = 'weekly' ORDER BY started_at DESC "
                                        "LIMIT 1").fetchone()[0])
    return {"wall_seconds": round(wall, 1), "peak_rss_mb": round(peak / 2**20),
            "stage_seconds": stage_seconds(out),
            "ingest_loaded": counts["ingest"]["tickets"]["loaded"],
            "enrich": counts["enrich"], "themes": counts["themes"]}


def stage_seconds(log: str) -> dict[str, float]:
    """Seconds between the ends of consecutive stages, from Prefect's log timestamps."""
    events: list[tuple[datetime, str]] = []
    flows: list[str] = []
    for line in log.splitlines():
        if m := FLOW_START.search(line):
            flows.append(m.group(2))
            if m.group(2) == "csintel-weekly":
                events.append((_clock(m.group(1)), "start"))
        elif (m := TASK_DONE.search(line)) and m.group(2) != "tag-batch":     # batches: inside enrich
            events.append((_clock(m.group(1)), m.group(2)))
        elif (m := FLOW_DONE.search(line)) and "csintel-enrich-dask" in flows and not any(e[1] == "enrich" for e in events):
            events.append((_clock(m.group(1)), "enrich"))   # the Dask subflow is the enrich stage
    out: dict[str, float] = {}
    for (before, _), (after, name) in zip(events, events[1:]):
        out[name] = round(out.get(name, 0.0) + (after - before).total_seconds() % 86400, 1)
    return out


def _clock(text: str) -> datetime:
    return datetime.strptime(text, "%H:%M:%S.%f")


def pipeline_settings(config: Path) -> Settings:
    from csintel.config import load_settings

    return load_settings(config)


def write_config(path: Path, warehouse: Path, tickets: Path, accounts: Path, dask: str = "",
                 workers: int = 2) -> Path:
    path.write_text(f"""
[warehouse]
path = "{warehouse}"
[sources]
tickets = ["{tickets}"]
accounts = ["{accounts}"]
[slack]
outbox = "outbox"
[dask]
address = "{dask}"
n_workers = {workers}
threads_per_worker = 1
""", encoding="utf-8")
    return path


def same_tags(a: Path, b: Path, week: Week) -> dict[str, Any]:
    """How many of the week's tickets got identical tags on the plain and the Dask run."""
    cols = ["category", "root_cause", "sentiment", "is_feature_request", "request_text", "request_group", "errors"]
    same = " AND ".join(f"x.{c} IS NOT DISTINCT FROM y.{c}" for c in cols)
    with connect(a, read_only=True) as con:
        con.execute(f"ATTACH '{b}' AS other (READ_ONLY)")
        n, identical, confidence = con.execute(f"""
            SELECT count(*), count(*) FILTER ({same}),
                   max(abs(x.category_confidence - y.category_confidence))
            FROM store.ticket_tags x JOIN other.store.ticket_tags y USING (source, ticket_id, model_version)
            JOIN store.tickets t USING (source, ticket_id) WHERE t.activity_at >= ?""", [week.start_ts]).fetchone()
    return {"tickets_compared": n, "identical_tags": identical, "max_confidence_difference": confidence}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--history", type=int, default=200_000, help="already processed tickets (synthesized)")
    ap.add_argument("--new", type=int, default=10_000, help="new tickets of the measured week (real pipeline)")
    ap.add_argument("--pool", type=int, default=3_000, help="generated tickets really tagged to seed the history")
    ap.add_argument("--history-weeks", type=int, default=104, help="weeks the history is spread over")
    ap.add_argument("--noise", type=float, default=0.02, help="per-dimension sigma of the history vectors' noise")
    ap.add_argument("--week", default="2026-W47")
    ap.add_argument("--workers", type=int, default=2, help="Dask workers for the Dask run")
    ap.add_argument("--skip-dask", action="store_true")
    ap.add_argument("--workdir", type=Path, help="keep the warehouses and logs here (default: a temp dir)")
    args = ap.parse_args()
    week = parse_week(args.week)
    root = args.workdir or Path(tempfile.mkdtemp(prefix="bench-scale-"))
    root.mkdir(parents=True, exist_ok=True)
    load_before = os.getloadavg()

    # One Prefect server for every run, started here (else each run starts a temporary one).
    os.environ.setdefault("PREFECT_HOME", str(root / "prefect"))
    os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
    from prefect.server.api.server import SubprocessASGIServer

    server = SubprocessASGIServer()
    server.start()
    env = {**os.environ, "PREFECT_API_URL": server.api_url, "PREFECT_LOGGING_LEVEL": "INFO",
           "PREFECT_HOME": str(root / "prefect"), "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
           "TOKENIZERS_PARALLELISM": "false"}
    env.pop("SLACK_BOT_TOKEN", None)
    try:
        tickets, accounts = new_week_file(root, args.new, week)
        plain_wh = root / "plain.duckdb"
        settings = settings_from_dict({"warehouse": {"path": str(plain_wh)}}, base_dir=root)
        start = time.perf_counter()
        history = build_history(settings, root, accounts, args.history, args.pool, args.history_weeks, args.noise, week)
        history["setup_seconds"]["total_s"] = round(time.perf_counter() - start, 1)
        print(f"[bench_scale] history: {json.dumps(history)}", flush=True)
        dask_wh = root / "dask.duckdb"
        shutil.copy(plain_wh, dask_wh)

        plain_cfg = write_config(root / "plain.toml", plain_wh, tickets, accounts)
        runs = {"plain": measured_run(plain_cfg, week, env, "plain")}
        if runs["plain"]["enrich"]["model_version"] != history["tags_version"]:
            # The history would be retagged: the code or the models changed since the setup.
            raise RuntimeError(f"the tags version changed during the benchmark ({history['tags_version']} -> "
                               f"{runs['plain']['enrich']['model_version']}): rerun it on a quiet checkout")
        runs["rerun"] = measured_run(plain_cfg, week, env, "rerun")
        if not args.skip_dask:
            dask_cfg = write_config(root / "dask.toml", dask_wh, tickets, accounts, "local", args.workers)
            runs[f"dask_local_{args.workers}_workers"] = measured_run(dask_cfg, week, env, "dask")
            runs[f"dask_local_{args.workers}_workers"]["vs_plain"] = same_tags(plain_wh, dask_wh, week)
    finally:
        server.stop()
    result = {
        "command": "benchmarks/bench_scale.py " + " ".join(sys.argv[1:]),
        "week": week.label, "new_tickets": args.new, "code": str(REPO_ROOT), "history": history, "runs": runs,
        "synthesized": ("history: copies of a really-tagged pool of generated tickets with new ids, solved times "
                        "spread over the history weeks, synthetic content hashes, the pool's tags, and the pool "
                        "vector plus Gaussian noise as embedding; the new week is real pipeline work"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
                    "load_average_before": [round(x, 1) for x in load_before],
                    "load_average_after": [round(x, 1) for x in os.getloadavg()],
                    "note": "a shared 2-core machine with other work running: timings are noisy"},
    }
    full = args.history == 200_000 and args.new == 10_000
    path = RESULTS / ("bench_scale.json" if full else f"bench_scale_{args.history}_{args.new}.json")
    RESULTS.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2, default=str) + "\n")
    print(json.dumps(result, indent=2, default=str))
    if not args.workdir:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()

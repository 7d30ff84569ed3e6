"""Theme quality and scale of csintel's clusterer against BERTopic, on the same vectors.

Quality: tickets from the sample generator (tools.sample) at fixed seeds, with their true
theme, embedded once with the packaged model (cached as .npy under $TMPDIR/csintel-bench).
Each method runs in its own process (so peak memory is its own) twice: NMI and ARI against the
true themes (on all tickets with the unclustered as one more label, and on the clustered ones
only), unclustered share, number of themes, wall and CPU time, peak RSS, and whether the two
runs gave identical labels. No public labelled ticket set is available offline, so none is used.

Scale: embedding 200k tickets on two cores takes about half an hour, so the vectors are
synthesized: a pool of real sample tickets is embedded once, and each synthetic ticket is a
random pool ticket's vector plus isotropic Gaussian noise, renormalised, at cosine 0.93 to its
source (the pool's median nearest-neighbour cosine). That is a smoothed bootstrap of the real
distribution: it keeps the theme structure and the neighbour distances, and every vector keeps
its source's true theme and text. csintel at 10k, 50k and 200k (time, memory, quality, and at
50k the quality lost by fitting on a 10k or 25k sample), BERTopic at 10k and 50k, and at 200k
only if it finishes within BERTOPIC_TIMEOUT_S. Also the cost of determinism: UMAP with a seed
(single-threaded epochs) against UMAP without one (parallel).

Run: .venv/bin/python benchmarks/bench_themes.py [--quick]; writes
benchmarks/results/bench_themes.json (bench_themes_quick.json with --quick).
`--search-ab 200000` times csintel with and without the granularity search on the same vectors.
`--rerun-scale 200000[,50000...]` reruns only csintel's scale rows of those sizes and replaces them
in bench_themes.json (each marked with its own date, parameters and load), keeping the rest.
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
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import psutil
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

RESULTS = Path(__file__).parent / "results"
CACHE = Path(tempfile.gettempdir()) / "csintel-bench"
MAX_TEXT_CHARS = 50_000
POOL = (13, 5_000)                 # (seed, tickets) of the real tickets the scale vectors come from
SYNTHETIC_COSINE = 0.93            # cosine of a synthetic vector to its source
BERTOPIC_TIMEOUT_S = 900
FULL: dict[str, Any] = {"quality": [(11, 4_000), (23, 4_000)], "pool": POOL, "scale": [10_000, 50_000, 200_000],
        "bertopic_scale": [10_000, 50_000, 200_000], "sample_fits": [10_000, 25_000], "sample_fit_n": 50_000,
        "umap_cost": [10_000, 50_000]}
QUICK: dict[str, Any] = {"quality": [(11, 1_500)], "pool": (13, 1_500), "scale": [5_000, 10_000],
         "bertopic_scale": [5_000], "sample_fits": [2_500], "sample_fit_n": 10_000, "umap_cost": [5_000]}


# --- data -------------------------------------------------------------------------------------

def sample_set(seed: int, n: int) -> tuple[Path, Path, list[str]]:
    """Generate, read and embed `n` sample tickets once; returns vector and text files and themes."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))   # the sample generator (tools/) is not installed
    from tools.sample import generate

    folder = CACHE / f"sample_s{seed}_n{n}"
    vectors_path, texts_path = CACHE / f"emb_s{seed}_n{n}.npy", folder / "texts.json"
    if not (folder / "tickets.jsonl").exists():
        generate(folder, n_tickets=n, seed=seed)
    truth = json.loads((folder / "ground_truth.json").read_text())["tickets"]
    rows = customer_texts(folder / "tickets.jsonl")
    if not texts_path.exists():
        texts_path.write_text(json.dumps([text for _, text in rows]))
    if not vectors_path.exists():
        from csintel.embed import load_embedder

        start = time.perf_counter()
        np.save(vectors_path, load_embedder().encode([text for _, text in rows]))
        print(f"embedded {len(rows)} tickets (seed {seed}) in {time.perf_counter() - start:.0f} s", flush=True)
    return vectors_path, texts_path, [truth[ticket_id]["theme"] for ticket_id, _ in rows]


def customer_texts(path: Path) -> list[tuple[str, str]]:
    """(id, cleaned customer text) of every valid row, read and cleaned as `csintel themes` does."""
    from csintel.sources.files import FileSource
    from csintel.sources.records import RowError, ticket_record
    from csintel.warehouse import utcnow

    out = []
    for row in FileSource([path]).rows():
        try:
            if row.data is None or row.error:
                continue
            record = ticket_record(row.data, "file", max_text_chars=MAX_TEXT_CHARS, ingested_at=utcnow())
        except RowError:  # the sample's deliberately malformed rows
            continue
        out.append((record["ticket_id"], record["customer_text"]))
    return out


def synthetic(pool_vectors: np.ndarray, n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """`n` vectors drawn around random pool vectors; returns them and each one's source row."""
    rng = np.random.default_rng(seed)
    source = rng.integers(0, len(pool_vectors), n)  # first draw: synthetic_sources repeats it
    dim = pool_vectors.shape[1]
    # A noise vector of squared norm dim*sigma^2 puts the renormalised copy at cosine
    # 1/sqrt(1 + dim*sigma^2) to its source.
    sigma = np.sqrt((1 / SYNTHETIC_COSINE**2 - 1) / dim)
    out = np.empty((n, dim), dtype=np.float32)
    for start in range(0, n, 20_000):
        rows = source[start:start + 20_000]
        noisy = pool_vectors[rows] + sigma * rng.standard_normal((len(rows), dim), dtype=np.float32)
        out[start:start + len(rows)] = noisy / np.linalg.norm(noisy, axis=1, keepdims=True)
    return out, source


def synthetic_sources(pool_size: int, n: int, seed: int = 0) -> np.ndarray:
    """The source rows `synthetic` draws, without building the vectors."""
    return np.random.default_rng(seed).integers(0, pool_size, n)


# --- one measured run, in its own process ------------------------------------------------------

def worker(spec: dict) -> dict:
    """Load the vectors, warm up numba, run one method once; labels go to spec['labels_out']."""
    vectors = np.load(spec["vectors"])
    texts = json.loads(Path(spec["texts"]).read_text())
    if "synthetic" in spec:
        vectors, source = synthetic(vectors, spec["synthetic"])
        texts = [texts[i] for i in source]
    method = spec["method"]
    # numba compiles UMAP's and pynndescent's kernels on first use (~10-20 s); both methods would
    # pay it once per process, so it is paid before the clock starts.
    warm = np.random.default_rng(1).choice(len(vectors), size=min(400, len(vectors)), replace=False)
    run_method(method, vectors[warm], [texts[i] for i in warm], spec)
    import umap

    # Below 4,096 rows UMAP computes exact distances, so its approximate search, used at scale,
    # is compiled here too, in both its single-threaded (seeded) and parallel forms.
    for seeded in ({"random_state": 0}, {}):
        umap.UMAP(metric="cosine", force_approximation_algorithm=True, **seeded).fit(vectors[warm])
    process = psutil.Process()
    rss_before = process.memory_info().rss
    peak, running = [rss_before], threading.Event()
    running.set()

    def sample_rss() -> None:
        while running.is_set():
            peak[0] = max(peak[0], tree_rss(process))
            time.sleep(0.02)

    sampler = threading.Thread(target=sample_rss, daemon=True)
    sampler.start()
    wall, cpu, pool_cpu = time.perf_counter(), time.process_time(), children_cpu(process)
    labels, parts = run_method(method, vectors, texts, spec)
    # HDBSCAN's default (BERTopic's) computes core distances in a pool of worker processes.
    cpu = time.process_time() - cpu + children_cpu(process) - pool_cpu
    wall = time.perf_counter() - wall
    running.clear()
    sampler.join()
    out = {"wall_s": round(wall, 2), "cpu_s": round(cpu, 2), **parts,
           # RSS of the whole process and its children (interpreter, libraries, the vectors) before
           # and at its highest during the run; numba's compilation in the warm-up is not counted.
           "rss_before_mb": round(rss_before / 2**20), "peak_rss_mb": round(peak[0] / 2**20)}
    np.save(spec["labels_out"], np.asarray(labels, dtype=np.int64))
    return out


def tree_rss(process) -> int:
    """RSS of a process and its children (HDBSCAN's worker pool), in bytes."""
    total = process.memory_info().rss
    for child in process.children(recursive=True):
        try:
            total += child.memory_info().rss
        except psutil.NoSuchProcess:  # exited between listing and reading
            pass
    return total


def children_cpu(process) -> float:
    """CPU seconds of the live children of a process (HDBSCAN's worker pool)."""
    total = 0.0
    for child in process.children(recursive=True):
        try:
            total += sum(child.cpu_times()[:2])
        except psutil.NoSuchProcess:
            pass
    return total


def run_method(method: str, vectors: np.ndarray, texts: list[str], spec: dict) -> tuple[np.ndarray, dict]:
    if method == "csintel":
        from csintel.themes.cluster import ClusterParams, cluster_embeddings
        from csintel.themes.labels import label_clusters

        params = ClusterParams(**spec.get("params", {}))
        start = time.perf_counter()
        result = cluster_embeddings(vectors, params)
        cluster_s = time.perf_counter() - start
        # Theme names too, as BERTopic's fit includes its topic words.
        label_clusters(texts, result.labels, vectors)
        return result.labels, {"cluster_s": round(cluster_s, 2), "fit_rows": result.fit_rows,
                               "labels_s": round(time.perf_counter() - start - cluster_s, 2)}
    if method == "bertopic":
        from bertopic import BERTopic

        # Defaults throughout; our vectors stand in for its embedding step (no hub access).
        topics, _ = BERTopic(verbose=False).fit_transform(texts, embeddings=vectors)
        return np.asarray(topics), {}
    if method.startswith("umap"):
        return np.zeros(0), umap_cost(vectors, spec["params"]["seed"])
    raise ValueError(method)


def umap_cost(vectors: np.ndarray, seed: int) -> dict:
    """Seconds of UMAP's fit (csintel's settings) with a seed (one thread) and without (parallel)."""
    import umap

    from csintel.themes.cluster import ClusterParams, normalize_rows

    p = ClusterParams()
    x = normalize_rows(vectors)
    out: dict[str, float] = {}
    for seeded in (True, False):
        start = time.perf_counter()
        umap.UMAP(n_neighbors=p.n_neighbors, n_components=p.n_components, metric="cosine", min_dist=0.0,
                  n_epochs=p.n_epochs, force_approximation_algorithm=True,  # the search used at scale
                  **({"random_state": seed, "n_jobs": 1} if seeded else {"n_jobs": -1})).fit_transform(x)
        out["umap_seeded_s" if seeded else "umap_unseeded_s"] = round(time.perf_counter() - start, 2)
    return out


def measured(spec: dict, timeout: float | None = None) -> dict:
    """Run `worker(spec)` in a fresh interpreter; returns its figures and labels (or why not)."""
    with tempfile.TemporaryDirectory() as tmp:
        spec = {**spec, "labels_out": str(Path(tmp) / "labels.npy")}
        try:
            done = subprocess.run([sys.executable, __file__, "--worker", json.dumps(spec)], capture_output=True,
                                  text=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            return {"skipped": f"did not finish within {timeout:.0f} s"}
        if done.returncode != 0:
            raise RuntimeError(f"worker failed: {spec}\n{done.stderr[-3000:]}")
        out = json.loads(done.stdout.strip().splitlines()[-1])
        out["labels"] = np.load(spec["labels_out"])
        return out


# --- scoring ----------------------------------------------------------------------------------

def quality(truth: np.ndarray, labels: np.ndarray) -> dict:
    clustered = labels >= 0
    found = 0
    for theme in np.unique(truth):
        of_theme = truth == theme
        for c in np.unique(labels[of_theme & clustered]):
            overlap = int((of_theme & (labels == c)).sum())
            if overlap >= 0.5 * max(of_theme.sum(), (labels == c).sum()):  # the cluster is mostly this theme and vice versa
                found += 1
                break
    both = clustered.any()
    return {
        "nmi": round(normalized_mutual_info_score(truth, labels), 4),
        "ari": round(adjusted_rand_score(truth, labels), 4),
        "nmi_clustered_only": round(normalized_mutual_info_score(truth[clustered], labels[clustered]), 4) if both else None,
        "ari_clustered_only": round(adjusted_rand_score(truth[clustered], labels[clustered]), 4) if both else None,
        "unclustered_share": round(float(np.mean(~clustered)), 4),
        "themes": int(len(np.unique(labels[clustered]))),
        "true_themes": int(len(np.unique(truth))),
        "true_themes_recovered": found,
    }


def described(run: dict, truth: np.ndarray | None) -> dict:
    figures = {k: v for k, v in run.items() if k != "labels"}
    if truth is not None and "labels" in run:
        figures.update(quality(truth, run["labels"]))
    return figures


def twice(spec: dict, truth: np.ndarray) -> dict:
    first, second = measured(spec), measured(spec)
    return {**described(first, truth),
            "second_run": {k: second[k] for k in ("wall_s", "cpu_s", "peak_rss_mb")},
            "identical_across_runs": bool(np.array_equal(first["labels"], second["labels"])),
            "ari_between_runs": round(adjusted_rand_score(first["labels"], second["labels"]), 4)}


# --- the two parts ----------------------------------------------------------------------------

def quality_part(sets: list[tuple[int, int]]) -> list[dict]:
    out = []
    for seed, n in sets:
        vectors, texts, themes = sample_set(seed, n)
        truth = np.unique(themes, return_inverse=True)[1]
        data = {"vectors": str(vectors), "texts": str(texts)}
        row = {"data": f"tools.sample seed {seed}, {len(themes)} tickets", "seed": seed, "tickets": len(themes),
               "csintel": twice({**data, "method": "csintel"}, truth),
               "bertopic": twice({**data, "method": "bertopic"}, truth)}
        out.append(row)
        print(json.dumps(row), flush=True)
    return out


def scale_part(cfg: dict) -> dict:
    seed, n = cfg["pool"]
    vectors, texts, themes = sample_set(seed, n)
    pool_truth = np.unique(themes, return_inverse=True)[1]
    data = {"vectors": str(vectors), "texts": str(texts)}
    runs = []
    for size in cfg["scale"]:
        truth = pool_truth[synthetic_sources(len(pool_truth), size)]
        row: dict = {"tickets": size, "csintel": described(measured({**data, "synthetic": size, "method": "csintel"}), truth)}
        if size in cfg["bertopic_scale"]:
            row["bertopic"] = described(measured({**data, "synthetic": size, "method": "bertopic"},
                                                 timeout=BERTOPIC_TIMEOUT_S), truth)
        runs.append(row)
        print(json.dumps(row), flush=True)
    size = cfg["sample_fit_n"]
    truth = pool_truth[synthetic_sources(len(pool_truth), size)]
    sample_fits = []
    for fit in cfg["sample_fits"]:
        run = measured({**data, "synthetic": size, "method": "csintel", "params": {"fit_sample": fit}})
        sample_fits.append({"tickets": size, "fit_sample": fit, **described(run, truth)})
        print(json.dumps(sample_fits[-1]), flush=True)
    umap_runs = []
    for size in cfg["umap_cost"]:
        umap_runs.append({"tickets": size, **described(
            measured({**data, "synthetic": size, "method": "umap", "params": {"seed": 42}}), None)})
        print(json.dumps(umap_runs[-1]), flush=True)
    return {"pool": f"tools.sample seed {seed}, {len(themes)} tickets", "synthetic_cosine_to_source": SYNTHETIC_COSINE,
            "runs": runs, "sample_fit_quality": sample_fits, "determinism_cost": umap_runs}


def rerun_scale(sizes: list[int]) -> None:
    """Replace csintel's scale rows of `sizes` in bench_themes.json by a fresh measurement."""
    from datetime import datetime, timezone

    from csintel.themes.cluster import ClusterParams

    path = RESULTS / "bench_themes.json"
    result = json.loads(path.read_text())
    seed, n = POOL
    vectors, texts, themes = sample_set(seed, n)
    pool_truth = np.unique(themes, return_inverse=True)[1]
    data = {"vectors": str(vectors), "texts": str(texts)}
    for size in sizes:
        truth = pool_truth[synthetic_sources(len(pool_truth), size)]
        fresh = described(measured({**data, "synthetic": size, "method": "csintel"}), truth)
        fresh["rerun"] = {"at": datetime.now(timezone.utc).isoformat(timespec="minutes"),
                          "command": f"benchmarks/bench_themes.py --rerun-scale {size}",
                          "csintel_params": asdict(ClusterParams()), "load_average_after": os.getloadavg()}
        row = next((r for r in result["scale"]["runs"] if r["tickets"] == size), None)
        if row is None:
            result["scale"]["runs"].append({"tickets": size, "csintel": fresh})
        else:
            row["csintel"] = fresh
        print(json.dumps({"tickets": size, "csintel": fresh}), flush=True)
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(f"updated {path}")


def rerun_quality() -> None:
    """Replace the quality rows (the generated sample's 4,000-ticket sets, csintel and BERTopic,
    each twice) in bench_themes.json by a fresh measurement."""
    from datetime import datetime, timezone

    from csintel.themes.cluster import ClusterParams

    path = RESULTS / "bench_themes.json"
    result = json.loads(path.read_text())
    result["quality"] = quality_part(FULL["quality"])
    result["quality_rerun"] = {"at": datetime.now(timezone.utc).isoformat(timespec="minutes"),
                               "command": "benchmarks/bench_themes.py --rerun-quality",
                               "csintel_params": asdict(ClusterParams()), "load_average_after": os.getloadavg()}
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(f"updated {path}")


def search_ab(size: int) -> None:
    """The granularity search's cost: csintel with and without it, one after the other through
    the same worker on the same scaled vectors, into bench_themes.json's `granularity_search_ab`."""
    from datetime import datetime, timezone

    path = RESULTS / "bench_themes.json"
    result = json.loads(path.read_text())
    seed, n = POOL
    vectors, texts, themes = sample_set(seed, n)
    truth = np.unique(themes, return_inverse=True)[1][synthetic_sources(n, size)]
    data = {"vectors": str(vectors), "texts": str(texts), "synthetic": size, "method": "csintel"}
    runs = {name: described(measured({**data, "params": params}), truth)
            for name, params in (("search", {}), ("fixed", {"search_granularity": False}))}
    result["granularity_search_ab"] = {
        "tickets": size, "at": datetime.now(timezone.utc).isoformat(timespec="minutes"),
        "command": f"benchmarks/bench_themes.py --search-ab {size}", "load_average_after": os.getloadavg(),
        **runs, "cpu_ratio": round(runs["search"]["cpu_s"] / runs["fixed"]["cpu_s"], 3)}
    print(json.dumps(result["granularity_search_ab"]), flush=True)
    path.write_text(json.dumps(result, indent=2) + "\n")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="small sizes, a couple of minutes")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--rerun-scale", help="comma-separated sizes: rerun csintel's scale rows only")
    ap.add_argument("--search-ab", type=int, help="time csintel with and without the granularity search")
    ap.add_argument("--rerun-quality", action="store_true", help="rerun the 4,000-ticket sample rows only")
    args = ap.parse_args()
    if args.worker:
        print(json.dumps(worker(json.loads(args.worker))))
        return
    CACHE.mkdir(parents=True, exist_ok=True)
    if args.rerun_scale:
        rerun_scale([int(n) for n in args.rerun_scale.split(",")])
        return
    if args.search_ab:
        search_ab(args.search_ab)
        return
    if args.rerun_quality:
        rerun_quality()
        return
    cfg = QUICK if args.quick else FULL
    started = time.perf_counter()
    from csintel.themes.cluster import ClusterParams

    result = {
        "command": "benchmarks/bench_themes.py" + (" --quick" if args.quick else ""),
        "public_labelled_set": "none available offline; quality is measured on the generated sample only",
        "bertopic_config": "BERTopic() defaults, fit_transform(texts, embeddings=<the same vectors>)",
        "csintel_params": asdict(ClusterParams()),
        "quality": quality_part(cfg["quality"]),
        "scale": scale_part(cfg),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
                    "load_average_at_end": os.getloadavg(),
                    "note": "a 2-core machine shared with other engineers' jobs: wall times are noisy, CPU times less so"},
        "total_s": round(time.perf_counter() - started),
    }
    path = RESULTS / ("bench_themes_quick.json" if args.quick else "bench_themes.json")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()

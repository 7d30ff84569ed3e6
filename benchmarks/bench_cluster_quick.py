"""Time cluster_embeddings on random-but-clustered 384-d vectors (MiniLM-like geometry).

Run: .venv/bin/python benchmarks/bench_cluster_quick.py [N ...]; writes
benchmarks/results/cluster_quick.json.
"""

from __future__ import annotations

import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.metrics import adjusted_rand_score

from csintel.themes.cluster import ClusterParams, cluster_embeddings, normalize_rows

DIM = 384
THEMES = 40
NOISE_SHARE = 0.1
SPREAD = 1.2  # members at cosine ~0.64 to their centre, like MiniLM tickets of one theme
RESULTS = Path(__file__).parent / "results" / "cluster_quick.json"


def synthetic(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Themes of Zipf-like sizes plus random-direction noise."""
    rng = np.random.default_rng(seed)
    weights = 1.0 / np.arange(1, THEMES + 1)
    sizes = np.floor(weights / weights.sum() * n * (1 - NOISE_SHARE)).astype(int)
    centres = normalize_rows(rng.standard_normal((THEMES, DIM)))
    parts = [c + SPREAD * rng.standard_normal((s, DIM)) / DIM**0.5 for c, s in zip(centres, sizes)]
    noise = n - sizes.sum()
    parts.append(rng.standard_normal((noise, DIM)))
    truth = np.concatenate([np.full(s, i) for i, s in enumerate(sizes)] + [np.full(noise, -1)])
    return normalize_rows(np.vstack(parts)), truth


def main(sizes: list[int]) -> None:
    cluster_embeddings(synthetic(300)[0])  # numba JIT warm-up, not timed
    runs = []
    for n in sizes:
        vectors, truth = synthetic(n)
        start = time.perf_counter()
        result = cluster_embeddings(vectors, ClusterParams())
        seconds = time.perf_counter() - start
        members = truth >= 0
        runs.append(
            {
                "n": n,
                "seconds": round(seconds, 2),
                "clusters": int(result.labels.max() + 1),
                "true_themes": THEMES,
                "ari_members": round(adjusted_rand_score(truth[members], result.labels[members]), 3),
                "outlier_share_before": round(result.outlier_share_before, 3),
                "outlier_share": round(result.outlier_share, 3),
            }
        )
        print(runs[-1], flush=True)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {"cpus": os.cpu_count(), "python": platform.python_version(), "runs": runs}, indent=2
        )
        + "\n"
    )


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [3_000, 10_000])

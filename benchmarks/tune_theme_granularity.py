"""How the automatic granularity was chosen: HDBSCAN's minimum cluster size, min_samples and
cluster selection against NMI/ARI, and whether `separation` (a simplified silhouette, tried as
a way to pick the size by itself and rejected) points at the best size. Validation and training data only, never a test split:
Banking77 `val` (1,003, ~13 a topic) and a seeded 3,080-row sample of its `train` (~40 a topic),
CLINC150 `val` in scope (3,000, 20 a topic) and a seeded 4,500-row sample of its `train` (~30).

Run: .venv/bin/python benchmarks/tune_theme_granularity.py; writes
benchmarks/results/tune_theme_granularity.json (one row per set and setting).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

sys.path.insert(0, str(Path(__file__).resolve().parent))
import public_data  # noqa: E402

RESULTS = Path(__file__).parent / "results"
SIZES = (4, 5, 6, 8, 10, 12, 15, 18, 22, 27)


def separation(x: np.ndarray, labels: np.ndarray) -> float:
    """Simplified silhouette (cosine to own centroid against the nearest other, unclustered 0):
    the internal score tried for choosing the size by itself, and rejected (it keeps rising with
    coarser clusterings until topics fuse)."""
    from csintel.themes.cluster import cluster_centroids

    members = np.flatnonzero(labels >= 0)
    if labels.max() < 1 or not len(members):
        return 0.0
    sims = x[members] @ cluster_centroids(x, labels).T
    own = sims[np.arange(len(members)), labels[members]].copy()
    sims[np.arange(len(members)), labels[members]] = -np.inf
    other = sims.max(axis=1)
    return float(((own - other) / np.maximum(np.maximum(np.abs(own), np.abs(other)), 1e-9)).sum() / len(labels))


def sample(split: public_data.Split, n: int, seed: int = 1) -> public_data.Split:
    pick = np.sort(np.random.default_rng(seed).choice(len(split), size=n, replace=False))
    return public_data.Split([split.texts[i] for i in pick], [split.labels[i] for i in pick])


def tuning_sets() -> dict[str, public_data.Split]:
    b77, clinc = public_data.banking77(), public_data.clinc150(with_oos=False)
    return {"banking77_val": b77["val"], "banking77_train_3080": sample(b77["train"], 3_080),
            "clinc150_val_in_scope": clinc["val"], "clinc150_train_4500": sample(clinc["train"], 4_500)}


def main() -> None:
    import hdbscan

    from csintel.model_text import model_texts
    from csintel.themes import cluster as C

    rows = []
    for name, split in tuning_sets().items():
        x = C.normalize_rows(public_data.embed(model_texts(split.texts)))
        space = C._reduce(x, C.ClusterParams())
        for size in SIZES:
            for min_samples in sorted({C.default_min_samples(size), 2}):
                for selection in ("eom", "leaf"):
                    fitted = hdbscan.HDBSCAN(min_cluster_size=size, min_samples=min_samples, core_dist_n_jobs=1,
                                             cluster_selection_method=selection).fit(space)
                    labels = C.merge_similar_clusters(x, fitted.labels_, C.ClusterParams().merge_threshold)
                    score = separation(x, labels)
                    centroids = C.cluster_centroids(x, labels)
                    labels, p = C._eject_strays(x, labels, fitted.probabilities_, centroids, 0.25)
                    labels, _ = C._reassign_outliers(x, labels, p, centroids, 0.55)
                    rows.append({"set": name, "min_cluster_size": size, "min_samples": min_samples,
                                 "selection": selection, "separation": round(score, 4),
                                 "nmi": round(normalized_mutual_info_score(split.labels, labels), 4),
                                 "ari": round(adjusted_rand_score(split.labels, labels), 4),
                                 "unclustered_share": round(float(np.mean(labels < 0)), 4),
                                 "themes": int(labels.max() + 1)})
                    print(json.dumps(rows[-1]), flush=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "tune_theme_granularity.json").write_text(json.dumps({
        "command": "benchmarks/tune_theme_granularity.py", "data": "validation and training splits only",
        "rows": rows}, indent=1) + "\n")


if __name__ == "__main__":
    main()

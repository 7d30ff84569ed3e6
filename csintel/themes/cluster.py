"""Cluster ticket embeddings into themes: UMAP reduction, HDBSCAN, fragment merging, then
outlier reassignment.

Pure and deterministic: the same vectors and parameters always give the same labels and the
same cluster numbering (seeded UMAP, seeded sampling).
Windows larger than `ClusterParams.fit_sample` are fitted on a seeded sample and the other rows
join the nearest theme, which keeps 200k tickets within minutes and a few GB on two cores
(benchmarks/bench_themes.py).
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from scipy import sparse

if TYPE_CHECKING:
    import joblib

# Fewer tickets than this are an anecdote, not a theme, however small the window.
MIN_CLUSTER_FLOOR = 5
# 0.25% of the window: a 3k-ticket window gives themes of >= 8 tickets, a 10k one >= 25. Chosen
# on validation data (benchmarks/tune_theme_granularity.py): on Banking77 and CLINC150 splits of
# 1k-4.5k queries with 13-40 per topic, sizes of 5-15 scored best (5 on 1k, 10 on 3k-4.5k) and
# the former 0.6% (18-27) fused neighbouring topics (CLINC150 train sample, 4,500: ARI 0.65 at
# 10, 0.47 at 27).
# HDBSCAN's fragments of one topic are merged afterwards (merge_threshold), so the bundled
# sample's large themes stay whole.
MIN_CLUSTER_SHARE = 0.0025
# Below this many rows HDBSCAN on the raw vectors is instant and UMAP's graph is too thin to help.
MIN_REDUCE_ROWS = 50
# Beyond ~80k tickets a proportional minimum would swallow distinct medium themes into their
# neighbours or the noise; 200 tickets is already a headline theme.
MIN_CLUSTER_CAP = 200
# HDBSCAN's default (min_samples = min_cluster_size) marks the sparse fringe of every cluster
# as noise, the main source of BERTopic's 30-50% outliers; a third keeps the density estimate
# robust to single stray tickets yet lets the fringe in (30/10 is the pairing measured in
# ENVIRONMENT.md).
MIN_SAMPLES_RATIO = 1 / 3
# The automatic size suits windows of many small topics (13-40 tickets each, where it was
# chosen) but cut topics of 100+ tickets into 3-5 paraphrase fragments whose centroids are as far
# apart as distinct intents, so merging cannot rejoin them: CLINC150 train windows of 3-30 intents
# of 100 gave ARI 0.39-0.74. Each window therefore also tries coarser sizes and keeps one only
# when its themes are clearly better separated; on windows of many small topics (Banking77,
# CLINC150 val) the finest stays (benchmarks/tune_theme_granularity.py --study search).
GRANULARITY_FACTORS = (1.0, 1.5, 2.0, 3.0, 4.0, 6.0, 8.0, 12.0)
# Up to this many rows UMAP's neighbour graph is computed exactly by matrix products
# (csintel/neighbours.py), which needs no compiling, instead of by pynndescent, whose search is
# compiled again in every new process (~22 s of CPU, since its distance function is an argument
# numba cannot cache). UMAP alone in a fresh process on the 2-core machine: 10k rows 17.5 s of CPU
# exact against 33.3 s, 20k 32.1 s against 38.9-46.9 s; the exact search grows with the square
# of the rows.
EXACT_NEIGHBOURS_MAX_ROWS = 20_000
# Silhouette gain a coarser size needs over the finest. On the tuning sets Banking77's coarser
# sizes gained 0.02-0.04 while losing ARI, windows of large topics gained 0.06-0.55.
GRANULARITY_MARGIN = 0.05
# The reduced space is one seeded UMAP layout, and a layout that leaves the finest themes ragged
# flatters every coarser size: on a 3,080-query Banking77 train sample one seed in four gained
# 0.08 at 3x the size and fused intents (ARI 0.47 -> 0.45; on Banking77 test 0.505 -> 0.413). The
# themes' cosine silhouette in the original space does not depend on the layout, and there fused
# fine intents lose (0.214 -> 0.193) while fragments of one large topic rejoined hold level or gain
# (-0.009 to +0.13). A coarser size may lose at most this much of it. Over 14 tuning sets x UMAP
# seeds 42-45 (benchmarks/tune_theme_granularity.py --study layout) drops of 0.01-0.02 score alike
# (mean ARI 0.7055 against 0.7049 without the guard, the Banking77 train sample's worst seed 0.472
# against 0.448); 0 or 0.005 refuse rejoined fragments (Banking77 10-intent window 0.95 -> 0.68).
GRANULARITY_COSINE_DROP = 0.015
# Silhouette is quadratic in rows: a seeded sample of this many clustered rows estimates it.
SILHOUETTE_SAMPLE = 4000
# A coarser size may leave a theme over `max_merged_share` of the window only when its themes are
# strongly separated (silhouette >= 0.71, Kaufman & Rousseeuw's "strong structure"): the windows of
# a few large topics scored 0.79-0.90 at the size they kept, while on airline complaint tweets
# (tuning airlines) a coarse size scored 0.43 by lumping delays, cancellations and service.
STRONG_STRUCTURE = 0.71


@dataclass(frozen=True)
class ClusterParams:
    """Knobs of `cluster_embeddings`; None means "derive from the number of rows"."""

    min_cluster_size: int | None = None
    min_samples: int | None = None
    # 10 rather than BERTopic's 5: on the generated sample it split fewer themes (ARI +0.03-0.06
    # at 4k tickets, +0.06 at 50k) and HDBSCAN still takes seconds on 50k rows.
    n_components: int = 10
    n_neighbors: int = 15
    # UMAP runs 500 epochs below 10k rows, 200 above; 200 everywhere halved the small-window time
    # and scored as well or better (benchmarks/bench_themes.py).
    n_epochs: int = 200
    reassign_threshold: float = 0.55  # cosine to a centroid (original space) to rescue an outlier
    member_floor: float = 0.25  # cosine to its own centroid below which a member is an outlier
    # HDBSCAN splits a theme whose tickets are phrased a few different ways into fragments; two
    # clusters whose centroids reach this cosine are one subject (the same bar that keeps a
    # theme's id across fits, identity.MATCH_THRESHOLD). Distinct sample themes peak at ~0.72.
    merge_threshold: float = 0.80
    # A merge stops short of a theme holding more than this share of the window, unless the two
    # parts are near-duplicates (same_topic_threshold): on consumer tweets, where every complaint
    # shares the brand's vocabulary, centroid merging chained Late Flight, Cancelled Flight and
    # Customer Service fragments into one theme of 31% of 6.5k tweets. The value is the bound the
    # product promises (no theme over 25% of the tickets unless they share one topic), not a fit
    # to data: on the tuning sets (IT helpdesk val/train, Banking77 and CLINC150 val/train) no cap
    # from 10% to none changes a single label (benchmarks/results/tune_merge_cap.json), so they
    # cannot choose it, and 15% had been picked by looking at the airline tweets.
    max_merged_share: float = 0.25
    same_topic_threshold: float = 0.90
    # Above this many rows the reduction and HDBSCAN are fitted on a seeded sample of this size
    # and the other rows join the nearest theme: UMAP runs on one core and its neighbour search
    # grows faster than N, while placing a row is one matrix product; a 50k sample already holds
    # every theme above the minimum size many times over.
    fit_sample: int = 50_000
    # Try coarser minimum sizes too and keep the best-separated (GRANULARITY_FACTORS); only when
    # neither size is given by hand.
    search_granularity: bool = True
    seed: int = 42


@dataclass(frozen=True)
class ClusterResult:
    """Labels per row (-1 = unclustered), membership strengths and centroids of the clusters."""

    labels: np.ndarray
    probabilities: np.ndarray
    centroids: np.ndarray  # (k, dim), L2-normalised, row i = cluster i, original space
    outlier_share_before: float  # of the fitted rows, before reassignment
    outlier_share: float
    fit_rows: int  # rows the reduction and HDBSCAN saw (all of them up to params.fit_sample)


def default_min_cluster_size(n: int) -> int:
    """The smallest cluster worth calling a theme in a window of `n` tickets."""
    return max(MIN_CLUSTER_FLOOR, min(MIN_CLUSTER_CAP, round(MIN_CLUSTER_SHARE * n)))


def default_min_samples(min_cluster_size: int) -> int:
    """HDBSCAN's density smoothing for a given minimum cluster size."""
    return max(2, round(min_cluster_size * MIN_SAMPLES_RATIO))


def normalize_rows(vectors: np.ndarray) -> np.ndarray:
    """L2-normalise each row as float32; all-zero rows stay zero."""
    v = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(v, axis=1, keepdims=True)
    return v / np.where(norms > 0, norms, 1.0)


def canonical_labels(labels: np.ndarray) -> np.ndarray:
    """Renumber clusters 0..k-1 by size (largest first), ties by smallest member index; -1 stays."""
    labels = np.asarray(labels, dtype=np.int64)
    out = np.full(labels.shape, -1, dtype=np.int64)
    members = labels >= 0
    if not members.any():
        return out
    ids, first, counts = np.unique(labels[members], return_index=True, return_counts=True)
    first_row = np.flatnonzero(members)[first]
    order = np.lexsort((first_row, -counts))
    mapping = np.empty(ids.max() + 1, dtype=np.int64)
    mapping[ids[order]] = np.arange(len(ids))
    out[members] = mapping[labels[members]]
    return out


def cluster_centroids(vectors: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """L2-normalised mean vector of each cluster 0..max(label); row i = cluster i.

    A label with no members gets a zero row.
    """
    return normalize_rows(_cluster_sums(vectors, labels))


def _cluster_sums(vectors: np.ndarray, labels: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    labels = np.asarray(labels, dtype=np.int64)
    k = int(labels.max()) + 1 if labels.size and labels.max() >= 0 else 0
    rows = np.flatnonzero(labels >= 0)
    onehot = sparse.csr_matrix(
        (np.ones(len(rows), dtype=np.float32), (labels[rows], rows)), shape=(k, len(labels))
    )
    return np.asarray(onehot @ vectors)


def assign_to_centroids(
    vectors: np.ndarray, centroids: np.ndarray, threshold: float
) -> tuple[np.ndarray, np.ndarray]:
    """Assign each row to its most similar centroid by cosine, if similar enough.

    Also serves to place new tickets into existing themes between two clusterings.

    Args:
        vectors: (N, dim) embeddings.
        centroids: (k, dim) cluster centroids; row i = cluster i.
        threshold: minimum cosine to join a cluster.

    Returns:
        The cluster per row (-1 below the threshold or when there are no centroids; ties go
        to the lower cluster number) and the cosine to the nearest centroid (0 when none).
    """
    x = normalize_rows(vectors)
    if not len(x) or not len(centroids):
        return np.full(len(x), -1, dtype=np.int64), np.zeros(len(x))
    sims = x @ normalize_rows(centroids).T
    nearest = np.argmax(sims, axis=1).astype(np.int64)
    best = sims[np.arange(len(x)), nearest].astype(np.float64)
    return np.where(best >= threshold, nearest, -1), best


def merge_similar_clusters(
    vectors: np.ndarray, labels: np.ndarray, threshold: float,
    max_rows: int | None = None, same_topic: float = 1.0,
) -> np.ndarray:
    """Merge clusters whose centroids reach `threshold` cosine, most similar pair first.

    Centroid linkage: after each merge the pair's centroid is recomputed from all its members,
    so a chain of pairwise-similar fragments only fuses while the merged theme stays coherent
    (unlike single linkage). A merge that would make a cluster of more than `max_rows` rows is
    refused unless the pair reaches `same_topic` cosine. Ties go to the lowest cluster numbers;
    labels come back canonical.
    """
    labels = canonical_labels(labels)
    k = int(labels.max()) + 1 if labels.size else 0
    if k < 2:
        return labels
    rows = np.flatnonzero(labels >= 0)
    onehot = sparse.csr_matrix((np.ones(len(rows)), (labels[rows], rows)), shape=(k, len(labels)))
    sums = np.asarray(onehot @ np.asarray(vectors, dtype=np.float64))
    unit = _unit(sums)
    sims = unit @ unit.T
    np.fill_diagonal(sims, -np.inf)
    alive = np.ones(k, dtype=bool)
    parent = np.arange(k)
    sizes = np.bincount(labels[rows], minlength=k)
    while True:
        a, b = sorted(np.unravel_index(int(np.argmax(sims)), sims.shape))
        if sims[a, b] < threshold:
            break
        if max_rows is not None and sizes[a] + sizes[b] > max_rows and sims[a, b] < same_topic:
            sims[a, b] = sims[b, a] = -np.inf
            continue
        sizes[a] += sizes[b]
        sums[a] += sums[b]
        parent[parent == b] = a
        alive[b] = False
        unit[a] = _unit(sums[a:a + 1])[0]
        row = unit @ unit[a]
        row[~alive] = -np.inf
        row[a] = -np.inf
        sims[a, :] = sims[:, a] = row
        sims[b, :] = sims[:, b] = -np.inf
    labels[rows] = parent[labels[rows]]
    return canonical_labels(labels)


def _unit(rows: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    return rows / np.where(norms > 0, norms, 1.0)


def cluster_embeddings(
    vectors: np.ndarray, params: ClusterParams = ClusterParams()
) -> ClusterResult:
    """Group embeddings into themes.

    UMAP (cosine, min_dist 0, seeded) reduces to `params.n_components` dimensions, HDBSCAN
    (euclidean, excess of mass) finds dense clusters there, and clusters whose centroids reach
    `params.merge_threshold` are merged. In the original space, members whose cosine to their cluster centroid is below
    `params.member_floor` become outliers, then each outlier whose cosine to the nearest centroid
    reaches `params.reassign_threshold` joins that cluster. With more than `params.fit_sample`
    rows, the reduction and HDBSCAN see a seeded sample of that size (the minimum cluster size
    scaled by the sample's share) and the other rows are placed by the same centroid rule.
    Unless the sizes are given by hand, coarser minimum sizes are tried as well and one is kept
    when its themes separate clearly better (`granularity_candidates`, `choose_granularity`).
    Inputs too small for UMAP's neighbour graph are clustered on the vectors directly, and
    inputs smaller than the minimum cluster size stay unclustered.

    Args:
        vectors: (N, dim) embeddings; normalised here, so any scale works.
        params: clustering parameters.

    Returns:
        Labels numbered canonically (largest cluster is 0), probabilities (HDBSCAN's membership
        strength, or the cosine to the centroid for reassigned and sample-placed rows),
        centroids, and the outlier share of the fitted rows before reassignment (HDBSCAN's noise
        plus the rows below the member floor) and of all rows after it.
    """
    x = np.asarray(vectors, dtype=np.float32)
    if x.ndim != 2:
        raise ValueError(f"vectors must be 2-D (N, dim), got shape {x.shape}")
    if not np.isfinite(x).all():
        raise ValueError("vectors contain NaN or infinite values")
    if params.fit_sample < 2:
        raise ValueError("fit_sample must be at least 2")
    n = len(x)
    x = normalize_rows(x)
    min_size = params.min_cluster_size
    if min_size is None:
        min_size = default_min_cluster_size(n)
    min_samples = params.min_samples
    if min_samples is None:
        min_samples = default_min_samples(min_size)
    if min_size < 2 or min_samples < 1:
        raise ValueError("min_cluster_size must be >= 2 and min_samples >= 1")

    return choose_granularity(x, granularity_candidates(x, params, min_size, min_samples), params).result


@dataclass(frozen=True)
class Candidate:
    """One granularity tried: the minimum theme size as a multiple of the window's base size, how
    well its themes separate (mean silhouette in the reduced space; 0 when not searched) and the
    finished clustering."""

    factor: float
    separation: float
    result: ClusterResult


def granularity_candidates(
    x: np.ndarray, params: ClusterParams, min_size: int, min_samples: int
) -> list[Candidate]:
    """The clusterings `cluster_embeddings` chooses from, finest first: one when the sizes are
    given by hand, the search is off or the window is too small to reduce."""
    n = len(x)
    fit = _fit_rows(n, params)
    if n < min_size:
        return [Candidate(1.0, 0.0, _finish(x, fit, np.full(len(fit), -1, dtype=np.int64), np.zeros(len(fit)), params))]
    # A sample must find the themes the whole window would: the same share of its rows.
    share = len(fit) / n
    fit_size = min(min_size, max(MIN_CLUSTER_FLOOR, round(min_size * share)))
    fit_samples = max(1, round(min_samples * share))
    xf = x[fit]
    # UMAP needs a neighbour graph and room for the embedding; with fewer than three minimum
    # clusters the reduction buys nothing and HDBSCAN on a few hundred raw rows is cheap.
    small = len(xf) < max(3 * fit_size, MIN_REDUCE_ROWS, params.n_neighbors + 2, params.n_components + 2)
    space = xf if small else _reduce(xf, params)
    search = params.search_granularity and params.min_cluster_size is None and params.min_samples is None
    factors = GRANULARITY_FACTORS if search and not small else (1.0,)
    candidates: list[Candidate] = []
    # Every size shares one density estimate (min_samples), so HDBSCAN's costly part, the core
    # distances and spanning tree, is computed once and cached; each further size only condenses
    # the tree again (at 200k tickets the search costs 1.14x the CPU of one size,
    # benchmarks/results/bench_themes.json `granularity_search_ab`).
    with _spanning_tree_cache(len(factors) > 1) as memory:
        for factor in factors:
            size = round(fit_size * factor)
            if candidates and size > len(xf) // 2:
                break
            found, strength = _hdbscan(space, size, min(fit_samples, len(xf) - 1), memory=memory)
            found = merge_similar_clusters(xf, found, params.merge_threshold,
                                           max_rows=max(size, round(params.max_merged_share * len(xf))),
                                           same_topic=params.same_topic_threshold)
            separation = _separation(space, found, params.seed) if len(factors) > 1 else 0.0
            candidates.append(Candidate(factor, separation, _finish(x, fit, found, strength, params)))
    return candidates


def choose_granularity(
    x: np.ndarray, candidates: list[Candidate], params: ClusterParams, margin: float = GRANULARITY_MARGIN
) -> Candidate:
    """The finest candidate, unless a coarser one separates its themes `margin` better (the best
    such, ties to the finer) without losing more than GRANULARITY_COSINE_DROP of the finest's
    silhouette in the original space; a coarser one leaving a theme over `max_merged_share` of the
    window only counts when its structure is strong. A finest theme that the coarser size left
    unclustered, or put in a theme about something else, stays a theme of its own."""
    finest = candidates[0]
    better = [c for c in candidates[1:] if c.separation >= finest.separation + margin and (
        c.separation >= STRONG_STRUCTURE or _largest_share(c.result.labels) <= params.max_merged_share)]
    if better:
        floor = _separation(x, finest.result.labels, params.seed, metric="cosine") - GRANULARITY_COSINE_DROP
        better = [c for c in better if _separation(x, c.result.labels, params.seed, metric="cosine") >= floor]
    chosen = max(better, key=lambda c: c.separation, default=finest)
    if chosen is finest:
        return finest
    return Candidate(chosen.factor, chosen.separation, _keep_small_themes(x, finest.result, chosen.result, params))


def _keep_small_themes(x: np.ndarray, fine: ClusterResult, coarse: ClusterResult,
                       params: ClusterParams) -> ClusterResult:
    # A larger minimum size cannot hold a small topic: a new issue of 10 tickets in a window of
    # five topics of 100 became unclustered or part of a big theme about something else (CLINC150
    # train windows, 4 of 4), which would hide exactly what the weekly digest must flag. A fine
    # theme whose tickets mostly end up unclustered, or in a theme whose centroid its own would
    # not reach as a ticket (reassign_threshold), is given back; on the tuning windows the
    # fragments of a large topic sat at 0.63-0.99 to their coarse theme, all but two (0.49, 0.51).
    labels, probabilities = coarse.labels.copy(), coarse.probabilities.copy()
    next_id = int(labels.max()) + 1
    for theme in range(int(fine.labels.max()) + 1):
        members = fine.labels == theme
        hosts, counts = np.unique(coarse.labels[members], return_counts=True)
        host = int(hosts[np.argmax(counts)])
        if host >= 0 and float(fine.centroids[theme] @ coarse.centroids[host]) >= params.reassign_threshold:
            continue
        labels[members], probabilities[members] = next_id, fine.probabilities[members]
        next_id += 1
    labels = canonical_labels(labels)
    return ClusterResult(labels=labels, probabilities=probabilities, centroids=cluster_centroids(x, labels),
                         outlier_share_before=coarse.outlier_share_before,
                         outlier_share=float(np.mean(labels < 0)), fit_rows=coarse.fit_rows)


def _finish(x: np.ndarray, fit: np.ndarray, found: np.ndarray, strength: np.ndarray,
            params: ClusterParams) -> ClusterResult:
    """From the fitted rows' clusters to every row's theme: strays out, outliers rescued."""
    n = len(x)
    labels, probabilities = np.full(n, -1, dtype=np.int64), np.zeros(n)
    labels[fit], probabilities[fit] = found, strength
    sums = _cluster_sums(x, labels)
    centroids = normalize_rows(sums)
    labels, probabilities = _eject_strays(x, labels, probabilities, sums, params.member_floor)
    outlier_share_before = float(np.mean(labels[fit] < 0)) if n else 0.0
    labels, probabilities = _reassign_outliers(
        x, labels, probabilities, centroids, params.reassign_threshold
    )
    labels = canonical_labels(labels)
    return ClusterResult(
        labels=labels,
        probabilities=probabilities,
        centroids=cluster_centroids(x, labels),
        outlier_share_before=outlier_share_before,
        outlier_share=float(np.mean(labels < 0)) if n else 0.0,
        fit_rows=len(fit),
    )


@contextmanager
def _spanning_tree_cache(enabled: bool) -> Iterator[joblib.Memory | None]:
    if not enabled:
        yield None
        return
    import joblib

    with tempfile.TemporaryDirectory(prefix="csintel-hdbscan-") as folder:
        yield joblib.Memory(folder, verbose=0)


def _largest_share(labels: np.ndarray) -> float:
    members = labels[labels >= 0]
    return float(np.bincount(members).max() / len(labels)) if len(members) else 0.0


def _separation(space: np.ndarray, labels: np.ndarray, seed: int, metric: str = "euclidean") -> float:
    """Mean silhouette of the clustered rows in `space` (a seeded sample of them on big windows);
    -1 for fewer than two themes."""
    from sklearn.metrics import silhouette_score

    members = np.flatnonzero(labels >= 0)
    if len(members) > SILHOUETTE_SAMPLE:
        members = np.sort(np.random.default_rng(seed).choice(members, SILHOUETTE_SAMPLE, replace=False))
    if len(np.unique(labels[members])) < 2:
        return -1.0
    return float(silhouette_score(space[members], labels[members], metric=metric))


def _fit_rows(n: int, params: ClusterParams) -> np.ndarray:
    if n <= params.fit_sample:
        return np.arange(n)
    rng = np.random.default_rng(params.seed)
    return np.sort(rng.choice(n, size=params.fit_sample, replace=False))


def _cache_numba_compiles() -> None:
    """Turn on numba's disk cache for UMAP's and pynndescent's compiled functions.

    Neither package marks most of its functions cache=True, so every new process compiled them
    again: ~30 s of a 38 s cold `csintel themes` on 3k tickets (profiled). With the cache on they
    are compiled once per installation (in the package's __pycache__, or numba's user cache
    directory where that is read-only); results are unchanged. pynndescent's functions that take
    the distance function (a `dist` argument) are left alone: its type differs in every process,
    so each process compiled them again and appended another entry on disk (91 MB after 129
    processes, then numba failed writing its index and clustering stopped with an error).
    """
    import inspect
    import sys

    from numba.core.caching import NullCache
    from numba.core.dispatcher import Dispatcher

    for name, module in list(sys.modules.items()):
        if module is None or name.split(".")[0] not in ("umap", "pynndescent"):
            continue
        for function in list(vars(module).values()):
            if not isinstance(function, Dispatcher) or not isinstance(getattr(function, "_cache", None), NullCache):
                continue
            if "dist" in inspect.signature(function.py_func).parameters:
                continue
            try:
                function.enable_caching()  # numba's own switch behind @njit(cache=True)
            except RuntimeError:  # no writable cache directory: compile in memory as before
                return


def _reduce(x: np.ndarray, params: ClusterParams) -> np.ndarray:
    import warnings

    import umap  # slow to import (numba): only when clustering actually runs
    from numba.core.errors import NumbaWarning

    _cache_numba_compiles()
    k = min(params.n_neighbors, len(x) - 1)
    reducer = umap.UMAP(
        # Exact neighbours from matrix products need no compiling; pynndescent's search compiles
        # for ~22 s of CPU in every new process, so it only pays off on large windows.
        precomputed_knn=_cosine_knn(x, k) if len(x) <= EXACT_NEIGHBOURS_MAX_ROWS else (None, None, None),
        n_neighbors=k,
        n_components=params.n_components,
        metric="cosine",
        min_dist=0.0,
        n_epochs=params.n_epochs,
        # Below 4,096 rows UMAP would compute all pairwise distances through a Python-level
        # callback (~12 s for 4k tickets); its approximate search takes ~1 s and scored the same.
        force_approximation_algorithm=True,
        random_state=params.seed,
        # A seed makes UMAP single-threaded. On 2 cores that cost 1.6 s at 10k rows and 3.4 s
        # (+17%) at 50k against the parallel unseeded fit (bench_themes.json, determinism_cost):
        # a small price for themes that do not change when nothing changed.
        n_jobs=1,
    )
    with warnings.catch_warnings():
        # "Cannot cache compiled function": the few that cannot be cached are compiled as before.
        warnings.filterwarnings("ignore", message=".*Cannot cache", category=NumbaWarning)
        # Exact neighbours come without pynndescent's index, which only `transform` would use.
        warnings.filterwarnings("ignore", message=".*knn_search_index")
        return np.asarray(reducer.fit_transform(x), dtype=np.float64)


def _cosine_knn(x: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """UMAP's neighbour graph exactly: each row itself first (distance 0), then its k - 1 nearest
    by cosine distance, nearest first."""
    from csintel.neighbours import nearest_neighbours

    others, sims = nearest_neighbours(x, k - 1)
    n = len(x)
    indices = np.concatenate([np.arange(n)[:, None], others], axis=1).astype(np.int32)
    dists = np.concatenate([np.zeros((n, 1), np.float32), np.clip(1.0 - sims, 0.0, 2.0)], axis=1)
    return indices, dists


def _hdbscan(space: np.ndarray, min_size: int, min_samples: int,
             memory: joblib.Memory | None = None) -> tuple[np.ndarray, np.ndarray]:
    import hdbscan

    clusterer = hdbscan.HDBSCAN(
        min_cluster_size=min_size,
        min_samples=min_samples,
        metric="euclidean",
        cluster_selection_method="eom",
        # allow_single_cluster stays off: on small windows it fused clearly separate themes.
        # The default pool of 4 processes for core distances took longer to start (~13 s on a
        # busy 2-core machine, once per run) than it saved on 50k rows.
        core_dist_n_jobs=1,
        **({"memory": memory} if memory is not None else {}),
    )
    labels = clusterer.fit_predict(np.asarray(space, dtype=np.float64))
    probabilities = np.asarray(clusterer.probabilities_, dtype=np.float64)
    return np.asarray(labels, dtype=np.int64), probabilities


def _eject_strays(
    x: np.ndarray,
    labels: np.ndarray,
    probabilities: np.ndarray,
    sums: np.ndarray,
    floor: float,
) -> tuple[np.ndarray, np.ndarray]:
    # UMAP with min_dist=0 pulls isolated tickets into the nearest dense region. Measured on
    # MiniLM: true members sit at cosine >= ~0.33 to their theme's centroid (leave-one-out),
    # unrelated tickets at ~0.1-0.2, so a floor of 0.25 only drops tickets unlike their theme.
    # The cosine is to the centroid of the other members: a ticket counted in its own centroid
    # looks close to any small group (five random directions sit at ~0.45 to their mean, at ~0 to
    # the mean of the other four), and exact neighbour graphs let UMAP gather such groups.
    labels, probabilities = labels.copy(), probabilities.astype(np.float64, copy=True)
    members = np.flatnonzero(labels >= 0)
    others = sums[labels[members]] - x[members]  # sums: each cluster's member vectors added up
    norms = np.linalg.norm(others, axis=1)
    own = np.einsum("ij,ij->i", x[members], others) / np.where(norms > 0, norms, np.inf)
    strays = members[own < floor]
    labels[strays], probabilities[strays] = -1, 0.0
    return labels, probabilities


def _reassign_outliers(
    x: np.ndarray,
    labels: np.ndarray,
    probabilities: np.ndarray,
    centroids: np.ndarray,
    threshold: float,
) -> tuple[np.ndarray, np.ndarray]:
    # One pass against the HDBSCAN centroids: rescued outliers never move a centroid, so the
    # result does not depend on the order in which outliers are visited.
    labels, probabilities = labels.copy(), probabilities.copy()
    outliers = np.flatnonzero(labels < 0)
    nearest, similarity = assign_to_centroids(x[outliers], centroids, threshold)
    join = nearest >= 0
    labels[outliers[join]] = nearest[join]
    probabilities[outliers[join]] = np.clip(similarity[join], 0.0, 1.0)
    return labels, probabilities

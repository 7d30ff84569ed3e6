"""Cluster ticket embeddings into themes: UMAP reduction, HDBSCAN, then outlier reassignment.

Pure and deterministic: the same vectors and parameters always give the same labels and the
same cluster numbering.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse

# Fewer tickets than this are an anecdote, not a theme, however small the window.
MIN_CLUSTER_FLOOR = 8
# 0.6% of the window: a 3k-ticket month gives themes of >= 18 tickets, a 10k one >= 60 (about
# 15 a week), small enough to surface an emerging bug, large enough that HDBSCAN does not shred
# one theme into near-duplicate fragments as N grows.
MIN_CLUSTER_SHARE = 0.006
# Beyond ~33k tickets a proportional minimum would swallow distinct medium themes into their
# neighbours or the noise; 200 tickets is already a headline theme.
MIN_CLUSTER_CAP = 200
# HDBSCAN's default (min_samples = min_cluster_size) marks the sparse fringe of every cluster
# as noise, the main source of BERTopic's 30-50% outliers; a third keeps the density estimate
# robust to single stray tickets yet lets the fringe in (30/10 is the pairing measured in
# ENVIRONMENT.md).
MIN_SAMPLES_RATIO = 1 / 3


@dataclass(frozen=True)
class ClusterParams:
    """Knobs of `cluster_embeddings`; None means "derive from the number of rows"."""

    min_cluster_size: int | None = None
    min_samples: int | None = None
    n_components: int = 5
    n_neighbors: int = 15
    reassign_threshold: float = 0.55  # cosine to a centroid (original space) to rescue an outlier
    member_floor: float = 0.25  # cosine to its own centroid below which a member is an outlier
    seed: int = 42


@dataclass(frozen=True)
class ClusterResult:
    """Labels per row (-1 = unclustered), membership strengths and centroids of the clusters."""

    labels: np.ndarray
    probabilities: np.ndarray
    centroids: np.ndarray  # (k, dim), L2-normalised, row i = cluster i, original space
    outlier_share_before: float
    outlier_share: float


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
    vectors = np.asarray(vectors, dtype=np.float32)
    labels = np.asarray(labels, dtype=np.int64)
    k = int(labels.max()) + 1 if labels.size and labels.max() >= 0 else 0
    rows = np.flatnonzero(labels >= 0)
    onehot = sparse.csr_matrix(
        (np.ones(len(rows), dtype=np.float32), (labels[rows], rows)), shape=(k, len(labels))
    )
    return normalize_rows(np.asarray(onehot @ vectors))


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


def cluster_embeddings(
    vectors: np.ndarray, params: ClusterParams = ClusterParams()
) -> ClusterResult:
    """Group embeddings into themes.

    UMAP (cosine, min_dist 0) reduces to `params.n_components` dimensions, HDBSCAN (euclidean,
    excess of mass) finds dense clusters there. In the original space, members whose cosine to
    their cluster centroid is below `params.member_floor` become outliers, then each outlier
    whose cosine to the nearest centroid reaches `params.reassign_threshold` joins that cluster.
    Inputs too small for UMAP's neighbour graph are clustered on the vectors directly, and
    inputs smaller than the minimum cluster size stay unclustered.

    Args:
        vectors: (N, dim) embeddings; normalised here, so any scale works.
        params: clustering parameters.

    Returns:
        Labels numbered canonically (largest cluster is 0), probabilities, centroids, and the
        outlier share before reassignment (HDBSCAN's noise plus the rows below the member
        floor) and after it.
    """
    x = np.asarray(vectors, dtype=np.float32)
    if x.ndim != 2:
        raise ValueError(f"vectors must be 2-D (N, dim), got shape {x.shape}")
    if not np.isfinite(x).all():
        raise ValueError("vectors contain NaN or infinite values")
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

    if n < min_size:
        labels, probabilities = np.full(n, -1, dtype=np.int64), np.zeros(n)
    else:
        # UMAP needs a neighbour graph and room for the embedding; with fewer than three minimum
        # clusters the reduction buys nothing and HDBSCAN on a few hundred raw rows is cheap.
        small = n < max(3 * min_size, params.n_neighbors + 2, params.n_components + 2)
        space = x if small else _reduce(x, params)
        labels, probabilities = _hdbscan(space, min_size, min(min_samples, n - 1))

    labels = canonical_labels(labels)
    centroids = cluster_centroids(x, labels)
    labels, probabilities = _eject_strays(x, labels, probabilities, centroids, params.member_floor)
    outlier_share_before = float(np.mean(labels < 0)) if n else 0.0
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
    )


def _reduce(x: np.ndarray, params: ClusterParams) -> np.ndarray:
    import umap  # slow to import (numba): only when clustering actually runs

    reducer = umap.UMAP(
        n_neighbors=min(params.n_neighbors, len(x) - 1),
        n_components=params.n_components,
        metric="cosine",
        min_dist=0.0,
        random_state=params.seed,
        n_jobs=1,  # what random_state forces anyway; saying so silences UMAP's warning
    )
    return np.asarray(reducer.fit_transform(x), dtype=np.float64)


def _hdbscan(space: np.ndarray, min_size: int, min_samples: int) -> tuple[np.ndarray, np.ndarray]:
    import hdbscan

    clusterer = hdbscan.HDBSCAN(
        min_cluster_size=min_size,
        min_samples=min_samples,
        metric="euclidean",
        cluster_selection_method="eom",
        # allow_single_cluster stays off: on small windows it fused clearly separate themes.
    )
    labels = clusterer.fit_predict(np.asarray(space, dtype=np.float64))
    probabilities = np.asarray(clusterer.probabilities_, dtype=np.float64)
    return np.asarray(labels, dtype=np.int64), probabilities


def _eject_strays(
    x: np.ndarray,
    labels: np.ndarray,
    probabilities: np.ndarray,
    centroids: np.ndarray,
    floor: float,
) -> tuple[np.ndarray, np.ndarray]:
    # UMAP with min_dist=0 pulls isolated tickets into the nearest dense region. Measured on
    # MiniLM: true members sit at cosine >= ~0.33 to their theme's centroid (leave-one-out),
    # unrelated tickets at ~0.1-0.2, so a floor of 0.25 only drops tickets unlike their theme.
    labels, probabilities = labels.copy(), probabilities.astype(np.float64, copy=True)
    members = np.flatnonzero(labels >= 0)
    own = np.einsum("ij,ij->i", x[members], centroids[labels[members]])
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

"""Semi-supervised heads: unlabelled tickets as pseudo-labelled training rows.

A team that labels 8 tickets a category almost always has thousands it did not label (the
warehouse, the file's unlabelled rows). The head fitted on the labelled rows gives each unlabelled
ticket label probabilities; those are smoothed over a k-nearest-neighbour graph of the unlabelled
tickets' embeddings (label spreading seeded with the head's probabilities, Zhou et al. 2004:
neighbours of one intent mostly share it, so a ticket the head gets wrong is often outvoted by its
neighbours), and the most probable label after smoothing becomes its pseudo-label. The head is then
refitted on the labelled rows plus every pseudo-labelled one (csintel.classify.head_selection keeps
it only where it wins on validation rows whose pseudo-labels never saw their labels).

The settings were chosen on Banking77's validation split, 5 draws of 8 labelled queries an intent
with the rest of its training queries (8,384, labels hidden) as the unlabelled pool
(benchmarks/explore_semi_supervised.py, docs/categories.md): smoothing lifted the pseudo-labels'
accuracy from 0.829 to 0.853 and the refitted head's val accuracy from 0.830 to 0.850 (the head's
own labels unsmoothed: 0.834). Keeping only confident pseudo-labels or a second round did no better.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
from scipy import sparse

from csintel.classify.calibration import softmax
from csintel.neighbours import nearest_neighbours
from csintel.text.clean import dedupe_key

NEIGHBOURS = 10          # k of the kNN graph (val: k 5 0.852, 10 0.850, 15 0.846; 5-10 alike within noise)
SIMILARITY_POWER = 3     # edge weight = cosine ** 3: near neighbours count far more than far ones
ALPHA = 0.8              # share of a row's smoothed scores that comes from its neighbours (val: 0.7 0.849, 0.8 0.850, 0.9 0.845)
ITERATIONS = 40          # ALPHA ** 40 < 1e-3: converged for argmax purposes
MAX_UNLABELLED = 20_000  # a seeded sample above this: the graph costs O(n^2) dot products
MIN_UNLABELLED = 100     # fewer unlabelled rows than this are not worth a second fit
SEED = 0


def usable_unlabelled(unlabelled: Sequence[str], labelled: Sequence[str],
                      cap: int = MAX_UNLABELLED, seed: int = SEED) -> np.ndarray:
    """Indices of the unlabelled texts worth using: non-empty, distinct, not a labelled text (a
    labelled ticket that is also in the warehouse must not vote for its own label), at most `cap`
    (a seeded sample)."""
    seen = {dedupe_key(str(t)) for t in labelled}
    keep: list[int] = []
    for i, text in enumerate(unlabelled):
        key = dedupe_key(str(text))
        if key and key not in seen:
            seen.add(key)
            keep.append(i)
    out = np.array(keep, dtype=int)
    if len(out) > cap:
        out = np.sort(np.random.default_rng(seed).choice(out, cap, replace=False))
    return out


def knn_graph(vectors: np.ndarray, k: int = NEIGHBOURS, power: float = SIMILARITY_POWER) -> sparse.csr_matrix:
    """The symmetric, degree-normalised kNN graph D^-1/2 W D^-1/2 of (L2-normalised) row vectors."""
    x = np.asarray(vectors, dtype=np.float32)
    n = len(x)
    k = min(k, n - 1)
    if k < 1:
        return sparse.csr_matrix((n, n))
    neighbours, sims = nearest_neighbours(x, k)
    weights = np.maximum(sims, 0.0) ** power
    w = sparse.csr_matrix((weights.ravel(), (np.repeat(np.arange(n), k), neighbours.ravel())), shape=(n, n))
    w = w.maximum(w.T)
    degree = np.asarray(w.sum(axis=1)).ravel()
    scale = sparse.diags(1.0 / np.sqrt(np.where(degree > 0, degree, 1.0)))
    return (scale @ w @ scale).tocsr()


def smooth(graph: sparse.csr_matrix, probs: np.ndarray, alpha: float = ALPHA,
           iterations: int = ITERATIONS) -> np.ndarray:
    """Label spreading seeded with `probs`: F <- alpha * graph @ F + (1 - alpha) * probs."""
    seed = np.asarray(probs, dtype=np.float64)
    scores = seed.copy()
    for _ in range(iterations):
        scores = alpha * (graph @ scores) + (1 - alpha) * seed
    return scores


def pseudo_labels(graph: sparse.csr_matrix, logits: np.ndarray) -> np.ndarray:
    """Each unlabelled row's label index after smoothing the head's probabilities (softmax of
    `logits`, one row per graph node) over `graph`."""
    if len(logits) == 0:
        return np.zeros(0, dtype=int)
    return np.asarray(smooth(graph, softmax(np.asarray(logits, dtype=np.float64))).argmax(axis=1), dtype=int)

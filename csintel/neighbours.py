"""Exact nearest neighbours by cosine, a block of rows at a time (shared by theme novelty and the
semi-supervised heads)."""

from __future__ import annotations

import numpy as np

# Rows of the similarity matrix held at a time (memory: BLOCK x N floats). Against 20k rows,
# blocks of 2048 took 3.6x the CPU of blocks of 512 (selection falls out of cache).
BLOCK = 512
# numpy's selection is 15-40x slower when the rank it selects lies within a few dozen of the end
# of a row (2048 x 10k similarities: 1.3-3.5 s for the top 5 or 15, 0.09 s for the top 64), so
# the top POOL are selected and the k wanted sorted out of them.
POOL = 64


def nearest_neighbours(x: np.ndarray, k: int, rows: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The `k` most similar other rows of each row in `rows` (default: all), by dot product of the
    L2-normalised rows of `x`, most similar first.

    Returns:
        Their indices (len(rows), k) and similarities (len(rows), k).
    """
    rows = np.arange(len(x)) if rows is None else np.asarray(rows)
    indices = np.zeros((len(rows), k), dtype=np.int64)
    sims_out = np.zeros((len(rows), k), dtype=np.float32)
    pool = min(max(k, POOL), len(x))
    for start in range(0, len(rows), BLOCK):
        part = rows[start:start + BLOCK]
        sims = x[part] @ x.T
        sims[np.arange(len(part)), part] = -np.inf  # not its own neighbour
        top = np.argpartition(sims, len(x) - pool, axis=1)[:, len(x) - pool:]
        top_sims = np.take_along_axis(sims, top, axis=1)
        order = np.argsort(-top_sims, axis=1, kind="stable")[:, :k]
        indices[start:start + len(part)] = np.take_along_axis(top, order, axis=1)
        sims_out[start:start + len(part)] = np.take_along_axis(top_sims, order, axis=1)
    return indices, sims_out

"""Exact nearest neighbours by cosine, a block of rows at a time (shared by theme novelty and the
semi-supervised heads)."""

from __future__ import annotations

import numpy as np

BLOCK = 2048  # rows of the similarity matrix held at a time (memory: BLOCK x N floats)


def nearest_neighbours(x: np.ndarray, k: int, rows: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The `k` most similar other rows of each row in `rows` (default: all), by dot product of the
    L2-normalised rows of `x`, in no particular order.

    Returns:
        Their indices (len(rows), k) and similarities (len(rows), k).
    """
    rows = np.arange(len(x)) if rows is None else np.asarray(rows)
    indices = np.zeros((len(rows), k), dtype=np.int64)
    sims_out = np.zeros((len(rows), k), dtype=np.float32)
    for start in range(0, len(rows), BLOCK):
        part = rows[start:start + BLOCK]
        sims = x[part] @ x.T
        sims[np.arange(len(part)), part] = -np.inf  # not its own neighbour
        top = np.argpartition(-sims, k - 1, axis=1)[:, :k]
        indices[start:start + len(part)] = top
        sims_out[start:start + len(part)] = np.take_along_axis(sims, top, axis=1)
    return indices, sims_out

"""Spot a new issue in a week that only places tickets on the current themes.

Placement puts a new ticket on the nearest theme centroid. A new issue whose tickets sit close
to an old theme (calendar sync duplicating meetings after a release, next to an old calendar
sync feature request) is placed on it at a similarity its members also reach, so the placement
cannot tell it apart: the old theme just grows, and the digest reads "spiking" instead of "new".

What does tell it apart is the neighbourhood. Tickets of an issue that existed all along have
neighbours from every week of the window; tickets of a new issue have, as their nearest
neighbours, mostly other tickets that arrived since the fit. `novel_rows` counts the new
tickets whose neighbourhood is dominated by new tickets: a tight new group, wherever it sits.
"""

from __future__ import annotations

import numpy as np

from csintel.themes.cluster import normalize_rows

NEIGHBOURS = 10
# A ticket is part of a new group when at least this share of its nearest neighbours are new
# too. Under "nothing new" the share is about the new tickets' share of the window (at most
# [themes] refit_share = 25% before a refit is due anyway): 7 of 10 then has a binomial chance
# of ~0.4%, while a new issue's tickets score 8-10 of 10.
NOVEL_NEIGHBOUR_SHARE = 0.7
# The neighbourhoods are read on a seeded uniform sample of the window of at most this many rows
# (new and old alike, so their ratio is kept): one matrix product of a few seconds at 200k.
MAX_ROWS = 20_000


def sample_rows(n: int, seed: int, max_rows: int = MAX_ROWS) -> np.ndarray:
    """A seeded uniform sample of row indices (all of them up to `max_rows`), sorted."""
    if n <= max_rows:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size=max_rows, replace=False))


def novel_rows(vectors: np.ndarray, is_new: np.ndarray, k: int = NEIGHBOURS,
               share: float = NOVEL_NEIGHBOUR_SHARE) -> np.ndarray:
    """Which new rows belong to a tight group of new rows.

    Args:
        vectors: (N, dim) embeddings of (a uniform sample of) the window.
        is_new: True for the rows that arrived since the last fit.
        k: neighbours read per row (fewer when the window is small).
        share: the share of them that must be new.

    Returns:
        A boolean per row: new, and at least `share` of its `k` nearest other rows are new.
    """
    is_new = np.asarray(is_new, dtype=bool)
    out = np.zeros(len(is_new), dtype=bool)
    rows = np.flatnonzero(is_new)
    k = min(k, len(is_new) - 1)
    if not len(rows) or k < 1:
        return out
    x = normalize_rows(vectors)
    for start in range(0, len(rows), 2_048):
        part = rows[start:start + 2_048]
        sims = x[part] @ x.T
        sims[np.arange(len(part)), part] = -np.inf  # not its own neighbour
        nearest = np.argpartition(-sims, k - 1, axis=1)[:, :k]
        out[part] = is_new[nearest].mean(axis=1) >= share
    return out

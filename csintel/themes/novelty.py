"""Spot a new issue in a week that only places tickets on the current themes.

Placement puts a new ticket on the nearest theme centroid. A new issue whose tickets sit close
to an old theme (calendar sync duplicating meetings after a release, next to an old calendar
sync feature request) is placed on it at a similarity its members also reach, so the placement
cannot tell it apart: the old theme just grows, and the digest reads "spiking" instead of "new".

What does tell it apart is the neighbourhood. Tickets of an issue that existed all along have
neighbours from every week of the window; tickets of a new issue have, as their nearest
neighbours, mostly other tickets that arrived since the fit. `novel_rows` counts the new
tickets whose neighbourhood is dominated by new tickets: a tight new group, wherever it sits.

The placements themselves are judged too: a placement is doubtful when the ticket is less like
its theme than the theme's own members are (`theme_radii`, `doubtful`), and `novel_excess` is
how many more doubtful placements came since the fit than its own tickets would give.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from csintel.neighbours import nearest_neighbours
from csintel.themes.cluster import normalize_rows

# A new ticket placed on a theme but less like it than 90% of the theme's own members (held out)
# is doubtful. Measured on the small sample: the CAL-503 tickets, an issue the fit had never seen,
# landed on the nearest theme (Gmail sync) at cosine 0.61-0.67, above the 0.55 placement
# threshold, while three quarters of that theme's own members sit at 0.77 or more.
RADIUS_QUANTILE = 0.10

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
    nearest, _ = nearest_neighbours(normalize_rows(vectors), k, rows)
    out[rows] = is_new[nearest].mean(axis=1) >= share
    return out


def held_out_similarity(vectors: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Each member's cosine to its cluster's centroid computed without it (NaN for outliers).

    A centroid sits closer to its own members than to new tickets of the same subject; leaving
    each member out gives the similarity a new ticket of the theme can expect.
    """
    x = normalize_rows(vectors)
    labels = np.asarray(labels, dtype=np.int64)
    out = np.full(len(x), np.nan)
    members = np.flatnonzero(labels >= 0)
    if not len(members):
        return out
    sums = np.zeros((int(labels.max()) + 1, x.shape[1]))
    np.add.at(sums, labels[members], x[members])
    rest = sums[labels[members]] - x[members]
    norms = np.linalg.norm(rest, axis=1)
    out[members] = np.einsum("ij,ij->i", x[members], rest) / np.where(norms > 0, norms, 1.0)
    return out


def theme_radii(held_out: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    """Per cluster 0..k-1, the held-out cosine that all but RADIUS_QUANTILE of its members reach."""
    labels = np.asarray(labels, dtype=np.int64)
    return np.array([float(np.quantile(held_out[labels == c], RADIUS_QUANTILE)) if (labels == c).any() else 0.0
                     for c in range(k)])


def doubtful(nearest: np.ndarray, similarity: np.ndarray, radii: np.ndarray) -> np.ndarray:
    """Placements the themes do not vouch for: no theme, or less like it than its members are.

    Args:
        nearest: theme index per ticket, -1 for none (as from `assign_to_centroids`).
        similarity: cosine to that theme.
        radii: per theme, from `theme_radii`.
    """
    nearest = np.asarray(nearest, dtype=np.int64)
    if not len(radii):
        return np.ones(len(nearest), dtype=bool)
    return (nearest < 0) | (np.asarray(similarity) < radii[np.maximum(nearest, 0)])


def novel_excess(doubtful_count: int, placed: int, expected_share: float) -> float:
    """Doubtful placements since the fit beyond what its own tickets would give (its
    `doubtful_share`): the mass of something the fit has no theme for."""
    return doubtful_count - expected_share * placed


def earlier_placements(placed: pd.DataFrame, theme_ids: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """The theme index (-1 for none) and similarity of tickets placed by earlier runs.

    Args:
        placed: rows of the window with `placed_theme` and `probability` (the cosine stored
            when they were placed).
        theme_ids: the fit's theme ids, in the order of its centroids.
    """
    index = {theme_id: i for i, theme_id in enumerate(theme_ids)}
    nearest = np.array([index.get(t, -1) if isinstance(t, str) else -1 for t in placed["placed_theme"]],
                       dtype=np.int64)
    return nearest, placed["probability"].fillna(0.0).to_numpy(dtype=np.float64)

"""Stable theme identity: match a fit's clusters to the themes of the fit before it.

A theme keeps its id from fit to fit when its centroid stays close, so trends and digests can
follow it over weeks even though every fit reclusters the window from scratch; what happened to
each theme (born, split off another, continued, merged into another, retired) is recorded as an
event.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment

from csintel.themes.cluster import normalize_rows

# Centroids of the same MiniLM theme in two windows sit at cosine >= ~0.85 once a theme has a
# few dozen tickets, distinct themes below ~0.5; 0.8 keeps an id only for the same subject.
MATCH_THRESHOLD = 0.80
# Between unrelated (< ~0.5) and the same theme (>= 0.8): a new cluster this close to an existing
# theme split off it, an unmatched theme this close to a kept cluster was merged into it.
RELATED_THRESHOLD = 0.60
ID_PREFIX = "th-"
# Centroids are hashed after rounding so that float noise in the last digits (another BLAS,
# another CPU) almost never changes a new theme's id; matching, not the id, carries identity.
ID_DECIMALS = 3

KEPT, BORN, MERGED = "kept", "born", "merged"
FADED, SPLIT = "faded", "split"
# Lifecycle events, one per theme per fit (the `theme_events` view).
EVENT_BORN, EVENT_SPLIT, EVENT_CONTINUED = "born", "split", "continued"
EVENT_MERGED, EVENT_RETIRED = "merged", "retired"


@dataclass(frozen=True)
class ThemeMatch:
    """What one new cluster became.

    status: "kept" (matched an existing theme, keeps its id), "born" (a new id) or "merged"
    (kept an id and also absorbed other existing themes, listed in `absorbed`). similarity is
    the cosine to the matched theme, for a born cluster to its parent or else its nearest
    existing theme, None when there were no existing themes. parent is set on a born cluster
    that split off an existing theme (kept or not).
    """

    cluster: int
    theme_id: str
    status: str
    similarity: float | None
    parent: str | None = None
    absorbed: tuple[str, ...] = ()


@dataclass(frozen=True)
class ThemeFate:
    """What an existing theme that no cluster matched became.

    "merged" into a kept theme (`into`), "split" into born clusters that all name it their
    parent (`children`), or "faded" with no successor.
    """

    theme_id: str
    status: str
    into: str | None  # the id of the theme it merged into
    similarity: float | None  # cosine to the most similar new cluster
    children: tuple[str, ...] = ()


@dataclass(frozen=True)
class Reconciliation:
    """New clusters with their ids, and the fate of the existing themes left unmatched."""

    matches: list[ThemeMatch]
    retired: list[ThemeFate]


@dataclass(frozen=True)
class ThemeEvent:
    """What one fit did to one theme (a row of the `theme_events` view).

    event: "born" (new, no parent), "split" (new, split off `related_ids[0]`), "continued"
    (kept its id; `related_ids` lists the themes it absorbed and those split off it), "merged"
    (absorbed into `related_ids[0]`) or "retired" (no successor; `related_ids` lists the themes
    it split into, if it dissolved into them). similarity: cosine to the matched theme, the
    parent, the survivor, or else the nearest theme or cluster (None with nothing to compare).
    """

    theme_id: str
    event: str
    related_ids: tuple[str, ...]
    similarity: float | None


def centroid_theme_id(centroid: np.ndarray, salt: int = 0) -> str:
    """A content-derived id: "th-" + 8 hex digits of the SHA-1 of the rounded centroid.

    Derived from the centroid rather than from member ticket ids so that it needs nothing but
    what matching already uses, and the same clustering always names a new theme the same way.
    A non-zero salt gives an alternative id when the first collides.
    """
    rounded = np.round(normalize_rows(np.atleast_2d(centroid))[0].astype(np.float64), ID_DECIMALS)
    payload = (rounded + 0.0).astype("<f8").tobytes()  # + 0.0 folds -0.0 into 0.0
    if salt:
        payload += salt.to_bytes(4, "little")
    return ID_PREFIX + hashlib.sha1(payload).hexdigest()[:8]


def reconcile_themes(
    centroids: np.ndarray,
    existing_ids: Sequence[str],
    existing_centroids: np.ndarray,
    threshold: float = MATCH_THRESHOLD,
    new_id: Callable[[int], str] | None = None,
    related_threshold: float = RELATED_THRESHOLD,
    reserved_ids: Collection[str] = (),
) -> Reconciliation:
    """Give every new cluster a theme id and say what became of the existing themes.

    Clusters and themes are paired one to one maximising total cosine similarity
    (linear_sum_assignment) over pairs at or above `threshold`; a paired cluster keeps the
    theme's id. When a theme splits, its centroid leans towards the bigger part, so the bigger
    part usually keeps the id. Other clusters are born with a new id; one at or above
    `related_threshold` to an existing theme records the most similar as its parent (a split).
    An unmatched theme at or above `related_threshold` to a kept cluster merged into it; else,
    when born clusters name it their parent, it split into them (no part was close enough to
    keep its id); otherwise it faded.

    Args:
        centroids: (k, dim) centroids of this run's clusters; row i = cluster i.
        existing_ids: ids of the known themes.
        existing_centroids: (m, dim) their centroids, in the same order.
        threshold: minimum cosine for a cluster to keep a theme's id.
        new_id: cluster number -> id for born clusters; default `centroid_theme_id`.
        related_threshold: minimum cosine to call a born cluster a split, an unmatched theme
            merged.
        reserved_ids: ids a born cluster must not take besides `existing_ids` (themes retired
            earlier), so an id always names one theme.

    Returns:
        One ThemeMatch per cluster in cluster order, and one ThemeFate per unmatched theme in
        the order of `existing_ids`.

    Raises:
        ValueError: on mismatched shapes, duplicate existing ids, or a `new_id` that collides.
    """
    new, old, ids = _matrix(centroids), _matrix(existing_centroids), list(existing_ids)
    if len(ids) != len(old):
        raise ValueError(f"{len(ids)} existing ids but {len(old)} existing centroids")
    if len(set(ids)) != len(ids):
        raise ValueError("existing theme ids must be unique")
    if len(new) and len(old) and new.shape[1] != old.shape[1]:
        raise ValueError(f"centroid dimensions differ: {new.shape[1]} vs {old.shape[1]}")

    sims = np.zeros((len(new), len(old)))
    if len(new) and len(old):
        sims = (new @ old.T).astype(np.float64)
    # Pairs below the threshold are worth nothing, so the assignment maximises the similarity
    # of the pairs that count instead of trading a strong pair for two weak ones.
    eligible = np.where(sims >= threshold, sims, 0.0)
    rows, cols = linear_sum_assignment(eligible, maximize=True)
    matched = {int(r): int(c) for r, c in zip(rows, cols) if sims[r, c] >= threshold}
    kept_themes = set(matched.values())

    every = set(range(len(ids)))
    taken = set(ids) | set(reserved_ids)
    matches: list[ThemeMatch] = []
    born_of: dict[int, list[str]] = {}  # existing theme -> ids of the born clusters split off it
    for i in range(len(new)):
        if i in matched:
            continue
        parent, similarity = _related(sims[i], every, related_threshold)
        theme_id = _fresh_id(i, new[i], taken, new_id)
        taken.add(theme_id)
        if parent is not None:
            born_of.setdefault(parent, []).append(theme_id)
        matches.append(ThemeMatch(i, theme_id, BORN, similarity,
                                  parent=ids[parent] if parent is not None else None))

    absorbed: dict[int, list[int]] = {}
    retired: list[ThemeFate] = []
    for j, theme_id in enumerate(ids):
        if j in kept_themes:
            continue
        into, similarity = _related(sims[:, j], set(matched), related_threshold)
        if into is not None:
            absorbed.setdefault(into, []).append(j)
            retired.append(ThemeFate(theme_id, MERGED, ids[matched[into]], similarity))
        elif j in born_of:
            retired.append(ThemeFate(theme_id, SPLIT, None, similarity, children=tuple(born_of[j])))
        else:
            retired.append(ThemeFate(theme_id, FADED, None, similarity))

    for i, j in matched.items():
        merged_ids = tuple(ids[m] for m in absorbed.get(i, []))
        status = MERGED if merged_ids else KEPT
        matches.append(ThemeMatch(i, ids[j], status, float(sims[i, j]), absorbed=merged_ids))
    matches.sort(key=lambda m: m.cluster)
    return Reconciliation(matches=matches, retired=retired)


def lifecycle_events(reconciliation: Reconciliation) -> list[ThemeEvent]:
    """One event per theme touched by a reconciliation: every new cluster and every old theme.

    Returns:
        The clusters' events in cluster order, then the unmatched themes' in their order.
    """
    children: dict[str, list[str]] = {}
    for m in reconciliation.matches:
        if m.status == BORN and m.parent is not None:
            children.setdefault(m.parent, []).append(m.theme_id)
    events = []
    for m in reconciliation.matches:
        if m.status == BORN:
            kind, related = (EVENT_SPLIT, (m.parent,)) if m.parent is not None else (EVENT_BORN, ())
            events.append(ThemeEvent(m.theme_id, kind, related, m.similarity))
        else:
            related = m.absorbed + tuple(children.get(m.theme_id, ()))
            events.append(ThemeEvent(m.theme_id, EVENT_CONTINUED, related, m.similarity))
    for f in reconciliation.retired:
        if f.status == MERGED and f.into is not None:
            events.append(ThemeEvent(f.theme_id, EVENT_MERGED, (f.into,), f.similarity))
        else:
            events.append(ThemeEvent(f.theme_id, EVENT_RETIRED, f.children, f.similarity))
    return events


def match_to_themes(
    centroids: np.ndarray,
    existing_ids: Sequence[str],
    existing_centroids: np.ndarray,
    threshold: float = MATCH_THRESHOLD,
    new_id: Callable[[int], str] | None = None,
) -> list[ThemeMatch]:
    """Give every new cluster a theme id: the matches of `reconcile_themes`, which see.

    Use `reconcile_themes` to also learn which existing themes faded or merged.
    """
    return reconcile_themes(centroids, existing_ids, existing_centroids, threshold, new_id).matches


def _matrix(centroids: np.ndarray) -> np.ndarray:
    a = np.asarray(centroids, dtype=np.float32)
    if a.size == 0 and a.ndim < 2:  # [] for "no themes yet"
        a = a.reshape(0, 0)
    if a.ndim != 2:
        raise ValueError(f"centroids must be 2-D (k, dim), got shape {a.shape}")
    return normalize_rows(a)


def _related(
    row: np.ndarray, candidates: set[int], related_threshold: float
) -> tuple[int | None, float | None]:
    """The most similar candidate at or above the threshold (or None), and the similarity to
    it, else to the nearest of all (None when there is nothing to compare with)."""
    if not len(row):
        return None, None
    pool = sorted(candidates)
    if pool:
        best = pool[int(np.argmax(row[pool]))]
        if row[best] >= related_threshold:
            return best, float(row[best])
    return None, float(row.max())


def _fresh_id(
    cluster: int, centroid: np.ndarray, taken: set[str], new_id: Callable[[int], str] | None
) -> str:
    if new_id is not None:
        theme_id = new_id(cluster)
        if theme_id in taken:
            raise ValueError(f"new_id({cluster}) returned {theme_id!r}, which is already in use")
        return theme_id
    salt = 0
    theme_id = centroid_theme_id(centroid)
    while theme_id in taken:
        salt += 1
        theme_id = centroid_theme_id(centroid, salt)
    return theme_id

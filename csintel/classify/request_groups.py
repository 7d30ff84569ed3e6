"""Naming and grouping feature requests: the name of what is asked for, and groups of similar
asks by the phrases' embeddings, so "dark mode" and "a dark theme" land in one group across weeks.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Sequence

import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage

from csintel.classify.requests import BUG_OBJECT, RULES, RequestRules, howto_object, normalise_phrase
from csintel.text import split_sentences

SLUG_STOPWORDS = frozenset({
    "a", "an", "the", "of", "for", "to", "in", "on", "with", "by", "at", "from", "and", "or", "our", "my", "your",
    "us", "me", "we", "i", "is", "be", "it", "that", "this",
})
SLUG_MAX = 60


def capability_name(phrase: str | None, text: str) -> str | None:
    """The name of what is asked for: the cue's phrase when it names a capability, else the object
    of a how-to question, else a short opening line (an issue title, a subject), else None (the ask
    is counted but joins no group: a group named "fix" or "way" tells a PM nothing)."""
    if phrase and names_capability(phrase):
        return phrase
    sentences = split_sentences((text or "").replace("’", "'"))
    candidates = [howto_object(sentences)]
    # Only a real title line (a subject, an issue title: a first line with more text below it).
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    while lines and GREETING.match(lines[0]) and len(lines[0].split()) <= 3:   # "Hello," "Hi team,"
        lines = lines[1:]
    opening = lines[0] if len(lines) > 1 else ""
    if opening and not GREETING.match(opening) and len(opening.split()) <= MAX_TITLE_WORDS \
            and not opening.endswith(("?", "!")):
        candidates.append(normalise_phrase(opening))
    for candidate in candidates:
        if candidate and names_capability(candidate) and not BUG_OBJECT.search(candidate):
            return candidate
    return None


GREETING = re.compile(r"^\s*(?:hi|hello|hey|dear|good\s+(?:morning|afternoon|evening)|thanks|thank\s+you|greetings)\b",
                      re.IGNORECASE)
MAX_TITLE_WORDS = 10   # a longer opening sentence is a story, not a title


def names_capability(phrase: str, rules: RequestRules = RULES) -> bool:
    """Whether a phrase can name a request group: not "fix", "way", "set", "this sorted first"."""
    words = phrase.lower().split()
    if not words or phrase.lower() in rules.unnamed or rules.unnamed_start.search(phrase):
        return False
    content = [w for w in words if w not in SLUG_STOPWORDS and w not in rules.unnamed]
    return bool(content) and any(len(w) > 2 for w in content)


def slugify(phrase: str) -> str:
    """A URL-safe id from a phrase: "bulk edit of deals" -> "bulk-edit-deals"."""
    ascii_text = unicodedata.normalize("NFKD", phrase or "").encode("ascii", "ignore").decode().lower()
    words = re.findall(r"[a-z0-9]+", ascii_text)
    kept = [w for w in words if w not in SLUG_STOPWORDS] or words
    slug = ""
    for word in kept:
        candidate = f"{slug}-{word}" if slug else word
        if len(candidate) > SLUG_MAX:
            break
        slug = candidate
    return slug or (kept[0][:SLUG_MAX] if kept else "request")


def group_requests(phrases: Sequence[str], vectors: np.ndarray,
                   existing: Sequence[tuple[str, str, np.ndarray]] = (), threshold: float = 0.72,
                   ) -> tuple[list[str], list[tuple[str, str, np.ndarray]]]:
    """Assign each phrase to a request group.

    A phrase joins the most similar existing group when their cosine is >= `threshold`; the
    rest are clustered among themselves (average linkage, cut at cosine distance
    1 - threshold, over the phrases in sorted order so input order does not matter). A new
    group's id is the slug of its most central phrase, made unique; its centroid is the
    normalised mean of its members.

    Returns:
        (group id per phrase, new groups as (group_id, label, centroid)).

    Raises:
        ValueError: `vectors` does not have one row per phrase.
    """
    n = len(phrases)
    given = np.asarray(vectors)
    if n == 0:
        return [], []
    if given.ndim != 2 or given.shape[0] != n:
        raise ValueError(f"group_requests: {n} phrases but vectors has shape {given.shape}")
    dtype = given.dtype if np.issubdtype(given.dtype, np.floating) else np.float64
    unit = _normalise_rows(given.astype(np.float64))
    ids: list[str | None] = [None] * n
    taken = {gid for gid, _, _ in existing}
    # Centroids of another dimension come from an earlier embedding model: they cannot match.
    usable = [(gid, np.asarray(c, dtype=np.float64).ravel()) for gid, _, c in existing]
    usable = [(gid, c) for gid, c in usable if c.shape[0] == unit.shape[1]]
    if usable:
        centroids = _normalise_rows(np.vstack([c for _, c in usable]))
        sims = unit @ centroids.T
        best = sims.argmax(axis=1)
        for i in range(n):
            if sims[i, best[i]] >= threshold:
                ids[i] = usable[best[i]][0]
    rest = sorted((i for i in range(n) if ids[i] is None), key=lambda i: (phrases[i], i))
    created: list[tuple[str, str, np.ndarray]] = []
    for members in _clusters(unit, rest, threshold):
        sims = unit[members] @ unit[members].T
        centrality = sims.sum(axis=1)
        order = sorted(range(len(members)),
                       key=lambda k: (-round(float(centrality[k]), 6), len(phrases[members[k]]), phrases[members[k]]))
        label = phrases[members[order[0]]]
        gid = _unique(slugify(label), taken)
        taken.add(gid)
        centroid = _normalise_rows(unit[members].mean(axis=0, keepdims=True))[0].astype(dtype)
        for i in members:
            ids[i] = gid
        created.append((gid, label, centroid))
    return [gid or "" for gid in ids], created


def _normalise_rows(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return np.divide(matrix, norms, out=np.zeros_like(matrix), where=norms > 0)


def _clusters(unit: np.ndarray, indices: list[int], threshold: float) -> list[list[int]]:
    """Groups of `indices`, ordered by their first member in `indices`."""
    if not indices:
        return []
    if len(indices) == 1:
        return [indices]
    distances = np.clip(1.0 - unit[indices] @ unit[indices].T, 0.0, 2.0)
    condensed = distances[np.triu_indices(len(indices), k=1)]
    labels = fcluster(linkage(condensed, method="average"), t=1.0 - threshold, criterion="distance")
    groups: dict[int, list[int]] = {}
    for position, label in enumerate(labels):
        groups.setdefault(int(label), []).append(indices[position])
    return list(groups.values())


def _unique(slug: str, taken: set[str]) -> str:
    if slug not in taken:
        return slug
    n = 2
    while f"{slug}-{n}" in taken:
        n += 1
    return f"{slug}-{n}"

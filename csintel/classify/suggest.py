"""`csintel taxonomy suggest`: draft categories from the user's own tickets.

The shipped taxonomy is written for a B2B SaaS product; on anything else (consumer support, IT
helpdesks) many tickets fit no category and the rest are forced into the nearest wrong one. This
drafts a taxonomy from the tickets themselves: their themes (the same UMAP + HDBSCAN clustering
as `csintel themes`) become categories, each with a name from its keywords, a description, and
its most central tickets as examples. The file is a starting point to edit (rename, merge, drop),
then to name in `[models] taxonomy`; `csintel train` on a few labelled tickets per category
improves it further. Root causes are copied from the current taxonomy unchanged.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from csintel.classify.enricher import Enricher
from csintel.classify.taxonomy import UNCERTAIN, Taxonomy
from csintel.text import redact_pii, short_quote

MAX_CATEGORIES = 15     # more than this is a list nobody edits; the largest themes come first
EXAMPLES = 3
QUOTE_CHARS = 160


def slug(label: str) -> str:
    """A category name from a theme label: lower case, words joined by underscores."""
    words = re.findall(r"[a-z0-9]+", label.lower())
    return "_".join(words[:4]) or "theme"


def suggest_taxonomy(texts: list[str], enricher: Enricher, current: Taxonomy, params: Any,
                     max_categories: int = MAX_CATEGORIES) -> tuple[dict[str, Any], dict[str, Any]]:
    """Draft a taxonomy (the YAML's content) from ticket texts, and figures on how the current one fits.

    Returns (taxonomy dict with `category` and `root_cause` maps, stats).
    """
    from csintel.themes.cluster import cluster_embeddings
    from csintel.themes.labels import label_clusters

    vectors = enricher.embedder.encode(texts) if texts else np.zeros((0, enricher.embedder.dim))
    tags = enricher.tag_each([str(i) for i in range(len(texts))], texts, vectors) if texts else []
    uncertain = sum(t.category.label == UNCERTAIN for t in tags)
    result = cluster_embeddings(vectors, params)
    redacted = [redact_pii(t) for t in texts]
    names = label_clusters(redacted, result.labels, vectors, categories=[t.category.label for t in tags],
                           errors=[t.errors for t in tags])
    sizes = {int(c): int((result.labels == c).sum()) for c in names}
    categories: dict[str, Any] = {}
    for c in sorted(names, key=lambda k: -sizes[k])[:max_categories]:
        theme = names[c]
        name = slug(theme.label)
        while name in categories:
            name += "_2"
        examples = [short_quote(redacted[i], QUOTE_CHARS) for i in theme.representative[:EXAMPLES]]
        categories[name] = {
            "description": f"Tickets about {', '.join(theme.keywords[:5])} ({sizes[c]} of {len(texts)} tickets "
                           f"in the drafting file).",
            "examples": examples,
        }
    draft = {"version": "", "category": categories,
             "root_cause": {s.name: {"description": s.description, "examples": list(s.examples)}
                            for s in current.tasks["root_cause"]}}
    stats = {"tickets": len(texts), "categories": len(categories),
             "uncertain_share": round(uncertain / len(texts), 4) if texts else 0.0,
             "unclustered_share": round(float((result.labels < 0).mean()), 4) if len(texts) else 0.0}
    return draft, stats


def write_draft(draft: dict[str, Any], stats: dict[str, Any], source: str, path: Path) -> None:
    """Write the draft as commented YAML the user edits (and `load_taxonomy` reads)."""
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d")
    draft = {**draft, "version": f"drafted-{stamp}"}
    header = (f"# Drafted by `csintel taxonomy suggest` from {stats['tickets']} tickets in {source} on {stamp}.\n"
              f"# With the current taxonomy {stats['uncertain_share']:.0%} of them got no category (`uncertain`).\n"
              "# Edit it: rename categories, merge or drop some, fix descriptions and examples (they steer\n"
              "# zero-shot tagging); then set `[models] taxonomy = \"<this file>\"` in csintel.toml and run\n"
              "# `csintel train --task category --labeled FILE` once you have a few labelled tickets per category.\n"
              "# Root causes are copied from the current taxonomy.\n")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(header + yaml.safe_dump(draft, sort_keys=False, allow_unicode=True, width=100), encoding="utf-8")

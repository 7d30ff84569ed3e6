"""Tagging and clustering a ticket file without a warehouse: one JSON line out per row in.

The library behind `csintel tag` and `csintel themes`; `read_tickets` (every row of a file, bad
rows with their reason) also feeds `csintel taxonomy suggest` and the benchmarks.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Callable, Iterator

import numpy as np

from csintel.classify.enricher import Enricher, RequestGroup
from csintel.model_text import model_texts
from csintel.sources.files import FileSource
from csintel.sources.records import RowError, ticket_record
from csintel.text import redact_pii
from csintel.warehouse import utcnow

if TYPE_CHECKING:
    from csintel.themes.cluster import ClusterParams

BATCH = 256


@dataclass
class FileTicket:
    row_number: int
    id: str | None
    text: str | None      # None: quarantined
    error: str | None = None


def read_tickets(path: Path, max_text_chars: int) -> Iterator[FileTicket]:
    """Every row of a ticket file, valid or not, in order (bad rows carry their reason)."""
    now = utcnow()
    for row in FileSource([path]).rows():
        raw_id = (row.data or {}).get("id")
        try:
            if row.data is None or row.error:
                raise RowError(row.error or "unreadable row")
            record = ticket_record(row.data, "file", max_text_chars=max_text_chars, ingested_at=now)
            yield FileTicket(row.row_number, record["ticket_id"], record["customer_text"])
        except RowError as exc:
            yield FileTicket(row.row_number, None if raw_id is None else str(raw_id), None, str(exc))


def tag_file(path: Path, out: IO[str], enricher: Enricher, max_text_chars: int,
             progress: Callable[[int], None] | None = None) -> tuple[int, int]:
    """Write one JSON line per input row; returns (tagged, rejected). `progress` gets the rows
    written so far after each batch."""
    tagged = rejected = 0
    groups: list[RequestGroup] = []
    batch: list[FileTicket] = []

    def flush() -> None:
        nonlocal tagged, groups
        good = [t for t in batch if t.text is not None]
        vectors = enricher.embedder.encode([t.text or "" for t in good])
        tags, new = enricher.tag([t.id or "" for t in good], [t.text or "" for t in good], vectors, groups)
        groups = [*groups, *new]
        by_row = {t.row_number: tag for t, tag in zip(good, tags)}
        for t in batch:
            line = by_row[t.row_number].to_json() if t.row_number in by_row else {"id": t.id, "error": t.error}
            out.write(json.dumps(line, ensure_ascii=False) + "\n")
        tagged += len(good)
        batch.clear()
        if progress is not None:
            progress(tagged + rejected)

    for ticket in read_tickets(path, max_text_chars):
        rejected += ticket.text is None
        batch.append(ticket)
        if len(batch) >= BATCH:
            flush()
    if batch:
        flush()
    return tagged, rejected


def theme_file(path: Path, out: IO[str], enricher: Enricher, params: ClusterParams,
               max_text_chars: int, progress: Callable[[int], None] | None = None,
               note: Callable[[str], None] | None = None) -> dict[str, float]:
    """Cluster a ticket file: one JSON line per input row {id, theme_id, theme_label, probability}.

    `progress` gets the texts encoded so far after each batch; `note` a line as each later step starts.
    """
    # Clustering's libraries (UMAP, HDBSCAN, scikit-learn) load here, not for `csintel tag`.
    from csintel.themes.cluster import cluster_embeddings
    from csintel.themes.identity import match_to_themes
    from csintel.themes.labels import label_clusters

    rows = list(read_tickets(path, max_text_chars))
    good = [t for t in rows if t.text is not None]
    texts = [t.text or "" for t in good]
    parts = []
    for i in range(0, len(texts), BATCH):
        parts.append(enricher.embedder.encode(texts[i:i + BATCH]))
        if progress is not None:
            progress(i + len(parts[-1]))
    vectors = np.concatenate(parts) if parts else np.zeros((0, enricher.embedder.dim), dtype=np.float32)
    if note is not None:
        note(f"tagging and clustering {len(texts):,} tickets")
    # Categories and error codes name the themes; request groups are not needed, so no grouping.
    tags = enricher.tag_each([t.id or "" for t in good], texts, vectors) if texts else []
    # Themes see the text without handles, URLs, templates and greetings: re-encode only the
    # tickets that had some (the tags above read the customer's full words).
    seen = model_texts(texts)
    changed = [i for i, (m, t) in enumerate(zip(seen, texts)) if m != t]
    if changed:
        vectors = vectors.copy()
        vectors[changed] = enricher.embedder.encode([seen[i] for i in changed])
    # cluster_embeddings already merges fragments of one theme (params.merge_threshold).
    result = cluster_embeddings(vectors, params)
    labels = result.labels
    names = label_clusters([redact_pii(t) for t in seen], labels, vectors, categories=[t.category.label for t in tags],
                           errors=[t.errors for t in tags])
    theme_of = {m.cluster: m.theme_id
                for m in match_to_themes(result.centroids, [], np.zeros((0, vectors.shape[1])))}
    assigned = {}
    for t, c, p in zip(good, labels, result.probabilities):
        c = int(c)
        assigned[t.row_number] = {"theme_id": theme_of.get(c) if c >= 0 else None,
                                  "theme_label": names[c].label if c >= 0 else None,
                                  "probability": round(float(p), 4) if c >= 0 else None}
    for t in rows:
        line = {"id": t.id, **assigned.get(t.row_number, {"theme_id": None, "theme_label": None, "probability": None})}
        if t.text is None:
            line["error"] = t.error
        out.write(json.dumps(line, ensure_ascii=False) + "\n")
    return {"tickets": len(good), "rejected": len(rows) - len(good), "themes": len(theme_of),
            "unclustered_share": float((labels < 0).mean()) if len(labels) else 0.0}

"""The enrich stage: embed and tag the tickets of a period that lack current tags.

Tagging a batch is a pure function of its texts and the settings (`tag_batch`), so batches can
run anywhere: in this process, or on Dask workers (flows/enrich.py). Everything that touches the
warehouse stays in the calling process: reading what to tag, assigning request groups (each
batch's new groups depend on the batches before it, so they are assigned in order), and writing
each batch in one transaction. A kill loses at most the batches in flight; a rerun redoes those.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable, Iterable, Iterator

import duckdb
import numpy as np
import pandas as pd
from tqdm import tqdm

from csintel.classify.enricher import Enricher, RequestGroup, TicketTags
from csintel.embed import load_vectors
from csintel.warehouse import query, transaction, upsert, utcnow

BATCH = 256   # one transaction per batch: a crash loses at most one batch of work, never data


@dataclass
class EnrichReport:
    tagged: int = 0
    already_current: int = 0
    model_version: str = ""
    encoded: int = 0              # texts the model encoded; the rest came from the embedding cache


@dataclass
class TagJob:
    """One batch to tag, self-contained so it can be shipped to a worker."""

    ids: list[str]
    texts: list[str]
    hashes: list[str]
    known: dict[str, np.ndarray] = field(default_factory=dict)   # cached vectors by content hash


@dataclass
class TaggedBatch:
    """What tagging one batch produced: tags (request groups unassigned) and new vectors."""

    tags: list[TicketTags]
    encoded: dict[str, np.ndarray]       # content hash -> vector, for the embedding cache
    request_vectors: np.ndarray          # of the batch's request phrases, for grouping


# Maps jobs to their results, in order and lazily (the next job is built after a batch is written).
Tagger = Callable[[Iterable[TagJob]], Iterator[TaggedBatch]]


def tag_batch(enricher: Enricher, job: TagJob) -> TaggedBatch:
    """Embed the batch's texts that the cache lacks and tag every ticket; touches no warehouse."""
    missing = {h: t for h, t in zip(job.hashes, job.texts) if h not in job.known}
    keys = list(missing)
    new = enricher.embedder.encode([missing[k] for k in keys]) if keys else []
    encoded = {k: np.asarray(v, dtype=np.float32) for k, v in zip(keys, new)}
    vectors = np.stack([job.known.get(h, encoded.get(h)) for h in job.hashes]).astype(np.float32)
    tags = enricher.tag_each(job.ids, job.texts, vectors)
    return TaggedBatch(tags, encoded, enricher.request_vectors(tags))


def local_tagger(enricher: Enricher) -> Tagger:
    """Tag each batch in this process, one after another."""
    return lambda jobs: (tag_batch(enricher, job) for job in jobs)


def enrich(con: duckdb.DuckDBPyConnection, enricher: Enricher, since: datetime, until: datetime,
           *, progress: bool = False, tagger: Tagger | None = None) -> EnrichReport:
    """Tag every ticket active in [since, until) whose tags are missing or stale; idempotent.

    `tagger` runs the batches (default: here, in order); results are written here, in order.
    """
    version = enricher.version
    todo = con.execute(query("tickets_to_tag"), {"model_version": version, "since": since, "until": until}).df()
    total = con.execute("SELECT count(*) FROM store.tickets WHERE activity_at >= ? AND activity_at < ?",
                        [since, until]).fetchone()[0]
    groups = load_request_groups(con, version)
    batches = [todo.iloc[start:start + BATCH] for start in range(0, len(todo), BATCH)]
    # Texts first encoded by this run are encoded again by any later batch that holds them, so
    # what a batch encodes never depends on how many earlier batches are written yet (which
    # differs on Dask). It matters: an int8 encoder's vectors depend on the rest of its batch.
    fresh: set[str] = set()
    jobs = (_job(con, enricher.embedder.name, batch, fresh) for batch in batches)
    report = EnrichReport(tagged=len(todo), already_current=total - len(todo), model_version=version)
    bar = tqdm(total=len(todo), desc="tagging", unit="ticket", disable=not progress or len(todo) == 0)
    for batch, done in zip(batches, (tagger or local_tagger(enricher))(jobs)):
        new_groups = enricher.group(done.tags, groups, done.request_vectors)
        with transaction(con):
            _cache_vectors(con, enricher.embedder.name, done.encoded)
            _write(con, batch, done.tags, new_groups, version)
        groups = [*groups, *new_groups]
        fresh.update(done.encoded)
        report.encoded += len(done.encoded)
        bar.update(len(batch))
    bar.close()
    return report


def _job(con: duckdb.DuckDBPyConnection, model: str, batch: pd.DataFrame, fresh: set[str]) -> TagJob:
    hashes = batch["content_hash"].tolist()
    known = {h: v for h, v in load_vectors(con, model, hashes).items() if h not in fresh}
    return TagJob(batch["ticket_id"].tolist(), batch["customer_text"].tolist(), hashes, known)


def _cache_vectors(con: duckdb.DuckDBPyConnection, model: str, vectors: dict[str, np.ndarray]) -> None:
    upsert(con, "store.embeddings", pd.DataFrame(
        {"content_hash": list(vectors), "model": model, "vector": [v.tolist() for v in vectors.values()]}))


def load_request_groups(con: duckdb.DuckDBPyConnection, version: str) -> list[RequestGroup]:
    rows = con.execute("SELECT group_id, label, centroid FROM store.request_groups WHERE model_version = ? "
                       "ORDER BY created_at, group_id", [version]).fetchall()
    return [RequestGroup(g, label, np.asarray(c, dtype=np.float32)) for g, label, c in rows]


def _write(con: duckdb.DuckDBPyConnection, batch: pd.DataFrame, tags: list[TicketTags],
           new_groups: list[RequestGroup], version: str) -> None:
    now = utcnow()
    rows, mentions = [], []
    for (_, ticket), t in zip(batch.iterrows(), tags):
        rows.append({
            "source": ticket["source"], "ticket_id": ticket["ticket_id"], "model_version": version,
            "content_hash": ticket["content_hash"],
            "category": t.category.label, "category_confidence": t.category.confidence,
            "root_cause": t.root_cause.label, "root_cause_confidence": t.root_cause.confidence,
            "sentiment": t.sentiment.label, "sentiment_score": t.sentiment.score,
            "churn_language": t.sentiment.churn_language,
            "is_feature_request": t.is_request, "request_text": t.request, "request_group": t.group,
            "errors": list(t.errors), "tagged_at": now,
        })
        for n, m in enumerate(t.competitors):
            mentions.append({"source": ticket["source"], "ticket_id": ticket["ticket_id"], "model_version": version,
                             "mention_no": n, "competitor": m.name, "context": m.context,
                             "competitive": m.competitive, "sentence": m.sentence})
    keys = batch[["source", "ticket_id"]].copy()
    con.register("_retag", keys)
    try:
        # A re-tagged ticket may have fewer mentions than before: clear its old ones first.
        con.execute("DELETE FROM store.competitor_mentions m USING _retag r "
                    "WHERE m.source = r.source AND m.ticket_id = r.ticket_id AND m.model_version = ?", [version])
    finally:
        con.unregister("_retag")
    upsert(con, "store.ticket_tags", pd.DataFrame(rows))
    upsert(con, "store.competitor_mentions", pd.DataFrame(mentions))
    upsert(con, "store.request_groups", pd.DataFrame([
        {"group_id": g.group_id, "model_version": version, "label": g.label,
         "centroid": g.centroid.tolist(), "created_at": now} for g in new_groups]))


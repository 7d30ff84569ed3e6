"""The enrich stage: embed and tag the tickets of a period that lack current tags."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import duckdb
import numpy as np
import pandas as pd
from tqdm import tqdm

from csintel.classify.enricher import Enricher, RequestGroup, TicketTags
from csintel.embed import embed_cached
from csintel.warehouse import query, transaction, upsert, utcnow

BATCH = 256   # one transaction per batch: a crash loses at most one batch of work, never data


@dataclass
class EnrichReport:
    tagged: int = 0
    already_current: int = 0
    model_version: str = ""


def enrich(con: duckdb.DuckDBPyConnection, enricher: Enricher, since: datetime, until: datetime,
           *, progress: bool = False) -> EnrichReport:
    """Tag every ticket active in [since, until) whose tags are missing or stale; idempotent."""
    version = enricher.version
    todo = con.execute(query("tickets_to_tag"), {"model_version": version, "since": since, "until": until}).df()
    total = con.execute("SELECT count(*) FROM store.tickets WHERE activity_at >= ? AND activity_at < ?",
                        [since, until]).fetchone()[0]
    groups = load_request_groups(con, version)
    bar = tqdm(total=len(todo), desc="tagging", unit="ticket", disable=not progress or len(todo) == 0)
    for start in range(0, len(todo), BATCH):
        batch = todo.iloc[start:start + BATCH]
        texts = batch["customer_text"].tolist()
        vectors = embed_cached(con, enricher.embedder, batch["content_hash"].tolist(), texts)
        tags, new_groups = enricher.tag(batch["ticket_id"].tolist(), texts, vectors, groups)
        with transaction(con):
            _write(con, batch, tags, new_groups, version)
        groups = [*groups, *new_groups]
        bar.update(len(batch))
    bar.close()
    return EnrichReport(tagged=len(todo), already_current=total - len(todo), model_version=version)


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


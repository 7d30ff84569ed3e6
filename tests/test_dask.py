"""The enrich flow on a real Dask cluster (two worker processes) tags exactly like a plain run."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from csintel import enrich as enrich_lib
from csintel import pipeline
from csintel.config import load_settings
from csintel.warehouse import connect
from tests.conftest import share_onnx_exports

WEEK = "2026-W47"
TAG_COLUMNS = ["source", "ticket_id", "model_version", "content_hash", "category", "category_confidence",
               "root_cause", "root_cause_confidence", "sentiment", "sentiment_score", "churn_language",
               "is_feature_request", "request_text", "request_group", "errors"]


@pytest.fixture(scope="module")
def cluster():
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as c:
        yield c


def resent(sample: Path, root: Path) -> Path:
    """Copies of a few week-46 tickets sent again days later: the same texts in later batches."""
    rows = []
    for line in (sample / "tickets.jsonl").read_text(encoding="utf-8").splitlines():
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            continue
        if str(row.get("solved_at", "")).startswith("2026-11-1") and len(rows) < 6:
            later = (datetime.fromisoformat(row["solved_at"].replace("Z", "+00:00")) + timedelta(days=5)).isoformat()
            rows.append({**row, "id": f"AGAIN-{row['id']}", "solved_at": later, "updated_at": later})
    path = root / "resent.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def write_config(root: Path, sample: Path, name: str, address: str) -> Path:
    # A two-week window keeps the ticket set tiny (~110 tickets); the workers still load the model.
    share_onnx_exports(root)
    path = root / f"{name}.toml"
    path.write_text(f"""
[warehouse]
path = "{name}.duckdb"
[sources]
tickets = ["{sample / 'tickets.jsonl'}", "{resent(sample, root)}"]
accounts = ["{sample / 'accounts.csv'}"]
[themes]
window_weeks = 2
[dask]
address = "{address}"
""", encoding="utf-8")
    settings = load_settings(path)
    with connect(settings.warehouse_path) as con:
        pipeline.ingest_stage(con, settings)
    return path


def tables(config: Path) -> dict[str, pd.DataFrame]:
    settings = load_settings(config)
    with connect(settings.warehouse_path) as con:
        return {
            "tags": con.execute(f"SELECT {', '.join(TAG_COLUMNS)} FROM store.ticket_tags "
                                "ORDER BY source, ticket_id").df(),
            "mentions": con.execute("SELECT * EXCLUDE (model_version) FROM store.competitor_mentions "
                                    "ORDER BY source, ticket_id, mention_no").df(),
            "groups": con.execute("SELECT group_id, label, centroid FROM store.request_groups "
                                  "ORDER BY group_id").df(),
            "vectors": con.execute("SELECT t.ticket_id, e.vector FROM store.ticket_tags t JOIN store.embeddings e "
                                   "USING (content_hash) ORDER BY t.source, t.ticket_id").df(),
        }


def test_enrich_on_dask_matches_a_plain_run(cluster, small_sample, tmp_path, prefect_harness, monkeypatch):
    from distributed import Client

    from flows.enrich import enrich_flow

    # Small batches, so several go to the workers at once and come back out of order.
    monkeypatch.setattr(enrich_lib, "BATCH", 16)
    plain = write_config(tmp_path, small_sample, "plain", "")
    on_dask = write_config(tmp_path, small_sample, "dask", cluster.scheduler_address)

    plain_counts = enrich_flow(week=WEEK, config=str(plain))["enrich"]
    dask_counts = enrich_flow(week=WEEK, config=str(on_dask))["enrich"]

    assert plain_counts["tagged"] > 3 * enrich_lib.BATCH
    # Texts sent again in later batches are encoded by each batch, on Dask as here: an int8
    # encoder's vectors depend on the whole batch, so what a batch encodes must not vary.
    assert plain_counts["encoded"] == plain_counts["tagged"]
    assert dask_counts == plain_counts
    a, b = tables(plain), tables(on_dask)
    pd.testing.assert_frame_equal(a["tags"], b["tags"], check_exact=False, rtol=1e-4)
    pd.testing.assert_frame_equal(a["mentions"], b["mentions"])
    assert a["tags"]["request_group"].notna().sum() >= 2          # grouping across batches was exercised
    assert a["groups"][["group_id", "label"]].equals(b["groups"][["group_id", "label"]])
    np.testing.assert_allclose(np.stack(a["groups"]["centroid"]), np.stack(b["groups"]["centroid"]), atol=1e-5)
    assert a["vectors"]["ticket_id"].tolist() == b["vectors"]["ticket_id"].tolist()
    np.testing.assert_allclose(np.stack(a["vectors"]["vector"]), np.stack(b["vectors"]["vector"]), atol=1e-5)

    # The batches were tagged on the workers, each building its Enricher once.
    with Client(cluster) as client:
        built = client.run(lambda: len(__import__("csintel.pipeline").pipeline._ENRICHERS))
    assert sum(built.values()) >= 1 and max(built.values()) == 1

    # A rerun finds nothing to tag and starts no work on the cluster.
    assert enrich_flow(week=WEEK, config=str(on_dask))["enrich"]["tagged"] == 0

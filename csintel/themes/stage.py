"""The cluster stage: themes over a window of tagged tickets, with stable ids and weekly trends."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd

from csintel.config import ThemesConfig
from csintel.embed import Embedder, embed_cached
from csintel.themes.cluster import ClusterParams, cluster_centroids, cluster_embeddings
from csintel.themes.identity import match_to_themes
from csintel.themes.labels import label_clusters, merge_near_duplicates
from csintel.themes.trends import weekly_trends
from csintel.warehouse import fetch_df, transaction, upsert, utcnow
from csintel.weeks import Week

MODEL_VERSION = "themes-1"


@dataclass
class ThemeReport:
    tickets: int = 0
    themes: int = 0
    born: int = 0
    kept: int = 0
    outlier_share: float = 0.0
    emerging: int = 0


def cluster_params(cfg: ThemesConfig) -> ClusterParams:
    """The clusterer's parameters from the [themes] config (0 = scale the cluster size with N)."""
    return ClusterParams(min_cluster_size=cfg.min_cluster_size or None, reassign_threshold=cfg.reassign_threshold,
                         seed=cfg.seed)


def update_themes(con: duckdb.DuckDBPyConnection, embedder: Embedder, cfg: ThemesConfig, week: Week,
                  tags_version: str) -> ThemeReport:
    """Recluster the window ending with `week`, keep theme ids across runs, and refresh trends."""
    window_start = week.window_start(cfg.window_weeks)
    bounds = {"window_start": window_start.start_ts, "end": week.end_ts, "model_version": tags_version}
    tickets = fetch_df(con, "theme_window", bounds)
    if tickets.empty:
        return ThemeReport()
    vectors = embed_cached(con, embedder, tickets["content_hash"].tolist(), tickets["customer_text"].tolist())
    result = cluster_embeddings(vectors, cluster_params(cfg))
    labels = merge_near_duplicates(result.centroids, result.labels) if len(result.centroids) else result.labels
    centroids = cluster_centroids(vectors, labels)
    # Labels are read by people: build them from the redacted text.
    names = label_clusters(tickets["display_text"].tolist(), labels, vectors,
                           categories=tickets["category"].tolist(),
                           errors=[list(e) if e is not None else [] for e in tickets["errors"]])
    existing = con.execute("SELECT theme_id, centroid, first_week FROM store.themes ORDER BY theme_id").fetchall()
    existing_ids = [r[0] for r in existing]
    existing_vecs = (np.asarray([r[1] for r in existing], dtype=np.float32) if existing
                     else np.zeros((0, vectors.shape[1]), dtype=np.float32))
    first_weeks = {r[0]: r[2] for r in existing}
    matches = match_to_themes(centroids, existing_ids, existing_vecs, threshold=cfg.match_threshold)
    theme_of = {m.cluster: m.theme_id for m in matches}

    keys = (tickets["source"] + ":" + tickets["ticket_id"]).tolist()
    now = utcnow()
    theme_rows = []
    for c, theme_id in sorted(theme_of.items()):
        members = labels == c
        name = names[c]
        first = pd.Timestamp(tickets.loc[members, "week"].min()).date()
        if theme_id in first_weeks:
            first = min(first, first_weeks[theme_id])
        theme_rows.append({
            "theme_id": theme_id, "label": name.label, "keywords": list(name.keywords),
            "top_category": Counter(tickets.loc[members, "category"]).most_common(1)[0][0],
            "centroid": centroids[c].tolist(), "size": int(members.sum()),
            "example_tickets": [keys[i] for i in name.representative],
            "first_week": first, "last_run_week": week.start, "model_version": MODEL_VERSION, "updated_at": now,
        })
    probability = result.probabilities
    assignments = pd.DataFrame({
        "source": tickets["source"], "ticket_id": tickets["ticket_id"],
        "theme_id": [theme_of.get(int(c)) if c >= 0 else None for c in labels],
        "probability": [float(p) if c >= 0 else None for p, c in zip(probability, labels)],
        "run_week": week.start, "model_version": MODEL_VERSION,
    })
    with transaction(con):
        upsert(con, "store.themes", pd.DataFrame(theme_rows))
        upsert(con, "store.ticket_themes", assignments)
        min_volume = cfg.min_trend_tickets or max(5, round(0.02 * len(tickets) / cfg.window_weeks))
        weekly = _weekly_rows(con, bounds, window_start, week, min_volume, cfg.spike_z)
        con.execute("DELETE FROM store.theme_weekly WHERE week >= ? AND week <= ?", [window_start.start, week.start])
        upsert(con, "store.theme_weekly", weekly)
    this_week = weekly[weekly["week"] == week.start] if not weekly.empty else weekly
    return ThemeReport(
        tickets=len(tickets), themes=len(theme_rows),
        born=sum(m.status == "born" for m in matches), kept=sum(m.status in ("kept", "merged") for m in matches),
        outlier_share=float((labels < 0).mean()),
        emerging=int(this_week["trend"].isin(["new", "spiking"]).sum()) if not this_week.empty else 0,
    )


def _weekly_rows(con: duckdb.DuckDBPyConnection, bounds: dict, window_start: Week, week: Week,
                 min_volume: int, z_threshold: float) -> pd.DataFrame:
    counts = fetch_df(con, "theme_weekly_counts", bounds)
    if counts.empty:
        return counts
    counts["week"] = pd.to_datetime(counts["week"]).dt.date
    frames = []
    w = window_start
    while w <= week:
        trends = weekly_trends(counts[["theme_id", "week", "tickets"]], w.start, min_volume=min_volume,
                               z_threshold=z_threshold)
        frames.append(trends.assign(week=w.start))
        w = w.shift(1)
    trends = pd.concat(frames, ignore_index=True)
    detail = counts[["theme_id", "week", "accounts", "arr_usd", "negative_share"]]
    out = trends.merge(detail, on=["theme_id", "week"], how="left")
    # Keep weeks with tickets, plus the weeks where a theme went quiet against a real baseline.
    out = out[(out["tickets"] > 0) | (out["trend"] == "fading")]
    return out.fillna({"accounts": 0, "arr_usd": 0.0}).astype({"tickets": int, "accounts": int})

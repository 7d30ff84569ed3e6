"""The cluster stage: themes over a window of tagged tickets, with stable ids and weekly trends.

A full clustering (a "fit") runs only when the window has moved on enough since the last one, or
when forced; in between, new tickets are placed on the last fit's theme centroids, so a weekly
run costs in proportion to its new tickets and a rerun of the same week does no clustering work.
Every fit records what became of each theme (`theme_events`); every run refreshes the trends
of themes, categories, competitors and feature-request groups.

This module only runs one week's stage: when to refit is csintel.themes.policy's call, what
placement says about novelty csintel.themes.novelty's, the tables are csintel.themes.storage's
and the trends csintel.themes.trend_refresh's.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd

from csintel.config import ThemesConfig
from csintel.embed import Embedder, embed_cached
from csintel.model_text import model_texts
from csintel.text import content_hash
from csintel.themes import storage
from csintel.themes.cluster import (
    assign_to_centroids,
    cluster_centroids,
    cluster_embeddings,
    default_min_cluster_size,
)
from csintel.themes.identity import (
    EVENT_BORN,
    EVENT_CONTINUED,
    EVENT_MERGED,
    EVENT_RETIRED,
    EVENT_SPLIT,
    lifecycle_events,
    reconcile_themes,
)
from csintel.themes.labels import label_clusters, merge_near_duplicates
from csintel.themes.novelty import (
    doubtful,
    earlier_placements,
    held_out_similarity,
    novel_excess,
    novel_rows,
    sample_rows,
    theme_radii,
)
from csintel.themes.policy import (
    CENTROID,
    CLUSTER,
    FIRST,
    NEWS,
    NOVEL,
    FitState,
    assign_reason,
    changed_share,
    cluster_params,
    current_rows,
    fit_config_key,
    placed_since_fit,
    refit_for_news,
    refit_for_novelty,
    refit_reason,
)
from csintel.themes.trend_refresh import refresh_trends
from csintel.warehouse import transaction, utcnow
from csintel.weeks import Week


@dataclass
class ThemeReport:
    """What the stage did: `mode` "refit" (clustered the window) or "assign" (placed new tickets
    on the current fit's centroids), and why (`reason`)."""

    tickets: int = 0
    themes: int = 0
    born: int = 0          # new ids this run (born + split)
    kept: int = 0          # ids carried over (all of them when only assigning)
    outlier_share: float = 0.0
    emerging: int = 0      # themes marked new or spiking this week
    mode: str = ""
    reason: str = ""
    fit_week: str = ""     # the fit whose themes the window's tickets now refer to
    assigned: int = 0      # tickets placed on centroids this run
    changed_share: float = 0.0  # share of the window the last fit did not cluster
    novel_excess: float = 0.0   # doubtful placements beyond the fit's own rate (refit at half a theme)
    split: int = 0
    merged: int = 0
    retired: int = 0


def update_themes(con: duckdb.DuckDBPyConnection, embedder: Embedder, cfg: ThemesConfig, week: Week,
                  tags_version: str, refit: bool = False) -> ThemeReport:
    """Bring the themes of the window ending with `week` up to date and refresh the weekly trends.

    Reclusters the window when `refit_reason` says so (or `refit` forces it). Otherwise places
    the tickets without a current theme on the latest fit's centroids (those below
    `cfg.reassign_threshold` stay unclustered), and for a week after the fit's reclusters after
    all when the tickets placed since the fit hold an issue it could not know ("novel",
    `policy.refit_for_novelty`) or a theme is marked new or spiking this week ("news",
    `policy.refit_for_news`).
    """
    window_start = week.window_start(cfg.window_weeks)
    tickets = storage.window_tickets(con, window_start, week, tags_version)
    if tickets.empty:
        return ThemeReport()
    # Themes see the text without handles, URLs, templates, greetings and the lines many tickets of
    # the window share (csintel.model_text): read once, for the whole window.
    tickets["model_text"] = model_texts(tickets["customer_text"].tolist())
    key = fit_config_key(cfg, embedder.name)
    fit = storage.latest_fit(con)
    current = current_rows(tickets, fit)
    changed = changed_share(tickets, current)
    reason = refit_reason(week.start, fit, key, changed, cfg, forced=refit)
    if reason is not None or fit is None:
        return _refit(con, embedder, cfg, week, tickets, tags_version, reason or FIRST, key, changed)

    ids, centroids, radii = storage.fit_themes(con, fit.run_week, embedder.dim)
    stale = np.flatnonzero(~current)
    nearest, similarity = assign_to_centroids(_vectors(con, embedder, tickets, stale), centroids,
                                              cfg.reassign_threshold)
    excess = _novelty(con, embedder, cfg, tickets, current, fit, ids, radii, doubtful(nearest, similarity, radii))
    min_size = cfg.min_cluster_size or default_min_cluster_size(len(tickets))
    if refit_for_novelty(week.start, fit.run_week, excess, min_size):
        return _refit(con, embedder, cfg, week, tickets, tags_version, NOVEL, key, changed, excess)

    probability = [float(np.clip(s, 0.0, 1.0)) if c >= 0 else None for c, s in zip(nearest, similarity)]
    assignments = storage.assignment_rows(tickets.iloc[stale], [ids[c] if c >= 0 else None for c in nearest],
                                          probability, week, fit.run_week, CENTROID)
    with transaction(con):
        storage.save_assignments(con, assignments)
        emerging = refresh_trends(con, cfg, len(tickets), window_start, week, tags_version)
    if refit_for_news(week.start, fit.run_week, emerging):
        return _refit(con, embedder, cfg, week, tickets, tags_version, NEWS, key, changed, max(0.0, excess))
    unthemed = int((current & tickets["placed_theme"].isna().to_numpy()).sum() + (nearest < 0).sum())
    return ThemeReport(
        tickets=len(tickets), themes=len(ids), kept=len(ids), outlier_share=unthemed / len(tickets),
        emerging=emerging, mode="assign", reason=assign_reason(week.start, fit.run_week),
        fit_week=Week(fit.run_week).label, assigned=len(stale), changed_share=changed,
        novel_excess=max(0.0, excess))


def _novelty(con: duckdb.DuckDBPyConnection, embedder: Embedder, cfg: ThemesConfig, tickets: pd.DataFrame,
             current: np.ndarray, fit: FitState, ids: list[str], radii: np.ndarray,
             doubtful_now: np.ndarray) -> float:
    """How much of an issue the fit has no theme for arrived since it, in tickets: the larger of
    the excess of doubtful placements and the (sampled) new tickets in tight new groups."""
    # The tickets placed since the fit in earlier runs count too: an emerging issue arrives over weeks.
    earlier = placed_since_fit(tickets, current)
    earlier_nearest, earlier_similarity = earlier_placements(tickets[earlier], ids)
    doubtful_count = int(doubtful_now.sum() + doubtful(earlier_nearest, earlier_similarity, radii).sum())
    excess = novel_excess(doubtful_count, len(doubtful_now) + int(earlier.sum()), fit.doubtful_share)
    # A tight group of new tickets inside an old theme is placed there without doubt: count the
    # new tickets whose nearest neighbours are new too (novelty.py), on a sample of the window.
    sample = sample_rows(len(tickets), cfg.seed)
    grouped = novel_rows(_vectors(con, embedder, tickets, sample), (~current | earlier)[sample])
    return max(excess, float(grouped.sum()) * len(tickets) / len(sample))


def _refit(con: duckdb.DuckDBPyConnection, embedder: Embedder, cfg: ThemesConfig, week: Week,
           tickets: pd.DataFrame, tags_version: str, reason: str, key: str, changed_share: float,
           novel_excess: float = 0.0) -> ThemeReport:
    """Cluster the whole window, match the clusters to the themes of the fit before `week`, and
    record the fit, its themes and their events; a fit of this or a later week is replaced."""
    vectors = _vectors(con, embedder, tickets, np.arange(len(tickets)))
    result = cluster_embeddings(vectors, cluster_params(cfg))
    labels = merge_near_duplicates(result.centroids, result.labels) if len(result.centroids) else result.labels
    centroids = cluster_centroids(vectors, labels)
    held_out = held_out_similarity(vectors, labels)
    radii = theme_radii(held_out, labels, len(centroids))
    # Labels are read by people: build them from the redacted text.
    names = label_clusters(model_texts(tickets["display_text"].tolist()), labels, vectors,
                           categories=tickets["category"].tolist(),
                           errors=[list(e) if e is not None else [] for e in tickets["errors"]])
    prior_ids, prior_centroids, _ = storage.fit_themes(con, storage.prior_fit_week(con, week.start), vectors.shape[1])
    reconciliation = reconcile_themes(centroids, prior_ids, prior_centroids, threshold=cfg.match_threshold,
                                      reserved_ids=storage.reserved_ids(con, week.start))
    theme_of = {m.cluster: m.theme_id for m in reconciliation.matches}
    events = lifecycle_events(reconciliation)

    # What placement would make of tickets like this window's: members judged on their held-out
    # similarity, the unclustered on their nearest centroid.
    nearest, similarity = assign_to_centroids(vectors, centroids, cfg.reassign_threshold)
    members = labels >= 0
    nearest[members], similarity[members] = labels[members], held_out[members]
    now = utcnow()
    fit = {"run_week": week.start, "reason": reason, "config_key": key, "tickets": len(tickets),
           "themes": len(theme_of), "outlier_share": float((labels < 0).mean()),
           "doubtful_share": float(doubtful(nearest, similarity, radii).mean()), "fitted_at": now}
    probability = [float(p) if c >= 0 else None for p, c in zip(result.probabilities, labels)]
    assignments = storage.assignment_rows(tickets, [theme_of.get(int(c)) if c >= 0 else None for c in labels],
                                          probability, week, week.start, CLUSTER)
    with transaction(con):
        storage.replace_fit(con, week.start, fit,
                            storage.snapshot_rows(week, tickets, labels, theme_of, names, centroids, radii),
                            storage.event_rows(week, events, now))
        storage.save_assignments(con, assignments)
        emerging = refresh_trends(con, cfg, len(tickets), week.window_start(cfg.window_weeks), week, tags_version)
    kinds = Counter(e.event for e in events)
    return ThemeReport(
        tickets=len(tickets), themes=len(theme_of), born=kinds[EVENT_BORN] + kinds[EVENT_SPLIT],
        kept=kinds[EVENT_CONTINUED], outlier_share=float((labels < 0).mean()), emerging=emerging,
        mode="refit", reason=reason, fit_week=week.label, changed_share=changed_share, novel_excess=novel_excess,
        split=kinds[EVENT_SPLIT], merged=kinds[EVENT_MERGED], retired=kinds[EVENT_RETIRED],
    )


def _vectors(con: duckdb.DuckDBPyConnection, embedder: Embedder, tickets: pd.DataFrame,
             rows: np.ndarray) -> np.ndarray:
    # A ticket with nothing to strip keeps its content hash, so its cached vector is reused.
    part = tickets.iloc[rows]
    texts = part["model_text"].tolist()
    hashes = [h if t == r else content_hash(t) for h, t, r in zip(part["content_hash"], texts, part["customer_text"])]
    return embed_cached(con, embedder, hashes, texts)

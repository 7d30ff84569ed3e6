"""Theme storage: what the theme stage reads from and writes to the warehouse.

The fits (`store.theme_fits`), their themes and events (`theme_snapshots`, `theme_events`, and
`themes` rebuilt from them), the tickets' theme rows (`ticket_themes`) and the weekly trends
(`theme_weekly`, `trend_weekly`). Every query of more than a line is in `sql/queries/theme_*.sql`;
what to write is decided elsewhere (csintel.themes.policy, csintel.themes.stage).
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Sequence

import duckdb
import numpy as np
import pandas as pd

from csintel.themes.policy import MODEL_VERSION, FitState
from csintel.warehouse import fetch_df, query, upsert
from csintel.weeks import Week

if TYPE_CHECKING:   # only the row builders' argument types: storage does no clustering or labelling
    from csintel.themes.identity import ThemeEvent
    from csintel.themes.labels import ThemeLabel

# The tables a refit of a week replaces for that week and every later one.
FIT_TABLES = ("store.theme_fits", "store.theme_snapshots", "store.theme_events")


def window_tickets(con: duckdb.DuckDBPyConnection, window_start: Week, week: Week, tags_version: str) -> pd.DataFrame:
    """The tagged tickets of the window from `window_start` to `week`, with their theme rows."""
    return fetch_df(con, "theme_window", {"window_start": window_start.start_ts, "end": week.end_ts,
                                          "model_version": tags_version})


def latest_fit(con: duckdb.DuckDBPyConnection) -> FitState | None:
    rows = con.execute(query("theme_latest_fit")).fetchall()
    return FitState(rows[0][0], rows[0][1], float(rows[0][2])) if rows else None


def prior_fit_week(con: duckdb.DuckDBPyConnection, week: date) -> date | None:
    """The week of the latest fit before `week`, None if there is none."""
    run_week: date | None = con.execute(query("theme_prior_fit"), {"week": week}).fetchall()[0][0]
    return run_week


def reserved_ids(con: duckdb.DuckDBPyConnection, week: date) -> set[str]:
    """Every theme id the fits before `week` gave out (ids are never reused)."""
    return {r[0] for r in con.execute(query("theme_reserved_ids"), {"week": week}).fetchall()}


def fit_themes(con: duckdb.DuckDBPyConnection, run_week: date | None,
               dim: int) -> tuple[list[str], np.ndarray, np.ndarray]:
    """The ids, centroids and radii of a fit's themes, in id order (none for no fit)."""
    rows = con.execute(query("theme_fit_themes"), {"run_week": run_week}).fetchall() if run_week is not None else []
    if not rows:
        return [], np.zeros((0, dim), dtype=np.float32), np.zeros(0)
    return ([r[0] for r in rows], np.asarray([r[1] for r in rows], dtype=np.float32),
            np.asarray([r[2] for r in rows], dtype=np.float64))


def assignment_rows(tickets: pd.DataFrame, theme_ids: Sequence[str | None], probability: Sequence[float | None],
                    week: Week, fit_week: date, method: str) -> pd.DataFrame:
    """`ticket_themes` rows: each ticket's theme (None: unclustered) from the fit of `fit_week`."""
    return pd.DataFrame({
        "source": tickets["source"].to_numpy(), "ticket_id": tickets["ticket_id"].to_numpy(),
        "theme_id": theme_ids, "probability": probability, "run_week": week.start, "model_version": MODEL_VERSION,
        "fit_week": fit_week, "method": method, "content_hash": tickets["content_hash"].to_numpy(),
    })


def snapshot_rows(week: Week, tickets: pd.DataFrame, labels: np.ndarray, theme_of: dict[int, str],
                  names: dict[int, ThemeLabel], centroids: np.ndarray, radii: np.ndarray) -> pd.DataFrame:
    """`theme_snapshots` rows: one per theme of the fit of `week`, in cluster order.

    Args:
        labels: each ticket's cluster (-1: unclustered); `theme_of` maps a cluster to its id.
        names: per cluster (as from `label_clusters`); centroids, radii: per cluster.
    """
    keys = (tickets["source"] + ":" + tickets["ticket_id"]).tolist()
    rows = []
    for c, theme_id in sorted(theme_of.items()):
        members = labels == c
        name = names[c]
        rows.append({
            "run_week": week.start, "theme_id": theme_id, "label": name.label, "keywords": list(name.keywords),
            "top_category": _most_common(tickets.loc[members, "category"]),
            "centroid": centroids[c].tolist(), "size": int(members.sum()),
            "example_tickets": [keys[i] for i in name.representative],
            "first_week": pd.Timestamp(tickets.loc[members, "week"].min()).date(), "model_version": MODEL_VERSION,
            "radius": float(radii[c]),
        })
    return pd.DataFrame(rows)


def event_rows(week: Week, events: Sequence[ThemeEvent], recorded_at: datetime) -> pd.DataFrame:
    """`theme_events` rows: what became of each theme at the fit of `week`."""
    return pd.DataFrame([{
        "run_week": week.start, "theme_id": e.theme_id, "event": e.event, "related_ids": list(e.related_ids),
        "similarity": e.similarity, "recorded_at": recorded_at,
    } for e in events])


def replace_fit(con: duckdb.DuckDBPyConnection, week: date, fit: dict[str, Any], snapshots: pd.DataFrame,
                events: pd.DataFrame) -> None:
    """Record the fit of `week` (one `theme_fits` row), replacing it and every later fit, and
    rebuild `store.themes` from the fits. Run it inside the caller's transaction."""
    for table in FIT_TABLES:
        con.execute(f"DELETE FROM {table} WHERE run_week >= ?", [week])
    upsert(con, "store.theme_fits", pd.DataFrame([fit]))
    upsert(con, "store.theme_snapshots", snapshots)
    upsert(con, "store.theme_events", events)
    con.execute(query("theme_rebuild"))


def save_assignments(con: duckdb.DuckDBPyConnection, assignments: pd.DataFrame) -> None:
    """Write tickets' theme rows (from `assignment_rows`), replacing their earlier ones."""
    upsert(con, "store.ticket_themes", assignments)


def trend_counts(con: duckdb.DuckDBPyConnection, window_start: Week, week: Week,
                 tags_version: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The window's weekly counts: per theme (`theme_weekly_counts`), and per category,
    competitor and request group (`trend_weekly_counts`)."""
    bounds = {"since": window_start.start_ts, "end": week.end_ts, "model_version": tags_version}
    return fetch_df(con, "theme_weekly_counts", bounds), fetch_df(con, "trend_weekly_counts", bounds)


def replace_trends(con: duckdb.DuckDBPyConnection, theme_weekly: pd.DataFrame, trend_weekly: pd.DataFrame,
                   window_start: date, judged: date, week: date) -> None:
    """Rewrite `theme_weekly` from `window_start` and `trend_weekly` from `judged`, both to `week`."""
    con.execute("DELETE FROM store.theme_weekly WHERE week >= ? AND week <= ?", [window_start, week])
    con.execute("DELETE FROM store.trend_weekly WHERE week >= ? AND week <= ?", [judged, week])
    upsert(con, "store.theme_weekly", theme_weekly)
    upsert(con, "store.trend_weekly", trend_weekly)


def _most_common(values: pd.Series) -> str | None:
    counts = Counter(v for v in values if v is not None and v == v)
    return min(counts.items(), key=lambda kv: (-kv[1], kv[0]))[0] if counts else None

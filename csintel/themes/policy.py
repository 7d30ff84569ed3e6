"""Theme policy: when the weekly stage reclusters the window and when it only places new tickets.

Pure functions of the latest fit's state, the window's tickets and the [themes] config: no
warehouse, no I/O. The stage (csintel.themes.stage) asks here and carries the answer out.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from csintel.config import ThemesConfig
from csintel.themes.cluster import ClusterParams

MODEL_VERSION = "themes-5"  # 3: model text, automatic granularity; 4: granularity search; 5: exact neighbours

# Why a run refits (the fit's `reason`) or only assigns (the report's `reason`).
FIRST, FORCED, CONFIG, AGE, CHANGED = "first", "forced", "config", "age", "changed"
NOVEL, NEWS = "novel", "news"  # decided after placing the new tickets (see stage.update_themes)
WITHIN_POLICY, PAST_WEEK = "within_policy", "past_week"
CLUSTER, CENTROID = "cluster", "centroid"  # how a ticket got its theme (ticket_themes.method)
# Refit when the excess of doubtful placements reaches this share of the smallest theme. The
# excess is net of the rate expected from the fit's own tickets, so the noise of the ordinary
# tickets hides part of a real new issue: on the bundled sample the 21 CAL-503 tickets of
# 2026-W46 (enough for a theme of at least 20) showed as an excess of 17.
NOVEL_SHARE_OF_THEME = 0.5


@dataclass(frozen=True)
class FitState:
    """The latest fit, as the refit decision needs it."""

    run_week: date
    config_key: str | None
    doubtful_share: float


def cluster_params(cfg: ThemesConfig) -> ClusterParams:
    """The clusterer's parameters from the [themes] config (0 = scale the cluster size with N)."""
    return ClusterParams(min_cluster_size=cfg.min_cluster_size or None, reassign_threshold=cfg.reassign_threshold,
                         seed=cfg.seed)


def fit_config_key(cfg: ThemesConfig, embedding_model: str) -> str:
    """A hash of everything that shapes a fit's themes; trend and refit-policy knobs are left out."""
    shaping = {"window_weeks": cfg.window_weeks, "min_cluster_size": cfg.min_cluster_size,
               "reassign_threshold": cfg.reassign_threshold, "match_threshold": cfg.match_threshold,
               "seed": cfg.seed, "embedding": embedding_model, "model_version": MODEL_VERSION}
    return hashlib.sha1(json.dumps(shaping, sort_keys=True).encode()).hexdigest()[:16]


def current_rows(tickets: pd.DataFrame, fit: FitState | None) -> np.ndarray:
    """Tickets whose theme row refers to the latest fit and was placed by their current text.

    Args:
        tickets: the window as `sql/queries/theme_window.sql` gives it.
    """
    if fit is None:
        return np.zeros(len(tickets), dtype=bool)
    fit_week = pd.to_datetime(tickets["fit_week"]).dt.date
    return ((fit_week == fit.run_week) & (tickets["placed_hash"] == tickets["content_hash"])).to_numpy(dtype=bool)


def changed_share(tickets: pd.DataFrame, current: np.ndarray) -> float:
    """The share of the window the latest fit did not cluster (new, edited or only placed)."""
    return float(1.0 - (current & (tickets["method"] == CLUSTER).to_numpy()).mean())


def placed_since_fit(tickets: pd.DataFrame, current: np.ndarray) -> np.ndarray:
    """Tickets earlier runs placed on the latest fit's centroids (still current)."""
    return current & (tickets["method"] == CENTROID).to_numpy()


def refit_reason(week: date, fit: FitState | None, config_key: str, changed_share: float, cfg: ThemesConfig,
                 forced: bool = False) -> str | None:
    """Why the window ending with `week` must be clustered again, or None to place new tickets.

    Refit when forced, when there is no fit yet, when what shapes the themes (config, embedding
    model) changed, when the fit is `cfg.refit_weeks` or more weeks older than `week`, or when
    more than `cfg.refit_share` of the window is tickets the fit did not cluster. A week at or
    before the latest fit's (a rerun, a backfill) only places tickets: refitting it would
    rewrite the themes that later weeks were built on.
    """
    if forced:
        return FORCED
    if fit is None:
        return FIRST
    if fit.config_key != config_key:
        return CONFIG
    if week <= fit.run_week:
        return None
    if (week - fit.run_week).days // 7 >= cfg.refit_weeks:
        return AGE
    if changed_share > cfg.refit_share:
        return CHANGED
    return None


def refit_for_novelty(week: date, fit_week: date, excess: float, min_theme_size: int) -> bool:
    """After placing: the tickets placed since the fit hold an issue it could not know (an
    excess of half a minimum theme or more, see csintel.themes.novelty). Never for a week at
    or before the fit's."""
    return week > fit_week and excess >= NOVEL_SHARE_OF_THEME * min_theme_size


def refit_for_news(week: date, fit_week: date, emerging: int) -> bool:
    """After placing: a theme is marked new or spiking this week. Placement can neither split a
    theme nor tell an emerging issue from the theme next to it, so the week's news is always
    read off a fresh clustering. Never for a week at or before the fit's."""
    return week > fit_week and emerging > 0


def assign_reason(week: date, fit_week: date) -> str:
    """The report's reason for a week that only placed its tickets."""
    return WITHIN_POLICY if week > fit_week else PAST_WEEK

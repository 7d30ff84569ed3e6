"""The Product digest's facts: new and spiking themes, top themes, errors, ranked feature requests.

Rows and numbers only; the wording is `csintel/routing/wording/product.py`.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import pandas as pd

from csintel.config import Settings
from csintel.digests.common import quote, refs
from csintel.digests.content import TicketRef
from csintel.warehouse import fetch_df
from csintel.weeks import Week, week_of

EMERGING_TRENDS = ("new", "spiking")


@dataclass(frozen=True)
class ThemeRow:
    """One theme's week."""

    label: str
    trend: str                        # new | spiking | fading | steady
    first_week: str                   # ISO week the theme was first seen
    tickets: int
    last_week_tickets: int
    baseline: float                   # its usual tickets a week
    accounts: int
    arr_usd: float
    negative_share: float
    quote: str | None = None
    tickets_seen: tuple[TicketRef, ...] = ()


@dataclass(frozen=True)
class ErrorRow:
    """One error code or message customers hit this week."""

    error: str
    tickets: int
    accounts: int
    last_week_tickets: int
    quote: str | None = None
    tickets_seen: tuple[TicketRef, ...] = ()


@dataclass(frozen=True)
class RequestRow:
    """One group of feature requests over the window."""

    label: str
    tickets: int
    tickets_this_week: int
    accounts: int
    arr_usd: float
    quote: str | None = None
    tickets_seen: tuple[TicketRef, ...] = ()


@dataclass(frozen=True)
class RequestRanking:
    """The window's feature-request groups, ranked by accounts and ARR, or by tickets when no
    request has a known account."""

    window_weeks: int                 # the window the query counted over
    by_accounts: bool
    groups: tuple[RequestRow, ...]
    ungrouped_tickets: int            # requests naming no capability clearly enough to group
    total_tickets: int


@dataclass(frozen=True)
class ProductWeek:
    """Everything the Product digest says about a week, as rows and numbers."""

    week: str                         # ISO week label
    tickets: int
    last_week_tickets: int
    accounts: int
    negative_share: float
    emerging_themes: int              # all of them, not only those shown
    emerging: tuple[ThemeRow, ...]
    top: tuple[ThemeRow, ...]
    errors: tuple[ErrorRow, ...]
    requests: RequestRanking


def product_week(con: duckdb.DuckDBPyConnection, week: Week, settings: Settings, tags_version: str) -> ProductWeek:
    """The Product digest's facts for `week`, each list cut to `digest.max_lines`."""
    cfg = settings.digest
    bounds = {"start": week.start_ts, "end": week.end_ts}
    overview = fetch_df(con, "week_overview", {**bounds, "model_version": tags_version}).iloc[0]
    themes = fetch_df(con, "theme_week", {"week": week.start})
    examples = fetch_df(con, "theme_examples", {**bounds, "per_theme": 5})
    by_theme = {tid: grp for tid, grp in examples.groupby("theme_id")}

    def theme_row(row: pd.Series) -> ThemeRow:
        ex = by_theme.get(row["theme_id"])
        return ThemeRow(
            label=row["label"], trend=row["trend"], first_week=week_of(row["first_week"]).label,
            tickets=int(row["tickets"]), last_week_tickets=int(row["last_week_tickets"]),
            baseline=float(row["baseline"]), accounts=int(row["accounts"]), arr_usd=float(row["arr_usd"]),
            negative_share=float(row["negative_share"]),
            quote=quote(ex.iloc[0]["display_text"], cfg.quote_chars) if ex is not None else None,
            tickets_seen=refs(ex["ticket_id"] if ex is not None else [], cfg.ticket_url),
        )

    notable = themes[themes["trend"].isin(EMERGING_TRENDS) & (themes["tickets"] >= cfg.min_theme_tickets)]
    top = themes[~themes["theme_id"].isin(notable["theme_id"])].sort_values(
        ["tickets", "theme_id"], ascending=[False, True])
    return ProductWeek(
        week=week.label, tickets=int(overview["tickets"] or 0),
        last_week_tickets=int(overview["last_week_tickets"] or 0), accounts=int(overview["accounts"] or 0),
        negative_share=float(overview["negative_share"] or 0), emerging_themes=len(notable),
        emerging=tuple(theme_row(r) for _, r in notable.head(cfg.max_lines).iterrows()),
        top=tuple(theme_row(r) for _, r in top.head(cfg.max_lines).iterrows()),
        errors=_errors(con, bounds, tags_version, settings),
        requests=request_ranking(con, week, settings, tags_version),
    )


def _errors(con: duckdb.DuckDBPyConnection, bounds: dict, tags_version: str,
            settings: Settings) -> tuple[ErrorRow, ...]:
    errors = fetch_df(con, "errors_week", {**bounds, "model_version": tags_version})
    cfg = settings.digest
    return tuple(
        ErrorRow(error=r["error"], tickets=int(r["tickets"]), accounts=int(r["accounts"]),
                 last_week_tickets=int(r["last_week_tickets"]),
                 quote=quote(r["example"], cfg.quote_chars, prefer=r["error"]),
                 tickets_seen=refs(r["ticket_ids"], cfg.ticket_url))
        for _, r in errors.head(cfg.max_lines).iterrows()
    )


def request_ranking(con: duckdb.DuckDBPyConnection, week: Week, settings: Settings,
                    tags_version: str) -> RequestRanking:
    """Request groups of the window ending with `week`, ranked; the first `digest.max_lines` kept."""
    cfg = settings.digest
    window_weeks = settings.themes.window_weeks
    rows = fetch_df(con, "request_groups_window", {
        "model_version": tags_version, "start": week.start_ts, "end": week.end_ts,
        "window_start": week.window_start(window_weeks).start_ts,
    })
    grouped = rows[rows["request_group"].notna()]
    by_accounts = bool((grouped["accounts"] > 0).any())
    keys = ["accounts", "arr_usd", "tickets", "request_group"] if by_accounts else ["tickets", "request_group"]
    grouped = grouped.sort_values(keys, ascending=[False] * (len(keys) - 1) + [True])
    # One ask is an anecdote, not a ranking entry; when nothing was asked twice, the single asks
    # are still shown (a digest must not say "no feature requests" when there were some).
    repeated = grouped[grouped["tickets"] >= 2]
    shown = repeated if len(repeated) else grouped
    return RequestRanking(
        window_weeks=window_weeks, by_accounts=by_accounts,
        groups=tuple(
            RequestRow(label=r["label"], tickets=int(r["tickets"]), tickets_this_week=int(r["tickets_this_week"]),
                       accounts=int(r["accounts"]), arr_usd=float(r["arr_usd"]),
                       quote=quote(r["example"], cfg.quote_chars, prefer=r["example_request"]),
                       tickets_seen=refs(r["ticket_ids"], cfg.ticket_url))
            for _, r in shown.head(cfg.max_lines).iterrows()),
        ungrouped_tickets=int(rows.loc[rows["request_group"].isna(), "tickets"].sum()),
        total_tickets=int(rows["tickets"].sum()),
    )

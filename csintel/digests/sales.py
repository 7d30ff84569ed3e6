"""The Sales digest's facts: who is mentioned, in what context, by which accounts; integration apart.

Rows and numbers only; the wording is `csintel/routing/wording/sales.py`.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import pandas as pd

from csintel.config import Settings
from csintel.digests.common import quote, refs
from csintel.digests.content import TicketRef
from csintel.warehouse import fetch_df
from csintel.weeks import Week

THREATS = ("switching", "evaluating")
GAPS = ("comparison", "pricing")
INTEGRATION_TICKETS_SHOWN = 3


@dataclass(frozen=True)
class CompetitorRow:
    """One competitor's competitive mentions this week against last week and the window."""

    competitor: str
    this_week: int
    last_week: int
    weekly_mean: float                # over the window
    accounts: int                     # this week
    integration_this_week: int


@dataclass(frozen=True)
class MentionRow:
    """One competitive mention."""

    competitor: str
    context: str                      # switching | evaluating | comparison | pricing | ...
    account_name: str | None          # None: the ticket's account is unknown
    arr_usd: float
    quote: str | None = None
    tickets_seen: tuple[TicketRef, ...] = ()


@dataclass(frozen=True)
class IntegrationRow:
    """A competitor named as something the customer integrates with, not as a rival."""

    competitor: str
    mentions: int
    tickets_seen: tuple[TicketRef, ...] = ()


@dataclass(frozen=True)
class SalesWeek:
    """Everything the competitor-intel digest says about a week, as rows and numbers."""

    week: str                         # ISO week label
    window_weeks: int                 # the window the weekly means were counted over
    competitive_mentions: int
    accounts: int                     # accounts with a competitive mention
    threat_mentions: int              # switching or evaluating
    by_competitor: tuple[CompetitorRow, ...]
    threats: tuple[MentionRow, ...]
    gaps: tuple[MentionRow, ...]      # what customers say competitors do better or cheaper
    integrations: tuple[IntegrationRow, ...]


def sales_week(con: duckdb.DuckDBPyConnection, week: Week, settings: Settings, tags_version: str) -> SalesWeek:
    """The Sales digest's facts for `week`, each list but integrations cut to `digest.max_lines`."""
    cfg = settings.digest
    bounds = {"start": week.start_ts, "end": week.end_ts, "model_version": tags_version}
    window = settings.themes.window_weeks
    summary_rows = fetch_df(con, "competitors_window", {
        **bounds, "window_weeks": window, "window_start": week.window_start(window).start_ts})
    mentions = fetch_df(con, "competitor_mentions_week", bounds)
    competitive = mentions[mentions["competitive"]]

    def mention(r: pd.Series) -> MentionRow:
        return MentionRow(competitor=r["competitor"], context=r["context"],
                          account_name=r["account_name"] if isinstance(r["account_name"], str) else None,
                          arr_usd=float(r["arr_usd"]), quote=quote(r["sentence"], cfg.quote_chars),
                          tickets_seen=refs([r["ticket_id"]], cfg.ticket_url))

    def mentions_in(contexts: tuple[str, ...]) -> tuple[MentionRow, ...]:
        return tuple(mention(r) for _, r in competitive[competitive["context"].isin(contexts)]
                     .head(cfg.max_lines).iterrows())

    integration = mentions[~mentions["competitive"]]
    return SalesWeek(
        week=week.label, window_weeks=window, competitive_mentions=len(competitive),
        accounts=int(competitive["account_id"].nunique()), threat_mentions=int(competitive["context"].isin(THREATS).sum()),
        by_competitor=tuple(
            CompetitorRow(competitor=r["competitor"], this_week=int(r["competitive_this_week"]),
                          last_week=int(r["competitive_last_week"]), weekly_mean=float(r["competitive_weekly_mean"]),
                          accounts=int(r["accounts_this_week"]), integration_this_week=int(r["integration_this_week"]))
            for _, r in summary_rows[summary_rows["competitive_this_week"] > 0].head(cfg.max_lines).iterrows()),
        threats=mentions_in(THREATS), gaps=mentions_in(GAPS),
        integrations=tuple(
            IntegrationRow(competitor=name, mentions=len(grp),
                           tickets_seen=refs(grp["ticket_id"], cfg.ticket_url, limit=INTEGRATION_TICKETS_SHOWN))
            for name, grp in sorted(integration.groupby("competitor"), key=lambda kv: (-len(kv[1]), kv[0]))),
    )

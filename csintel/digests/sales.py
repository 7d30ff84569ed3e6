"""The Sales digest: who is mentioned, in what context, by which accounts; integration apart."""

from __future__ import annotations

import duckdb

from csintel.config import Settings
from csintel.digests.common import count, money, quote, refs
from csintel.digests.content import Digest, Line, Section
from csintel.warehouse import fetch_df
from csintel.weeks import Week

THREATS = ("switching", "evaluating")
GAPS = ("comparison", "pricing")


def build_sales_digest(con: duckdb.DuckDBPyConnection, week: Week, settings: Settings, tags_version: str) -> Digest:
    cfg = settings.digest
    bounds = {"start": week.start_ts, "end": week.end_ts, "model_version": tags_version}
    window = settings.themes.window_weeks
    summary_rows = fetch_df(con, "competitors_window", {
        **bounds, "window_weeks": window, "window_start": week.window_start(window).start_ts})
    mentions = fetch_df(con, "competitor_mentions_week", bounds)
    competitive = mentions[mentions["competitive"]]

    def mention_line(r) -> Line:
        who = r["account_name"] if isinstance(r["account_name"], str) else "unknown account"
        return Line(title=f"{r['competitor']} — {r['context'].replace('_', ' ')}",
                    detail=f"{who} · {money(r['arr_usd'])} ARR",
                    quote=quote(r["sentence"], cfg.quote_chars), tickets=refs([r["ticket_id"]], cfg.ticket_url))

    overview = tuple(
        Line(title=r["competitor"],
             detail=f"{count(r['competitive_this_week'], 'competitive mention')} this week "
                    f"(last week {int(r['competitive_last_week'])}, {r['competitive_weekly_mean']:.1f}/week over "
                    f"{window} weeks) · {count(r['accounts_this_week'], 'account')}"
                    + (f" · {count(r['integration_this_week'], 'integration mention')}" if r["integration_this_week"] else ""))
        for _, r in summary_rows[summary_rows["competitive_this_week"] > 0].head(cfg.max_lines).iterrows()
    )
    threats = tuple(mention_line(r) for _, r in competitive[competitive["context"].isin(THREATS)]
                    .head(cfg.max_lines).iterrows())
    gaps = tuple(mention_line(r) for _, r in competitive[competitive["context"].isin(GAPS)]
                 .head(cfg.max_lines).iterrows())
    integration = mentions[~mentions["competitive"]]
    integration_lines = tuple(
        Line(title=name, detail=f"{count(len(grp), 'integration mention')} (not competitive)",
             tickets=refs(grp["ticket_id"], cfg.ticket_url, limit=3))
        for name, grp in sorted(integration.groupby("competitor"), key=lambda kv: (-len(kv[1]), kv[0]))
    )
    quiet = competitive.empty
    summary = (f"{count(len(competitive), 'competitive mention')} in {week.label} across "
               f"{count(competitive['account_id'].nunique(), 'account')}; {int(competitive['context'].isin(THREATS).sum())} "
               f"switching or evaluating.")
    if quiet:
        summary = f"No competitive mentions in {week.label}."
    sections = (
        Section("Switching and evaluation threats", threats, "No switching or evaluation mentions this week."),
        Section("What customers say competitors do better or cheaper", gaps, "No comparisons this week."),
        Section("Mentions by competitor", overview, "No competitive mentions this week."),
        Section("Integration mentions (kept apart)", integration_lines, "No integration mentions this week."),
    )
    return Digest(audience="sales", week=week.label, title=f"Competitor intel · {week.label}", summary=summary,
                  sections=sections if not quiet or integration_lines else (), quiet=quiet,
                  stats={"competitive_mentions": len(competitive)})

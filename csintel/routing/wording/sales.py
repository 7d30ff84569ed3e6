"""The Sales digest in words: who is mentioned, in what context, by which accounts; integration apart."""

from __future__ import annotations

import duckdb

from csintel.config import Settings
from csintel.digests.content import Digest, Line, Section
from csintel.digests.sales import CompetitorRow, MentionRow, SalesWeek, sales_week
from csintel.routing.wording.numbers import count, money
from csintel.weeks import Week


def build_sales_digest(con: duckdb.DuckDBPyConnection, week: Week, settings: Settings, tags_version: str) -> Digest:
    """The week's competitor-intel digest: its facts from the warehouse, in words."""
    return sales_digest(sales_week(con, week, settings, tags_version))


def sales_digest(facts: SalesWeek) -> Digest:
    """The competitor-intel digest of a week's facts; quiet without a competitive mention."""
    quiet = facts.competitive_mentions == 0
    summary = (f"{count(facts.competitive_mentions, 'competitive mention')} in {facts.week} across "
               f"{count(facts.accounts, 'account')}; {facts.threat_mentions} switching or evaluating.")
    if quiet:
        summary = f"No competitive mentions in {facts.week}."
    integrations = tuple(Line(title=r.competitor, detail=f"{count(r.mentions, 'integration mention')} (not competitive)",
                              tickets=r.tickets_seen) for r in facts.integrations)
    sections = (
        Section("Switching and evaluation threats", tuple(_mention_line(r) for r in facts.threats),
                "No switching or evaluation mentions this week."),
        Section("What customers say competitors do better or cheaper", tuple(_mention_line(r) for r in facts.gaps),
                "No comparisons this week."),
        Section("Mentions by competitor", tuple(_competitor_line(r, facts.window_weeks) for r in facts.by_competitor),
                "No competitive mentions this week."),
        Section("Integration mentions (kept apart)", integrations, "No integration mentions this week."),
    )
    return Digest(audience="sales", week=facts.week, title=f"Competitor intel · {facts.week}", summary=summary,
                  sections=sections if not quiet or integrations else (), quiet=quiet,
                  stats={"competitive_mentions": facts.competitive_mentions})


def _mention_line(r: MentionRow) -> Line:
    who = "unknown account" if r.account_name is None else r.account_name
    return Line(title=f"{r.competitor} — {r.context.replace('_', ' ')}", detail=f"{who} · {money(r.arr_usd)} ARR",
                quote=r.quote, tickets=r.tickets_seen)


def _competitor_line(r: CompetitorRow, window_weeks: int) -> Line:
    integration = f" · {count(r.integration_this_week, 'integration mention')}" if r.integration_this_week else ""
    return Line(title=r.competitor,
                detail=f"{count(r.this_week, 'competitive mention')} this week (last week {r.last_week}, "
                       f"{r.weekly_mean:.1f}/week over {window_weeks} weeks) · {count(r.accounts, 'account')}"
                       + integration)

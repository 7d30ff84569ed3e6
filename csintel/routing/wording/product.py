"""The Product digest in words: new and spiking themes first, top themes, errors, ranked feature requests."""

from __future__ import annotations

import duckdb

from csintel.config import Settings
from csintel.digests.content import Digest, Line, Section
from csintel.digests.product import ErrorRow, ProductWeek, RequestRanking, RequestRow, ThemeRow, product_week
from csintel.routing.wording.numbers import change, count, money
from csintel.weeks import Week

BADGES = {"new": "NEW", "spiking": "SPIKING", "fading": "FADING"}


def build_product_digest(con: duckdb.DuckDBPyConnection, week: Week, settings: Settings, tags_version: str) -> Digest:
    """The week's Product digest: its facts from the warehouse, in words."""
    return product_digest(product_week(con, week, settings, tags_version))


def product_digest(facts: ProductWeek) -> Digest:
    """The Product digest of a week's facts; a week without tickets is quiet."""
    week = facts.week
    title = f"Product digest · {week}"
    stats: dict[str, float | int | str] = {"tickets": facts.tickets, "emerging_themes": facts.emerging_themes}
    if facts.tickets == 0:
        return Digest(audience="product", week=week, title=title, quiet=True, stats=stats,
                      summary=f"A quiet week: no tickets closed in {week}.")
    summary = (f"{count(facts.tickets, 'ticket')} closed in {week} ({change(facts.tickets, facts.last_week_tickets)}), "
               f"{count(facts.accounts, 'account')}, "
               f"{facts.negative_share:.0%} negative. {count(facts.emerging_themes, 'emerging theme')}.")
    sections = (
        Section("Emerging: new and spiking themes", tuple(_theme_line(r) for r in facts.emerging),
                "No new or spiking themes this week."),
        Section("Top themes", tuple(_theme_line(r) for r in facts.top), "No themed tickets this week."),
        Section("Errors customers hit", tuple(_error_line(r) for r in facts.errors), "No error codes reported."),
        request_section(facts.requests),
    )
    return Digest(audience="product", week=week, title=title, summary=summary, sections=sections, stats=stats)


def _theme_line(row: ThemeRow) -> Line:
    usual = "first seen " + row.first_week if row.trend == "new" else f"usual {row.baseline:.1f}/week"
    detail = (f"{count(row.tickets, 'ticket')} ({change(row.tickets, row.last_week_tickets)}; {usual})"
              f" · {count(row.accounts, 'account')} · {money(row.arr_usd)} ARR"
              f" · {row.negative_share:.0%} negative")
    return Line(title=row.label, detail=detail, badge=BADGES.get(row.trend), quote=row.quote,
                tickets=row.tickets_seen)


def _error_line(row: ErrorRow) -> Line:
    return Line(title=row.error,
                detail=f"{count(row.tickets, 'ticket')}, {count(row.accounts, 'account')} "
                       f"({change(row.tickets, row.last_week_tickets)})",
                quote=row.quote, tickets=row.tickets_seen)


def request_section(ranking: RequestRanking) -> Section:
    """The feature-request section; its title names the window the ranking was counted over."""
    lines = tuple(_request_line(r, ranking.by_accounts) for r in ranking.groups)
    if lines and ranking.ungrouped_tickets:
        lines += (Line(title="Other requests", detail=f"{count(ranking.ungrouped_tickets, 'ticket')} asked for something "
                                                      "not named clearly enough to group"),)
    empty = ("No feature requests." if ranking.total_tickets == 0 else
             f"{count(ranking.total_tickets, 'feature request')}, none naming a capability clearly enough to group.")
    return Section(f"Feature requests (last {ranking.window_weeks} weeks, "
                   f"by {'accounts' if ranking.by_accounts else 'tickets'})", lines, empty)


def _request_line(row: RequestRow, by_accounts: bool) -> Line:
    asked = f"{count(row.tickets, 'ticket')} ({row.tickets_this_week} this week)"
    detail = f"{count(row.accounts, 'account')} · {money(row.arr_usd)} ARR · {asked}" if by_accounts else asked
    return Line(title=row.label, detail=detail, quote=row.quote, tickets=row.tickets_seen)

"""The Product digest: new and spiking themes first, top themes, errors, ranked feature requests."""

from __future__ import annotations

import duckdb

from csintel.config import Settings
from csintel.digests.common import change, count, money, quote, refs
from csintel.digests.content import Digest, Line, Section
from csintel.warehouse import fetch_df
from csintel.weeks import Week, week_of

BADGES = {"new": "NEW", "spiking": "SPIKING", "fading": "FADING"}


def build_product_digest(con: duckdb.DuckDBPyConnection, week: Week, settings: Settings, tags_version: str) -> Digest:
    cfg = settings.digest
    bounds = {"start": week.start_ts, "end": week.end_ts}
    overview = fetch_df(con, "week_overview", {**bounds, "model_version": tags_version}).iloc[0]
    tickets = int(overview["tickets"] or 0)
    themes = fetch_df(con, "theme_week", {"week": week.start})
    examples = fetch_df(con, "theme_examples", {**bounds, "per_theme": 5})
    by_theme = {tid: grp for tid, grp in examples.groupby("theme_id")}
    first_seen = {r["theme_id"]: week_of(r["first_week"]).label for _, r in themes.iterrows()}

    def theme_line(row) -> Line:
        ex = by_theme.get(row["theme_id"])
        usual = ("first seen " + first_seen[row["theme_id"]] if row["trend"] == "new"
                 else f"usual {row['baseline']:.1f}/week")
        detail = (f"{count(row['tickets'], 'ticket')} ({change(row['tickets'], row['last_week_tickets'])}; {usual})"
                  f" · {count(row['accounts'], 'account')} · {money(row['arr_usd'])} ARR"
                  f" · {row['negative_share']:.0%} negative")
        return Line(
            title=row["label"], detail=detail, badge=BADGES.get(row["trend"]),
            quote=quote(ex.iloc[0]["display_text"], cfg.quote_chars) if ex is not None else None,
            tickets=refs(ex["ticket_id"] if ex is not None else [], cfg.ticket_url),
        )

    notable = themes[themes["trend"].isin(["new", "spiking"]) & (themes["tickets"] >= cfg.min_theme_tickets)]
    top = themes[~themes["theme_id"].isin(notable["theme_id"])].sort_values(
        ["tickets", "theme_id"], ascending=[False, True])
    sections = [
        Section("Emerging: new and spiking themes",
                tuple(theme_line(r) for _, r in notable.head(cfg.max_lines).iterrows()),
                "No new or spiking themes this week."),
        Section("Top themes", tuple(theme_line(r) for _, r in top.head(cfg.max_lines).iterrows()),
                "No themed tickets this week."),
        Section("Errors customers hit", _error_lines(con, bounds, tags_version, settings), "No error codes reported."),
        _request_section(con, week, settings, tags_version),
    ]
    neg = overview["negative_share"]
    summary = (f"{count(tickets, 'ticket')} closed in {week.label} ({change(tickets, overview['last_week_tickets'] or 0)}), "
               f"{count(overview['accounts'], 'account')}, "
               f"{(neg or 0):.0%} negative. {count(len(notable), 'emerging theme')}.")
    quiet = tickets == 0
    if quiet:
        summary = f"A quiet week: no tickets closed in {week.label}."
    return Digest(audience="product", week=week.label, title=f"Product digest · {week.label}", summary=summary,
                  sections=() if quiet else tuple(sections), quiet=quiet,
                  stats={"tickets": tickets, "emerging_themes": len(notable)})


def _error_lines(con, bounds, tags_version: str, settings: Settings) -> tuple[Line, ...]:
    errors = fetch_df(con, "errors_week", {**bounds, "model_version": tags_version})
    cfg = settings.digest
    return tuple(
        Line(title=r["error"],
             detail=f"{count(r['tickets'], 'ticket')}, {count(r['accounts'], 'account')} "
                    f"({change(r['tickets'], r['last_week_tickets'])})",
             quote=quote(r["example"], cfg.quote_chars, prefer=r["error"]),
             tickets=refs(r["ticket_ids"], cfg.ticket_url))
        for _, r in errors.head(cfg.max_lines).iterrows()
    )


def _request_section(con, week: Week, settings: Settings, tags_version: str) -> Section:
    """Request groups ranked by accounts and ARR, or by tickets when no request has a known account."""
    cfg = settings.digest
    rows = fetch_df(con, "request_groups_window", {
        "model_version": tags_version, "start": week.start_ts, "end": week.end_ts,
        "window_start": week.window_start(settings.themes.window_weeks).start_ts,
    })
    window = f"last {settings.themes.window_weeks} weeks"
    grouped = rows[rows["request_group"].notna()]
    unnamed = int(rows.loc[rows["request_group"].isna(), "tickets"].sum())
    by_accounts = bool((grouped["accounts"] > 0).any())
    keys = ["accounts", "arr_usd", "tickets", "request_group"] if by_accounts else ["tickets", "request_group"]
    grouped = grouped.sort_values(keys, ascending=[False] * (len(keys) - 1) + [True])
    # One ask is an anecdote, not a ranking entry; when nothing was asked twice, the single asks
    # are still shown (a digest must not say "no feature requests" when there were some).
    repeated = grouped[grouped["tickets"] >= 2]
    shown = repeated if len(repeated) else grouped

    def line(r) -> Line:
        asked = f"{int(r['tickets'])} tickets ({int(r['tickets_this_week'])} this week)"
        detail = (f"{int(r['accounts'])} accounts · {money(r['arr_usd'])} ARR · {asked}" if by_accounts else asked)
        return Line(title=r["label"], detail=detail,
                    quote=quote(r["example"], cfg.quote_chars, prefer=r["example_request"]),
                    tickets=refs(r["ticket_ids"], cfg.ticket_url))

    total = int(rows["tickets"].sum())
    empty = ("No feature requests." if total == 0 else
             f"{total} feature request(s), none naming a capability clearly enough to group.")
    lines = tuple(line(r) for _, r in shown.head(cfg.max_lines).iterrows())
    if lines and unnamed:
        lines += (Line(title="Other requests", detail=f"{unnamed} tickets asked for something not named "
                                                      "clearly enough to group"),)
    return Section(f"Feature requests ({window}, by {'accounts' if by_accounts else 'tickets'})", lines, empty)

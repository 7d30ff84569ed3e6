"""The Support Ops digest in words: volume, SLA, response and resolution times, CSAT, taxonomy fit,
relationship by segment, and the forecast with the staffing it needs."""

from __future__ import annotations

import duckdb

from csintel.config import Settings
from csintel.digests.content import Digest, Line, Section
from csintel.digests.support_ops import SegmentRow, SupportFigures, SupportWeek, support_week
from csintel.routing.wording.numbers import change, count, hours, minutes, money, num, pct
from csintel.weeks import Week, week_of


def build_support_ops_digest(con: duckdb.DuckDBPyConnection, week: Week, settings: Settings,
                             tags_version: str) -> Digest:
    """The week's Support Ops digest: its facts from the warehouse, in words."""
    return support_ops_digest(week.label, support_week(con, week, settings, tags_version))


def support_ops_digest(week: str, facts: SupportWeek | None) -> Digest:
    """The Support Ops digest of a week's facts; quiet (`facts` None) when no ticket closed in it."""
    title = f"Support operations · {week}"
    if facts is None:
        return Digest(audience="support_ops", week=week, title=title,
                      summary=f"A quiet week: no tickets closed in {week}.", quiet=True)
    total, sla = facts.overall, facts.overall.sla_compliance
    last = facts.last_week.tickets if facts.last_week else 0
    sla_text = (f"first-response SLA met on {pct(sla)} (target {facts.sla_target:.0%})" if sla is not None
                else "no first-response times recorded")
    csat_text = (f"CSAT {num(total.csat_mean, '.2f')} from {count(total.csat_responses, 'rating')}"
                 if total.csat_responses else "no CSAT ratings")
    summary = f"{count(total.tickets, 'ticket')} closed ({change(total.tickets, last)}); {sla_text}; {csat_text}."
    fit = facts.fit
    return Digest(
        audience="support_ops", week=week, title=title, summary=summary,
        sections=(Section("This week", _headline(facts)),
                  Section("By priority (first-response target)", _breakdown(facts.by_priority, facts.sla_target),
                          "No priorities recorded."),
                  Section("By channel", _breakdown(facts.by_channel, facts.sla_target), "No channels recorded."),
                  Section("By category", _breakdown(facts.by_category, facts.sla_target), "No categories tagged."),
                  Section("Relationship by segment", tuple(_segment_line(r) for r in facts.segments),
                          "No segments recorded."),
                  Section(f"Forecast and staffing (Erlang C: {facts.answer_target:.0%} answered within "
                          f"{minutes(facts.answer_within_minutes)}, {facts.handle_minutes:g} min handle time)",
                          _forecast_lines(facts), "Not enough history to forecast.")),
        stats={"tickets": total.tickets, "sla_compliance": sla if sla is not None else -1.0,
               "tagged": fit.tagged, "uncertain": fit.uncertain, "uncertain_share": round(fit.share, 4)},
    )


def _headline(facts: SupportWeek) -> tuple[Line, ...]:
    total, sla, target = facts.overall, facts.overall.sla_compliance, facts.sla_target
    ratings = total.csat_responses
    lines = (
        Line("SLA compliance", f"{pct(sla)} this week vs {pct(facts.last_week.sla_compliance if facts.last_week else None)}"
                               f" last week (target {target:.0%})" if sla is not None
             else "no first-response times recorded this week",
             badge="BELOW TARGET" if sla is not None and sla < target else None),
        Line("First response", f"median {minutes(total.frt_median)}, 90th percentile {minutes(total.frt_p90)}"),
        Line("Resolution", f"median {hours(total.resolution_median_h)}, "
                           f"90th percentile {hours(total.resolution_p90_h)}"),
        Line("CSAT", f"{num(total.csat_mean, '.2f')} / 5 from {count(ratings, 'rating')} "
                     f"({ratings / total.tickets:.0%} response rate)" if ratings else "no ratings this week"),
        Line("One-touch resolution", f"{pct(total.one_touch)} of tickets solved with a single agent reply"
             if total.one_touch is not None else "not recorded (no agent replies in the data)"),
    )
    fit = _fit_line(facts)
    return lines + (fit,) if fit else lines


def _fit_line(facts: SupportWeek) -> Line | None:
    """The taxonomy-fit line (absent when every tagged ticket has a category). The text avoids code
    spans: every renderer shows digest text literally."""
    fit = facts.fit
    if not fit.uncertain:
        return None
    share = "under 1%" if fit.share < 0.005 else f"{fit.share:.0%}"
    detail = (f"{share} of this week's tickets fit no category ({fit.uncertain} of "
              f"{count(fit.tagged, 'tagged ticket')}, \"uncertain\" under By category)")
    if not facts.poor_fit:
        return Line("Taxonomy fit", detail)
    return Line("Taxonomy fit", detail, badge="POOR FIT", reasons=(
        f"{facts.poor_fit_share:.0%} or more fit no category ([models] category_poor_fit_share): "
        f"the taxonomy likely misses kinds of tickets this team gets",
        f"draft categories from your own tickets with: {facts.suggest_command} (then edit the file and "
        f"set [models] taxonomy to it)",
    ))


def _breakdown(rows: tuple[SupportFigures, ...], sla_target: float) -> tuple[Line, ...]:
    return tuple(
        Line(title=r.name + (f" (target {minutes(r.target_minutes)})" if r.target_minutes is not None else ""),
             detail=f"{count(r.tickets, 'ticket')} · SLA {pct(r.sla_compliance)} · first response median "
                    f"{minutes(r.frt_median)} · resolution median {hours(r.resolution_median_h)} · "
                    f"CSAT {num(r.csat_mean, '.1f')}",
             badge="BELOW TARGET" if r.sla_compliance is not None and r.sla_compliance < sla_target else None)
        for r in rows)


def _segment_line(r: SegmentRow) -> Line:
    return Line(title=r.segment,
                detail=f"{count(r.tickets, 'ticket')} · {r.negative_share:.0%} negative "
                       f"({money(r.negative_arr_usd)} ARR behind them) · {r.competitive_tickets} with a "
                       f"competitor in play · {count(r.feature_requests, 'feature request')}")


def _forecast_lines(facts: SupportWeek) -> tuple[Line, ...]:
    """The next weeks' volume with its interval, and the agents each block needs in the first of them."""
    lines = tuple(Line(title=week_of(f.week).label,
                       detail=f"{f.tickets:.0f} tickets forecast (80% interval {f.low:.0f}-{f.high:.0f}; {f.method})")
                  for f in facts.forecast)
    if not facts.staffing:
        return lines
    first = week_of(facts.forecast[0].week).label
    return lines + tuple(
        Line(title=f"{b.block} ({first})",
             detail=f"{b.arrivals_per_hour:.1f} tickets/hour → {b.staffing.agents} "
                    f"agent{'' if b.staffing.agents == 1 else 's'} "
                    f"(answered in time {b.staffing.service_level:.0%}, occupancy {b.staffing.occupancy:.0%})")
        for b in facts.staffing)

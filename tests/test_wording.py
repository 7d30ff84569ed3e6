"""The digests in words: typed rows and numbers in, the Digest every renderer draws out, no warehouse."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from csintel.digests.content import TicketRef
from csintel.digests.cs import RecoveredRow, RenewalWeek, RiskRow
from csintel.digests.product import ErrorRow, ProductWeek, RequestRanking, RequestRow, ThemeRow
from csintel.digests.sales import CompetitorRow, MentionRow, SalesWeek
from csintel.digests.support_ops import CategoryFit, SupportFigures, SupportWeek
from csintel.routing.wording.cs import cs_digest
from csintel.routing.wording.numbers import change, hours, minutes, money, pct
from csintel.routing.wording.product import product_digest
from csintel.routing.wording.sales import sales_digest
from csintel.routing.wording.support_ops import support_ops_digest


def theme(label: str, trend: str, tickets: int, last_week: int) -> ThemeRow:
    return ThemeRow(label=label, trend=trend, first_week="2026-W46", tickets=tickets, last_week_tickets=last_week,
                    baseline=3.25, accounts=1, arr_usd=12_500.0, negative_share=0.5, quote="Export fails.",
                    tickets_seen=(TicketRef("7"),))


def product_week(tickets: int = 40) -> ProductWeek:
    return ProductWeek(
        week="2026-W47", tickets=tickets, last_week_tickets=30, accounts=12, negative_share=0.25, emerging_themes=3,
        emerging=(theme("CSV export fails", "new", 6, 0),), top=(theme("Login loops", "steady", 4, 4),),
        errors=(ErrorRow(error="ERR_AUTH_EXPIRED", tickets=2, accounts=1, last_week_tickets=4),),
        requests=RequestRanking(window_weeks=8, by_accounts=True, ungrouped_tickets=3, total_tickets=9,
                                groups=(RequestRow(label="dark mode", tickets=6, tickets_this_week=2, accounts=2,
                                                   arr_usd=2_400_000.0),)))


def test_numbers_read_as_english_and_a_missing_figure_says_so() -> None:
    assert (money(950), money(12_500), money(2_400_000)) == ("$950", "$12k", "$2.4M")
    assert (change(5, 0), change(0, 0), change(102, 100), change(135, 100)) == (
        "new this week", "none last week", "flat vs last week", "+35% vs last week")
    assert (pct(None), minutes(None), hours(None)) == ("n/a", "n/a", "n/a")
    assert (minutes(45), minutes(150), hours(30), hours(60)) == ("45 min", "2.5 h", "30.0 h", "2.5 days")


def test_product_rows_become_lines_and_the_summary_counts_every_emerging_theme() -> None:
    digest = product_digest(product_week())
    assert digest.summary == "40 tickets closed in 2026-W47 (+33% vs last week), 12 accounts, 25% negative. " \
                             "3 emerging themes."
    emerging, top, errors, requests = digest.sections
    new = emerging.lines[0]
    assert (new.badge, new.quote, new.tickets) == ("NEW", "Export fails.", (TicketRef("7"),))
    assert new.detail == "6 tickets (new this week; first seen 2026-W46) · 1 account · $12k ARR · 50% negative"
    assert top.lines[0].badge is None and "(flat vs last week; usual 3.2/week)" in top.lines[0].detail
    assert errors.lines[0].detail == "2 tickets, 1 account (-50% vs last week)"
    assert requests.title == "Feature requests (last 8 weeks, by accounts)"
    assert [ln.detail for ln in requests.lines] == [
        "2 accounts · $2.4M ARR · 6 tickets (2 this week)",
        "3 tickets asked for something not named clearly enough to group"]
    assert digest.stats == {"tickets": 40, "emerging_themes": 3}


def test_request_counts_of_one_read_in_the_singular() -> None:
    one = RequestRanking(window_weeks=12, by_accounts=True, ungrouped_tickets=1, total_tickets=2,
                         groups=(RequestRow(label="SSO", tickets=1, tickets_this_week=1, accounts=1, arr_usd=900.0),))
    requests = product_digest(replace(product_week(), requests=one)).sections[3]
    assert [ln.detail for ln in requests.lines] == [
        "1 account · $900 ARR · 1 ticket (1 this week)", "1 ticket asked for something not named clearly enough to group"]
    none_grouped = replace(one, groups=(), ungrouped_tickets=1, total_tickets=1)
    assert product_digest(replace(product_week(), requests=none_grouped)).sections[3].empty_text == (
        "1 feature request, none naming a capability clearly enough to group.")


def test_a_week_without_tickets_is_quiet_in_every_digest() -> None:
    product = product_digest(product_week(tickets=0))
    support = support_ops_digest("2026-W47", None)
    assert product.quiet and not product.sections and product.summary == "A quiet week: no tickets closed in 2026-W47."
    assert support.quiet and support.summary == product.summary and support.title == "Support operations · 2026-W47"


def test_risk_rows_name_the_renewal_the_csm_and_what_is_new() -> None:
    alert = RiskRow(name="Acme", renewal_date=date(2027, 1, 5), days_to_renewal=49, score=81.6, band="high",
                    newly_at_risk=True, arr_usd=70_000.0, csm_email="ann@x.io", csm_slack_id="U07ABC",
                    reasons=("churn language in 3 tickets",))
    recovered = RecoveredRow(name="Brightwater", renewal_date=date(2027, 3, 6), score=20.0, last_week_band="medium",
                             arr_usd=29_000.0, csm_slack_id=None)
    digest = cs_digest(RenewalWeek(week="2026-W47", renewal_window_days=120, renewing=21, at_risk=1, high=1,
                                   scored_last_week=True, newly_at_risk=1, arr_at_risk=70_000.0,
                                   alerts=(alert,), recovered=(recovered,)))
    assert digest.summary == "1 of 21 accounts renewing in the next 120 days show risk (1 high, 1 newly at risk), $70k ARR."
    line, back = digest.sections[0].lines[0], digest.sections[1].lines[0]
    assert line.title == "Acme — renews 2027-01-05 (in 49 days)" and line.badge == "HIGH RISK · NEW"
    assert line.detail == "Risk 82/100 · $70k ARR · CSM ann@x.io" and line.mention == "U07ABC"
    assert back.detail == "Risk now 20/100 (was medium last week) · $29k ARR"


def test_sales_mentions_without_an_account_and_the_window_of_the_weekly_mean() -> None:
    mention = MentionRow(competitor="Attio", context="switching", account_name=None, arr_usd=0.0)
    digest = sales_digest(SalesWeek(
        week="2026-W47", window_weeks=8, competitive_mentions=1, accounts=1, threat_mentions=1,
        by_competitor=(CompetitorRow(competitor="Attio", this_week=1, last_week=0, weekly_mean=0.25, accounts=1,
                                     integration_this_week=2),),
        threats=(mention,), gaps=(), integrations=()))
    assert digest.sections[0].lines[0].detail == "unknown account · $0 ARR"
    assert digest.sections[2].lines[0].detail == ("1 competitive mention this week (last week 0, 0.2/week over 8 weeks)"
                                                  " · 1 account · 2 integration mentions")


def test_support_figures_the_data_lacks_read_as_not_recorded() -> None:
    overall = SupportFigures(name="", tickets=3, sla_compliance=None, frt_median=None, frt_p90=None,
                             resolution_median_h=2.0, resolution_p90_h=None, csat_mean=None, csat_responses=0,
                             one_touch=None)
    digest = support_ops_digest("2026-W47", SupportWeek(
        week="2026-W47", overall=overall, last_week=None, by_priority=(), by_channel=(), by_category=(),
        fit=CategoryFit(tagged=3, uncertain=0), poor_fit=False, poor_fit_share=0.3, suggest_command="", segments=(),
        forecast=(), staffing=(), sla_target=0.9, answer_target=0.8, answer_within_minutes=60, handle_minutes=12))
    assert digest.summary == ("3 tickets closed (new this week); no first-response times recorded; no CSAT ratings.")
    details = [ln.detail for ln in digest.sections[0].lines]
    assert details[0] == "no first-response times recorded this week" and "n/a" in details[1]
    assert details[-1] == "not recorded (no agent replies in the data)"
    assert digest.sections[-1].title == "Forecast and staffing (Erlang C: 80% answered within 60 min, 12 min handle time)"
    assert digest.stats["sla_compliance"] == -1.0

"""The answer key: per-ticket labels and a summary of every planted item, read off the tickets."""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass
from datetime import date

from tools.sample.accounts import Account
from tools.sample.compose import Draft
from tools.sample.plan import RISK_PROFILES, TicketSpec
from tools.sample.themes import EMERGING, REQUEST_GROUPS, SPIKE_THEME, THEMES_BY_KEY


@dataclass(frozen=True)
class Written:
    """A ticket as written: its id, its plan and its text."""

    ticket_id: str
    spec: TicketSpec
    draft: Draft


def ticket_truth(spec: TicketSpec, draft: Draft) -> dict[str, object]:
    """The labels of one ticket."""
    return {
        "theme": spec.theme_key, "category": spec.category, "root_cause": spec.root_cause,
        "sentiment": spec.sentiment, "competitors": draft.competitors,
        "false_friends": draft.false_friends,
        "request_group": spec.request.key if spec.request else None,
        "errors": draft.errors, "pii": bool(draft.pii), "slack_markup": draft.slack_markup,
    }


def planted(written: list[Written], week_labels: list[str], at_risk: list[Account],
            healthy: list[Account], last_week_end: date) -> dict[str, object]:
    """Summaries of the planted items, each with the tickets behind it."""
    n_weeks = len(week_labels)

    def weekly(theme_key: str) -> list[int]:
        counts = Counter(w.spec.week for w in written if w.spec.theme_key == theme_key)
        return [counts.get(i, 0) for i in range(n_weeks)]

    emerging = [w for w in written if w.spec.theme_key == EMERGING.key]
    spike = weekly(SPIKE_THEME.key)
    baseline = statistics.fmean(spike[:-1])
    return {
        "emerging": {
            "theme": EMERGING.key, "label": EMERGING.label, "category": EMERGING.category,
            "root_cause": EMERGING.root_cause, "error": EMERGING.errors[0],
            "weekly": dict(zip(week_labels, weekly(EMERGING.key))),
            "accounts": len({w.spec.account.account_id for w in emerging}),
            "tickets": [w.ticket_id for w in emerging],
        },
        "spiking": {
            "theme": SPIKE_THEME.key, "label": SPIKE_THEME.label, "error": SPIKE_THEME.errors[0],
            "weekly": dict(zip(week_labels, spike)), "baseline_mean": round(baseline, 2),
            "last_week": spike[-1], "ratio": round(spike[-1] / baseline, 2),
        },
        "competitors": _competitors(written),
        "request_groups": {
            g.key: {"label": g.label, "category": g.category,
                    "tickets": [w.ticket_id for w in written if w.spec.request is g],
                    "accounts": len({w.spec.account.account_id for w in written if w.spec.request is g})}
            for g in REQUEST_GROUPS
        },
        "request_lookalikes": [w.ticket_id for w in written if w.draft.request_lookalike],
        "at_risk_accounts": [_risk_entry(a, written, n_weeks, last_week_end, profile)
                             for a, profile in zip(at_risk, RISK_PROFILES)],
        "healthy_accounts": [_healthy_entry(a, written, last_week_end) for a in healthy],
        "pii": {w.ticket_id: w.draft.pii for w in written if w.draft.pii},
        "slack_markup": [w.ticket_id for w in written if w.draft.slack_markup],
        "unlinked_tickets": {w.ticket_id: w.spec.account.account_id for w in written if w.spec.unlinked},
    }


def _competitors(written: list[Written]) -> dict[str, object]:
    by_name: dict[str, Counter[str]] = {}
    for w in written:
        for m in w.draft.competitors:
            by_name.setdefault(str(m["name"]), Counter())[str(m["context"])] += 1
    return {
        "tickets_with_mention": sum(1 for w in written if w.draft.competitors),
        "tickets_competitive": sum(1 for w in written if any(m["competitive"] for m in w.draft.competitors)),
        "tickets_integration_only": sum(1 for w in written if w.draft.competitors
                                        and not any(m["competitive"] for m in w.draft.competitors)),
        "tickets_false_friend": sum(1 for w in written if w.draft.false_friends),
        "mentions": {name: dict(sorted(c.items())) for name, c in sorted(by_name.items())},
    }


def _account_header(account: Account, tickets: list[Written], last_week_end: date) -> dict[str, object]:
    return {
        "account_id": account.account_id, "name": account.name, "arr_usd": account.arr_usd,
        "renewal_date": account.renewal_date.isoformat(),
        "days_to_renewal": (account.renewal_date - last_week_end).days,
        "csm_slack_id": account.csm_slack_id, "tickets": [w.ticket_id for w in tickets],
    }


def _csat_text(tickets: list[Written]) -> str:
    ratings = [w.spec.csat for w in tickets if w.spec.csat is not None]
    return f"average CSAT {statistics.fmean(ratings):.1f} over {len(ratings)} ratings" if ratings else "no CSAT ratings"


def _risk_entry(account: Account, written: list[Written], n_weeks: int, last_week_end: date,
                profile: tuple[str, str, str]) -> dict[str, object]:
    tickets = [w for w in written if w.spec.account.account_id == account.account_id]
    half = n_weeks // 2
    early = sum(1 for w in tickets if w.spec.week < half)
    theme_key, competitor, context = profile
    repeats = sum(1 for w in tickets if w.spec.theme_key == theme_key)
    urgent = sum(1 for w in tickets if w.spec.priority in ("high", "urgent"))
    churn = sum(1 for w in tickets if w.spec.risk and w.spec.risk.churn)
    first_response = statistics.median(w.spec.first_response_minutes for w in tickets)
    entry = _account_header(account, tickets, last_week_end)
    entry["reasons"] = [
        f"ticket volume rising: {early} tickets in the first {half} weeks, "
        f"{len(tickets) - early} in the last {n_weeks - half}",
        f"same issue reported {repeats} times: {THEMES_BY_KEY[theme_key].label}",
        f"{urgent} of {len(tickets)} tickets high or urgent priority",
        f"negative sentiment in all {len(tickets)} tickets",
        f"churn language in {churn} tickets",
        f"competitor {context}: {competitor}",
        _csat_text(tickets),
        f"median first response {first_response / 60:.1f} h",
    ]
    return entry


def _healthy_entry(account: Account, written: list[Written], last_week_end: date) -> dict[str, object]:
    tickets = [w for w in written if w.spec.account.account_id == account.account_id]
    questions = sum(1 for w in tickets if w.spec.root_cause in ("how_to", "billing"))
    entry = _account_header(account, tickets, last_week_end)
    entry["reasons"] = [
        f"{len(tickets)} tickets, steady low volume",
        f"{questions} of {len(tickets)} are how-to or billing questions",
        "no negative sentiment, no churn language, no competitor mentions",
        "low or normal priority only",
        _csat_text(tickets),
    ]
    return entry

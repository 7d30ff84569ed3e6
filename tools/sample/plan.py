"""Which tickets exist: their theme, week, account, labels, timing and what is planted in them.

The plan is made before any text is written, so volumes, weeks and accounts of every planted
item are decided in one place and scale with the sample size (never below what a detector
needs to see them).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from tools.sample.accounts import Account, Contact
from tools.sample.phrases import AGENTS, COMPETITIVE_CONTEXTS, COMPETITOR_WEIGHTS
from tools.sample.themes import (
    EMERGING, OUTAGE_THEME, REQUEST_GROUPS, SPIKE_THEME, THEMES, THEMES_BY_KEY, RequestGroup, Theme,
)

DEFAULT_TICKETS = 3600
# Each at-risk account: the bug it keeps reporting and the competitor it brings up.
RISK_PROFILES: tuple[tuple[str, str, str], ...] = (
    ("salesforce_sync_conflict", "HubSpot", "switching"),
    ("notification_emails_late", "Pipedrive", "evaluating"),
    ("report_totals_wrong", "Attio", "evaluating"),
    ("ios_crash_deal_view", "Close", "switching"),
    ("dashboard_slow", "Zoho CRM", "pricing"),
    ("gmail_sync_missing", "Front", "evaluating"),
)
RISK_SIDE_THEMES = ("dashboard_slow", "report_totals_wrong", "webhook_failures", "api_500_contacts",
                    "dashboard_widgets_empty", "duplicate_notifications")
HEALTHY_THEMES = ("how_to_add_user", "report_how_to", "digest_email_opt_out", "invoice_vat_number",
                  "transfer_ownership", "mobile_offline_tasks")
PRIORITIES = ("low", "normal", "high", "urgent")
SENTIMENTS = ("negative", "neutral", "positive")
CHANNELS = (("email", 0.5), ("web", 0.35), ("chat", 0.15))
DAY_WEIGHTS = (1.3, 1.15, 1.1, 1.05, 0.9, 0.3, 0.25)          # Mon..Sun
HOUR_WEIGHTS = tuple(0.15 if h < 6 or h > 21 else (1.0 if 8 <= h <= 18 else 0.5) for h in range(24))
RESOLUTION_MEDIAN_HOURS = {"urgent": 3.0, "high": 8.0, "normal": 20.0, "low": 40.0}
FIRST_RESPONSE_MEDIAN_MIN = {"urgent": 20.0, "high": 60.0, "normal": 180.0, "low": 420.0}
CSAT_BY_SENTIMENT = {"negative": ((1, 2, 3, 4), (3, 3, 2, 1)), "neutral": ((3, 4, 5), (2, 4, 3)),
                     "positive": ((4, 5), (1, 3))}


@dataclass(frozen=True)
class Volumes:
    """How many of each planted item a sample of a given size gets."""

    emerging: int
    spike_base: int
    requests: dict[str, int]
    at_risk_each: int
    healthy_each: int
    competitive: int
    partner_asides: int
    false_friends: int
    lookalikes: int
    pii: int
    slack: int
    unlinked: int


def volumes(n_tickets: int) -> Volumes:
    """Planted volumes for `n_tickets`: proportional to the default, with floors for small samples."""
    scale = n_tickets / DEFAULT_TICKETS

    def scaled(default: float, floor: int) -> int:
        return max(floor, round(default * scale))

    return Volumes(
        emerging=scaled(60, 15), spike_base=scaled(8, 3),
        requests={g.key: scaled(g.weight, 4) for g in REQUEST_GROUPS},
        at_risk_each=scaled(30, 8), healthy_each=scaled(8, 3), competitive=scaled(75, 8),
        partner_asides=scaled(10, 3), false_friends=scaled(100, 10), lookalikes=scaled(40, 5),
        pii=scaled(180, 10), slack=scaled(15, 5), unlinked=scaled(108, 5),
    )


@dataclass
class RiskNote:
    """What an at-risk account's ticket adds to its theme: repetition, frustration, churn talk."""

    repeat_n: int = 0          # earlier tickets of this account on the same theme
    frustrated: bool = False
    churn: bool = False


@dataclass
class TicketSpec:
    """One ticket before its text is written."""

    role: str                                  # background|spike|emerging|request|at_risk|healthy
    week: int
    account: Account
    requester: Contact
    theme: Theme | None = None
    request: RequestGroup | None = None
    agent: str = ""
    sentiment: str = "neutral"
    priority: str = "normal"
    channel: str = "email"
    competitor: tuple[str, str] | None = None  # (canonical name, context), competitive
    partner_aside: bool = False
    false_friend: bool = False
    lookalike: bool = False
    pii: bool = False
    slack: bool = False
    unlinked: bool = False
    risk: RiskNote | None = None
    created_at: datetime = field(default=datetime.min)
    solved_at: datetime = field(default=datetime.min)
    first_response_minutes: float = 0.0
    csat: int | None = None

    @property
    def planted_extras(self) -> bool:
        """Whether anything beyond its theme was planted in this ticket."""
        return bool(self.competitor or self.partner_aside or self.false_friend or self.lookalike
                    or self.pii or self.slack or self.unlinked)

    @property
    def theme_key(self) -> str:
        return f"request_{self.request.key.replace('-', '_')}" if self.request else self.theme.key

    @property
    def category(self) -> str:
        return self.request.category if self.request else self.theme.category

    @property
    def root_cause(self) -> str:
        return "missing_capability" if self.request else self.theme.root_cause


def plan_tickets(rng: random.Random, n_tickets: int, week_starts: list[date], last_day: date,
                 accounts: list[Account], at_risk: list[Account], healthy: list[Account]) -> list[TicketSpec]:
    """Plan `n_tickets` tickets over `week_starts` (solved no later than `last_day`)."""
    n_weeks = len(week_starts)
    if n_weeks < 4:
        raise ValueError(f"need at least 4 weeks for a baseline, got {n_weeks}")
    vol = volumes(n_tickets)
    planted_ids = {a.account_id for a in (*at_risk, *healthy)}
    pool = [a for a in accounts if a.account_id not in planted_ids]
    specs: list[TicketSpec] = []
    specs += _spike(rng, vol, n_weeks, pool)
    specs += _emerging(rng, vol, n_weeks, pool)
    specs += _requests(rng, vol, n_weeks, pool)
    specs += _at_risk(rng, vol, n_weeks, at_risk)
    specs += _healthy(rng, vol, n_weeks, healthy)
    n_background = n_tickets - len(specs)
    if n_background < n_tickets * 0.3:
        raise ValueError(f"{n_tickets} tickets leave too little room for background volume")
    specs += _background(rng, n_background, n_weeks, pool)
    _plant_flags(rng, vol, specs)
    for spec in specs:
        _label(rng, spec)
        _schedule(rng, spec, week_starts[spec.week], last_day)
    _mark_risk_progression(specs)
    return specs


# --- volumes per role ----------------------------------------------------------------------
def _spec(rng: random.Random, role: str, week: int, account: Account, **kw: object) -> TicketSpec:
    return TicketSpec(role=role, week=week, account=account, requester=rng.choice(account.contacts),
                      agent=rng.choice(AGENTS), **kw)


def _weighted_account(rng: random.Random, pool: list[Account]) -> Account:
    return rng.choices(pool, weights=[a.volume for a in pool])[0]


def _spread_accounts(rng: random.Random, pool: list[Account], n: int) -> list[Account]:
    """`n` accounts, as many distinct ones as the pool allows."""
    out: list[Account] = []
    while len(out) < n:
        out += rng.sample(pool, min(len(pool), n - len(out)))
    return out


def _spike(rng: random.Random, vol: Volumes, n_weeks: int, pool: list[Account]) -> list[TicketSpec]:
    counts = [max(1, vol.spike_base + rng.choice((-1, 0, 0, 1))) for _ in range(n_weeks - 1)]
    counts.append(4 * vol.spike_base)
    return [_spec(rng, "spike", w, _weighted_account(rng, pool), theme=SPIKE_THEME)
            for w, c in enumerate(counts) for _ in range(c)]


def _emerging(rng: random.Random, vol: Volumes, n_weeks: int, pool: list[Account]) -> list[TicketSpec]:
    before_last = round(vol.emerging * 0.35)
    weeks = [n_weeks - 2] * before_last + [n_weeks - 1] * (vol.emerging - before_last)
    accounts = _spread_accounts(rng, pool, vol.emerging)
    return [_spec(rng, "emerging", w, a, theme=EMERGING) for w, a in zip(weeks, accounts)]


def _requests(rng: random.Random, vol: Volumes, n_weeks: int, pool: list[Account]) -> list[TicketSpec]:
    specs = []
    for group in REQUEST_GROUPS:
        for account in _spread_accounts(rng, pool, vol.requests[group.key]):
            specs.append(_spec(rng, "request", rng.randrange(n_weeks), account, request=group))
    return specs


def _at_risk(rng: random.Random, vol: Volumes, n_weeks: int, accounts: list[Account]) -> list[TicketSpec]:
    specs = []
    for account, (theme_key, name, context) in zip(accounts, RISK_PROFILES):
        k = vol.at_risk_each
        for j in range(k):
            # Week density rising linearly over the quarter: quantile u sits at week n*sqrt(u).
            week = min(n_weeks - 1, int(n_weeks * math.sqrt((j + 0.5) / k)))
            key = theme_key if rng.random() < 0.7 else rng.choice(RISK_SIDE_THEMES)
            spec = _spec(rng, "at_risk", week, account, theme=THEMES_BY_KEY[key], risk=RiskNote())
            # The competitor comes up in the last third, once the account is fed up.
            if j >= k - max(2, k // 8):
                spec.competitor = (name, context)
            specs.append(spec)
    return specs


def _healthy(rng: random.Random, vol: Volumes, n_weeks: int, accounts: list[Account]) -> list[TicketSpec]:
    k = vol.healthy_each
    return [_spec(rng, "healthy", int(n_weeks * (j + rng.random()) / k), account,
                  theme=THEMES_BY_KEY[rng.choice(HEALTHY_THEMES)])
            for account in accounts for j in range(k)]


def _background(rng: random.Random, n: int, n_weeks: int, pool: list[Account]) -> list[TicketSpec]:
    themes = [t for t in THEMES if t is not SPIKE_THEME]
    week_weights = {t.key: [rng.lognormvariate(0, 0.3) for _ in range(n_weeks)] for t in themes}
    # A one-off outage mid-quarter: a burst that is over well before the last week.
    burst = max(0, n_weeks - 8)
    week_weights[OUTAGE_THEME.key][burst] += n_weeks * 1.2
    specs = []
    for theme in rng.choices(themes, weights=[t.weight for t in themes], k=n):
        week = rng.choices(range(n_weeks), weights=week_weights[theme.key])[0]
        specs.append(_spec(rng, "background", week, _weighted_account(rng, pool), theme=theme))
    return specs


# --- planted flags -------------------------------------------------------------------------
def _plant_flags(rng: random.Random, vol: Volumes, specs: list[TicketSpec]) -> None:
    open_specs = [s for s in specs if s.role in ("background", "spike", "emerging", "request")]
    background = [s for s in specs if s.role == "background"]
    for spec in rng.sample(open_specs, vol.competitive):
        name = rng.choices(list(COMPETITOR_WEIGHTS), weights=list(COMPETITOR_WEIGHTS.values()))[0]
        context = rng.choices(list(COMPETITIVE_CONTEXTS), weights=list(COMPETITIVE_CONTEXTS.values()))[0]
        spec.competitor = (name, context)
    for spec in rng.sample([s for s in background if "sync" not in s.theme.tags], vol.partner_asides):
        spec.partner_aside = True
    for spec in rng.sample(open_specs, vol.false_friends):
        spec.false_friend = True
    for spec in rng.sample([s for s in background if s.theme.root_cause == "product_bug"], vol.lookalikes):
        spec.lookalike = True
    for spec in rng.sample(specs, vol.pii):
        spec.pii = True
    for spec in rng.sample(open_specs, vol.slack):
        spec.slack = True
    for spec in rng.sample(background, vol.unlinked):
        spec.unlinked = True


# --- labels and timing ---------------------------------------------------------------------
def _label(rng: random.Random, spec: TicketSpec) -> None:
    spec.channel = rng.choices([c for c, _ in CHANNELS], weights=[w for _, w in CHANNELS])[0]
    if spec.role == "at_risk":
        spec.sentiment = "negative"
        spec.priority = rng.choices(PRIORITIES, weights=(0, 0.2, 0.45, 0.35))[0]
        spec.channel = rng.choice(("email", "web"))
    elif spec.role == "healthy":
        spec.sentiment = rng.choices(SENTIMENTS, weights=(0, 0.4, 0.6))[0]
        spec.priority = rng.choices(PRIORITIES, weights=(0.5, 0.5, 0, 0))[0]
    elif spec.request is not None:
        spec.sentiment = rng.choices(SENTIMENTS, weights=(0.15, 0.6, 0.25))[0]
        spec.priority = rng.choices(PRIORITIES, weights=(0.6, 0.4, 0, 0))[0]
    else:
        spec.sentiment = rng.choices(SENTIMENTS, weights=spec.theme.sentiment)[0]
        spec.priority = rng.choices(PRIORITIES, weights=spec.theme.priority)[0]
    if spec.competitor and spec.competitor[1] == "switching":
        spec.sentiment = "negative"
    elif spec.competitor and spec.sentiment == "positive":
        spec.sentiment = "neutral"


def _schedule(rng: random.Random, spec: TicketSpec, week_start: date, last_day: date) -> None:
    days = [d for d in range(7) if week_start + timedelta(days=d) <= last_day]
    day = rng.choices(days, weights=[DAY_WEIGHTS[d] for d in days])[0]
    hour = rng.choices(range(24), weights=HOUR_WEIGHTS)[0]
    spec.solved_at = datetime.combine(week_start + timedelta(days=day),
                                      time(hour, rng.randrange(60), rng.randrange(60)))
    slow = 2.0 if spec.role == "at_risk" else 1.0
    hours = min(240.0, max(0.2, rng.lognormvariate(math.log(RESOLUTION_MEDIAN_HOURS[spec.priority] * slow), 0.9)))
    spec.created_at = spec.solved_at - timedelta(seconds=round(hours * 3600))
    if spec.channel == "chat":
        median = 3.0
    else:
        median = FIRST_RESPONSE_MEDIAN_MIN[spec.priority] * {"at_risk": 6.0, "healthy": 0.5}.get(spec.role, 1.0)
    first = rng.lognormvariate(math.log(median), 0.8)
    spec.first_response_minutes = round(min(first, hours * 60 * 0.9), 1)
    fill = {"at_risk": 0.7, "healthy": 0.6}.get(spec.role, 0.4)
    if rng.random() < fill:
        if spec.role == "at_risk":
            spec.csat = rng.choices((1, 2, 3), weights=(5, 4, 1))[0]
        elif spec.role == "healthy":
            spec.csat = rng.choices((4, 5), weights=(1, 4))[0]
        else:
            values, weights = CSAT_BY_SENTIMENT[spec.sentiment]
            spec.csat = rng.choices(values, weights=weights)[0]


def _mark_risk_progression(specs: list[TicketSpec]) -> None:
    """Escalate each at-risk account's tickets in the order they were written."""
    by_account: dict[str, list[TicketSpec]] = {}
    for spec in specs:
        if spec.role == "at_risk":
            by_account.setdefault(spec.account.account_id, []).append(spec)
    for account_specs in by_account.values():
        account_specs.sort(key=lambda s: s.created_at)
        seen: dict[str, int] = {}
        k = len(account_specs)
        for j, spec in enumerate(account_specs):
            spec.risk = RiskNote(repeat_n=seen.get(spec.theme.key, 0), frustrated=j >= 0.35 * k,
                                 churn=j >= 0.6 * k)
            seen[spec.theme.key] = seen.get(spec.theme.key, 0) + 1

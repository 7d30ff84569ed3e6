"""Renewal history with outcomes: months of support tickets and the renewals they led up to.

For backtesting the renewal-risk score (`csintel.risk`): `generate_history()` writes `months`
months of tickets, every account's past renewals with their outcome, and the accounts with their
next renewal. Tickets are written by the weekly sample's own composer (`compose.py`) and row
writer, so they read exactly like the sample: same themes, phrasings, noise, churn and rival lines.

What drives outcomes (the true generative model; the numbers are the constants below and in
`lives.py`):

1. Each account has a latent weekly *distress* d in [0, 1]: a chronic level (mean ~0.13) plus
   rough patches (~0.7 a year: ramp up 3-10 weeks, hold 2-16, recover 3-8), each about one
   product problem (a bug, mostly with an error code).
2. *Intent* to leave, in [0, 1], builds while distress stays above 0.45, at a per-account rate
   (patience varies ~20x across accounts), and fades 15% a week after; a few accounts (0.2 a
   year) shop for a rival with no distress at all (a new VP, a consolidation).
3. A *hidden* pressure H ~ N(0, 1) per renewal (budget cuts, a champion leaving) never shows in a
   ticket, except that above 1.0 the account goes quiet (half the tickets) for 20 weeks before.
4. At a renewal on day R, with D and I the mean distress and intent over weeks R-26 .. R-2:
   P(leave) = sigmoid(-4.1 + 0.5 D + 13.0 I + 2.0 H). A leaver churns with probability
   0.45 + 0.4 I, else downgrades. A churned account writes no more tickets.

How tickets show the latent state (per ticket, `SIGNAL_LINKS`), most informative first: a churn
line with P = 0.4 I and switching/evaluating talk about the account's one rival with P = 0.25 I
(intent drives the outcome, so these carry the most); tickets on the patch's own problem (the
repeated error) with P = 0.6 x its depth; volume x (1 + 2.0 d + 1.5 I); a frustration line on
those problem tickets with P = 0.6 d; extra negative tone with P = 0.2 d, a priority bump with
P = 0.25 d, a 1-2 rating with P = 0.12 d (40% of tickets rated, half of ratings follow the
tone), first response x (1 + 0.8 d) (these four carry little). Noise that says nothing about
health: per-account habits (always cross, always urgent, harsh raters), slow first responses for
APAC/LATAM (support works NA/EMEA hours), sitewide outage weeks and staffing crunches (4-8
weeks of slow first responses), churn and rival talk from content accounts, and the sample's
PII, false friends and unlinked tickets.

Measured on 700 accounts with csintel's rule taggers (seed 11): the default risk score 90 days
ahead ranks churned-or-downgraded renewals at AUC ~0.78 (30 days ahead ~0.78, 180 days ~0.63);
a logistic fit puts churn language and competitor threat far above CSAT, slow response and
volume surge, and beats equal weights (~0.81 vs ~0.76 at 30 days ahead; ~0.01 at 90 days).
"""

from __future__ import annotations

import csv
import lzma
import math
import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path

from tools.sample.accounts import ACCOUNT_COLUMNS, make_accounts
# The weekly sample's own row writer and body de-duplication, so history rows match it field for field.
from tools.sample.generate import _json_line, _row, _unique_draft
from tools.sample.lives import (
    CHURN_SHARE, DECISION_WEEKS, DISENGAGE_ABOVE, FIRST_RENEWAL_AFTER_DAYS, GRUMPINESS, HARSHNESS,
    OUTCOME_WEIGHTS, PRE_WEEKS, STORIES, URGENCY_HABIT, Episode, Life, current_account, live, poisson,
)
from tools.sample.phrases import AGENTS, COMPETITIVE_CONTEXTS, COMPETITOR_WEIGHTS
from tools.sample.plan import (
    CHANNELS, CSAT_BY_SENTIMENT, DAY_WEIGHTS, FIRST_RESPONSE_MEDIAN_MIN, HOUR_WEIGHTS, PRIORITIES,
    RESOLUTION_MEDIAN_HOURS, SENTIMENTS, RiskNote, TicketSpec,
)
from tools.sample.themes import OUTAGE_THEME, REQUEST_GROUPS, SPIKE_THEME, THEMES, Theme
from tools.sample.truth import Written

FIRST_TICKET_NUMBER = 100001
TICKET_PREFIX = "HX-"
MIN_SPAN_DAYS = FIRST_RENEWAL_AFTER_DAYS + 30
RENEWAL_COLUMNS = ("account_id", "renewal_date", "outcome", "arr_before", "arr_after")
OUTCOMES = ("renewed", "churned", "downgraded")

# --- how the tickets show it (per ticket) ----------------------------------------------------
SIGNAL_LINKS = {
    "churn_language": 0.4,         # P(churn line) = link * intent
    "competitor_threat": 0.25,     # P(switching to / evaluating the account's rival) = link * intent
    "repeated_issue": 0.6,         # P(ticket on the patch's problem) = link * patch depth
    "volume": 2.0,                 # ticket rate x (1 + link * distress + volume_intent * intent)
    "volume_intent": 1.5,          # an account weighing its options chases, escalates, asks
    "frustration": 0.6,            # P(frustration line on a problem ticket) = link * distress
    "negative_sentiment": 0.2,     # P(negative, whatever the theme) = link * distress
    "urgent_share": 0.25,          # P(priority one level up) = link * distress
    "low_csat": 0.12,              # P(a rating of 1-2) = link * distress
    "slow_first_response": 0.8,    # first response x (1 + link * distress)
}
PROBLEM_NEGATIVE = 0.6             # P(negative) of a problem ticket, plus 0.35 * distress
# Support works NA and EMEA hours: these regions wait longer for a first response, healthy or not.
OFF_HOURS_REGIONS = {"APAC": 3.0, "LATAM": 2.0}
INCIDENTS_PER_YEAR = 2.5           # sitewide outage weeks: every account writes in
INCIDENT_WEEKS = (1, 1)
INCIDENT_TICKETS = 0.7             # extra outage tickets per account that week, times its base rate
CRUNCHES_PER_YEAR = 1.5            # support staffing crunches (a hiring freeze, a launch): for
CRUNCH_WEEKS = (4, 8)              # these many weeks every first response is slower
CRUNCH_FACTOR = 3.0
CHURN_NOISE = 0.003                # churn lines from accounts with no intent at all
COMPETITOR_NOISE = 0.01            # any competitor mention, in the sample's mix of contexts
REQUEST_SHARE = 0.07
CSAT_FILL = 0.4
CSAT_TONE_PULL = 0.5               # share of ratings that follow the ticket's tone (else a neutral one)
# The weekly sample's incidental items, at its rates (per ticket).
PII_RATE = 0.05
FALSE_FRIEND_RATE = 0.028
PARTNER_ASIDE_RATE = 0.003
LOOKALIKE_RATE = 0.011
SLACK_RATE = 0.004
UNLINKED_RATE = 0.03
# Outages come only from the sitewide incident weeks; the sample's spiking theme is ordinary here.
BACKGROUND_THEMES = tuple(t for t in THEMES if t is not OUTAGE_THEME)
SPIKE_THEME_WEIGHT = 2.0


@dataclass(frozen=True)
class _Week:
    """An account's latent state in one week."""

    distress: float
    intent: float
    problem: Theme | None      # what the deepest current rough patch is about
    depth: float               # how deep that patch is


def generate_history(out_dir: Path, *, n_accounts: int = 160, months: int = 18,
                     end: date = date(2026, 11, 22), seed: int = 11, compress: bool = False) -> dict:
    """Write tickets.jsonl, accounts.csv, renewals.csv into out_dir; return a summary dict.

    With `compress`, the tickets go to tickets.jsonl.xz instead (the copy csintel ships in
    data/history/ for `csintel risk backtest`: ~0.9 MB instead of ~14 MB).

    Tickets are solved from `months` calendar months before `end` through `end`. Each account
    renews yearly, first at least 120 days after the history starts; renewals.csv holds the
    renewals up to `end`, accounts.csv each account's next renewal (a churned account: the day it
    left, with ARR 0). The summary holds outcome counts, the stories behind them and the true
    generative weights. The same arguments always give byte-identical files.

    Raises:
        ValueError: when `months` leaves no room for a renewal, or `n_accounts` is out of range.
    """
    start = _months_before(end, months)
    span_days = (end - start).days + 1
    if span_days < MIN_SPAN_DAYS:
        raise ValueError(f"need at least {MIN_SPAN_DAYS} days of history for a renewal, got {span_days} "
                         f"({months} months)")
    rng = random.Random(seed)
    n_weeks = -(-span_days // 7)
    accounts = make_accounts(rng, n_accounts, end)
    incidents = _sitewide_weeks(rng, n_weeks, INCIDENTS_PER_YEAR, INCIDENT_WEEKS)
    crunches = _sitewide_weeks(rng, n_weeks, CRUNCHES_PER_YEAR, CRUNCH_WEEKS)
    lives = [live(rng, account, start, end, n_weeks) for account in accounts]

    specs = [s for life in lives for s in _account_tickets(rng, life, start, end, n_weeks, incidents, crunches)]
    specs.sort(key=lambda s: s.created_at)
    seen: set[str] = set()
    written = [Written(f"{TICKET_PREFIX}{FIRST_TICKET_NUMBER + i}", spec, _unique_draft(rng, spec, seen))
               for i, spec in enumerate(specs)]
    end_of_data = datetime.combine(end, time(23, 59, 59))
    lines = [_json_line(_row(rng, w, end_of_data)) for w in written]

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    text = "".join(line + "\n" for line in lines)
    if compress:
        (out_dir / "tickets.jsonl.xz").write_bytes(lzma.compress(text.encode("utf-8"), preset=9 | lzma.PRESET_EXTREME))
    else:
        (out_dir / "tickets.jsonl").write_text(text, encoding="utf-8")
    renewals = sorted((r for life in lives for r in life.renewals), key=lambda r: (r.day, r.account_id))
    _write_csv(out_dir / "renewals.csv", RENEWAL_COLUMNS, [r.row() for r in renewals])
    _write_csv(out_dir / "accounts.csv", ACCOUNT_COLUMNS, [current_account(life).row() for life in lives])
    return {
        "out_dir": str(out_dir), "start": start.isoformat(), "end": end.isoformat(),
        "generator": {"n_accounts": n_accounts, "months": months, "end": end.isoformat(), "seed": seed},
        "tickets": len(written), "accounts": n_accounts,
        "tickets_per_account_month": round(len(written) / n_accounts / (span_days / 30.44), 2),
        "renewals": len(renewals), "outcomes": {o: sum(r.outcome == o for r in renewals) for o in OUTCOMES},
        "stories": {k: sum(r.story == k for r in renewals) for k in STORIES},
        "generative_model": generative_model(),
    }


def generative_model() -> dict:
    """The true weights behind the outcomes and the tickets, for reading a backtest's results."""
    return {
        "outcome": outcome_formula(),
        "decision_weeks_before_renewal": list(DECISION_WEEKS),
        "outcome_weights": dict(OUTCOME_WEIGHTS),
        "churn_given_leave": f"{CHURN_SHARE[0]} + {CHURN_SHARE[1]} I",
        "signal_links": dict(SIGNAL_LINKS),
        "noise": {"grumpiness_beta": list(GRUMPINESS), "urgency_habit_beta": list(URGENCY_HABIT),
                  "harshness_beta": list(HARSHNESS), "off_hours_first_response": dict(OFF_HOURS_REGIONS),
                  "incident_weeks_per_year": INCIDENTS_PER_YEAR, "crunches_per_year": CRUNCHES_PER_YEAR,
                  "crunch_weeks": list(CRUNCH_WEEKS), "crunch_first_response_factor": CRUNCH_FACTOR,
                  "churn_line_rate": CHURN_NOISE, "competitor_mention_rate": COMPETITOR_NOISE,
                  "quiet_before_renewal_if_hidden_above": DISENGAGE_ABOVE},
    }


def outcome_formula() -> str:
    """P(leave) as written in the module docstring, from the constants."""
    w = OUTCOME_WEIGHTS
    return f"P(leave) = sigmoid({w['intercept']} + {w['distress']} D + {w['intent']} I + {w['hidden']} H)"


# --- tickets -------------------------------------------------------------------------------------
def _account_tickets(rng: random.Random, life: Life, start: date, end: date, n_weeks: int,
                     incidents: set[int], crunches: set[int]) -> list[TicketSpec]:
    """Every ticket the account wrote, week by week, while it was a customer."""
    last_day = min(end, life.churned_on - timedelta(days=1)) if life.churned_on else end
    specs: list[TicketSpec] = []
    reported: dict[str, int] = {}    # problem tickets so far, by theme: "the third time we report this"
    for week in range(n_weeks):
        week_start = start + timedelta(weeks=week)
        if week_start > last_day:
            break
        k = week + PRE_WEEKS
        state = _Week(life.distress[k], life.intent[k], *_deepest_patch(life.episodes, week))
        rate = life.base_rate * life.engagement[k] * (
            1 + SIGNAL_LINKS["volume"] * state.distress + SIGNAL_LINKS["volume_intent"] * state.intent)
        n_outage = poisson(rng, INCIDENT_TICKETS * life.base_rate) if week in incidents else 0
        for j in range(n_outage + poisson(rng, rate)):
            spec = _ticket(rng, life, state, reported, outage=j < n_outage)
            _schedule(rng, spec, life, state.distress, week_start, last_day, crunch=week in crunches)
            specs.append(spec)
    return specs


def _deepest_patch(episodes: list[Episode], week: int) -> tuple[Theme | None, float]:
    depth, theme = max(((e.level(week), e.theme) for e in episodes), key=lambda x: x[0], default=(0.0, None))
    return (theme, depth) if depth > 0 else (None, 0.0)


def _ticket(rng: random.Random, life: Life, state: _Week, reported: dict[str, int], *, outage: bool) -> TicketSpec:
    """Plan one ticket: its topic, its labels and what the account's state puts in its text."""
    account = life.account
    spec = TicketSpec(role="background", week=0, account=account, requester=rng.choice(account.contacts),
                      agent=rng.choice(AGENTS))
    if outage:
        spec.theme = OUTAGE_THEME
    elif state.problem and rng.random() < SIGNAL_LINKS["repeated_issue"] * state.depth:
        spec.role, spec.theme = "at_risk", state.problem
    elif rng.random() < REQUEST_SHARE:
        spec.role = "request"
        spec.request = rng.choices(REQUEST_GROUPS, weights=[g.weight for g in REQUEST_GROUPS])[0]
    else:
        spec.theme = rng.choices(BACKGROUND_THEMES, weights=[_weight(t) for t in BACKGROUND_THEMES])[0]
    _label(rng, spec, life, state.distress)

    repeat_n = 0
    if spec.role == "at_risk":
        repeat_n = reported.get(spec.theme.key, 0)
        reported[spec.theme.key] = repeat_n + 1
    frustrated = spec.role == "at_risk" and rng.random() < SIGNAL_LINKS["frustration"] * state.distress
    churn = rng.random() < SIGNAL_LINKS["churn_language"] * state.intent or rng.random() < CHURN_NOISE
    if repeat_n or frustrated or churn:
        spec.risk = RiskNote(repeat_n=repeat_n, frustrated=frustrated, churn=churn)

    if rng.random() < SIGNAL_LINKS["competitor_threat"] * state.intent:
        spec.competitor = (life.rival, rng.choice(("switching", "evaluating")))
    elif rng.random() < COMPETITOR_NOISE:
        name = rng.choices(list(COMPETITOR_WEIGHTS), weights=list(COMPETITOR_WEIGHTS.values()))[0]
        context = rng.choices(list(COMPETITIVE_CONTEXTS), weights=list(COMPETITIVE_CONTEXTS.values()))[0]
        spec.competitor = (name, context)
    # As in the sample: nobody announces a switch cheerfully.
    if spec.competitor and spec.competitor[1] == "switching":
        spec.sentiment = "negative"
    elif spec.competitor and spec.sentiment == "positive":
        spec.sentiment = "neutral"
    _plant_noise(rng, spec)
    return spec


def _weight(theme: Theme) -> float:
    return SPIKE_THEME_WEIGHT if theme is SPIKE_THEME else theme.weight


def _label(rng: random.Random, spec: TicketSpec, life: Life, distress: float) -> None:
    """Channel, sentiment and priority: the theme's usual mix, pushed by distress and habit."""
    spec.channel = rng.choices([c for c, _ in CHANNELS], weights=[w for _, w in CHANNELS])[0]
    if spec.role == "at_risk":
        spec.channel = rng.choice(("email", "web"))
        spec.sentiment = "negative" if rng.random() < PROBLEM_NEGATIVE + 0.35 * distress else "neutral"
        spec.priority = rng.choices(PRIORITIES, weights=spec.theme.priority)[0]
    elif spec.request:
        spec.sentiment = rng.choices(SENTIMENTS, weights=(0.15, 0.6, 0.25))[0]
        spec.priority = rng.choices(PRIORITIES, weights=(0.6, 0.4, 0, 0))[0]
    else:
        spec.sentiment = rng.choices(SENTIMENTS, weights=spec.theme.sentiment)[0]
        spec.priority = rng.choices(PRIORITIES, weights=spec.theme.priority)[0]
    if rng.random() < SIGNAL_LINKS["negative_sentiment"] * distress or rng.random() < life.grumpiness:
        spec.sentiment = "negative"
    if rng.random() < SIGNAL_LINKS["urgent_share"] * distress or rng.random() < life.urgency_habit:
        spec.priority = PRIORITIES[min(len(PRIORITIES) - 1, PRIORITIES.index(spec.priority) + 1)]


def _plant_noise(rng: random.Random, spec: TicketSpec) -> None:
    """The weekly sample's incidental items, at its rates, on the same kinds of ticket."""
    background = spec.role == "background"
    spec.pii = rng.random() < PII_RATE
    spec.false_friend = spec.role != "at_risk" and rng.random() < FALSE_FRIEND_RATE
    spec.slack = spec.role != "at_risk" and rng.random() < SLACK_RATE
    spec.partner_aside = background and "sync" not in spec.theme.tags and rng.random() < PARTNER_ASIDE_RATE
    spec.lookalike = background and spec.theme.root_cause == "product_bug" and rng.random() < LOOKALIKE_RATE
    spec.unlinked = background and rng.random() < UNLINKED_RATE


def _schedule(rng: random.Random, spec: TicketSpec, life: Life, distress: float, week_start: date,
              last_day: date, *, crunch: bool) -> None:
    """Solve the ticket on a day of its week up to `last_day`; set its timings and rating."""
    days = [d for d in range(7) if week_start + timedelta(days=d) <= last_day]
    day = rng.choices(days, weights=[DAY_WEIGHTS[(week_start + timedelta(days=d)).weekday()] for d in days])[0]
    hour = rng.choices(range(24), weights=HOUR_WEIGHTS)[0]
    spec.solved_at = datetime.combine(week_start + timedelta(days=day),
                                      time(hour, rng.randrange(60), rng.randrange(60)))
    median = RESOLUTION_MEDIAN_HOURS[spec.priority] * (1 + distress)
    hours = min(240.0, max(0.2, rng.lognormvariate(math.log(median), 0.9)))
    spec.created_at = spec.solved_at - timedelta(seconds=round(hours * 3600))
    median = 3.0 if spec.channel == "chat" else FIRST_RESPONSE_MEDIAN_MIN[spec.priority]
    median *= (1 + SIGNAL_LINKS["slow_first_response"] * distress) * (CRUNCH_FACTOR if crunch else 1.0)
    median *= OFF_HOURS_REGIONS.get(spec.account.region, 1.0)
    spec.first_response_minutes = round(min(rng.lognormvariate(math.log(median), 0.8), hours * 60 * 0.9), 1)
    if rng.random() < CSAT_FILL:
        # A rating judges the support interaction more than the product: only partly the ticket's tone.
        tone = spec.sentiment if rng.random() < CSAT_TONE_PULL else "neutral"
        values, weights = CSAT_BY_SENTIMENT[tone]
        spec.csat = rng.choices(values, weights=weights)[0]
        if rng.random() < SIGNAL_LINKS["low_csat"] * distress or rng.random() < life.harshness:
            spec.csat = min(spec.csat, rng.choice((1, 2)))


# --- helpers --------------------------------------------------------------------------------------
def _sitewide_weeks(rng: random.Random, n_weeks: int, per_year: float, length: tuple[int, int]) -> set[int]:
    """Weeks of events that hit every account at once (outages, staffing crunches): at least one."""
    weeks: set[int] = set()
    for _ in range(max(1, round(per_year * n_weeks / 52))):
        first = rng.randrange(n_weeks)
        weeks.update(range(first, min(n_weeks, first + rng.randint(*length))))
    return weeks




def _months_before(day: date, months: int) -> date:
    """The same day `months` calendar months earlier (the month's last day where it is shorter)."""
    year, month0 = divmod(day.year * 12 + day.month - 1 - months, 12)
    next_first = date(year + (month0 + 1) // 12, (month0 + 1) % 12 + 1, 1)
    return date(year, month0 + 1, min(day.day, (next_first - timedelta(days=1)).day))


def _write_csv(path: Path, columns: tuple[str, ...], rows: list[dict[str, str | int]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)

"""The latent life of one account in the renewal history: distress, intent and renewals.

`history.py`'s docstring describes the model; this module simulates it week by week and decides
each renewal from it. The tickets that show it are planned in `history.py`.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

from tools.sample.accounts import Account
from tools.sample.phrases import COMPETITOR_WEIGHTS
from tools.sample.themes import THEMES_BY_KEY, Theme

FIRST_RENEWAL_AFTER_DAYS = 120     # the first renewal leaves room for a 90-day lookback 90 days ahead
PRE_WEEKS = 30                     # latent state simulated before the history starts (patches under way)

# --- the latent process ----------------------------------------------------------------------
TICKETS_PER_WEEK = (0.2, 0.35)     # base rate = a + b * the account's volume (~4 a month overall)
CHRONIC_DISTRESS = (1.5, 10.0)     # Beta(a, b): a standing level of friction, mean ~0.13
EPISODES_PER_YEAR = 0.7
EPISODE_RAMP_WEEKS = (3, 10)
EPISODE_PLATEAU_WEEKS = (2, 16)
EPISODE_RECOVERY_WEEKS = (3, 8)
EPISODE_SEVERITY = (0.35, 1.0)
# What a rough patch is about: problems that keep coming back, most with an error code.
PAIN_THEMES = ("salesforce_sync_conflict", "webhook_failures", "api_500_contacts", "gmail_sync_missing",
               "hubspot_sync_stopped", "contact_import_duplicates", "csv_export_timeout", "report_totals_wrong",
               "dashboard_slow", "ios_crash_deal_view", "notification_emails_late", "dashboard_widgets_empty")
INTENT_THRESHOLD = 0.45            # distress above this builds intent to leave...
INTENT_GAIN = 0.6                  # ...by this much per unit of excess per week (the median account)
PATIENCE_SPREAD = 1.2              # lognormal sigma of that gain: some accounts put up with a lot
INTENT_RETAIN = 0.85               # intent fades by 15% a week once distress eases
SHOPPING_PER_YEAR = 0.2            # intent with no distress behind it
SHOPPING_WEEKS = (6, 16)
SHOPPING_LEVEL = (0.4, 0.9)
DECISION_WEEKS = (26, 2)           # D and I are means over weeks R-26 .. R-2
OUTCOME_WEIGHTS = {"intercept": -4.1, "distress": 0.5, "intent": 13.0, "hidden": 2.0}
CHURN_SHARE = (0.45, 0.4)          # P(churn | leave) = a + b * I; the other leavers downgrade
DISENGAGE_ABOVE = 1.0              # hidden pressure above this halves the tickets...
DISENGAGE_WEEKS = 20               # ...in the weeks before the renewal
DISENGAGE_FACTOR = 0.5
# ARR multipliers at renewal: renewed ((range), share) flat / uplift / expansion; downgraded.
RENEWED_ARR = (((1.0, 1.0), 0.55), ((1.03, 1.08), 0.3), ((1.1, 1.4), 0.15))
DOWNGRADED_ARR = (0.45, 0.85)
# Stories: how a renewal looks to a score 90 days ahead (lookback weeks R-26 .. R-13), against its
# outcome. "late": trouble only after that; "recovered": calm again in the last 8 weeks.
STORIES = ("signalled_leave", "late_leave", "silent_leave", "calm_renewal", "recovered_renewal",
           "renewed_despite_signals")
AS_OF_WEEKS = 13
VISIBLE_INTENT = 0.1
VISIBLE_DISTRESS = 0.5
RECOVERY_WEEKS = 8
# Habits that colour every ticket of an account but say nothing about its health: Beta(a, b).
GRUMPINESS = (0.6, 2.0)            # P(a ticket reads negative): some customers always sound cross
URGENCY_HABIT = (0.6, 2.0)         # P(priority one level up): some flag everything urgent
HARSHNESS = (0.6, 2.0)             # P(a rating of 1-2): some rate every interaction low


@dataclass(frozen=True)
class Episode:
    """A rough patch: distress ramps up to `severity`, holds, then recovers."""

    onset: int        # week index (negative: before the history starts)
    ramp: int
    plateau: int
    recovery: int
    severity: float
    theme: Theme

    def level(self, week: int) -> float:
        """The patch's depth at `week`: 0 outside it, `severity` at its worst."""
        t = week - self.onset
        if t < 0:
            return 0.0
        if t < self.ramp:
            return self.severity * (t + 1) / self.ramp
        t -= self.ramp
        if t < self.plateau:
            return self.severity
        t -= self.plateau
        return self.severity * max(0.0, 1.0 - (t + 1) / self.recovery)


@dataclass(frozen=True)
class Renewal:
    """One past renewal, its outcome and the story behind it (see `_story`)."""

    account_id: str
    day: date
    outcome: str
    arr_before: int
    arr_after: int
    story: str

    def row(self) -> dict[str, str | int]:
        """The renewals.csv row."""
        return {"account_id": self.account_id, "renewal_date": self.day.isoformat(), "outcome": self.outcome,
                "arr_before": self.arr_before, "arr_after": self.arr_after}


@dataclass
class Life:
    """One account's latent history: weekly distress, intent and engagement, and its renewals."""

    account: Account
    base_rate: float
    grumpiness: float
    urgency_habit: float
    harshness: float
    rival: str
    episodes: list[Episode]
    distress: list[float]            # indexed by week + PRE_WEEKS
    intent: list[float]
    engagement: list[float]
    renewals: list[Renewal] = field(default_factory=list)
    churned_on: date | None = None
    next_renewal: date | None = None
    arr: int = 0


# --- the latent life of one account ---------------------------------------------------------------
def live(rng: random.Random, account: Account, start: date, end: date, n_weeks: int) -> Life:
    """Simulate the account's distress and intent, then decide each renewal in turn."""
    total = n_weeks + PRE_WEEKS
    episodes = [_episode(rng, rng.randrange(-PRE_WEEKS, n_weeks))
                for _ in range(poisson(rng, EPISODES_PER_YEAR * total / 52))]
    chronic = rng.betavariate(*CHRONIC_DISTRESS)
    distress = [min(1.0, chronic + sum(e.level(w - PRE_WEEKS) for e in episodes)) for w in range(total)]
    shopping = [0.0] * total
    for _ in range(poisson(rng, SHOPPING_PER_YEAR * total / 52)):
        first, level = rng.randrange(total), rng.uniform(*SHOPPING_LEVEL)
        for w in range(first, min(total, first + rng.randint(*SHOPPING_WEEKS))):
            shopping[w] = max(shopping[w], level)
    gain = INTENT_GAIN * rng.lognormvariate(0.0, PATIENCE_SPREAD)
    intent, built = [], 0.0
    for w in range(total):
        built = min(1.0, INTENT_RETAIN * built + gain * max(0.0, distress[w] - INTENT_THRESHOLD))
        intent.append(max(built, shopping[w]))
    life = Life(account=account, base_rate=TICKETS_PER_WEEK[0] + TICKETS_PER_WEEK[1] * account.volume,
                grumpiness=rng.betavariate(*GRUMPINESS), urgency_habit=rng.betavariate(*URGENCY_HABIT),
                harshness=rng.betavariate(*HARSHNESS),
                rival=rng.choices(list(COMPETITOR_WEIGHTS), weights=list(COMPETITOR_WEIGHTS.values()))[0],
                episodes=episodes, distress=distress, intent=intent, engagement=[1.0] * total,
                arr=account.arr_usd)
    _renew(rng, life, start, end)
    return life


def _episode(rng: random.Random, onset: int) -> Episode:
    return Episode(onset=onset, ramp=rng.randint(*EPISODE_RAMP_WEEKS), plateau=rng.randint(*EPISODE_PLATEAU_WEEKS),
                   recovery=rng.randint(*EPISODE_RECOVERY_WEEKS), severity=rng.uniform(*EPISODE_SEVERITY),
                   theme=THEMES_BY_KEY[rng.choice(PAIN_THEMES)])


def _renew(rng: random.Random, life: Life, start: date, end: date) -> None:
    """Decide every renewal up to `end` from the latent state before it; set the next renewal."""
    last = min((end - start).days, FIRST_RENEWAL_AFTER_DAYS + 364)
    day = start + timedelta(days=rng.randint(FIRST_RENEWAL_AFTER_DAYS, last))
    w = OUTCOME_WEIGHTS
    while day <= end:
        r = (day - start).days // 7 + PRE_WEEKS
        lo, hi = r - DECISION_WEEKS[0], r - DECISION_WEEKS[1]
        d = sum(life.distress[lo:hi]) / (hi - lo)
        i = sum(life.intent[lo:hi]) / (hi - lo)
        hidden = rng.gauss(0.0, 1.0)
        if hidden > DISENGAGE_ABOVE:
            for k in range(r - DISENGAGE_WEEKS, r):
                life.engagement[k] = DISENGAGE_FACTOR
        if rng.random() >= _sigmoid(w["intercept"] + w["distress"] * d + w["intent"] * i + w["hidden"] * hidden):
            outcome, after = "renewed", _renewed_arr(rng, life.arr)
        elif rng.random() < CHURN_SHARE[0] + CHURN_SHARE[1] * i:
            outcome, after = "churned", 0
        else:
            outcome, after = "downgraded", int(round(life.arr * rng.uniform(*DOWNGRADED_ARR), -2))
        life.renewals.append(Renewal(life.account.account_id, day, outcome, life.arr, after, _story(life, r, outcome)))
        life.arr = after
        if outcome == "churned":
            life.churned_on = day
            return
        day += timedelta(days=365)
    life.next_renewal = day


def _story(life: Life, r: int, outcome: str) -> str:
    """How a renewal looks to a score 90 days ahead, against what happened (one of STORIES)."""
    def troubled(lo: int, hi: int) -> bool:
        return max(life.intent[lo:hi]) > VISIBLE_INTENT or max(life.distress[lo:hi]) > VISIBLE_DISTRESS

    seen = troubled(r - 2 * AS_OF_WEEKS, r - AS_OF_WEEKS)
    if outcome != "renewed":
        return "signalled_leave" if seen else "late_leave" if troubled(r - AS_OF_WEEKS, r) else "silent_leave"
    if not seen:
        return "calm_renewal"
    return "renewed_despite_signals" if troubled(r - RECOVERY_WEEKS, r) else "recovered_renewal"


def _renewed_arr(rng: random.Random, arr: int) -> int:
    (lo, hi), _ = rng.choices(RENEWED_ARR, weights=[share for _, share in RENEWED_ARR])[0]
    return int(round(arr * rng.uniform(lo, hi), -2))


def current_account(life: Life) -> Account:
    """The account as accounts.csv shows it at the end: its next renewal, or the day it left."""
    day = life.churned_on or life.next_renewal
    assert day is not None, "_renew sets one of them"
    return replace(life.account, renewal_date=day, arr_usd=life.arr)


# --- helpers --------------------------------------------------------------------------------------
def poisson(rng: random.Random, mean: float) -> int:
    """A Poisson draw by Knuth's method (the means here are small)."""
    limit, k, p = math.exp(-mean), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))

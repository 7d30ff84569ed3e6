"""Tidewater's fictional customer accounts, and which of them are planted for the risk test."""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from datetime import date, timedelta

from tools.sample.phrases import FIRST_NAMES, LAST_NAMES

NAME_PREFIXES = (
    "Bluefin", "Harborline", "Alder", "Granite", "Summit", "Cedar", "Lumen", "Brightwater",
    "Redwood", "Kestrel", "Juniper", "Meridian", "Orchard", "Pioneer", "Quarry", "Riverstone",
    "Sable", "Tamarack", "Upland", "Vantage", "Willow", "Zephyr", "Atlas", "Beacon", "Cobalt",
    "Driftwood", "Ember", "Falcon", "Garnet", "Halcyon", "Ironbridge", "Jetstream", "Keystone",
    "Larkspur", "Maple", "Nimbus", "Oakridge", "Palisade", "Ridgeline", "Saltmarsh", "Thornbury",
    "Verdant", "Westfield", "Yardley", "Northgate", "Silverline", "Crestview", "Foxglove",
)
NAME_SUFFIXES = (
    "Logistics", "Realty", "Health", "Analytics", "Solar", "Capital", "Robotics", "Foods", "Labs",
    "Media", "Partners", "Freight", "Insurance", "Software", "Staffing", "Energy", "Dental",
    "Outfitters", "Travel", "Security", "Biotech", "Consulting",
)
# (segment, share of accounts, plans it may be on, ARR range in USD, relative ticket volume)
SEGMENTS = (
    ("SMB", 0.5, ("starter", "growth"), (6_000, 30_000), 0.6),
    ("Mid-Market", 0.35, ("growth", "enterprise"), (30_000, 150_000), 1.2),
    ("Enterprise", 0.15, ("enterprise",), (150_000, 900_000), 2.5),
)
REGIONS = (("NA", 0.55, ".com"), ("EMEA", 0.3, ".co.uk"), ("APAC", 0.1, ".com.au"), ("LATAM", 0.05, ".com"))
CSMS = (
    ("maria.lopez@tidewater.io", "U07MLPZ4K2Q"),
    ("james.okoro@tidewater.io", "U07JOKR8T1M"),
    ("hannah.berg@tidewater.io", "U07HBRG3N6X"),
    ("arjun.mehta@tidewater.io", "U07AMHT5W9C"),
    ("lucy.tran@tidewater.io", "U07LTRN2D4V"),
    ("peter.novak@tidewater.io", "U07PNVK7R3B"),
)
# Days after the last week's end when the planted accounts renew (all inside the 120-day window).
AT_RISK_RENEWAL_DAYS = (28, 41, 55, 67, 83, 99)
HEALTHY_RENEWAL_DAYS = (25, 38, 52, 70, 88, 104)
MIN_ACCOUNTS = len(AT_RISK_RENEWAL_DAYS) + len(HEALTHY_RENEWAL_DAYS) + 12


@dataclass(frozen=True)
class Contact:
    """A person at a customer who writes to support."""

    first: str
    last: str
    email: str


@dataclass(frozen=True)
class Account:
    """One customer account; `volume` is how many tickets it tends to send (not written out)."""

    account_id: str
    name: str
    arr_usd: int
    plan: str
    segment: str
    renewal_date: date
    csm_email: str
    csm_slack_id: str
    domain: str
    region: str
    contacts: tuple[Contact, ...]
    volume: float

    def row(self) -> dict[str, str | int]:
        """The accounts.csv row."""
        return {
            "account_id": self.account_id, "name": self.name, "arr_usd": self.arr_usd,
            "plan": self.plan, "segment": self.segment, "renewal_date": self.renewal_date.isoformat(),
            "csm_email": self.csm_email, "csm_slack_id": self.csm_slack_id, "domain": self.domain,
        }


ACCOUNT_COLUMNS = ("account_id", "name", "arr_usd", "plan", "segment", "renewal_date",
                   "csm_email", "csm_slack_id", "domain")


def make_accounts(rng: random.Random, n: int, today: date) -> list[Account]:
    """Draw `n` accounts with unique names, renewals from 90 days ago to a year ahead."""
    if n < MIN_ACCOUNTS:
        raise ValueError(f"need at least {MIN_ACCOUNTS} accounts, got {n}")
    names = [f"{p} {s}" for p in NAME_PREFIXES for s in NAME_SUFFIXES]
    if n > len(names):
        raise ValueError(f"at most {len(names)} accounts, got {n}")
    chosen = rng.sample(names, n)
    accounts = []
    for i, name in enumerate(chosen, start=1):
        segment, _, plans, (lo, hi), volume = rng.choices(SEGMENTS, weights=[s[1] for s in SEGMENTS])[0]
        region, _, tld = rng.choices(REGIONS, weights=[r[1] for r in REGIONS])[0]
        domain = name.lower().replace(" ", "") + tld
        csm_email, csm_slack = CSMS[rng.randrange(len(CSMS))]
        contacts = tuple(_contact(rng, domain) for _ in range(rng.randint(2, 6)))
        accounts.append(Account(
            account_id=f"ACC-{i:04d}", name=name, arr_usd=int(round(rng.uniform(lo, hi), -2)),
            plan=rng.choice(plans), segment=segment,
            renewal_date=today + timedelta(days=rng.randint(-90, 365)),
            csm_email=csm_email, csm_slack_id=csm_slack, domain=domain, region=region,
            contacts=contacts, volume=volume * rng.lognormvariate(0, 0.5),
        ))
    return accounts


def plant_renewals(rng: random.Random, accounts: list[Account], today: date
                   ) -> tuple[list[Account], list[Account], list[Account]]:
    """Pick the at-risk and healthy-control accounts and move their renewals into the window.

    Returns (all accounts with the planted ones updated, at-risk, healthy). Both groups favour
    larger accounts, where a renewal matters most, so neither group stands out by size.
    """
    larger = [a for a in accounts if a.segment != "SMB"]
    smaller = [a for a in accounts if a.segment == "SMB"]
    rng.shuffle(larger)
    rng.shuffle(smaller)
    picked = (larger + smaller)[: len(AT_RISK_RENEWAL_DAYS) + len(HEALTHY_RENEWAL_DAYS)]
    days = AT_RISK_RENEWAL_DAYS + HEALTHY_RENEWAL_DAYS
    moved = {a.account_id: replace(a, renewal_date=today + timedelta(days=d + rng.randint(-3, 3)))
             for a, d in zip(picked, days)}
    updated = [moved.get(a.account_id, a) for a in accounts]
    at_risk = [moved[a.account_id] for a in picked[: len(AT_RISK_RENEWAL_DAYS)]]
    healthy = [moved[a.account_id] for a in picked[len(AT_RISK_RENEWAL_DAYS):]]
    return updated, at_risk, healthy


def _contact(rng: random.Random, domain: str) -> Contact:
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    return Contact(first, last, f"{first}.{last}@{domain}".lower())

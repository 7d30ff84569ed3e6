"""Backtest the risk model on past renewals with known outcomes.

For every past renewal the account's support history is scored as of `lead_days` before the
renewal date (what a CSM would have seen when there was still time to act), and the scores are
compared with what happened: ranking (AUC), precision among the k riskiest, calibration, and how
early churners were first flagged. A learned model is fitted on the earlier renewals and tested on
the later ones, against the default on the same later renewals, so the comparison is fair and
never tests on what it trained on.
"""

from __future__ import annotations

import lzma
import shutil
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from csintel.classify.competitors import CompetitorMatcher
from csintel.classify.enricher import competitor_specs
from csintel.classify.errors import extract_errors
from csintel.classify.sentiment import score_sentiment
from csintel.config import Settings
from csintel.resources import shipped
from csintel.risk.model import DEFAULT_MODEL, RiskModel, fit_logistic
from csintel.risk.signals import SIGNALS, account_signals, strengths
from csintel.sources.files import FileSource
from csintel.sources.records import RowError, account_record, ticket_record
from csintel.warehouse import utcnow

BAD_OUTCOMES = ("churned", "downgraded")
THREATS = ("switching", "evaluating")


@dataclass
class Metrics:
    n: int
    positives: int
    auc: float | None
    precision_at_k: float | None
    k: int
    brier: float | None
    calibration: list[dict] = field(default_factory=list)   # [{bin, predicted, observed, n}]


@dataclass
class BacktestReport:
    renewals: int
    bad_outcomes: int
    lead_days: int
    default: Metrics                       # the default model on every renewal
    test_default: Metrics | None           # on the later renewals only (the learned model's test set)
    test_learned: Metrics | None
    learned: RiskModel | None
    learned_is_better: bool
    lead_time: dict                        # how early bad outcomes were first flagged
    summary: str

    def to_json(self) -> dict:
        out = asdict(self)
        out["learned"] = None if self.learned is None else asdict(self.learned)
        return out


def load_history(settings: Settings, tickets: list[Path], accounts: Path | None = None) -> pd.DataFrame:
    """History tickets tagged with the same rule taggers the enrich stage runs (no embeddings needed:
    risk signals use sentiment, churn language, competitor threats and error codes).

    With `accounts`, tickets without an account id join one by the requester's email domain, as
    ingest does.
    """
    specs, _ = competitor_specs(settings)
    matcher = CompetitorMatcher(specs)
    rows, now = [], utcnow()
    domains = {}
    if accounts is not None:
        for raw in FileSource([accounts]).rows():
            try:
                a = account_record(raw.data or {}, ingested_at=now)
            except RowError:
                continue
            if a["domain"]:
                domains.setdefault(a["domain"], a["account_id"])
    for raw in FileSource(tickets).rows():
        if raw.data is None or raw.error:
            continue
        try:
            r = ticket_record(raw.data, "file", max_text_chars=settings.sources.max_text_chars, ingested_at=now)
        except RowError:
            continue
        if not r["account_id"] and r["requester_email"] and "@" in r["requester_email"]:
            r["account_id"] = domains.get(r["requester_email"].rsplit("@", 1)[1])
        text = r["customer_text"]
        sentiment = score_sentiment(text)
        threats = sorted({m.name for m in matcher.find(text) if m.competitive and m.context in THREATS})
        rows.append({"account_id": r["account_id"], "ticket_id": r["ticket_id"], "activity_at": r["activity_at"],
                     "priority": r["priority"], "csat": r["csat"], "first_response_minutes": r["first_response_minutes"],
                     "sentiment": sentiment.label, "churn_language": sentiment.churn_language,
                     "errors": extract_errors(text), "threat_competitors": threats})
    frame = pd.DataFrame(rows)
    frame["activity_at"] = pd.to_datetime(frame["activity_at"])
    return frame.sort_values(["account_id", "activity_at"], kind="stable")


def unpack_sample_history(folder: Path) -> Path:
    """The renewal history shipped with csintel (data/history) as plain files in `folder`, unpacked once.

    Its tickets ship xz-compressed (~0.9 MB instead of ~14 MB); the backtest reads a folder of
    tickets.jsonl, accounts.csv and renewals.csv. A folder that already holds renewals.csv is
    used as it is.
    """
    if not (folder / "renewals.csv").is_file():
        source = shipped("history")
        folder.mkdir(parents=True, exist_ok=True)
        with lzma.open(source / "tickets.jsonl.xz") as packed, (folder / "tickets.jsonl").open("wb") as out:
            shutil.copyfileobj(packed, out)
        shutil.copyfile(source / "accounts.csv", folder / "accounts.csv")
        shutil.copyfile(source / "renewals.csv", folder / "renewals.csv")   # last: an interrupted unpack reruns
    return folder


def load_renewals(path: Path) -> pd.DataFrame:
    frame = pd.read_csv(path, dtype={"account_id": str})
    missing = {"account_id", "renewal_date", "outcome"} - set(frame.columns)
    if missing:
        raise ValueError(f"{path}: renewals need columns account_id, renewal_date, outcome (missing {sorted(missing)})")
    frame["renewal_date"] = pd.to_datetime(frame["renewal_date"]).dt.date
    frame["outcome"] = frame["outcome"].str.strip().str.lower()
    unknown = set(frame["outcome"]) - {"renewed", *BAD_OUTCOMES}
    if unknown:
        raise ValueError(f"{path}: outcome must be renewed, churned or downgraded (found {sorted(unknown)})")
    return frame.sort_values(["renewal_date", "account_id"], kind="stable").reset_index(drop=True)


def features_as_of(account_history: pd.DataFrame, as_of: date, lookback_days: int,
                   targets: dict[str, float]) -> list:
    """The signals of one account's tickets in the lookback before `as_of`."""
    start = pd.Timestamp(datetime.combine(as_of, time.min) - timedelta(days=lookback_days))
    end = pd.Timestamp(datetime.combine(as_of, time.min))
    window = account_history[(account_history["activity_at"] >= start) & (account_history["activity_at"] < end)]
    return account_signals(window, as_of, targets)


def backtest(settings: Settings, history: pd.DataFrame, renewals: pd.DataFrame, *, lead_days: int = 90,
             train_share: float = 0.6, k: int = 10) -> BacktestReport:
    targets = settings.support.first_response_targets
    lookback = settings.risk.lookback_days
    by_account = {a: g for a, g in history.groupby("account_id")}
    empty = history.iloc[0:0]

    def signals(account_id: str, as_of: date) -> list:
        return features_as_of(by_account.get(account_id, empty), as_of, lookback, targets)

    y = renewals["outcome"].isin(BAD_OUTCOMES).to_numpy().astype(int)
    per_renewal = [signals(r.account_id, r.renewal_date - timedelta(days=lead_days)) for r in renewals.itertuples()]
    x = np.stack([strengths(s) for s in per_renewal]) if per_renewal else np.zeros((0, len(SIGNALS)))
    default_scores = np.array([DEFAULT_MODEL.score(s)[0] for s in per_renewal])
    default = metrics(y, default_scores / 100.0, k)

    cut = int(len(renewals) * train_share)
    learned = test_default = test_learned = None
    if cut >= 10 and len(set(y[:cut])) == 2 and len(set(y[cut:])) == 2:
        first, last = renewals["renewal_date"].iloc[0], renewals["renewal_date"].iloc[cut - 1]
        learned = fit_logistic(x[:cut], y[:cut], version=f"risk-learned-{last:%Y%m%d}",
                               trained_on=f"{cut} renewals {first} to {last}, scored {lead_days} days ahead")
        learned_scores = np.array([learned.score(s)[0] for s in per_renewal[cut:]])
        test_default = metrics(y[cut:], default_scores[cut:] / 100.0, k)
        test_learned = metrics(y[cut:], learned_scores / 100.0, k)
    better = bool(test_learned and test_default and test_learned.auc is not None and test_default.auc is not None
                  and test_learned.auc > test_default.auc + 0.01)
    model = learned if better and learned else DEFAULT_MODEL
    lead = lead_time(renewals, y, signals, model, settings.risk.high_score, settings.risk.medium_score)
    report = BacktestReport(renewals=len(renewals), bad_outcomes=int(y.sum()), lead_days=lead_days, default=default,
                            test_default=test_default, test_learned=test_learned, learned=learned,
                            learned_is_better=better, lead_time=lead, summary="")
    report.summary = plain_summary(report)
    return report


def metrics(y: np.ndarray, p: np.ndarray, k: int) -> Metrics:
    from sklearn.metrics import brier_score_loss, roc_auc_score

    both = len(set(y.tolist())) == 2
    order = np.argsort(-p, kind="stable")
    top = order[:min(k, len(order))]
    bins = []
    for lo in np.arange(0.0, 1.0, 0.2):
        hi = lo + 0.2
        in_bin = (p >= lo) & ((p < hi) if hi < 1.0 else (p <= 1.0))
        if in_bin.any():
            bins.append({"bin": f"{lo:.1f}-{hi:.1f}", "predicted": round(float(p[in_bin].mean()), 3),
                         "observed": round(float(y[in_bin].mean()), 3), "n": int(in_bin.sum())})
    return Metrics(n=len(y), positives=int(y.sum()), auc=round(float(roc_auc_score(y, p)), 4) if both else None,
                   precision_at_k=round(float(y[top].mean()), 4) if len(top) else None, k=len(top),
                   brier=round(float(brier_score_loss(y, np.clip(p, 0, 1))), 4) if len(y) else None,
                   calibration=bins)


def lead_time(renewals: pd.DataFrame, y: np.ndarray, signals, model: RiskModel, high: float, medium: float,
              horizon_days: int = 180, step_days: int = 7) -> dict:
    """For each bad outcome, the earliest weekly check (up to `horizon_days` ahead) that flagged it,
    at the medium and at the high band, and how many renewing accounts were flagged as early."""
    checks = range(horizon_days, -1, -step_days)
    scores = [[model.score(signals(r.account_id, r.renewal_date - timedelta(days=d)))[0] for d in checks]
              for r in renewals.itertuples()]
    out = {}
    for band, threshold in (("medium", medium), ("high", high)):
        first_flag = [next((d for d, s in zip(checks, row) if s >= threshold), None) for row in scores]
        caught = [d for d, bad in zip(first_flag, y) if bad and d is not None]
        out[band] = {
            "threshold": threshold,
            "bad_outcomes": int(y.sum()),
            "flagged": len(caught),
            "flagged_90_days_ahead": sum(d >= 90 for d in caught),
            "median_lead_days": float(np.median(caught)) if caught else None,
            "renewed": int(len(y) - y.sum()),
            "renewed_but_flagged_30_days_ahead": sum(1 for d, bad in zip(first_flag, y)
                                                     if not bad and d is not None and d >= 30),
        }
    return out


def plain_summary(r: BacktestReport) -> str:
    d, lt = r.default, r.lead_time
    parts = [f"On {r.renewals} past renewals ({r.bad_outcomes} churned or downgraded), scored {r.lead_days} days "
             f"before each renewal:"]
    if d.auc is not None:
        parts.append(f"the default model ranks a churner above a renewer {d.auc:.0%} of the time (AUC {d.auc:.2f}; "
                     f"0.5 is a coin flip).")
    if d.precision_at_k is not None:
        parts.append(f"Of the {d.k} accounts it rated riskiest, {d.precision_at_k:.0%} did churn or downgrade "
                     f"(base rate {r.bad_outcomes / max(r.renewals, 1):.0%}).")
    for band in ("high", "medium"):
        b = lt[band]
        if b["bad_outcomes"]:
            parts.append(f"At {band} risk (score {b['threshold']:g}+) it flagged {b['flagged']} of {b['bad_outcomes']} "
                         f"bad outcomes, {b['flagged_90_days_ahead']} of them at least 90 days ahead (median lead "
                         f"{b['median_lead_days'] or 0:.0f} days), and {b['renewed_but_flagged_30_days_ahead']} of "
                         f"{b['renewed']} accounts that renewed a month or more ahead.")
    if r.test_learned and r.test_default:
        verdict = "better, and is used" if r.learned_is_better else "not clearly better, so the default stays"
        parts.append(f"A model fitted on the earlier {r.renewals - r.test_learned.n} renewals scored AUC "
                     f"{r.test_learned.auc:.2f} on the later {r.test_learned.n} against the default's "
                     f"{r.test_default.auc:.2f}: {verdict}.")
    return " ".join(parts)

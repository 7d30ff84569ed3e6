from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from csintel.config import Settings
from csintel.risk.backtest import backtest, metrics, unpack_sample_history
from csintel.risk.model import DEFAULT_MODEL, MODEL_FILE, RiskModel, fit_logistic, load_model, save_model
from csintel.risk.signals import SIGNALS, Signal


def test_metrics_on_perfect_and_random_rankings():
    y = np.array([1, 1, 0, 0, 0, 0])
    perfect = metrics(y, np.array([0.9, 0.8, 0.3, 0.2, 0.1, 0.0]), k=2)
    assert perfect.auc == 1.0 and perfect.precision_at_k == 1.0 and perfect.k == 2
    assert sum(b["n"] for b in perfect.calibration) == 6
    reversed_ = metrics(y, np.array([0.0, 0.1, 0.3, 0.2, 0.8, 0.9]), k=2)
    assert reversed_.auc == 0.0 and reversed_.precision_at_k == 0.0


def test_default_model_contributions_sum_to_the_score():
    signals = [Signal("churn_language", 1.0, "churn"), Signal("low_csat", 0.5, "csat")]
    score, reasons = DEFAULT_MODEL.score(signals)
    assert score == 23.5 and [r.signal for r in reasons] == ["churn_language", "low_csat"]
    assert sum(r.contribution for r in reasons) == pytest.approx(score)


def test_learned_model_scores_a_probability_and_explains_only_pushes(tmp_path):
    weights = {name: 0.0 for name in SIGNALS} | {"churn_language": 3.0, "low_csat": -1.0}
    model = RiskModel("risk-learned-x", weights, intercept=-1.0, learned=True)
    score, reasons = model.score([Signal("churn_language", 1.0, "churn"), Signal("low_csat", 1.0, "csat")])
    assert score == pytest.approx(100 / (1 + np.exp(-(3.0 - 1.0 - 1.0))), abs=0.05)
    assert [r.signal for r in reasons] == ["churn_language"]          # a negative weight explains nothing
    assert load_model(tmp_path) is DEFAULT_MODEL
    save_model(model, tmp_path)
    assert load_model(tmp_path) == model
    (tmp_path / MODEL_FILE).write_text('{"version": "v", "weights": {"churn_language": 1}}')
    with pytest.raises(ValueError, match="lacks weights"):
        load_model(tmp_path)


def test_fit_logistic_learns_which_signal_matters():
    rng = np.random.default_rng(0)
    x = rng.random((200, len(SIGNALS)))
    y = (x[:, SIGNALS.index("churn_language")] + 0.1 * rng.random(200) > 0.6).astype(int)
    model = fit_logistic(x, y, version="v", trained_on="synthetic")
    assert max(model.weights, key=model.weights.get) == "churn_language"


def synthetic_history(n_accounts: int = 40) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Churners complain loudly in the months before renewal; renewers stay calm."""
    tickets, renewals = [], []
    for i in range(n_accounts):
        account = f"A{i:02d}"
        churner = i % 3 == 0
        renewal = date(2026, 3, 1) + timedelta(days=7 * i)
        for d in range(0, 200, 12):
            when = datetime.combine(renewal, datetime.min.time()) - timedelta(days=d)
            tickets.append({"account_id": account, "ticket_id": f"{account}-{d}", "activity_at": when,
                            "priority": "urgent" if churner else "normal", "csat": 1 if churner else 5,
                            "first_response_minutes": 30.0,
                            "sentiment": "negative" if churner else "neutral",
                            "churn_language": churner and d % 24 == 0, "errors": ["SYNC-409"] if churner else [],
                            "threat_competitors": ["Pipedrive"] if churner and d % 36 == 0 else []})
        renewals.append({"account_id": account, "renewal_date": renewal,
                         "outcome": "churned" if churner else "renewed"})
    history = pd.DataFrame(tickets)
    history["activity_at"] = pd.to_datetime(history["activity_at"])
    return history, pd.DataFrame(renewals)


def test_backtest_on_a_clear_history():
    history, renewals = synthetic_history()
    report = backtest(Settings(), history, renewals, lead_days=90)
    assert report.renewals == 40 and report.bad_outcomes == 14
    assert report.default.auc == 1.0 and report.default.precision_at_k == 1.0
    assert report.test_learned is not None and report.learned is not None
    for band in ("medium", "high"):
        lead = report.lead_time[band]
        assert lead["flagged"] == 14 and lead["flagged_90_days_ahead"] == 14
        assert lead["renewed_but_flagged_30_days_ahead"] == 0
    assert "AUC 1.00" in report.summary and "flagged 14 of 14 bad outcomes" in report.summary


def test_backtest_on_generated_history_reports_auc(tmp_path):
    from csintel.risk.backtest import load_history, load_renewals
    from tools.sample.history import generate_history

    generate_history(tmp_path, n_accounts=60, months=15)
    settings = Settings()
    history = load_history(settings, [tmp_path / "tickets.jsonl"], tmp_path / "accounts.csv")
    report = backtest(settings, history, load_renewals(tmp_path / "renewals.csv"))
    assert report.renewals >= 50 and report.bad_outcomes >= 5
    assert report.default.auc is not None and report.default.auc > 0.65     # clearly better than chance
    assert "AUC" in report.summary


def test_default_history_is_the_shipped_one_unpacked_once(tmp_path, monkeypatch):
    from csintel.cli.models import _sample_history
    from csintel.resources import shipped

    monkeypatch.chdir(tmp_path)
    folder = _sample_history()
    assert folder.resolve() == (tmp_path / ".csintel" / "sample-history").resolve()
    assert sorted(p.name for p in folder.iterdir()) == ["accounts.csv", "renewals.csv", "tickets.jsonl"]
    assert (folder / "renewals.csv").read_bytes() == (shipped("history") / "renewals.csv").read_bytes()
    assert (folder / "tickets.jsonl").stat().st_size > 10 * (shipped("history") / "tickets.jsonl.xz").stat().st_size
    (folder / "tickets.jsonl").write_text("kept\n")     # a folder already unpacked is used as it is
    assert unpack_sample_history(folder) == folder and (folder / "tickets.jsonl").read_text() == "kept\n"

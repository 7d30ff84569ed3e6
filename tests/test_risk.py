from datetime import date, datetime, timedelta

import pandas as pd
import pytest

from csintel.config import RiskConfig
from csintel.risk import DEFAULT_WEIGHTS as WEIGHTS, score_accounts

AS_OF = date(2026, 11, 23)


def history(account: str, tickets: list[dict], arr: float = 50_000) -> list[dict]:
    base = {"account_id": account, "name": account.title(), "arr_usd": arr, "renewal_date": date(2027, 1, 15),
            "csm_email": "csm@x.io", "csm_slack_id": "U0CSM", "segment": "SMB", "source": "file",
            "priority": "normal", "csat": None, "first_response_minutes": 30.0, "sentiment": "neutral",
            "sentiment_score": 0.0, "churn_language": False, "errors": [], "root_cause": "how_to",
            "theme_id": None, "theme_label": None, "threat_competitors": None}
    rows = []
    for i, t in enumerate(tickets):
        rows.append({**base, "ticket_id": f"{account}-{i}",
                     "activity_at": datetime(2026, 11, 20) - timedelta(days=t.pop("days_ago", i)), **t})
    return rows or [{**base, "ticket_id": None, "activity_at": None}]


def test_weights_sum_to_100():
    assert sum(WEIGHTS.values()) == 100


def test_risky_account_ranks_first_with_reasons_and_tickets():
    risky = history("risky", [
        {"sentiment": "negative", "priority": "urgent", "errors": ["SYNC-409"], "csat": 1, "days_ago": 3},
        {"sentiment": "negative", "priority": "urgent", "errors": ["SYNC-409"], "churn_language": True, "days_ago": 5},
        {"sentiment": "negative", "priority": "high", "errors": ["SYNC-409"], "threat_competitors": ["Pipedrive"],
         "first_response_minutes": 900.0, "days_ago": 8},
        {"sentiment": "negative", "priority": "high", "errors": ["SYNC-409"], "csat": 2, "days_ago": 10},
    ])
    calm = history("calm", [{"sentiment": "positive", "csat": 5}, {"sentiment": "neutral"}, {"sentiment": "neutral"}])
    quiet = history("quiet", [])
    scored = score_accounts(pd.DataFrame(risky + calm + quiet), AS_OF, RiskConfig())
    assert [a.account_id for a in scored][0] == "risky"
    top = scored[0]
    assert top.band == "high" and top.score >= 60
    signals = [r.signal for r in top.reasons]
    assert {"churn_language", "competitor_threat", "negative_sentiment", "repeated_issue"} <= set(signals)
    assert top.reasons == sorted(top.reasons, key=lambda r: -r.contribution)
    churn = next(r for r in top.reasons if r.signal == "churn_language")
    assert churn.tickets == ["risky-1"]
    assert "Pipedrive" in next(r.text for r in top.reasons if r.signal == "competitor_threat")
    by_id = {a.account_id: a for a in scored}
    assert by_id["calm"].band == "low" and by_id["calm"].reasons == []
    assert by_id["quiet"].score == 0 and by_id["quiet"].tickets == 0


def test_one_bad_ticket_is_not_a_pattern():
    single = history("one", [{"sentiment": "negative", "churn_language": True}])
    assert score_accounts(pd.DataFrame(single), AS_OF, RiskConfig())[0].score == 0


def one_signal(**ticket) -> list[dict]:
    """Eight tickets ten days apart, the last four with `ticket`'s fields (what should trigger one signal)."""
    days = [75, 65, 55, 45, 35, 25, 15, 5]
    return history("acct", [{"days_ago": d} for d in days[:4]] + [dict(ticket, days_ago=d) for d in days[4:]])


@pytest.mark.parametrize("fields,signal", [
    ({"sentiment": "negative"}, "sentiment_worsening"),
    ({"churn_language": True}, "churn_language"),
    ({"threat_competitors": ["Attio"]}, "competitor_threat"),
    ({"errors": ["SYNC-409"]}, "repeated_issue"),
    ({"priority": "urgent"}, "urgent_share"),
    ({"csat": 1}, "low_csat"),
    ({"first_response_minutes": 2000.0}, "slow_first_response"),
])
def test_each_signal_fires_on_its_own_evidence(fields, signal):
    from csintel.config import SupportConfig
    from csintel.risk.signals import account_signals

    rows = pd.DataFrame(one_signal(**fields))
    found = {s.name: s for s in account_signals(rows, AS_OF, SupportConfig().first_response_targets)}
    assert signal in found and 0 < found[signal].strength <= 1
    assert found[signal].tickets, "every signal names the tickets behind it"
    calm = pd.DataFrame(one_signal())
    assert account_signals(calm, AS_OF, SupportConfig().first_response_targets) == []


def test_volume_surge_against_the_accounts_own_rate():
    from csintel.config import SupportConfig
    from csintel.risk.signals import account_signals

    rows = pd.DataFrame(history("busy", [{"days_ago": 45}] + [{"days_ago": d} for d in range(1, 9)]))
    names = [s.name for s in account_signals(rows, AS_OF, SupportConfig().first_response_targets)]
    assert "volume_surge" in names

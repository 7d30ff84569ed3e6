"""The Freshdesk connector end to end against the fake Freshdesk: real HTTP, a real warehouse."""

import json
from datetime import timedelta

import pytest
import requests

from csintel.config import ConfigError, settings_from_dict
from csintel.ingest import ingest_incremental
from csintel.sources.freshdesk import freshdesk_source
from csintel.sources.freshdesk.mapping import comments, rating_csat, ticket_row
from csintel.sources.helpdesks import helpdesk_sources
from csintel.sources.http import ApiAuthError, ApiError, RetryPolicy
from csintel.sources.state import load_state
from csintel.warehouse import connect
from tests.fakes.freshdesk_server import API_KEY, FIRST_UPDATE, running_fake_freshdesk

N = 40


@pytest.fixture()
def fake(monkeypatch):
    monkeypatch.setenv("FRESHDESK_API_KEY", API_KEY)
    with running_fake_freshdesk(n_tickets=N, page_cap=3) as f:
        yield f


def source(fake, sleeps=None, page_cap=3, **over):
    cfg = {"base_url": fake.base_url, "start": "2026-01-01", "per_page": 5, **over}
    src = freshdesk_source(settings_from_dict({"sources": {"freshdesk": cfg}}), retry=RetryPolicy(max_retries=3),
                           sleep=(sleeps if sleeps is not None else []).append)
    src.page_cap = page_cap            # the fake's cap: 3 pages stand for Freshdesk's 300
    return src


def sync(con, fake, sleeps=None, **over):
    return ingest_incremental(con, source(fake, sleeps, **over), max_text_chars=50_000)


def stored(con):
    rows = con.execute("SELECT ticket_id, updated_at, customer_text, comments, account_id, requester_email, status, "
                       "priority, channel, csat, first_response_minutes, solved_at, extra "
                       "FROM store.tickets WHERE source = 'freshdesk'").fetchall()
    cols = ["id", "updated_at", "text", "comments", "account_id", "email", "status", "priority", "channel", "csat",
            "frt", "solved_at", "extra"]
    return {r[0]: dict(zip(cols, r)) for r in rows}


def closed_ids(fake):
    return {str(i) for i, t in fake.tickets.items() if t["status"] in (4, 5)}


def test_first_sync_loads_exactly_the_closed_tickets_with_their_conversations(fake):
    con = connect(None)
    report = sync(con, fake)
    rows = stored(con)
    assert 0 < len(closed_ids(fake)) < N
    assert set(rows) == closed_ids(fake)
    assert report.loaded == len(rows) and report.quarantined == 0
    # Conversations were read for the closed tickets only.
    asked = {c.request.path.split("/")[4] for c in fake.calls_to("conversations")}
    assert asked == closed_ids(fake)
    for tid, row in rows.items():
        comments = json.loads(row["comments"])
        assert [c["author_role"] for c in comments] == ["customer", "agent"]
        assert "INTERNAL NOTE" not in row["comments"] and "INTERNAL NOTE" not in row["text"]
        assert f"Still failing for job {tid}" in row["text"]          # the customer's reply is read
        assert "We fixed the worker" not in row["text"]               # the agent's is not
    assert load_state(con, "freshdesk")["updated_at"] == int((FIRST_UPDATE + timedelta(minutes=N // 2)).timestamp())


def test_fields_map_to_the_input_contract(fake):
    con = connect(None)
    sync(con, fake)
    row = stored(con)["24"]                    # resolved, priority 1 + 24 % 4 = 1 (low), source 1 (email)
    t = fake.tickets[24]
    assert row["status"] == "solved" and stored(con)["1"]["status"] == "closed"
    assert row["priority"] == "low" and row["channel"] == "email"
    assert row["account_id"] == str(t["company_id"]) and row["email"] == "user24@customer0.example"
    assert row["frt"] == 30.0
    assert row["csat"] == 5 and stored(con)["12"]["csat"] == 1 and stored(con)["1"]["csat"] is None
    assert row["solved_at"].isoformat() == t["stats"]["resolved_at"].rstrip("Z")
    assert json.loads(row["extra"])["freshdesk_company_id"] == t["company_id"]
    assert stored(con)["7"]["account_id"] is None             # no company: left to the email-domain join


def test_long_exports_move_the_window_instead_of_paging_past_the_cap(fake):
    con = connect(None)
    sync(con, fake)
    listed = fake.calls_to("tickets")
    assert len(listed) > 3 * 2                                 # more pages than the cap allows in one window
    assert max(int(c.request.query["page"]) for c in listed) <= 3
    assert len({c.request.query["updated_since"] for c in listed}) > 3
    assert all(c.status == 200 for c in fake.calls)
    assert set(stored(con)) == closed_ids(fake)


def test_a_tie_longer_than_a_page_is_paged_within_its_second(fake):
    for i in range(101, 113):                                 # 12 closed tickets updated in one second
        fake.tickets[i] = {**fake.tickets[1], "id": i, "subject": f"Tie {i}", "updated_at": "2026-01-06T00:00:00Z"}
        fake.conversations[i] = []
    con = connect(None)
    sync(con, fake)
    assert {str(i) for i in range(101, 113)} <= set(stored(con))
    tie_pages = [int(c.request.query["page"]) for c in fake.calls_to("tickets")
                 if c.request.query["updated_since"] == "2026-01-05T23:59:59Z"]
    assert tie_pages == [1, 2, 3]


def test_a_tie_beyond_the_cap_stops_with_a_clear_error(fake):
    for i in range(101, 118):                                 # 17 in one second > 3 pages of 5
        fake.tickets[i] = {**fake.tickets[1], "id": i, "updated_at": "2026-01-06T00:00:00Z"}
        fake.conversations[i] = []
    con = connect(None)
    with pytest.raises(ApiError, match="within one second"):
        sync(con, fake)
    tie = {str(i) for i in range(101, 118)}
    assert set(stored(con)) - tie == closed_ids(fake) - tie           # pages before the failure are kept
    assert len(set(stored(con)) & tie) == 3 * 5


def test_rerun_adds_nothing_and_an_update_replaces(fake):
    con = connect(None)
    sync(con, fake)
    before = stored(con)
    again = sync(con, fake)
    assert again.loaded == 0 and stored(con) == before
    later = FIRST_UPDATE + timedelta(days=2)
    fake.touch(12, later, reply="Now the CSV export is empty.")      # a closed ticket, reopened and re-solved
    fake.touch(2, later + timedelta(seconds=1), status=5)           # an open ticket closed
    third = sync(con, fake)
    rows = stored(con)
    assert third.loaded == 2 and set(rows) == closed_ids(fake)
    assert "Now the CSV export is empty." in rows["12"]["text"]
    assert rows["12"]["updated_at"] == later.replace(tzinfo=None)
    assert con.execute("SELECT count(*) FROM store.tickets WHERE source = 'freshdesk'").fetchone()[0] == len(rows)


def test_rate_limits_server_errors_and_malformed_json_are_retried(fake):
    fake.fail_next("tickets", 429, 500, "malformed")
    fake.fail_next("conversations", "429-bare", 503)
    fake.fail_next("ratings", 429)
    sleeps = []
    con = connect(None)
    sync(con, fake, sleeps)
    assert set(stored(con)) == closed_ids(fake)
    assert sleeps.count(float(fake.retry_after)) == 2         # Retry-After honoured
    assert 10.0 in sleeps                                     # a 429 without it: the fallback wait


class Killed(Exception):
    pass


class KilledAfter:
    """The source, killed (as by a crash) when it would yield its page number `pages`."""

    def __init__(self, source, pages):
        self.source, self.pages_left, self.name = source, pages, source.name

    def pages(self, state):
        for page in self.source.pages(state):
            if self.pages_left == 0:
                raise Killed()
            self.pages_left -= 1
            yield page


def test_a_run_killed_mid_way_resumes_without_loss_or_doubles(fake):
    con = connect(None)
    with pytest.raises(Killed):
        ingest_incremental(con, KilledAfter(source(fake), 3), max_text_chars=50_000)
    done = set(stored(con))
    assert done and done < closed_ids(fake) and load_state(con, "freshdesk")
    fake.calls.clear()
    report = sync(con, fake)
    assert set(stored(con)) == closed_ids(fake) and report.loaded == len(closed_ids(fake) - done)
    # Nothing committed before the kill was fetched again.
    assert {c.request.path.split("/")[4] for c in fake.calls_to("conversations")} == closed_ids(fake) - done


def test_wrong_key_names_the_variable_and_stores_nothing(fake, monkeypatch):
    monkeypatch.setenv("FRESHDESK_API_KEY", "wrong")
    con = connect(None)
    with pytest.raises(ApiAuthError, match="FRESHDESK_API_KEY"):
        sync(con, fake)
    assert stored(con) == {} and load_state(con, "freshdesk") is None


def test_registry_and_missing_key(fake, monkeypatch):
    settings = settings_from_dict({"sources": {"freshdesk": {"base_url": fake.base_url}}})
    assert [s.name for s in helpdesk_sources(settings)] == ["freshdesk"]
    assert [s.name for s in helpdesk_sources(settings, ["freshdesk"])] == ["freshdesk"]
    monkeypatch.delenv("FRESHDESK_API_KEY")
    with pytest.raises(ConfigError, match="FRESHDESK_API_KEY"):
        helpdesk_sources(settings)
    with pytest.raises(ConfigError, match="freshdesk is not configured"):
        helpdesk_sources(settings_from_dict({}), ["freshdesk"])
    with pytest.raises(ConfigError, match="account_match"):
        settings_from_dict({"sources": {"freshdesk": {"domain": "acme", "account_match": "org"}}})
    assert settings_from_dict({"sources": {"freshdesk": {"domain": "acme"}}}).sources.freshdesk.url == \
        "https://acme.freshdesk.com"


def test_private_notes_kept_only_when_asked_and_never_as_customer_words():
    convo = [{"body_text": "hi", "incoming": True, "private": False, "user_id": 5},
             {"body_text": "note", "incoming": False, "private": True, "user_id": 9},
             {"body_text": "from requester by email", "incoming": False, "private": False, "user_id": 5}]
    assert [c["author_role"] for c in comments(convo, 5, False)] == ["customer", "customer"]
    kept = comments(convo, 5, True)
    assert kept[1] == {"author_role": "agent", "body": "note", "public": False, "created_at": None}
    row = ticket_row({"id": 1, "status": 4, "priority": 3, "source": 99, "company_id": 7}, [],
                     account_from_company=False)
    assert row["priority"] == "high" and row["channel"] == "99" and row["account_id"] is None


def test_satisfaction_scale():
    assert [rating_csat({"ratings": {"default_question": v}}) for v in (103, 102, 101, 100, -101, -102, -103)] == \
        [5, 4, 4, 3, 2, 2, 1]
    assert rating_csat({"ratings": {}}) is None


def test_fake_refuses_pages_past_its_cap():
    with running_fake_freshdesk(n_tickets=3, page_cap=2) as fd:
        r = requests.get(f"{fd.base_url}/api/v2/tickets", params={"page": 3}, auth=(API_KEY, "X"), timeout=5)
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "page"

"""The Intercom connector end to end against the fake Intercom: real HTTP, a real warehouse."""

import json

import pytest

from csintel.config import ConfigError, settings_from_dict
from csintel.ingest import ingest_incremental
from csintel.sources.helpdesks import helpdesk_sources
from csintel.sources.http import ApiAuthError, RetryPolicy
from csintel.sources.intercom import intercom_source
from csintel.sources.intercom.mapping import conversation_row
from csintel.sources.state import load_state
from csintel.warehouse import connect
from tests.fakes.intercom_server import FIRST_UPDATE, OUTBOUND, TOKEN, running_fake_intercom

N = 24


@pytest.fixture()
def fake(monkeypatch):
    monkeypatch.setenv("INTERCOM_ACCESS_TOKEN", TOKEN)
    with running_fake_intercom(n_conversations=N) as f:
        yield f


def settings(fake, **over):
    cfg = {"enabled": True, "base_url": fake.base_url, "start": "2026-01-01", "per_page": 5, **over}
    return settings_from_dict({"sources": {"intercom": cfg}})


def sync(con, fake, sleeps=None, **over):
    source = intercom_source(settings(fake, **over), retry=RetryPolicy(max_retries=3),
                             sleep=(sleeps if sleeps is not None else []).append)
    return ingest_incremental(con, source, max_text_chars=50_000)


def stored(con):
    rows = con.execute("SELECT ticket_id, updated_at, subject, body, customer_text, comments, account_id, "
                       "requester_email, status, priority, channel, csat, first_response_minutes, solved_at, tags "
                       "FROM store.tickets WHERE source = 'intercom'").fetchall()
    cols = ["id", "updated_at", "subject", "body", "text", "comments", "account_id", "email", "status", "priority",
            "channel", "csat", "frt", "solved_at", "tags"]
    return {r[0]: dict(zip(cols, r)) for r in rows}


def closed_ids(fake):
    return {cid for cid, c in fake.conversations.items() if c["state"] == "closed"}


def test_first_sync_loads_exactly_the_closed_conversations_with_their_parts(fake):
    con = connect(None)
    report = sync(con, fake)
    rows = stored(con)
    assert 0 < len(closed_ids(fake)) < N
    assert set(rows) == closed_ids(fake) and report.loaded == len(rows) and report.quarantined == 0
    for cid, row in rows.items():
        assert "INTERNAL NOTE" not in row["comments"] and "INTERNAL NOTE" not in row["text"]
        assert all(c["body"] for c in json.loads(row["comments"]))          # events without text are dropped
        assert "<p>" not in row["text"]                                      # HTML read as text
    assert "charged twice" in rows["1001"]["text"] and "INV-1" in rows["1001"]["text"]
    assert "refunded the duplicate" not in rows["1001"]["text"]             # a teammate's reply
    state = load_state(con, "intercom")
    assert state["updated_at"] == max(fake.conversations[c]["updated_at"] for c in closed_ids(fake))
    search = fake.calls_to("search")[0].request
    assert search.headers["Intercom-Version"] == "2.11"
    assert search.body["query"]["value"][1] == {"field": "state", "operator": "=", "value": "closed"}
    assert search.body["sort"] == {"field": "updated_at", "order": "ascending"}
    assert len(fake.calls_to("search")) == -(-len(closed_ids(fake)) // 5)


def test_fields_map_to_the_input_contract(fake):
    con = connect(None)
    sync(con, fake)
    rows = stored(con)
    row = rows["1004"]                        # titled, priority, rated 1 + 4 % 5 = 5, company 6571a2 -> acct-2
    assert row["subject"] == "Invoice question 4" and row["priority"] == "high" and row["csat"] == 5
    assert row["account_id"] == "acct-2" and row["email"] == "person4@6571a2.example"
    assert row["channel"] == "chat" and rows["1009"]["channel"] == "email"
    assert row["frt"] == 10.0 and row["status"] == "closed" and list(row["tags"]) == ["billing"]
    assert row["solved_at"].timestamp() == fake.conversations["1004"]["statistics"]["last_close_at"]
    assert rows["1001"]["csat"] is None and rows["1001"]["priority"] == "normal"
    assert rows["1002"]["account_id"] == "6571a3"            # no company_id set: Intercom's id
    assert rows["1006"]["account_id"] is None                 # a contact without a company


def test_a_conversation_a_teammate_started_reads_the_customers_reply(fake):
    con = connect(None)
    sync(con, fake)
    row = stored(con)[str(1000 + OUTBOUND)]
    assert "SSO" in row["body"] and "rollout going" not in row["text"]
    roles = [c["author_role"] for c in json.loads(row["comments"])]
    assert roles == ["agent", "agent"]                        # the opening message and the reply


def test_rerun_adds_nothing_and_an_update_replaces(fake):
    con = connect(None)
    sync(con, fake)
    before = stored(con)
    fake.calls.clear()
    again = sync(con, fake)
    assert again.loaded == 0 and stored(con) == before
    assert fake.calls_to("conversation") == []                # the overlap second is not fetched again
    later = FIRST_UPDATE + 86400
    fake.touch("1004", later, reply="<p>The refund has not arrived.</p>")
    fake.touch("1005", later + 1, state="closed")             # was open
    third = sync(con, fake)
    rows = stored(con)
    assert third.loaded == 2 and set(rows) == closed_ids(fake)
    assert "refund has not arrived" in rows["1004"]["text"]
    assert rows["1004"]["updated_at"].timestamp() == later


def test_a_conversation_reopened_after_listing_waits_until_closed(fake):
    fake.conversations["1004"]["state"] = "open"        # open when fetched, though the search listed it
    listed = fake._search

    def stale_search(body):
        fake.conversations["1004"]["state"] = "closed"
        try:
            return listed(body)
        finally:
            fake.conversations["1004"]["state"] = "open"
    fake._search = stale_search
    con = connect(None)
    sync(con, fake)
    assert "1004" not in stored(con)


def test_errors_are_retried_and_a_missing_contact_is_no_failure(fake):
    fake.fail_next("search", 429, "malformed")
    fake.fail_next("conversation", 500, "429-bare")
    del fake.contacts["c0008"]
    sleeps = []
    con = connect(None)
    sync(con, fake, sleeps)
    rows = stored(con)
    assert set(rows) == closed_ids(fake)
    assert rows["1008"]["account_id"] is None and rows["1008"]["email"] == "person8@6571a3.example"
    assert float(fake.retry_after) in sleeps and 10.0 in sleeps


def test_wrong_token_names_the_variable(fake, monkeypatch):
    monkeypatch.setenv("INTERCOM_ACCESS_TOKEN", "wrong")
    con = connect(None)
    with pytest.raises(ApiAuthError, match="INTERCOM_ACCESS_TOKEN"):
        sync(con, fake)
    assert stored(con) == {} and load_state(con, "intercom") is None


def test_domain_matching_skips_the_company_lookups(fake):
    con = connect(None)
    sync(con, fake, account_match="domain")
    assert all(r["account_id"] is None for r in stored(con).values())
    assert not fake.calls_to("company")
    # Only the conversation a teammate started needs its contact, for the customer's email.
    assert [c.request.path for c in fake.calls_to("contact")] == [f"/contacts/c{OUTBOUND:04d}"]
    assert stored(con)[str(1000 + OUTBOUND)]["email"] == f"person{OUTBOUND}@6571a1.example"


def test_config_and_registry(fake, monkeypatch):
    assert [s.name for s in helpdesk_sources(settings(fake))] == ["intercom"]
    with pytest.raises(ConfigError, match="per_page"):
        settings(fake, per_page=151)
    with pytest.raises(ConfigError, match="intercom is not configured"):
        helpdesk_sources(settings_from_dict({}), ["intercom"])
    monkeypatch.delenv("INTERCOM_ACCESS_TOKEN")
    with pytest.raises(ConfigError, match="INTERCOM_ACCESS_TOKEN"):
        helpdesk_sources(settings(fake))


def test_notes_are_internal_comments_when_kept():
    conv = {"id": 1, "created_at": 0, "updated_at": 60,
            "source": {"type": "conversation", "body": "help", "author": {"type": "lead", "email": "a@b.c"}},
            "conversation_parts": {"conversation_parts": [
                {"part_type": "note", "body": "secret", "author": {"type": "admin"}, "created_at": 30},
                {"part_type": "comment", "body": "bot says hi", "author": {"type": "bot"}, "created_at": 31}]}}
    assert conversation_row(conv)["comments"] == [
        {"author_role": "agent", "body": "bot says hi", "public": True, "created_at": "1970-01-01T00:00:31Z"}]
    kept = conversation_row(conv, include_notes=True)["comments"][0]
    assert kept["public"] is False and kept["author_role"] == "agent"


def test_a_resumed_run_gets_exactly_the_rest(fake):
    source = intercom_source(settings(fake))
    pages = source.pages(None)
    first = [next(pages), next(pages)]
    taken = [r.data["id"] for p in first for r in p.rows]
    rest = [r.data["id"] for p in intercom_source(settings(fake)).pages(first[-1].state) for r in p.rows]
    assert sorted(taken + rest) == sorted(closed_ids(fake))

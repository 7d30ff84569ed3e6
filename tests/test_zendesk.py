"""The Zendesk connector end to end against the fake Zendesk: real HTTP, a real warehouse."""

import json
from datetime import datetime, timezone

import pytest

from csintel.config import ConfigError, settings_from_dict
from csintel.ingest import ingest_incremental
from csintel.sources.helpdesks import helpdesk_sources
from csintel.sources.http import ApiAuthError, ApiError, RetryPolicy
from csintel.sources.state import load_state
from csintel.sources.zendesk import ZendeskSource
from csintel.sources.zendesk.client import ZendeskClient
from csintel.sources.zendesk.mapping import kept_tickets
from csintel.warehouse import connect
from tests.fakes.zendesk_server import AGENT_OPENED, AGENT_REPLY, INTERNAL_NOTE, FakeZendesk

N = 40


@pytest.fixture()
def fake(monkeypatch):
    with FakeZendesk(n_tickets=N) as f:
        monkeypatch.setenv("ZENDESK_API_TOKEN", f.token)
        monkeypatch.delenv("ZENDESK_OAUTH_TOKEN", raising=False)
        yield f


def zendesk_settings(fake, **over):
    cfg = {"base_url": fake.base_url, "email": fake.email, "start": "2025-12-01", "page_size": 6,
           "comment_workers": 1, **over}
    return settings_from_dict({"sources": {"zendesk": cfg}})


def sync(con, fake, waits=None, **over):
    config = zendesk_settings(fake, **over).sources.zendesk
    client = ZendeskClient.from_config(config, retry=RetryPolicy(max_retries=3), sleep=(waits if waits is not None
                                                                                        else []).append)
    return ingest_incremental(con, ZendeskSource(client, config), max_text_chars=50_000)


def stored(con):
    rows = con.execute("SELECT ticket_id, updated_at, subject, customer_text, comments, account_id, requester_email, "
                       "status, priority, channel, csat, tags, extra, first_response_minutes, solved_at "
                       "FROM store.tickets WHERE source = 'zendesk'").fetchall()
    cols = ["id", "updated_at", "subject", "text", "comments", "account_id", "email", "status", "priority",
            "channel", "csat", "tags", "extra", "frt", "solved_at"]
    return {r[0]: dict(zip(cols, r)) for r in rows}


def ts(iso):
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).astimezone(timezone.utc).replace(tzinfo=None)


def test_first_sync_loads_exactly_the_solved_and_closed_tickets(fake):
    con = connect(None)
    report = sync(con, fake)
    closed = fake.closed_tickets()
    assert 0 < len(closed) < N                               # the fake has open/pending/new ones too
    assert set(stored(con)) == set(closed)
    assert report.loaded == len(closed) and report.quarantined == 0
    assert report.pages == -(-N // 6)                        # every export page, each committed
    assert {t["status"] for t in stored(con).values()} <= {"solved", "closed"}
    assert load_state(con, "zendesk")["cursor"]
    # Only kept tickets had their conversations read.
    comment_calls = {p.split("/")[4] for p in fake.paths if "/comments.json" in p}
    assert comment_calls == set(closed)


def test_fields_map_to_the_input_contract(fake):
    con = connect(None)
    sync(con, fake)
    rows = stored(con)
    labels_seen = set()
    for tid, row in rows.items():
        t = fake.ticket(int(tid))
        user = fake.user(t["requester_id"])
        org = t["organization_id"]
        expected_account = None if org is None else (f"ACC-{org}" if org % 2 == 0 else str(org))
        assert row["account_id"] == expected_account
        assert row["email"] == user["email"].lower()
        assert row["status"] == t["status"] and row["priority"] == t["priority"]
        assert row["channel"] == t["via"]["channel"] and row["tags"] == t["tags"]
        assert row["updated_at"] == ts(t["updated_at"]) and row["solved_at"] == ts(t["updated_at"])
        score = (t["satisfaction_rating"] or {}).get("score")
        assert row["csat"] == {"good": 5, "bad": 1}.get(score)
        metric = fake.metric_set(t)
        assert row["frt"] == metric["reply_time_in_minutes"]["calendar"]
        extra = json.loads(row["extra"])
        assert extra["resolution_minutes"] == metric["full_resolution_time_in_minutes"]["calendar"]
        assert extra["organization_id"] == org and extra["requester_id"] == t["requester_id"]
        custom = extra["custom_fields"]
        assert custom["Plan"] == t["custom_fields"][0]["value"] and custom["360004"] == "unlabelled"
        assert ("Region" in custom) == (t["custom_fields"][1]["value"] is not None)
        labels_seen |= set(custom)
    assert {"Plan", "Region", "360004"} <= labels_seen
    assert {r["account_id"] for r in rows.values()} & {None}        # some requesters have no organization
    assert sum(1 for p in fake.paths if "ticket_fields" in p) == 1  # labels fetched once


def test_customer_words_are_told_apart_from_agents_and_notes(fake):
    con = connect(None)
    sync(con, fake)
    rows = stored(con)
    with_notes = agent_opened = cc = 0
    for tid, row in rows.items():
        comments = json.loads(row["comments"])
        roles = {c["body"].split(":")[0]: c["author_role"] for c in comments}
        assert roles.get("AGENT-REPLY") == "agent" and roles["CUSTOMER-FOLLOWUP"] == "customer"
        assert AGENT_REPLY not in row["text"] and "CUSTOMER-FOLLOWUP" in row["text"]
        assert INTERNAL_NOTE not in row["comments"] and INTERNAL_NOTE not in row["text"]
        assert all(c["public"] for c in comments)
        with_notes += any(INTERNAL_NOTE == c["body"] for c in fake.comments(int(tid)))
        if fake.ticket(int(tid))["description"] == AGENT_OPENED:
            agent_opened += 1
            assert AGENT_OPENED not in row["text"] and roles["AGENT-OPENED"] == "agent"
        if "CC-CUSTOMER" in roles:
            cc += 1
            assert roles["CC-CUSTOMER"] == "customer" and "CC-CUSTOMER" in row["text"]
    assert with_notes and agent_opened and cc                 # the fake exercised each case


def test_internal_notes_can_be_kept_out_of_nlp_but_in_the_warehouse(fake):
    con = connect(None)
    sync(con, fake, include_internal_notes=True)
    notes = 0
    for row in stored(con).values():
        for c in json.loads(row["comments"]):
            if c["body"] == INTERNAL_NOTE:
                notes += 1
                assert c["public"] is False and c["author_role"] == "agent"
        assert INTERNAL_NOTE not in row["text"]
    assert notes


def test_people_and_organizations_missing_from_side_loads_are_looked_up(monkeypatch):
    with FakeZendesk(n_tickets=12, sideload_users=False, sideload_organizations=False) as fake:
        monkeypatch.setenv("ZENDESK_API_TOKEN", fake.token)
        con = connect(None)
        sync(con, fake)
        rows = stored(con)
        assert any(p.startswith("/api/v2/users/show_many.json?ids=") for p in fake.paths)
        assert any(p.startswith("/api/v2/organizations/show_many.json?ids=") for p in fake.paths)
        for tid, row in rows.items():
            assert row["email"] == fake.user(fake.ticket(int(tid))["requester_id"])["email"].lower()
        assert any(str(r["account_id"]).startswith("ACC-") for r in rows.values())


def test_second_run_fetches_only_the_updated_ticket_and_replaces_it(fake):
    con = connect(None)
    sync(con, fake)
    first = stored(con)
    tid = sorted(first, key=int)[3]
    fake.update_ticket(int(tid))
    fake.paths.clear()
    report = sync(con, fake)
    assert report.loaded == 1 and report.pages == 1
    assert [p for p in fake.paths if "/comments.json" in p] == [
        f"/api/v2/tickets/{tid}/comments.json?page%5Bsize%5D=100&include=users"]
    after = stored(con)
    assert set(after) == set(first)
    assert after[tid]["subject"].endswith("(v2)") and after[tid]["updated_at"] > first[tid]["updated_at"]
    assert "CUSTOMER-UPDATE-2" in after[tid]["text"]
    assert {k: v for k, v in after.items() if k != tid} == {k: v for k, v in first.items() if k != tid}
    # Nothing new: the cursor is at the end and a rerun loads nothing.
    assert sync(con, fake).loaded == 0


def test_reopened_ticket_is_skipped_but_the_cursor_moves_on(fake):
    con = connect(None)
    sync(con, fake)
    tid = sorted(stored(con), key=int)[0]
    fake.update_ticket(int(tid), status="open")
    cursor = load_state(con, "zendesk")["cursor"]
    assert sync(con, fake).loaded == 0
    assert load_state(con, "zendesk")["cursor"] != cursor


@pytest.mark.parametrize("path, kind, waits", [
    ("incremental", "429", [7.0]),
    ("incremental", "429-no-retry-after", [10.0]),
    ("comments", "500", [1.0]),
    ("incremental", "malformed", [1.0]),
    ("comments", "drop", [1.0]),
])
def test_transient_faults_are_retried_and_lose_nothing(fake, path, kind, waits):
    fake.add_fault(path, kind)
    con = connect(None)
    seen: list[float] = []
    sync(con, fake, seen)
    assert seen == waits
    assert set(stored(con)) == set(fake.closed_tickets())


def test_conversations_fetched_in_parallel_match_the_sequential_sync(fake):
    sequential, parallel = connect(None), connect(None)
    sync(sequential, fake)
    fake.add_fault("comments", "429", times=3)
    sync(parallel, fake, comment_workers=4)
    drop = ("extra",)
    assert ({k: {c: v for c, v in r.items() if c not in drop} for k, r in stored(parallel).items()}
            == {k: {c: v for c, v in r.items() if c not in drop} for k, r in stored(sequential).items()})


def test_a_failed_run_keeps_its_committed_pages_and_the_rerun_completes(fake):
    con = connect(None)
    # The third export page fails past every retry: pages 1-2 stay committed with their cursor.
    calls = {"n": 0}
    original = fake.route

    def flaky(path, q):
        if "incremental" in path:
            calls["n"] += 1
            if calls["n"] >= 3:
                return 503, {"error": "down"}
        return original(path, q)

    fake.route = flaky
    with pytest.raises(ApiError, match="HTTP 503"):
        sync(con, fake)
    partial = stored(con)
    assert 0 < len(partial) < len(fake.closed_tickets())
    assert load_state(con, "zendesk")["cursor"]
    fake.route = original
    sync(con, fake)
    assert set(stored(con)) == set(fake.closed_tickets())


def test_bad_token_is_an_auth_error_naming_the_variable(fake, monkeypatch):
    monkeypatch.setenv("ZENDESK_API_TOKEN", "wrong-token-123")
    con = connect(None)
    with pytest.raises(ApiAuthError, match="ZENDESK_API_TOKEN") as err:
        sync(con, fake)
    assert "wrong-token-123" not in str(err.value)
    assert load_state(con, "zendesk") is None and not stored(con)


def test_oauth_bearer_and_missing_credentials(fake, monkeypatch):
    monkeypatch.delenv("ZENDESK_API_TOKEN")
    with pytest.raises(ConfigError, match="ZENDESK_API_TOKEN.*ZENDESK_OAUTH_TOKEN"):
        helpdesk_sources(zendesk_settings(fake))
    monkeypatch.setenv("ZENDESK_API_TOKEN", fake.token)
    with pytest.raises(ConfigError, match="sources.zendesk.email"):
        helpdesk_sources(zendesk_settings(fake, email=""))
    monkeypatch.setenv("ZENDESK_OAUTH_TOKEN", fake.oauth_token)
    (source,) = helpdesk_sources(zendesk_settings(fake, email=""))
    assert sum(len(p.rows) for p in source.pages(None)) == len(fake.closed_tickets())


def test_registry_picks_configured_helpdesks_by_name(fake):
    assert helpdesk_sources(settings_from_dict({})) == []
    with pytest.raises(ConfigError, match="zendesk is not configured"):
        helpdesk_sources(settings_from_dict({}), ["zendesk"])
    with pytest.raises(ConfigError, match="unknown source 'zendsk'"):
        helpdesk_sources(zendesk_settings(fake), ["zendsk"])
    (source,) = helpdesk_sources(zendesk_settings(fake))
    assert source.name == "zendesk"


def test_config_errors_name_the_key():
    for bad, key in [({"subdomain": "acme.zendesk.com"}, "sources.zendesk.subdomain"),
                     ({"base_url": "acme.zendesk.com"}, "sources.zendesk.base_url"),
                     ({"start": "last week"}, "sources.zendesk.start"),
                     ({"page_size": 5000}, "sources.zendesk.page_size"),
                     ({"api_token": "x"}, "ZENDESK_API_TOKEN")]:
        with pytest.raises(ConfigError, match=key):
            settings_from_dict({"sources": {"zendesk": bad}})
    assert not settings_from_dict({}).sources.zendesk.enabled


def test_first_sync_starts_90_days_back_unless_configured(fake):
    config = zendesk_settings(fake, start="").sources.zendesk
    now = datetime(2026, 6, 1, tzinfo=timezone.utc)
    source = ZendeskSource(ZendeskClient.from_config(config), config, now=now)
    assert source.start_time() == int(now.timestamp()) - 90 * 86_400
    config = config.model_copy(update={"start": "2026-07-01"})   # in the future: clamped to a minute ago,
    source = ZendeskSource(ZendeskClient.from_config(config), config, now=now)   # as the API demands
    assert source.start_time() == int(now.timestamp()) - 60


def test_duplicates_in_a_page_keep_the_newest_version():
    page = [{"id": 1, "status": "solved", "updated_at": "2026-01-02T00:00:00Z", "subject": "new"},
            {"id": 1, "status": "solved", "updated_at": "2026-01-01T00:00:00Z", "subject": "old"},
            {"id": 2, "status": "open", "updated_at": "2026-01-03T00:00:00Z"},
            {"id": 3, "status": "closed", "updated_at": "2026-01-01T00:00:00Z"}]
    assert [(t["id"], t.get("subject")) for t in kept_tickets(page)] == [(1, "new"), (3, None)]


def test_cli_ingest_syncs_the_named_sources_and_prints_counts(fake, tmp_path, prefect_harness, capsys):
    from csintel.cli import main

    config = tmp_path / "csintel.toml"
    config.write_text(f'[warehouse]\npath = "w.duckdb"\n\n[sources]\ntickets = ["{file_tickets(tmp_path)}"]\n\n'
                      f'[sources.zendesk]\nbase_url = "{fake.base_url}"\nemail = "{fake.email}"\n'
                      f'start = "2025-12-01"\npage_size = 10\n')
    assert main(["ingest", "--config", str(config), "--source", "zendesk", "--source", "file"]) == 0
    out = capsys.readouterr().out
    assert f"zendesk   {len(fake.closed_tickets()):>6} loaded, 0 quarantined, {-(-N // 10)} pages" in out
    assert "tickets        1 loaded, 0 quarantined\n" in out


def test_ingest_stage_loads_files_and_every_configured_helpdesk_unless_named(fake, tmp_path):
    from csintel.pipeline import ingest_stage

    settings = settings_from_dict({"sources": {"tickets": [str(file_tickets(tmp_path))],
                                               "zendesk": {"base_url": fake.base_url, "email": fake.email,
                                                           "start": "2025-12-01", "page_size": 10}}})
    con = connect(None)
    only_zendesk = ingest_stage(con, settings, sources=["zendesk"])
    assert list(only_zendesk) == ["zendesk"] and only_zendesk["zendesk"]["loaded"] == len(fake.closed_tickets())
    assert list(ingest_stage(con, settings, sources=["file"])) == ["tickets"]
    everything = ingest_stage(con, settings)
    assert list(everything) == ["tickets", "zendesk"] and everything["zendesk"]["loaded"] == 0
    with pytest.raises(ConfigError, match="unknown source 'freshdask'"):
        ingest_stage(con, settings, sources=["file", "freshdask"])
    assert con.execute("SELECT count(*) FROM store.tickets WHERE source = 'file'").fetchone()[0] == 1


def file_tickets(tmp_path):
    path = tmp_path / "tickets.jsonl"
    path.write_text(json.dumps({"id": "F-1", "subject": "From a file", "body": "Export fails.",
                                "solved_at": "2026-11-20T10:00:00Z"}) + "\n")
    return path

"""HubSpot accounts end to end against the fake HubSpot (and the fake Slack for CSM ids), and
tickets from a helpdesk meeting those accounts in the warehouse."""

import json
from datetime import date

import pytest

from csintel.config import ConfigError, settings_from_dict
from csintel.ingest import ingest_accounts
from csintel.pipeline import ingest_stage
from csintel.sources.crm import crm_sources, hubspot_accounts
from csintel.sources.crm.mapping import renewal_date
from csintel.sources.http import ApiAuthError, RetryPolicy
from csintel.warehouse import connect
from tests.fakes.freshdesk_server import API_KEY as FRESHDESK_KEY
from tests.fakes.freshdesk_server import running_fake_freshdesk
from tests.fakes.hubspot_server import GONE_OWNER, OWNERS, TOKEN, running_fake_hubspot
from tests.fakes.slack_server import running_fake_slack

N = 11
ANA, BEN = OWNERS["501"], OWNERS["502"]


@pytest.fixture()
def fake(monkeypatch):
    monkeypatch.setenv("HUBSPOT_ACCESS_TOKEN", TOKEN)
    with running_fake_hubspot(n_companies=N) as f:
        yield f


def settings(fake, slack_url="https://slack.com/api/", **over):
    cfg = {"enabled": True, "base_url": fake.base_url, "per_page": 3, "slack_ids": {ANA: "UANA"}, **over}
    return settings_from_dict({"sources": {"hubspot": cfg}, "slack": {"base_url": slack_url}})


def load(con, fake, sleeps=None, **over):
    source = hubspot_accounts(settings(fake, **over), retry=RetryPolicy(max_retries=3),
                              sleep=(sleeps if sleeps is not None else []).append)
    return ingest_accounts(con, source)


def accounts(con):
    rows = con.execute("SELECT account_id, name, domain, arr_usd, renewal_date, plan, csm_email, csm_slack_id, extra "
                       "FROM store.accounts").fetchall()
    cols = ["account_id", "name", "domain", "arr", "renewal", "plan", "csm_email", "csm_slack_id", "extra"]
    return {r[0]: dict(zip(cols, r)) for r in rows}


def test_every_company_becomes_an_account_with_its_csm(fake):
    con = connect(None)
    report = load(con, fake)
    rows = accounts(con)
    assert report.loaded == N and report.quarantined == 0 and set(rows) == {str(9000 + i) for i in range(1, N + 1)}
    assert len(fake.calls_to("companies")) == -(-N // 3)                  # every page, until no paging.next
    first = rows["9001"]                                                  # owner 502
    assert first["name"] == "Customer 1" and first["domain"] == "customer1.example"
    assert first["arr"] == 10000 and first["renewal"] == date(2026, 2, 15)
    assert first["csm_email"] == BEN and first["csm_slack_id"] is None    # no Slack token: table only
    assert rows["9004"]["csm_email"] == ANA and rows["9004"]["csm_slack_id"] == "UANA"
    assert rows["9002"]["csm_email"] is None                              # no owner
    assert rows["9003"]["csm_email"] is None                              # a deactivated owner (404)
    assert json.loads(first["extra"]) == {"hubspot_id": "9001", "hubspot_owner_id": "502"}
    # Each owner is asked for once, however many companies they own.
    asked = [c.request.path.rsplit("/", 1)[1] for c in fake.calls_to("owner")]
    assert sorted(asked) == sorted({"501", "502", GONE_OWNER})
    asked_props = set(fake.calls_to("companies")[0].request.query["properties"].split(","))
    assert {"name", "domain", "annualrevenue", "renewal_date", "hubspot_owner_id"} <= asked_props


def test_slack_ids_are_looked_up_by_email_when_a_bot_token_is_set(fake, monkeypatch):
    with running_fake_slack() as slack:
        slack.users = {BEN: "UBEN"}
        monkeypatch.setenv("SLACK_BOT_TOKEN", slack.token)
        con = connect(None)
        ingest_accounts(con, hubspot_accounts(settings(fake, slack_url=slack.base_url)))
        rows = accounts(con)
        assert rows["9001"]["csm_slack_id"] == "UBEN" and rows["9004"]["csm_slack_id"] == "UANA"
        assert slack.calls.count("users.lookupByEmail") == 1            # the table answered for Ana; cached


def test_configurable_properties(fake):
    con = connect(None)
    load(con, fake, arr_property="arr", account_id_property="helpdesk_company_id", plan_property="plan")
    rows = accounts(con)
    assert rows["102"]["name"] == "Customer 2" and rows["102"]["arr"] == 24000   # keyed on the helpdesk's id
    assert rows["9001"]["name"] == "Customer 1"                                   # not filled in: HubSpot's id
    assert rows["9003"]["plan"] == "enterprise"
    assert json.loads(rows["102"]["extra"])["hubspot_id"] == "9002"


def test_rerun_adds_no_duplicates_and_changes_replace(fake):
    con = connect(None)
    load(con, fake)
    fake.companies["9005"]["renewal_date"] = "2027-05-01"
    load(con, fake)
    rows = accounts(con)
    assert len(rows) == N and rows["9005"]["renewal"] == date(2027, 5, 1)


def test_errors_are_retried(fake):
    fake.fail_next("companies", 429, 500, "malformed")
    fake.fail_next("owner", "429-bare")
    sleeps = []
    con = connect(None)
    assert load(con, fake, sleeps).loaded == N
    assert float(fake.retry_after) in sleeps and 10.0 in sleeps


def test_wrong_token_names_the_variable(fake, monkeypatch):
    monkeypatch.setenv("HUBSPOT_ACCESS_TOKEN", "wrong")
    con = connect(None)
    with pytest.raises(ApiAuthError, match="HUBSPOT_ACCESS_TOKEN"):
        load(con, fake)
    assert accounts(con) == {}


def test_config_checks(fake, monkeypatch):
    assert crm_sources(settings_from_dict({})) == [] and crm_sources(settings_from_dict({}), ["zendesk"]) == []
    assert [s.name for s in crm_sources(settings(fake), ["crm"])] == ["hubspot"]
    with pytest.raises(ConfigError, match="hubspot is not configured"):
        crm_sources(settings_from_dict({}), ["hubspot"])
    with pytest.raises(ConfigError, match="slack_ids"):
        settings(fake, slack_ids={"a@b.c": 5})
    monkeypatch.delenv("HUBSPOT_ACCESS_TOKEN")
    with pytest.raises(ConfigError, match="HUBSPOT_ACCESS_TOKEN"):
        crm_sources(settings(fake))


def test_renewal_dates_in_every_shape_hubspot_sends():
    assert renewal_date("2026-03-01") == "2026-03-01"
    assert renewal_date("1772323200000") == "2026-03-01"      # epoch milliseconds
    assert renewal_date(None) is None


def test_tickets_meet_crm_accounts_by_company_id_or_by_email_domain(fake, monkeypatch):
    """The ingest stage loads CRM accounts before helpdesk tickets. Freshdesk company 102 is the
    HubSpot company whose `helpdesk_company_id` says so; with account_match = "domain" the same
    tickets join by their requester's email domain instead."""
    monkeypatch.setenv("FRESHDESK_API_KEY", FRESHDESK_KEY)
    with running_fake_freshdesk(n_tickets=12) as fd:
        def run(account_match):
            con = connect(None)
            cfg = settings_from_dict({"sources": {
                "hubspot": {"enabled": True, "base_url": fake.base_url, "account_id_property": "helpdesk_company_id"},
                "freshdesk": {"base_url": fd.base_url, "start": "2026-01-01", "account_match": account_match,
                              "satisfaction": False}}})
            counts = ingest_stage(con, cfg, sources=["hubspot", "freshdesk"])
            assert counts["hubspot"]["loaded"] == N and counts["freshdesk"]["loaded"] > 0
            return dict(con.execute("SELECT t.ticket_id, a.name FROM store.tickets t "
                                    "LEFT JOIN store.accounts a USING (account_id)").fetchall())

        by_company = run("company")
        assert by_company["1"] is None and by_company["5"] == "Customer 2"   # companies 101 (unknown), 102
        by_domain = run("domain")
        assert by_domain["1"] == "Customer 1" and by_domain["5"] == "Customer 2"  # user1@customer1.example ...

"""What the helpdesk and CRM sources share: page loops, credentials, timestamps (the fake-server tests
run them end to end)."""

from datetime import datetime, timezone

import pytest

from csintel.config import ConfigError, settings_from_dict
from csintel.sources.credentials import env_credential
from csintel.sources.crm import hubspot_accounts
from csintel.sources.freshdesk import freshdesk_source
from csintel.sources.intercom import intercom_source
from csintel.sources.paging import cursor_pages, watermark_page
from csintel.sources.timestamps import iso, iso_unix, parse_time, unix
from csintel.sources.watermark import Watermark, first_sync_start
from csintel.sources.zendesk import ZendeskSource
from csintel.sources.zendesk.client import ZendeskClient


def test_cursor_pages_follow_the_cursor_lazily_to_the_last_page():
    asked: list[str | None] = []
    book = {None: "b", "b": "c", "c": ""}

    def fetch(cursor):
        asked.append(cursor)
        return {"at": cursor, "next": book[cursor]}

    pages = cursor_pages(fetch, lambda d: d["next"])
    assert next(pages)["at"] is None and asked == [None]        # nothing asked before it is wanted
    assert [p["at"] for p in pages] == ["b", "c"] and asked == [None, "b", "c"]
    assert [p["at"] for p in cursor_pages(fetch, lambda d: d["next"], first="c")] == ["c"]


def test_a_watermark_page_keeps_admitted_rows_and_moves_the_mark_past_skipped_ones():
    mark = Watermark(100, {"1"})
    listed = [{"id": 1, "at": 100, "open": False}, {"id": 2, "at": 100, "open": True},
              {"id": 3, "at": 105, "open": False}]
    page = watermark_page(mark, "api:list", listed, lambda i: i["at"], lambda i: None if i["open"] else {"id": i["id"]})
    assert page is not None and [(r.origin, r.row_number, r.data) for r in page.rows] == [("api:list", 3, {"id": 3})]
    assert page.state == {"updated_at": 105, "ids_at_updated_at": ["3"]} == mark.state()
    assert watermark_page(mark, "api:list", listed, lambda i: i["at"], lambda i: {}) is None   # all passed


def test_a_page_of_only_skipped_items_still_saves_the_moved_mark():
    mark = Watermark(100)
    page = watermark_page(mark, "api:list", [{"id": "a", "at": 101}], lambda i: i["at"], lambda i: None)
    assert page is not None and page.rows == [] and page.state["updated_at"] == 101


def test_a_missing_credential_names_the_section_the_variable_and_the_fix():
    with pytest.raises(ConfigError, match=r"^X is enabled \(\[sources.x\]\) but X_TOKEN is not set: export a token$"):
        env_credential("X_TOKEN", "X is enabled ([sources.x])", "a token", environ={"X_TOKEN": ""})
    assert env_credential("X_TOKEN", "X", "a token", environ={"X_TOKEN": "t"}).get_secret_value() == "t"


# A token no repr, header dict or message could contain by chance.
FAKE_TOKEN = "tok-7f3Qz-do-not-print-9Xk"


def zendesk_source(settings):
    return ZendeskSource(ZendeskClient.from_config(settings.sources.zendesk), settings.sources.zendesk)


@pytest.mark.parametrize("variable, section, build", [
    ("ZENDESK_API_TOKEN", {"zendesk": {"subdomain": "acme", "email": "a@acme.test"}}, zendesk_source),
    ("ZENDESK_OAUTH_TOKEN", {"zendesk": {"subdomain": "acme"}}, zendesk_source),
    ("FRESHDESK_API_KEY", {"freshdesk": {"domain": "acme"}}, freshdesk_source),
    ("INTERCOM_ACCESS_TOKEN", {"intercom": {"enabled": True}}, intercom_source),
    ("HUBSPOT_ACCESS_TOKEN", {"hubspot": {"enabled": True}}, hubspot_accounts),
])
def test_a_credential_is_never_shown_by_a_client_its_source_or_its_config(monkeypatch, variable, section, build):
    for name in ("ZENDESK_API_TOKEN", "ZENDESK_OAUTH_TOKEN", "SLACK_BOT_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv(variable, FAKE_TOKEN)
    settings = settings_from_dict({"sources": section})
    source = build(settings)
    api = source.client.api if isinstance(source, ZendeskSource) else source.client
    session = api._session     # where a credential sent as a plain header or auth tuple would sit
    shown = [repr(source.client), repr(api), str(api), repr(source), str(source), repr(settings.sources),
             str(settings.sources), repr(dict(session.headers)), repr(session.auth)]
    assert all(FAKE_TOKEN not in text for text in shown)
    assert "SecretStr('**********')" in repr(session.auth) and f"credential_env='{variable}'" in repr(api)


def test_timestamps_read_naive_times_as_utc_and_write_whole_seconds_in_utc():
    assert parse_time("2026-01-05") == datetime(2026, 1, 5, tzinfo=timezone.utc)
    assert iso(parse_time("2026-01-05T10:00:00.7+01:00")) == "2026-01-05T09:00:00Z"
    assert iso_unix(unix("2026-01-05T09:00:00Z")) == "2026-01-05T09:00:00Z" == iso_unix(1767603600)
    now = datetime(2026, 3, 1, 12, 0, 0, 500_000, tzinfo=timezone.utc)
    assert first_sync_start("", now) == int(now.timestamp()) - 90 * 86_400
    assert first_sync_start("2026-01-05T09:00:00", now) == 1767603600

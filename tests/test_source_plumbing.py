"""What the helpdesk and CRM sources share: page loops, credentials, timestamps (the fake-server tests
run them end to end)."""

from datetime import datetime, timezone

import pytest

from csintel.config import ConfigError
from csintel.sources.credentials import env_credential
from csintel.sources.paging import cursor_pages, watermark_page
from csintel.sources.timestamps import iso, iso_unix, parse_time, unix
from csintel.sources.watermark import Watermark, first_sync_start


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
    assert env_credential("X_TOKEN", "X", "a token", environ={"X_TOKEN": "t"}) == "t"


def test_timestamps_read_naive_times_as_utc_and_write_whole_seconds_in_utc():
    assert parse_time("2026-01-05") == datetime(2026, 1, 5, tzinfo=timezone.utc)
    assert iso(parse_time("2026-01-05T10:00:00.7+01:00")) == "2026-01-05T09:00:00Z"
    assert iso_unix(unix("2026-01-05T09:00:00Z")) == "2026-01-05T09:00:00Z" == iso_unix(1767603600)
    now = datetime(2026, 3, 1, 12, 0, 0, 500_000, tzinfo=timezone.utc)
    assert first_sync_start("", now) == int(now.timestamp()) - 90 * 86_400
    assert first_sync_start("2026-01-05T09:00:00", now) == 1767603600

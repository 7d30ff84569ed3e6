"""The Product digest's feature-request section, on a tiny inline warehouse."""

from __future__ import annotations

from datetime import date, datetime

import numpy as np
import pandas as pd

from csintel.config import settings_from_dict
from csintel.digests.product import request_ranking
from csintel.routing.wording.product import request_section
from csintel.warehouse import connect, upsert
from csintel.weeks import week_of

WEEK = week_of(date(2026, 11, 18))
NOW = pd.Timestamp(datetime(2026, 11, 25))
VERSION = "tags-x"


def _store(path, tickets: list[tuple[str, str | None, str, str | None, str | None]],
           accounts: list[tuple[str, float]] = ()) -> None:
    """tickets: (id, account, text, request phrase, group); every one is a request."""
    with connect(path) as con:
        upsert(con, "store.tickets", pd.DataFrame([
            {"source": "file", "ticket_id": tid, "account_id": acct, "subject": "", "body": text,
             "customer_text": text, "display_text": text, "activity_at": pd.Timestamp("2026-11-18 10:00"),
             "content_hash": f"h{tid}", "ingested_at": NOW} for tid, acct, text, _, _ in tickets]))
        upsert(con, "store.ticket_tags", pd.DataFrame([
            {"source": "file", "ticket_id": tid, "model_version": VERSION, "content_hash": f"h{tid}",
             "is_feature_request": True, "request_text": phrase, "request_group": group, "tagged_at": NOW}
            for tid, _, _, phrase, group in tickets]))
        labels: dict[str, str] = {}
        for _, _, _, phrase, group in tickets:
            if group and phrase:
                labels.setdefault(group, phrase)   # the first ask names its group
        upsert(con, "store.request_groups", pd.DataFrame([
            {"group_id": g, "model_version": VERSION, "label": label, "centroid": np.ones(3, np.float32).tolist(),
             "created_at": NOW} for g, label in labels.items()]))
        if accounts:
            upsert(con, "store.accounts", pd.DataFrame([
                {"account_id": a, "name": a, "arr_usd": arr, "ingested_at": NOW} for a, arr in accounts]))


def _section(path):
    settings = settings_from_dict({"warehouse": {"path": str(path)}})
    with connect(path, read_only=True) as con:
        return request_section(request_ranking(con, WEEK, settings, VERSION))


OKTA = "okta-identity-provider"


def test_without_accounts_groups_rank_by_tickets_and_the_section_is_not_empty(tmp_path):
    path = tmp_path / "w.duckdb"
    _store(path, [
        ("1", None, "Please add bulk export to CSV.", "bulk export to csv", "bulk-export-csv"),
        ("2", None, "We need bulk export to CSV for finance.", "bulk export to csv", "bulk-export-csv"),
        ("3", None, "Any plans to support bulk CSV export?", "bulk csv export", "bulk-export-csv"),
        ("4", None, "Could you add Okta as an identity provider?", "okta as an identity provider", OKTA),
        ("5", None, "Our Outlook add-in logs errors. Also, please support Okta as an identity provider.",
         "okta as an identity provider", OKTA),
    ])
    section = _section(path)
    assert section.title.endswith("by tickets)")
    assert [line.title for line in section.lines] == ["bulk export to csv", "okta as an identity provider"]
    assert section.lines[0].detail.startswith("3 tickets") and "accounts" not in section.lines[0].detail
    # The quote is the group's own ask, not the Outlook sentence that opens its ticket.
    assert "okta" in (section.lines[1].quote or "").lower()


def test_single_asks_are_shown_rather_than_no_feature_requests(tmp_path):
    path = tmp_path / "w.duckdb"
    _store(path, [("1", None, "Please add a Gantt view.", "gantt view", "gantt-view"),
                  ("2", None, "Please add dark mode.", "dark mode", "dark-mode"),
                  ("3", None, "Could you build that?", None, None)])
    section = _section(path)
    assert {line.title for line in section.lines} == {"gantt view", "dark mode", "Other requests"}


def test_unnamed_requests_alone_are_counted_not_denied(tmp_path):
    path = tmp_path / "w.duckdb"
    _store(path, [("1", None, "Could you build that?", None, None)])
    section = _section(path)
    assert not section.lines and section.empty_text.startswith("1 feature request")


def test_with_accounts_groups_rank_by_accounts(tmp_path):
    path = tmp_path / "w.duckdb"
    _store(path, [
        ("1", "a", "Please add a Gantt view.", "gantt view", "gantt-view"),
        ("2", "a", "Please add a Gantt view!", "gantt view", "gantt-view"),
        ("3", "a", "Gantt view please.", "gantt view", "gantt-view"),
        ("4", "b", "Please add dark mode.", "dark mode", "dark-mode"),
        ("5", "c", "Please add dark mode!", "dark mode", "dark-mode"),
    ], accounts=[("a", 1000.0), ("b", 5000.0), ("c", 5000.0)])
    section = _section(path)
    assert section.title.endswith("by accounts)")
    assert [line.title for line in section.lines] == ["dark mode", "gantt view"]
    assert section.lines[0].detail.startswith("2 accounts · $10k ARR")


def test_the_title_states_the_window_the_ranking_counted_over(tmp_path):
    """The title once said "last 12 weeks" whatever `themes.window_weeks` was; both now come from it."""
    path = tmp_path / "w.duckdb"
    _store(path, [
        ("1", None, "Please add a Gantt view.", "gantt view", "gantt-view"),
        ("2", None, "Please add a Gantt view!", "gantt view", "gantt-view"),
        ("3", None, "Please add dark mode.", "dark mode", "dark-mode"),
        ("4", None, "Please add dark mode!", "dark mode", "dark-mode"),
        ("5", None, "Could you add Okta as an identity provider?", "okta as an identity provider", OKTA),
        ("6", None, "Please support Okta as an identity provider.", "okta as an identity provider", OKTA),
    ])
    with connect(path) as con:     # dark mode asked 5 weeks before this one, Okta 7 weeks before
        con.execute("UPDATE store.tickets SET activity_at = activity_at - INTERVAL 35 DAY WHERE ticket_id IN ('3', '4')")
        con.execute("UPDATE store.tickets SET activity_at = activity_at - INTERVAL 49 DAY WHERE ticket_id IN ('5', '6')")

    def section(window_weeks: int):
        settings = settings_from_dict({"warehouse": {"path": str(path)}, "themes": {"window_weeks": window_weeks}})
        with connect(path, read_only=True) as con:
            return request_section(request_ranking(con, WEEK, settings, VERSION))

    six, twelve = section(6), section(12)
    assert six.title == "Feature requests (last 6 weeks, by tickets)"
    assert {line.title for line in six.lines} == {"gantt view", "dark mode"}
    assert twelve.title == "Feature requests (last 12 weeks, by tickets)"
    assert {line.title for line in twelve.lines} == {"gantt view", "dark mode", "okta as an identity provider"}

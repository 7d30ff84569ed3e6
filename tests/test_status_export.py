"""`csintel status` (last runs, what is pending) and `csintel export` (views as partitioned Parquet)."""

from __future__ import annotations

import json
from datetime import date, datetime

import duckdb
import pandas as pd
import pytest

from csintel.cli import main
from csintel.config import settings_from_dict
from csintel.status import format_status, read_status
from csintel.runs.record import finish_run, start_run
from csintel.warehouse import connect, upsert

NOW = datetime(2026, 11, 25, 9, 0)          # a Wednesday of 2026-W48: the last complete week is W47


def _ticket(tid: str, when: str) -> dict:
    return {"source": "file", "ticket_id": tid, "subject": "s", "body": "b", "customer_text": "b",
            "display_text": "b", "activity_at": pd.Timestamp(when), "content_hash": f"h{tid}",
            "ingested_at": pd.Timestamp(NOW)}


def _tag(tid: str, version: str, tagged_at: str) -> dict:
    return {"source": "file", "ticket_id": tid, "model_version": version, "content_hash": f"h{tid}",
            "category": "billing", "tagged_at": pd.Timestamp(tagged_at)}


@pytest.fixture()
def warehouse(tmp_path):
    path = tmp_path / "w.duckdb"
    with connect(path) as con:
        upsert(con, "store.tickets", pd.DataFrame([
            _ticket("1", "2026-11-03 10:00"), _ticket("2", "2026-11-10 10:00"),
            _ticket("3", "2026-11-17 10:00"), _ticket("4", "2026-11-18 10:00")]))
        # Tickets 1-3 tagged by the old version, then 1-2 retagged by the new one: 3 and 4 are owed.
        upsert(con, "store.ticket_tags", pd.DataFrame(
            [_tag(t, "tags-old", "2026-11-20") for t in "123"] + [_tag(t, "tags-new", "2026-11-24") for t in "12"]))
        done = start_run(con, "weekly", date(2026, 11, 9))
        finish_run(con, done, {"enrich": {"tagged": 2}})
        failed = start_run(con, "weekly", date(2026, 11, 16))
        finish_run(con, failed, {}, error="RuntimeError: Slack said no")
    return path


def test_status_lists_runs_and_what_is_owed(warehouse):
    settings = settings_from_dict({"warehouse": {"path": str(warehouse)}})
    with connect(warehouse, read_only=True) as con:
        s = read_status(con, settings, now=NOW)
    assert [r["status"] for r in s.runs] == ["failed", "completed"]
    assert s.tag_version == "tags-new" and s.untagged == 2
    # Every week with tickets and no completed run: W45 never ran, W46 was digested, W47 only failed.
    assert s.weeks_not_digested == ["2026-W45", "2026-W47"]
    assert s.undelivered == []                             # owed as a week, not as deliveries
    text = format_status(s)
    assert "RuntimeError: Slack said no" in text
    assert "2 tickets without current tags (tags-new), 2026-11-17 to 2026-11-18" in text
    assert "2 weeks with tickets but no completed run: 2026-W45, 2026-W47" in text and s.pending
    assert "Newest ticket: 2026-11-18 (2026-W47)" in text


def test_status_lists_every_week_never_run_and_the_stale_newest_ticket(tmp_path):
    """An export that ends in 2017, a run of this week (nothing in it): 'nothing pending' would hide it all."""
    path = tmp_path / "w.duckdb"
    with connect(path) as con:
        upsert(con, "store.tickets", pd.DataFrame([_ticket(str(i), f"2017-0{1 + i // 4}-{2 + 7 * (i % 4):02d} 10:00")
                                                   for i in range(12)]))
        run = start_run(con, "weekly", date(2026, 11, 16))
        finish_run(con, run, {"deliveries": []})
        backfill = start_run(con, "backfill", None)
        finish_run(con, backfill, {"2017-W01": {}, "2017-W02": {}})
        con.execute("DELETE FROM store.ticket_tags")
    settings = settings_from_dict({"warehouse": {"path": str(path)}})
    with connect(path, read_only=True) as con:
        s = read_status(con, settings, now=NOW)
    assert s.weeks_not_digested[0] == "2017-W03" and len(s.weeks_not_digested) == 10
    text = format_status(s)
    assert "10 weeks with tickets but no completed run: 2017-W03 to 2017-W12 (10 weeks)" in text
    assert "backfill --since 2017-01-16" in text
    assert "Newest ticket: 2017-03-23 (2017-W12): older than 2026-W47" in text
    assert s.undelivered == []                    # 2026-W47 has no tickets: nothing is owed for it
    assert s.pending and "nothing:" not in text


def test_status_of_a_fresh_warehouse_says_how_to_start(tmp_path, capsys):
    path = tmp_path / "w.duckdb"
    connect(path).close()
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[warehouse]\npath = "{path}"\n', encoding="utf-8")
    assert main(["status", "--config", str(cfg)]) == 0
    out = capsys.readouterr().out
    assert "none yet" in out
    assert main(["status", "--config", str(cfg), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["runs"] == [] and data["untagged"] == 0


def test_status_without_a_warehouse_is_a_clear_error(tmp_path, capsys):
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[warehouse]\npath = "{tmp_path / "missing.duckdb"}"\n', encoding="utf-8")
    assert main(["status", "--config", str(cfg)]) == 2
    assert "no warehouse" in capsys.readouterr().err


def test_export_writes_every_view_as_parquet_partitioned_by_week(warehouse, tmp_path, capsys):
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[warehouse]\npath = "{warehouse}"\n', encoding="utf-8")
    out = tmp_path / "lake"
    assert main(["export", "--config", str(cfg), "--to", str(out)]) == 0
    with connect(warehouse, read_only=True) as con:
        views = {v for (v,) in con.execute("SELECT table_name FROM information_schema.tables "
                                           "WHERE table_schema = 'main' AND table_type = 'VIEW'").fetchall()}
    assert {p.name for p in out.iterdir()} == views
    weeks = sorted(p.name for p in (out / "tickets").iterdir())
    assert weeks == ["week=2026-11-02", "week=2026-11-09", "week=2026-11-16"]
    lake = duckdb.sql(f"SELECT ticket_id, week FROM read_parquet('{out}/tickets/*/*.parquet', hive_partitioning=true) "
                      "ORDER BY ticket_id").fetchall()
    assert [t for t, _ in lake] == ["1", "2", "3", "4"]
    tags = duckdb.sql(f"SELECT count(*) FROM read_parquet('{out}/ticket_tags/*.parquet')").fetchall()[0][0]
    assert tags == 5

    # A second export replaces the first: rows deleted since do not linger in old partitions.
    with connect(warehouse) as con:
        con.execute("DELETE FROM store.tickets WHERE ticket_id = '1'")
    assert main(["export", "--config", str(cfg), "--to", str(out), "--view", "tickets"]) == 0
    assert sorted(p.name for p in (out / "tickets").iterdir()) == weeks[1:]
    assert main(["export", "--config", str(cfg), "--to", str(out), "--view", "nope"]) == 2
    assert "no such view: nope" in capsys.readouterr().err

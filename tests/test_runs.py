"""The run record on its own (csintel.runs.record): the row a run writes when it starts, and how
finishing it sets status, counts, error and versions (the statement in sql/queries/run_finish.sql)."""

from __future__ import annotations

import json
from datetime import date

from csintel.runs.record import finish_run, start_run
from csintel.warehouse import connect


def row(con, run_id):
    names = ("flow", "week", "status", "counts", "error", "versions", "finished")
    values = con.execute("SELECT flow, week, status, counts, error, versions, finished_at IS NOT NULL "
                         "FROM runs WHERE run_id = ?", [run_id]).fetchone()
    return dict(zip(names, values))


def test_a_run_starts_running_and_finishes_completed_failed_or_partial():
    with connect(None) as con:
        ok, failed, partial = (start_run(con, "weekly", date(2026, 11, 16)) for _ in range(3))
        assert ok.startswith("weekly-") and len({ok, failed, partial}) == 3
        started = row(con, ok)
        assert (started["flow"], started["week"], started["status"], started["finished"]) == (
            "weekly", date(2026, 11, 16), "running", False)
        finish_run(con, ok, {"enrich": {"tagged": 2}, "when": date(2026, 11, 20)})
        finish_run(con, failed, {}, error="RuntimeError: Slack said no")
        finish_run(con, partial, {}, error="delivery failed: cs -> #cs: not_in_channel", status="partial")
        done, bad, half = row(con, ok), row(con, failed), row(con, partial)
    assert (done["status"], done["error"], done["finished"]) == ("completed", None, True)
    assert json.loads(done["counts"]) == {"enrich": {"tagged": 2}, "when": "2026-11-20"}   # dates as text
    assert (bad["status"], bad["error"]) == ("failed", "RuntimeError: Slack said no")
    assert (half["status"], half["error"]) == ("partial", "delivery failed: cs -> #cs: not_in_channel")


def test_finishing_without_versions_keeps_those_already_recorded():
    with connect(None) as con:
        run = start_run(con, "digest", None)
        finish_run(con, run, {}, versions={"tags": "tags-abc"})
        finish_run(con, run, {"again": 1})
        again = row(con, run)
        empty = start_run(con, "digest", None)
        finish_run(con, empty, {}, versions={})      # nothing loaded: stays NULL, not "{}"
        none = row(con, empty)
    assert json.loads(again["versions"]) == {"tags": "tags-abc"} and json.loads(again["counts"]) == {"again": 1}
    assert none["versions"] is None and none["week"] is None

"""Runs that say what happened: a failed delivery makes the run 'partial' (and the command exit 1),
and a week without tickets is explained, naming the newest data, instead of posted."""

from __future__ import annotations

import pandas as pd

from csintel.cli.orchestrated import _exit_code
from csintel.config import settings_from_dict
from csintel.pipeline import empty_week_note, week_activity
from csintel.runs.record import delivery_failures
from csintel.runs.tracked import tracked_run
from csintel.warehouse import connect, upsert
from csintel.weeks import parse_week


def _ticket(tid: str, when: str) -> dict:
    return {"source": "file", "ticket_id": tid, "subject": "s", "body": "b", "customer_text": "b",
            "display_text": "b", "activity_at": pd.Timestamp(when), "content_hash": f"h{tid}",
            "ingested_at": pd.Timestamp("2026-12-01")}


FAILED = {"audience": "product", "channel": "#product", "transport": "slack", "status": "failed",
          "locations": ["1.000100"], "error": "not_allowed_token_type", "chart_location": None}
SENT = {**FAILED, "audience": "cs", "channel": "#cs", "status": "sent", "error": None}


def test_a_failed_delivery_marks_the_run_partial_with_what_failed(tmp_path, capsys) -> None:
    settings = settings_from_dict({"warehouse": {"path": str(tmp_path / "w.duckdb")}})
    with tracked_run(settings, "digest", parse_week("2026-W47")) as run:
        run.counts["deliveries"] = [SENT, FAILED]
    with tracked_run(settings, "digest", parse_week("2026-W47")) as ok:
        ok.counts["deliveries"] = [SENT]
    with connect(settings.warehouse_path) as con:
        rows = dict(con.execute("SELECT run_id, (status, error) FROM store.runs").fetchall())
    assert rows[run.run_id] == ("partial", "delivery failed: product -> #product: not_allowed_token_type")
    assert rows[ok.run_id] == ("completed", None)
    # The command's exit status follows, naming what failed, for a scheduler to notice.
    assert _exit_code(run.counts) == 1
    assert "product -> #product: not_allowed_token_type" in capsys.readouterr().err
    assert _exit_code(ok.counts) == 0


def test_failures_nested_in_a_backfill_are_found() -> None:
    counts = {"2026-W46": {"deliveries": [SENT]}, "2026-W47": {"deliveries": [FAILED]}, "enrich": {"tagged": 3}}
    assert delivery_failures(counts) == ["product -> #product: not_allowed_token_type"]


def test_an_empty_week_names_the_newest_data(tmp_path) -> None:
    with connect(tmp_path / "w.duckdb") as con:
        assert week_activity(con, parse_week("2026-W49")) == {"tickets": 0, "newest_ticket": None}
        assert "nor anywhere in the warehouse" in empty_week_note(parse_week("2026-W49"),
                                                                  week_activity(con, parse_week("2026-W49")))
        upsert(con, "store.tickets", pd.DataFrame([_ticket("1", "2017-03-02 10:00"), _ticket("2", "2017-03-14 08:00")]))
        empty = week_activity(con, parse_week("2026-W49"))
        full = week_activity(con, parse_week("2017-W11"))
    assert empty == {"tickets": 0, "newest_ticket": "2017-03-14 08:00:00"} and full["tickets"] == 1
    note = empty_week_note(parse_week("2026-W49"), empty)
    assert note.startswith("no tickets in 2026-W49: nothing delivered.")
    assert "newest ticket is from 2017-03-14 (2017-W11): run with --week 2017-W11" in note
    assert "`csintel status` lists the weeks with tickets" in empty_week_note(parse_week("2016-W10"), empty)


def test_counts_read_as_english_and_missing_figures_say_so(tmp_path) -> None:
    from csintel.routing.wording.numbers import count
    from csintel.routing.wording.support_ops import build_support_ops_digest
    from csintel.routing.render import to_markdown

    assert (count(1, "account"), count(3, "account"), count(0, "ticket")) == ("1 account", "3 accounts", "0 tickets")
    # A helpdesk export without first-response times, CSAT or agent replies.
    with connect(tmp_path / "w.duckdb") as con:
        upsert(con, "store.tickets", pd.DataFrame([_ticket("1", "2026-11-17 10:00")]))
        digest = build_support_ops_digest(con, parse_week("2026-W47"), settings_from_dict({}), "tags-x")
    md = to_markdown(digest)
    assert digest.summary.startswith("1 ticket closed (")
    assert "no first-response times recorded; no CSAT ratings." in digest.summary
    assert "n/a of tickets" not in md and "met on n/a" not in md and "from 0 ratings" not in md


def test_the_reports_forecast_chart_draws_the_digests_forecast(tmp_path) -> None:
    """12 quiet weeks after 14 busy ones: a 12-week chart and a 26-week text would disagree."""
    import re

    from csintel.digests.charts import weekly_chart
    from csintel.routing.wording.support_ops import build_support_ops_digest
    from csintel.report import forecast_frame

    week = parse_week("2026-W47")
    rows = [_ticket(f"{w}-{i}", str(week.shift(-w).start_ts + pd.Timedelta(hours=10)))
            for w in range(26) for i in range(3 if w < 12 else 12)]
    settings = settings_from_dict({})
    with connect(tmp_path / "w.duckdb") as con:
        upsert(con, "store.tickets", pd.DataFrame(rows))
        digest = build_support_ops_digest(con, week, settings, "tags-x")
        frame = forecast_frame(con, settings, week)
    lines = [ln for s in digest.sections if s.title.startswith("Forecast") for ln in s.lines if "forecast" in ln.detail]
    said = [int(re.match(r"(\d+) tickets forecast", ln.detail)[1]) for ln in lines]
    drawn = [round(v) for v in frame["forecast"].dropna().iloc[1:]]       # after the joining point
    assert said and drawn == said
    assert frame["tickets"].notna().sum() == 26
    # A series with no values at all is drawn as "no data", not as an empty plot.
    empty = weekly_chart(pd.DataFrame({"first-response SLA met": [float("nan")] * 3},
                                      index=pd.date_range("2026-11-02", periods=3, freq="7D")), "SLA", "sla.png")
    blank = weekly_chart(pd.DataFrame(), "SLA", "sla.png")
    assert empty is not None and blank is not None and empty.png == blank.png and empty.png.startswith(b"\x89PNG")


def test_quotes_skip_issue_template_boilerplate() -> None:
    from csintel.digests.common import quote

    body = ("**Describe the bug**\nA clear and concise description of what the bug is.\n"
            "Export to CSV drops every row with a comma in the name.\n\n**To Reproduce**\n"
            "Steps to reproduce the behavior:\n1. Go to '...'\n2. Click on '....'\n\n**Expected behavior**\n"
            "A clear and concise description of what you expected to happen.")
    assert quote(body, 180) == "Export to CSV drops every row with a comma in the name."
    assert quote("Describe the bug Sync stops at 87%.", 180) == "Sync stops at 87%."
    plain = "Export fails with HTTP 504 after ten minutes. We need this fixed."
    assert quote(plain, 180) == "Export fails with HTTP 504 after ten minutes."   # one sentence

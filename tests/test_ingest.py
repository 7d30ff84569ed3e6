import json
from pathlib import Path

import pandas as pd
import pytest

from csintel.ingest import ingest_accounts, ingest_tickets
from csintel.sources.files import FileSource, SourceFileError
from csintel.warehouse import SQL_DIR, connect, migrate

GOOD = [
    {"id": "T-1", "subject": "Export fails", "body": "The CSV export fails with HTTP 504.", "account_id": "A-1",
     "created_at": "2026-11-16T09:00:00Z", "solved_at": "2026-11-17T10:00:00+02:00", "csat": 2,
     "tags": "export,bug", "region": "EMEA"},
    {"id": "T-2", "text": "How do I add a user?", "requester_email": "Jo@Acme.com", "created_at": "2026-11-18 08:00:00"},
]
BAD = [
    {"subject": "no id here", "body": "text"},
    {"id": "T-3", "subject": "", "body": ""},
    {"id": "T-4", "body": "when?", "created_at": "yesterday"},
    {"id": "T-5", "body": "rating", "csat": "five"},
    {"id": "T-6", "body": "x" * 60_000},
]


def write_jsonl(path: Path, rows: list[dict], extra_lines: list[bytes] = ()) -> Path:
    with path.open("wb") as fh:
        for r in rows:
            fh.write(json.dumps(r).encode() + b"\n")
        for line in extra_lines:
            fh.write(line + b"\n")
    return path


@pytest.fixture
def con():
    c = connect(":memory:")
    c.execute("INSERT INTO store.accounts (account_id, name, domain, ingested_at) VALUES ('A-2', 'Acme', 'acme.com', now())")
    return c


def test_jsonl_loads_good_rows_and_quarantines_bad_ones(con, tmp_path):
    path = write_jsonl(tmp_path / "t.jsonl", GOOD + BAD, [b"{not json", b'{"id": "T-7", "body": "caf\xe9"}'])
    report = ingest_tickets(con, FileSource([path]), max_text_chars=50_000)
    assert report.loaded == 2 and report.quarantined == 7
    reasons = dict(con.execute("SELECT row_number, reason FROM quarantine").fetchall())
    assert reasons[3] == "missing id"
    assert reasons[4].startswith("no text")
    assert "created_at is not an ISO-8601 timestamp" in reasons[5]
    assert "csat must be an integer" in reasons[6]
    assert reasons[7].startswith("text too long")
    assert reasons[8].startswith("not valid JSON")
    assert reasons[9].startswith("undecodable bytes")

    t1 = con.execute("SELECT solved_at, csat, tags, extra, account_id FROM store.tickets WHERE ticket_id = 'T-1'").fetchone()
    assert str(t1[0]) == "2026-11-17 08:00:00"          # converted to UTC
    assert t1[1] == 2 and t1[2] == ["export", "bug"]
    assert json.loads(t1[3]) == {"region": "EMEA"}       # unknown columns kept
    t2 = con.execute("SELECT account_id, requester_email FROM store.tickets WHERE ticket_id = 'T-2'").fetchone()
    assert t2 == ("A-2", "jo@acme.com")                  # joined by email domain


def test_rerun_changes_nothing(con, tmp_path):
    path = write_jsonl(tmp_path / "t.jsonl", GOOD + BAD)
    ingest_tickets(con, FileSource([path]), max_text_chars=50_000)
    before = con.execute("SELECT count(*) FROM store.tickets").fetchone()[0], con.execute("SELECT count(*) FROM store.quarantine").fetchone()[0]
    ingest_tickets(con, FileSource([path]), max_text_chars=50_000)
    after = con.execute("SELECT count(*) FROM store.tickets").fetchone()[0], con.execute("SELECT count(*) FROM store.quarantine").fetchone()[0]
    assert before == after == (2, 5)


def test_newest_version_wins_and_stale_copy_is_ignored(con, tmp_path):
    old = {"id": "T-9", "body": "old text", "updated_at": "2026-11-10T00:00:00Z"}
    new = {"id": "T-9", "body": "new text", "updated_at": "2026-11-12T00:00:00Z"}
    ingest_tickets(con, FileSource([write_jsonl(tmp_path / "a.jsonl", [new, old])]), max_text_chars=1000)
    assert con.execute("SELECT body FROM store.tickets").fetchall() == [("new text",)]
    ingest_tickets(con, FileSource([write_jsonl(tmp_path / "b.jsonl", [old])]), max_text_chars=1000)
    assert con.execute("SELECT body FROM store.tickets").fetchall() == [("new text",)]


def test_csv_and_parquet_and_accounts(con, tmp_path):
    frame = pd.DataFrame([{"id": 101, "subject": "Login broken", "body": "SSO fails", "csat": 4.0,
                           "created_at": "2026-11-02T10:00:00Z", "custom": "x"}])
    frame.to_csv(tmp_path / "t.csv", index=False)
    frame.to_parquet(tmp_path / "t.parquet")
    report = ingest_tickets(con, FileSource([tmp_path / "t.csv", tmp_path / "t.parquet"]), max_text_chars=1000)
    assert report.quarantined == 0   # the same ticket twice in one batch is stored once
    assert con.execute("SELECT ticket_id, csat FROM store.tickets").fetchall() == [("101", 4)]

    (tmp_path / "a.csv").write_text("account_id,name,arr_usd,renewal_date,owner_team\nA-9,Zed,12000,2027-01-31,West\n"
                                    ",Nameless,1,,\nA-8,Bad ARR,lots,,\n", encoding="utf-8")
    r = ingest_accounts(con, FileSource([tmp_path / "a.csv"]))
    assert (r.loaded, r.quarantined) == (1, 2)
    row = con.execute("SELECT arr_usd, renewal_date, extra FROM accounts WHERE account_id = 'A-9'").fetchone()
    assert row[0] == 12000 and str(row[1]) == "2027-01-31" and json.loads(row[2]) == {"owner_team": "West"}


def test_csv_with_undecodable_bytes(con, tmp_path):
    # (with a timestamp: undated tickets are quarantined since issue 16)
    (tmp_path / "t.csv").write_bytes(b"id,body,created_at\nT-1,fine,2026-11-02\nT-2,caf\xe9 au lait,2026-11-02\n")
    report = ingest_tickets(con, FileSource([tmp_path / "t.csv"]), max_text_chars=1000)
    assert (report.loaded, report.quarantined) == (1, 1)


def test_missing_file_and_unknown_format(tmp_path):
    with pytest.raises(SourceFileError, match="not found"):
        FileSource([tmp_path / "nope.jsonl"])
    (tmp_path / "t.xlsx").write_text("x")
    with pytest.raises(SourceFileError, match="unknown format"):
        FileSource([tmp_path / "t.xlsx"])


def test_migrations_apply_once(tmp_path):
    path = tmp_path / "w.duckdb"
    con = connect(path)
    assert migrate(con) == []
    con.close()
    con = connect(path)
    names = [r[0] for r in con.execute("SELECT name FROM schema_migrations ORDER BY name").fetchall()]
    # Every migration file, each once and in order (later tasks add files; 001 and 002 come first).
    assert names == sorted(p.name for p in (SQL_DIR / "migrations").glob("*.sql"))
    assert names[:2] == ["001_init.sql", "002_views.sql"]
    views = {r[0] for r in con.execute("SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall()}
    assert {"tickets", "accounts", "ticket_tags", "themes", "ticket_themes", "theme_weekly", "competitor_mentions",
            "feature_requests", "account_risk", "deliveries", "runs", "quarantine"} <= views

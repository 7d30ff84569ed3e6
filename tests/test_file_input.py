"""Input that never loses a row (issue 16): each case a small inline file through the real loader."""

import json
from pathlib import Path

import pandas as pd
import pytest

from csintel.config import ConfigError, load_settings
from csintel.ingest import ingest_accounts, ingest_tickets, reason_key
from csintel.sources.files import FileSource
from csintel.warehouse import connect

TS = "2026-11-02T10:00:00Z"


@pytest.fixture
def con():
    return connect(":memory:")


def load(con, path: Path, content: str | bytes, *, kind: str = "ticket", max_row_chars: int = 2_000_000,
         max_text_chars: int = 50_000, undated: str = "quarantine"):
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    source = FileSource([path], kind=kind, max_row_chars=max_row_chars)
    if kind == "account":
        return ingest_accounts(con, source)
    return ingest_tickets(con, source, max_text_chars=max_text_chars, undated=undated)


def stored(con) -> dict[str, str]:
    return dict(con.execute("SELECT ticket_id, body FROM store.tickets").fetchall())


def quarantined(con) -> dict[int, str]:
    return dict(con.execute("SELECT row_number, reason FROM quarantine ORDER BY row_number").fetchall())


def test_a_field_past_csvs_own_limit_is_read_and_one_past_ours_is_quarantined(con, tmp_path):
    # csv's default field limit is 131,072 characters: a longer log used to end the whole file.
    log = "x" * 200_000
    report = load(con, tmp_path / "t.csv",
                  f"id,body,log,created_at\nT-1,before,,{TS}\nT-2,with a pasted log,{log},{TS}\n"
                  f"T-3,\"{'y' * 600_000}\",,{TS}\nT-4,after,,{TS}\n",
                  max_row_chars=500_000)
    assert set(stored(con)) == {"T-1", "T-2", "T-4"}
    assert json.loads(con.execute("SELECT extra FROM tickets WHERE ticket_id = 'T-2'").fetchone()[0])["log"] == log
    assert quarantined(con) == {4: "row too long: over 500,000 characters (limit sources.max_row_chars = 500,000)"}
    raw = json.loads(con.execute("SELECT raw FROM quarantine").fetchone()[0])
    assert raw["id"] == "T-3"                               # the quarantine still says which ticket
    assert report.reasons == {"row too long": 1}


def test_an_unclosed_quote_does_not_swallow_the_next_rows(con, tmp_path):
    load(con, tmp_path / "t.csv",
         f"id,subject,body,created_at\n"
         f"Q-1,Export fails,\"this quote never closes, see the log,{TS}\n"
         f"Q-2,Login broken,SSO fails,{TS}\n"
         f"Q-3,Multi-line,\"first line\nsecond line, with a comma\",{TS}\n")
    assert stored(con) == {"Q-2": "SSO fails", "Q-3": "first line\nsecond line, with a comma"}
    reasons = quarantined(con)
    assert list(reasons) == [2] and reasons[2].startswith("unclosed quote")
    assert "line 3" in reasons[2]


def test_an_unclosed_quote_before_a_multi_line_row_and_at_the_end_of_the_file(con, tmp_path):
    load(con, tmp_path / "t.csv",
         f"id,subject,body,created_at\n"
         f"Q-1,Export fails,\"never closes\n"
         f"and runs on,{TS}\n"
         f"Q-2,Multi,\"a body\nover two lines\",{TS}\n"
         f"Q-3,Last,\"never closes either,{TS}\n"
         f"more words\n")
    assert stored(con) == {"Q-2": "a body\nover two lines"}
    reasons = quarantined(con)
    assert reasons[2].startswith("unclosed quote") and "next row starts (line 4)" in reasons[2]
    assert reasons[6].startswith("unclosed quote") and "before the file ends" in reasons[6]


def test_text_after_a_closing_quote_is_quarantined_not_stored_shifted(con, tmp_path):
    load(con, tmp_path / "t.csv",
         f'id,subject,body,created_at\nQ-1,Export,"he said "hi" twice",{TS}\nQ-2,Fine,ok,{TS}\n')
    assert stored(con) == {"Q-2": "ok"}
    assert quarantined(con)[2].startswith("malformed quoting")


def test_too_few_and_too_many_fields_are_quarantined_and_neighbours_kept(con, tmp_path):
    report = load(con, tmp_path / "t.csv",
                  f"id,subject,body,created_at\nT-1,a,b,{TS}\nT-2,only two\nT-3,a,b,{TS},surplus\nT-4,c,d,{TS}\n")
    assert set(stored(con)) == {"T-1", "T-4"}
    reasons = quarantined(con)
    assert reasons[3] == "too few fields: 2 where the header has 4 columns"
    assert reasons[4] == "too many fields: 5 where the header has 4 columns"
    assert report.reasons == {"too few fields": 1, "too many fields": 1}


def test_boms_are_accepted_in_csv_and_jsonl_utf8_and_utf16(con, tmp_path):
    row = {"id": "J-1", "body": "first row", "created_at": TS}
    load(con, tmp_path / "a.jsonl", b"\xef\xbb\xbf" + json.dumps(row).encode() + b"\n")
    load(con, tmp_path / "b.csv", f"\ufeffid,body,created_at\nC-1,café,{TS}\n".encode("utf-8"))
    report = load(con, tmp_path / "c.csv", f"id,body,created_at\r\nU-1,naïve 日本語,{TS}\r\n".encode("utf-16"))
    load(con, tmp_path / "d.jsonl", (json.dumps({**row, "id": "U-2"}, ensure_ascii=False) + "\n").encode("utf-16"))
    assert stored(con) == {"J-1": "first row", "C-1": "café", "U-1": "naïve 日本語", "U-2": "first row"}
    assert quarantined(con) == {}
    assert report.notes == ["c.csv: read as utf-16 (byte-order mark)"]


def test_a_semicolon_or_tab_delimited_file_is_sniffed_and_said_so(con, tmp_path):
    report = load(con, tmp_path / "t.csv", f"id;body;created_at\nS-1;semi, colon;{TS}\n")
    assert stored(con) == {"S-1": "semi, colon"}
    assert report.notes == ["t.csv: read with delimiter ';' (sniffed from the header 'id;body;created_at')"]
    report = load(con, tmp_path / "t.tsv", f"id\tbody\tcreated_at\nS-2\ttabbed\t{TS}\n")
    assert stored(con)["S-2"] == "tabbed" and "delimiter tab" in report.notes[0]


def test_a_file_without_a_header_is_one_clear_rejection_not_a_row_per_line(con, tmp_path):
    report = load(con, tmp_path / "t.csv", "".join(f"Q-{i},Export fails,body {i},{TS}\n" for i in range(48)))
    assert stored(con) == {}
    assert report.quarantined == 1 and report.reasons == {"file rejected": 1}
    reason = quarantined(con)[1]
    assert reason.startswith("file rejected: no header row: the first line reads 'Q-0,Export fails,body 0,")
    assert report.notes == [f"t.csv: {reason}"]


def test_a_header_without_id_names_what_it_read(con, tmp_path):
    report = load(con, tmp_path / "t.csv", f"ticket_id,body,created_at\nT-1,x,{TS}\n")
    assert report.notes == ["t.csv: file rejected: no 'id' column; the header reads 'ticket_id,body,created_at'; "
                            "is 'ticket_id' the id? name it 'id'"]
    report = load(con, tmp_path / "a.csv", "account_id,arr_usd\nA-1,100\n", kind="account")
    assert report.reasons == {"file rejected": 1} and "no 'name' column" in report.notes[0]
    # Column names match the contract whatever their case or surrounding spaces.
    load(con, tmp_path / "u.csv", f" ID ,Body,Created_At\nT-9,upper,{TS}\n")
    assert stored(con) == {"T-9": "upper"}


def test_empty_and_header_only_files_say_so(con, tmp_path):
    assert load(con, tmp_path / "e.csv", "").notes == ["e.csv: empty file (0 bytes): no rows read"]
    assert load(con, tmp_path / "w.csv", "\n  \n").notes == ["w.csv: empty file (no header, no rows)"]
    assert load(con, tmp_path / "h.csv", "id,body\n").notes == ["h.csv: a header and no rows"]
    assert load(con, tmp_path / "e.jsonl", "\n\n").notes == ["e.jsonl: empty file (no rows)"]
    assert stored(con) == {} and quarantined(con) == {}


def test_a_csv_named_jsonl_is_rejected_once(con, tmp_path):
    report = load(con, tmp_path / "t.jsonl", f"id,body,created_at\nT-1,x,{TS}\nT-2,y,{TS}\n")
    assert report.quarantined == 1 and "is this a CSV file? name it .csv" in report.notes[0]


def test_tickets_without_any_timestamp_follow_the_documented_rule(con, tmp_path):
    content = f"id,body,created_at,solved_at\nT-1,dated,{TS},\nT-2,solved only,,{TS}\nT-3,undated,,\n"
    report = load(con, tmp_path / "t.csv", content)
    assert set(stored(con)) == {"T-1", "T-2"}
    assert quarantined(con)[4].startswith("no timestamp: created_at, solved_at and updated_at are all empty")
    assert report.reasons == {"no timestamp": 1} and report.undated == 0

    other = connect(":memory:")
    report = load(other, tmp_path / "t.csv", content, undated="ingest_week")
    assert set(stored(other)) == {"T-1", "T-2", "T-3"} and report.undated == 1 and report.quarantined == 0
    activity, ingested = other.execute("SELECT activity_at, ingested_at FROM store.tickets WHERE ticket_id = 'T-3'").fetchone()
    assert activity == ingested                            # counted in the week it was ingested


def test_the_undated_rule_and_row_limit_are_validated_config(tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text('[sources]\nundated = "latest"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="sources.undated must be"):
        load_settings(cfg)
    cfg.write_text('[sources]\nundated = "ingest_week"\nmax_row_chars = 100000\n', encoding="utf-8")
    assert load_settings(cfg).sources.max_row_chars == 100_000


def test_jsonl_bad_lines_are_quarantined_one_by_one(con, tmp_path):
    lines = [json.dumps({"id": "J-1", "body": "ok", "created_at": TS}), '{"id": "J-2", "body": ', "[1, 2]",
             json.dumps({"id": "J-3", "body": "z" * 5000, "created_at": TS}),
             json.dumps({"id": "J-4", "body": "fine", "created_at": TS})]
    load(con, tmp_path / "t.jsonl", "\n".join(lines) + "\n", max_row_chars=2000)
    assert set(stored(con)) == {"J-1", "J-4"}
    assert [reason_key(r) for r in quarantined(con).values()] == ["not valid JSON", "a row must be a JSON object",
                                                                  "row too long"]


def test_a_json_array_streams_and_skips_a_broken_element(con, tmp_path):
    rows = [{"id": f"A-{i}", "body": f"row {i}", "created_at": TS, "comments": [{"body": "nested"}]} for i in range(5)]
    text = json.dumps(rows, indent=2).replace('"body": "row 2"', '"body": row 2', 1)
    load(con, tmp_path / "t.json", text)
    assert set(stored(con)) == {"A-0", "A-1", "A-3", "A-4"}
    assert quarantined(con)[3].startswith("not valid JSON")


def test_a_broken_json_array_element_with_more_than_the_row_limit_after_it_is_too_long(con, tmp_path):
    rows = [{"id": f"A-{i}", "body": f"row {i} " + "x" * 50, "created_at": TS} for i in range(20)]
    text = json.dumps(rows, indent=2).replace('"body": "row 2', '"body": row 2', 1)
    report = load(con, tmp_path / "t.json", text, max_row_chars=500)
    assert set(stored(con)) == {f"A-{i}" for i in range(20)} - {"A-2"}
    assert report.reasons == {"row too long": 1} and quarantined(con)[3].startswith("row too long")

def test_parquet_in_batches_and_a_broken_parquet_file(con, tmp_path):
    frame = pd.DataFrame([{"id": f"P-{i}", "body": "b" * (3000 if i == 2 else 10), "created_at": TS} for i in range(600)])
    frame.to_parquet(tmp_path / "t.parquet")
    report = load(con, tmp_path / "t.parquet", (tmp_path / "t.parquet").read_bytes(), max_row_chars=2000)
    assert report.loaded == 599 and report.reasons == {"row too long": 1}
    report = load(con, tmp_path / "bad.parquet", b"PAR1 not really")
    assert report.reasons == {"file rejected": 1} and "not a readable Parquet file" in report.notes[0]


def test_a_repeated_header_inside_the_file_is_quarantined(con, tmp_path):
    load(con, tmp_path / "t.csv", f"id,body,created_at\nT-1,a,{TS}\nid,body,created_at\nT-2,b,{TS}\n")
    assert set(stored(con)) == {"T-1", "T-2"} and quarantined(con) == {3: "a repeated header line"}


def test_the_end_of_a_multi_line_field_is_not_taken_for_a_row_when_the_id_comes_later(con, tmp_path):
    # Its last line holds the id column ("line two",Q-2,...): it must not end the field early.
    load(con, tmp_path / "t.csv",
         f'body,id,created_at\n"never closes,Q-1,{TS}\nfine,Q-2,{TS}\n"line one\nline two",Q-3,{TS}\n')
    assert stored(con) == {"Q-2": "fine", "Q-3": "line one\nline two"}
    assert list(quarantined(con)) == [2]


def test_a_line_of_bare_delimiters_inside_a_quoted_field_is_text_not_a_row(con, tmp_path):
    # A pasted build log in a GitHub issue, as Python's csv module writes it: ",,," inside the
    # quoted body once read as a row missing its id, cut the ticket in two and quarantined every
    # following line of the body as a row of its own.
    body = "cmake failed:\n\n,,,\n100%] Linking CXX executable minimal\n\n,,,"
    load(con, tmp_path / "t.csv",
         f'id,subject,body,created_at\nQ-1,Build,"{body}",{TS}\nQ-2,next,fine,{TS}\n')
    assert stored(con) == {"Q-1": body, "Q-2": "fine"}
    assert not quarantined(con)


def test_jsonl_rows_keyed_otherwise_get_one_note(con, tmp_path):
    lines = [json.dumps({"ticket_id": f"T-{i}", "body": "x", "created_at": TS}) for i in range(3)]
    report = load(con, tmp_path / "t.jsonl", "\n".join(lines) + "\n")
    assert report.reasons == {"missing id": 3}
    assert report.notes == ["t.jsonl: no row among the first 3 has an 'id' key (they have body, created_at, ticket_id)"]


def test_broken_rows_an_unclosed_quote_ran_over_keep_their_own_reason(con, tmp_path):
    load(con, tmp_path / "t.csv",
         f"id,subject,body,created_at\nQ-1,a,b,{TS}\n"
         f"Q-2,Export,\"never closes,{TS}\n"
         f"Q-3,only two\n"                       # too few fields: not a row start, but a row
         f",no id,here,{TS}\n"                   # the right width and an empty id: a row start
         f"Q-5,c,d,{TS}\n")
    assert stored(con) == {"Q-1": "b", "Q-5": "d"}
    reasons = quarantined(con)
    assert reasons[3].startswith("unclosed quote") and "line 5" in reasons[3]
    assert reasons[4] == "too few fields: 2 where the header has 4 columns"
    assert reasons[5] == "missing id"


def test_the_ingest_stage_reports_file_findings_and_the_cli_prints_them(con, tmp_path, capsys):
    from csintel.cli.orchestrated import _print_ingest
    from csintel.config import settings_from_dict
    from csintel.pipeline import ingest_stage

    (tmp_path / "semi.csv").write_text(f"id;body;created_at\nS-1;The export fails;{TS}\nS-2;undated;\n", encoding="utf-8")
    (tmp_path / "nohead.csv").write_text(f"Q-1,Export fails,{TS}\nQ-2,Login,{TS}\n", encoding="utf-8")
    (tmp_path / "accounts.csv").write_text("account_id;name\nA-1;Acme\n", encoding="utf-8")
    settings = settings_from_dict({"sources": {"tickets": ["semi.csv", "nohead.csv"], "accounts": ["accounts.csv"]}},
                                  base_dir=tmp_path)
    counts = ingest_stage(con, settings)
    assert counts["tickets"]["loaded"] == 1 and counts["accounts"]["loaded"] == 1
    assert counts["tickets"]["reasons"] == {"no timestamp": 1, "file rejected": 1}
    _print_ingest(counts)
    out = capsys.readouterr().out
    assert "tickets        1 loaded, 2 quarantined (file rejected: 1, no timestamp: 1)" in out
    assert "semi.csv: read with delimiter ';'" in out and "nohead.csv: file rejected: no header row" in out


def test_two_unclosed_quotes_in_a_row_are_two_entries(con, tmp_path):
    # Q-2's own quotes do not pair up (its open quote is "closed" by the tags field's), so it is
    # no row start; it is still quarantined on its own, with its id.
    load(con, tmp_path / "t.csv",
         f'id,subject,body,created_at,tags\nQ-0,ok,fine,{TS},\n'
         f'Q-1,Export,"never closes,{TS},\nQ-2,Login,"never closes either,{TS},"a,b"\nQ-3,ok,fine,{TS},\n')
    assert set(stored(con)) == {"Q-0", "Q-3"}
    reasons = quarantined(con)
    assert set(reasons) == {3, 4}
    assert reasons[4].startswith("malformed quoting: the row's quotes do not pair up")
    assert json.loads(con.execute("SELECT raw FROM quarantine WHERE row_number = 4").fetchone()[0])["id"] == "Q-2"


def test_csintel_ingest_exits_non_zero_when_a_whole_file_is_rejected(tmp_path, capsys):
    from csintel.cli import main

    (tmp_path / "good.jsonl").write_text(json.dumps({"id": "G-1", "body": "Export fails", "created_at": TS}) + "\n",
                                         encoding="utf-8")
    (tmp_path / "nohead.csv").write_text(f"Q-1,Export fails,{TS}\n", encoding="utf-8")
    config = tmp_path / "csintel.toml"
    config.write_text('[warehouse]\npath = "w.duckdb"\n[sources]\ntickets = ["good.jsonl", "nohead.csv"]\n')
    assert main(["ingest", "--config", str(config)]) == 1
    captured = capsys.readouterr()
    assert "tickets        1 loaded, 1 quarantined (file rejected: 1)" in captured.out
    assert "csintel: 1 file rejected as a whole (see above); nothing of it was loaded" in captured.err
    config.write_text('[warehouse]\npath = "w.duckdb"\n[sources]\ntickets = ["good.jsonl"]\n')
    assert main(["ingest", "--config", str(config)]) == 0

"""A small run of the input fuzz (tests/fuzz_files.py): 17 kinds of breakage in CSV and in JSONL.

The 10,000-row run and the 300 MB memory case are `benchmarks/bench_file_ingest.py`.
"""

import pytest

from csintel.ingest import ingest_tickets
from csintel.sources.files import FileSource
from csintel.warehouse import connect
from tests.fuzz_files import CSV_KINDS, JSONL_KINDS, check, write_fuzz

MAX_ROW_CHARS = 300_000   # small, so the oversized rows stay small too; the benchmark uses the default


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_fuzz_loses_no_valid_row_and_quarantines_every_broken_one(tmp_path, fmt):
    path = tmp_path / f"fuzz.{fmt}"
    truth = write_fuzz(path, 400, fmt, seed=3, broken_share=0.25, max_row_chars=MAX_ROW_CHARS)
    assert {kind for kind, _ in truth.broken.values()} == set(CSV_KINDS if fmt == "csv" else JSONL_KINDS)
    con = connect(":memory:")
    report = ingest_tickets(con, FileSource([path], kind="ticket", max_row_chars=MAX_ROW_CHARS), max_text_chars=50_000)
    stored = dict(con.execute("SELECT ticket_id, body FROM store.tickets").fetchall())
    quarantine = con.execute("SELECT row_number, reason FROM quarantine").fetchall()
    result = check(truth, stored, quarantine)
    assert result.lost == [] and result.garbled == [] and result.stored_broken == []
    assert result.wrong_reason == []
    assert report.loaded == len(truth.valid)
    assert report.quarantined + result.merged == len(truth.broken)

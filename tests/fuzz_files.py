"""A fuzz ticket file: valid rows mixed with rows broken in 17 ways (CSV or JSONL), and the truth.

`write_fuzz(path, rows, fmt, seed)` writes the file and returns a `FuzzTruth`: every valid row's
id and body as the loader must store them, and every broken row's id and the reason its
quarantine entry must start with. Used by `tests/test_fuzz_files.py` (small) and
`benchmarks/bench_file_ingest.py` (10,000 rows, and a 300 MB file for peak memory). Nothing here
is csintel code: the generator writes bytes as a hostile export would, not through csintel.
"""

from __future__ import annotations

import csv
import io
import json
import random
import re
from dataclasses import dataclass, field
from pathlib import Path

COLUMNS = ["id", "subject", "body", "created_at", "solved_at", "csat", "first_response_minutes", "tags",
           "comments", "notes"]
# Each kind: (how the row is broken, the quarantine reason it must get). Both formats have 17.
_EITHER = {
    "missing_id": "missing id",
    "empty_text": "no text",
    "bad_timestamp": "created_at is not an ISO-8601 timestamp",
    "bad_solved_date": "solved_at is not an ISO-8601 timestamp",
    "bad_csat": "csat must be an integer from 1 to 5",
    "csat_out_of_range": "csat must be an integer from 1 to 5",
    "negative_minutes": "first_response_minutes out of range",
    "text_too_long": "text too long",                 # a 60k body (limit 50k)
    "megabyte_field": "text too long",                # a 1 MB body: past csv's 131,072 field limit
    "oversize_row": "row too long",                   # a field past sources.max_row_chars
}
CSV_KINDS = {
    **_EITHER,
    # An unclosed quote ends at the next row start; if a quote later in the same row closes it
    # first, csv reads text after a closing quote, which strict parsing rejects.
    "unclosed_quote": ("unclosed quote", "malformed quoting"),
    "unclosed_quote_multiline": ("unclosed quote", "malformed quoting"),  # runs over a few lines first
    "too_few_fields": "too few fields",
    "too_many_fields": "too many fields",
    "undecodable_bytes": "undecodable bytes",
    "no_timestamp": "no timestamp",
    "bad_comments_json": "comments is not valid JSON",
}
JSONL_KINDS = {
    **_EITHER,
    "truncated_json": "not valid JSON",
    "not_an_object": "a row must be a JSON object",
    "body_not_text": "body must be text",
    "id_not_text": "id must be text",
    "undecodable_bytes": "undecodable bytes",
    "no_timestamp": "no timestamp",
    "comments_not_list": "comments must be a list or a string",
}
WORDS = ("export", "login", "sync", "invoice", "calendar", "timeout", "dashboard", "webhook", "SSO", "report",
         "café", "naïve", "日本語", "emoji 🙂", "O'Brien", "semi;colon", "tab\tinside", "pipe|bar", "a, comma",
         'a "quoted" word', "back\\slash", "#hash", "50% off", "<b>html</b>", "id,subject,body")


@dataclass
class FuzzTruth:
    valid: dict[str, str] = field(default_factory=dict)        # id -> body as it must be stored
    # the line each broken row starts on -> (kind, the reason prefixes it may get)
    broken: dict[int, tuple[str, tuple[str, ...]]] = field(default_factory=dict)
    starts: list[int] = field(default_factory=list)             # the line every row starts on, in order
    bytes_written: int = 0


def _sentence(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words))


def _valid_row(rng: random.Random, i: int, big: int = 0) -> dict[str, object]:
    body = _sentence(rng, rng.randint(4, 40))
    shape = rng.random()
    if shape < 0.15:
        body += "\n\nSteps:\n1. open the page\n2. click \"Export\", then wait"   # legit multi-line field
    elif shape < 0.2:
        body += "\r\nWindows line ending, and a trailing quote \""
    elif shape < 0.22:
        body = "x" * 40_000                                                      # long but within limits
    if big:
        body = (body + " ") * max(1, big // (len(body) + 1))
        body = body[:big]
    day = rng.randint(1, 28)
    return {"id": f"F-{i}", "subject": _sentence(rng, 3), "body": body,
            "created_at": f"2026-11-{day:02d}T08:00:00Z", "solved_at": f"2026-11-{day:02d}T10:30:00+01:00",
            "csat": rng.choice([None, 1, 3, 5]), "first_response_minutes": rng.choice([None, 0, 12.5, 300]),
            "tags": rng.choice([None, "a,b", "export"]), "comments": None, "notes": rng.choice([None, "", "n"])}


def _break(rng: random.Random, kind: str, row: dict[str, object], max_row_chars: int) -> dict[str, object]:
    """The row with one fault (the CSV-only faults happen when the line is written)."""
    if kind == "missing_id":
        row["id"] = None
    elif kind == "empty_text":
        row["subject"] = row["body"] = None
    elif kind == "bad_timestamp":
        row["created_at"] = "yesterday at noon"
    elif kind == "bad_solved_date":
        row["solved_at"] = "2026-13-45"
    elif kind == "bad_csat":
        row["csat"] = "five"
    elif kind == "csat_out_of_range":
        row["csat"] = 7
    elif kind == "negative_minutes":
        row["first_response_minutes"] = -5
    elif kind == "text_too_long":
        row["body"] = "y" * 60_000
    elif kind == "megabyte_field":
        row["body"] = ("m" * 1023 + "\n") * 1024                    # 1 MB, with newlines
    elif kind == "oversize_row":
        row["notes"] = "o" * (max_row_chars + 10)
    elif kind == "no_timestamp":
        row["created_at"] = row["solved_at"] = None
    elif kind == "bad_comments_json":
        row["comments"] = "[not json"
    elif kind == "body_not_text":
        row["body"] = {"html": "<p>hi</p>"}
    elif kind == "id_not_text":
        row["id"] = True
    elif kind == "comments_not_list":
        row["comments"] = 42
    return row


def _csv_line(row: dict[str, object], columns: list[str] = COLUMNS) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerow(["" if row[c] is None else row[c] for c in columns])
    return buf.getvalue()


def _csv_broken_line(rng: random.Random, kind: str, row: dict[str, object]) -> bytes:
    if kind == "unclosed_quote":
        line = _csv_line({**row, "body": "@@"}).replace("@@", '"this quote never closes, see the log', 1)
        return line.encode()
    if kind == "unclosed_quote_multiline":
        line = _csv_line({**row, "subject": "@@"})
        return line.replace("@@", '"opens here\r\nand runs on\r\nover lines', 1).encode()
    if kind == "too_few_fields":
        return _csv_line({c: row[c] for c in COLUMNS[:4]}, COLUMNS[:4]).encode()
    if kind == "too_many_fields":
        return _csv_line(row).replace("\r\n", ",extra,more\r\n").encode()
    if kind == "undecodable_bytes":
        return _csv_line({**row, "body": "caf@@ au lait"}).encode().replace(b"@@", b"\xe9")
    return _csv_line(row).encode()


def _jsonl_broken_line(kind: str, row: dict[str, object]) -> bytes:
    if kind == "truncated_json":
        return json.dumps(row)[:30].encode() + b"\n"
    if kind == "not_an_object":
        return json.dumps([row["id"], row["body"]]).encode() + b"\n"
    if kind == "undecodable_bytes":
        return json.dumps({**row, "body": "caf@@"}).encode().replace(b"@@", b"\xe9") + b"\n"
    return json.dumps(row, ensure_ascii=False).encode() + b"\n"


def write_fuzz(path: Path, rows: int, fmt: str, *, seed: int = 7, broken_share: float = 0.2,
               max_row_chars: int = 2_000_000, big_valid: int = 0, kinds: list[str] | None = None) -> FuzzTruth:
    """Write `rows` rows (`broken_share` of them broken, every kind at least once when rows allow).

    `big_valid` > 0 makes every valid body that long (the 300 MB memory benchmark)."""
    rng = random.Random(seed)
    table = CSV_KINDS if fmt == "csv" else JSONL_KINDS
    kinds = list(kinds or table)
    n_broken = min(rows, max(len(kinds), int(rows * broken_share))) if broken_share else 0
    broken_at = set(rng.sample(range(rows), n_broken))
    order = [kinds[i % len(kinds)] for i in range(n_broken)]
    rng.shuffle(order)
    truth = FuzzTruth()
    line_no = 1
    with path.open("wb") as fh:
        if fmt == "csv":
            fh.write(b"\xef\xbb\xbf" + ",".join(COLUMNS).encode() + b"\r\n")   # a BOM, as Excel writes
            line_no = 2
        else:
            fh.write(b"\xef\xbb\xbf")
        for i in range(rows):
            row = _valid_row(rng, i, big_valid)
            if i in broken_at:
                kind = order.pop()
                row = _break(rng, kind, row, max_row_chars)
                reasons = table[kind]
                if kind == "megabyte_field" and max_row_chars < len(str(row["body"])):
                    reasons = "row too long"     # a small max_row_chars (the quick test) catches it first
                truth.broken[line_no] = (kind, reasons if isinstance(reasons, tuple) else (reasons,))
                line = _csv_broken_line(rng, kind, row) if fmt == "csv" else _jsonl_broken_line(kind, row)
            else:
                truth.valid[str(row["id"])] = str(row["body"]).strip()   # the loader strips text
                line = _csv_line(row).encode() if fmt == "csv" else json.dumps(row, ensure_ascii=False).encode() + b"\n"
            fh.write(line)
            truth.starts.append(line_no)
            truth.bytes_written += len(line)
            # Physical lines as a CSV reader splits them (\r\n, \r or \n); JSON escapes its newlines.
            line_no += len(_BREAKS.findall(line)) if fmt == "csv" else line.count(b"\n")
    return truth


_BREAKS = re.compile(rb"\r\n|\r|\n")


@dataclass
class FuzzCheck:
    lost: list[str]              # valid ids not stored
    garbled: list[str]           # valid ids stored with another body
    stored_broken: list[str]     # ids stored that no valid row had
    wrong_reason: list[tuple[int, str, list[str]]]   # (line, kind, reasons found there)
    merged: int                  # broken rows quarantined inside the previous broken row's entry


def check(truth: FuzzTruth, stored: dict[str, str], quarantine: list[tuple[int, str]]) -> FuzzCheck:
    """Compare what the loader stored and quarantined ((row_number, reason) pairs) with the truth.

    A broken row right after an unclosed quote can be quarantined inside that row's entry (the open
    field runs over it); that is counted as `merged`, not as wrong."""
    at: dict[int, list[str]] = {}
    for number, reason in quarantine:
        at.setdefault(number, []).append(reason)
    lost = [i for i in truth.valid if i not in stored]
    garbled = [i for i in truth.valid if i in stored and stored[i] != truth.valid[i]]
    extra = [i for i in stored if i not in truth.valid]
    wrong, merged = [], 0
    previous_entry: list[str] = []
    for line in truth.starts:
        if line in truth.broken:
            kind, prefixes = truth.broken[line]
            found = at.get(line, [])
            if any(r.startswith(prefixes) for r in found):
                previous_entry = found
            elif not found and any(r.startswith(("unclosed quote", "malformed quoting")) or "runs over lines" in r
                                   for r in previous_entry):
                merged += 1
            else:
                wrong.append((line, kind, found))
        else:
            previous_entry = at.get(line, [])
    return FuzzCheck(lost, garbled, extra, wrong, merged)

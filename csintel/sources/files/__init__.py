"""Tickets and accounts from CSV, JSONL, JSON-array or Parquet files (the input-file contract).

Every reader streams: it holds one row (at most `max_row_chars` characters) and a small read
buffer, never the file, so a 300 MB export is read in bounded memory. A row that cannot be read
becomes a `RawRow` with an `error` (its quarantine reason) and the rows around it are read as
usual; a file that cannot be read at all (no header, no `id` column, not Parquet) becomes one
`RawRow` whose reason starts with "file rejected". What the reader noticed about a file (a sniffed
delimiter, a BOM, an empty file) is added to `FileSource.notes` for the run summary.

The readers live beside this module: text.py (encodings, bounded lines), header.py (delimiter
sniffing and header diagnosis), csv_lines.py and csv_rows.py (CSV with quote recovery),
json_rows.py (JSON lines and arrays) and parquet.py.
"""

from __future__ import annotations

import glob
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from csintel.sources import RawRow
from csintel.sources.files.csv_rows import csv_rows
from csintel.sources.files.json_rows import json_array_rows, jsonl_rows
from csintel.sources.files.parquet import parquet_rows
from csintel.sources.files.text import first_char, open_text

FORMATS = {".csv": "csv", ".tsv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl",
           ".parquet": "parquet"}
DEFAULT_MAX_ROW_CHARS = 2_000_000   # `sources.max_row_chars`: one row, all its fields together


class SourceFileError(ValueError):
    """A file that cannot be read at all (missing, unknown format)."""


@dataclass
class FileSource:
    """Rows of one or more files (globs allowed), in file order.

    `kind` ("ticket" or "account") turns on the header check for that kind's required columns;
    `notes` collects what the readers noticed, file by file, for the run summary.
    """

    paths: list[Path]
    name: str = "file"
    kind: str | None = None
    max_row_chars: int = DEFAULT_MAX_ROW_CHARS
    notes: list[str] = field(init=False, default_factory=list)
    _files: list[Path] = field(init=False, default_factory=list)

    def __post_init__(self) -> None:
        self._files = expand(self.paths)

    def rows(self) -> Iterator[RawRow]:
        self.notes = []
        for path in self._files:
            yield from read_rows(path, kind=self.kind, max_row_chars=self.max_row_chars, notes=self.notes)


def expand(paths: list[Path]) -> list[Path]:
    """Expand globs; a pattern or path that matches nothing is an error, not a silent no-op."""
    out: list[Path] = []
    for p in paths:
        matches = sorted(Path(m) for m in glob.glob(str(p))) if glob.has_magic(str(p)) else [Path(p)]
        if not matches or not all(m.is_file() for m in matches):
            raise SourceFileError(f"input file {p} not found (check [sources] in the config)")
        for m in matches:
            if m.suffix.lower() not in FORMATS:
                raise SourceFileError(f"{m}: unknown format '{m.suffix}' (use .csv, .jsonl, .json or .parquet)")
        out.extend(matches)
    return out


def read_rows(path: Path, *, kind: str | None = None, max_row_chars: int = DEFAULT_MAX_ROW_CHARS,
              notes: list[str] | None = None) -> Iterator[RawRow]:
    """Every row of one file, in order; bad rows carry their quarantine reason in `error`."""
    notes = [] if notes is None else notes
    fmt = FORMATS[path.suffix.lower()]
    if fmt == "parquet":
        yield from parquet_rows(path, kind, max_row_chars, notes)
        return
    if path.stat().st_size == 0:
        notes.append(f"{path.name}: empty file (0 bytes): no rows read")
        return
    fh, encoding = open_text(path, newline="" if fmt == "csv" else "\n")
    with fh:
        if encoding != "utf-8":
            notes.append(f"{path.name}: read as {encoding} (byte-order mark)")
        if fmt == "csv":
            yield from csv_rows(path, fh, kind, max_row_chars, notes)
        elif path.suffix.lower() == ".json" and first_char(fh) == "[":
            yield from json_array_rows(path, fh, kind, max_row_chars, notes)
        else:
            yield from jsonl_rows(path, fh, kind, max_row_chars, notes)

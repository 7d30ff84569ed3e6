"""Tickets and accounts from CSV, JSONL or Parquet files (the input-file contract)."""

from __future__ import annotations

import csv
import glob
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import pyarrow.parquet as pq

from csintel.sources import RawRow

FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl", ".parquet": "parquet"}


class SourceFileError(ValueError):
    """A file that cannot be read at all (missing, unknown format)."""


@dataclass
class FileSource:
    """Rows of one or more files (globs allowed), in file order."""

    paths: list[Path]
    name: str = "file"
    _files: list[Path] = field(init=False, default_factory=list)

    def __post_init__(self) -> None:
        self._files = expand(self.paths)

    def rows(self) -> Iterator[RawRow]:
        for path in self._files:
            yield from read_rows(path)


def expand(paths: list[Path]) -> list[Path]:
    """Expand globs; a pattern or path that matches nothing is an error, not a silent no-op."""
    out: list[Path] = []
    for p in paths:
        matches = sorted(Path(m) for m in glob.glob(str(p))) if glob.has_magic(str(p)) else [Path(p)]
        if not matches or not all(m.is_file() for m in matches):
            raise SourceFileError(f"input file {p} not found (check [sources] in the config)")
        for m in matches:
            if m.suffix.lower() not in FORMATS:
                raise SourceFileError(f"{m}: unknown format '{m.suffix}' (use .csv, .jsonl or .parquet)")
        out.extend(matches)
    return out


def read_rows(path: Path) -> Iterator[RawRow]:
    kind = FORMATS[path.suffix.lower()]
    if kind == "jsonl":
        yield from _jsonl_rows(path)
    elif kind == "csv":
        yield from _csv_rows(path)
    else:
        yield from _parquet_rows(path)


def _jsonl_rows(path: Path) -> Iterator[RawRow]:
    origin = str(path)
    with path.open("rb") as fh:
        # A .json file holding one array is accepted too (a common export shape).
        head = fh.read(1)
        fh.seek(0)
        if path.suffix.lower() == ".json" and head == b"[":
            for i, item in enumerate(json.load(fh), start=1):
                yield _as_row(origin, i, item)
            return
        for i, raw in enumerate(fh, start=1):
            if not raw.strip():
                continue
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                yield RawRow(origin, i, None, f"undecodable bytes (not UTF-8) at byte {exc.start}: {raw[:200]!r}")
                continue
            try:
                item = json.loads(text)
            except json.JSONDecodeError as exc:
                yield RawRow(origin, i, {"_raw": text[:2000]}, f"not valid JSON: {exc.msg} at column {exc.colno}")
                continue
            yield _as_row(origin, i, item)


def _as_row(origin: str, i: int, item: object) -> RawRow:
    if not isinstance(item, dict):
        return RawRow(origin, i, {"_raw": str(item)[:2000]}, "a row must be a JSON object")
    return RawRow(origin, i, item)


def _csv_rows(path: Path) -> Iterator[RawRow]:
    origin = str(path)
    data = path.read_bytes()
    # Decode leniently so one bad row does not sink the file; rows that held undecodable bytes
    # carry surrogates, which we detect per row and quarantine.
    text = data.decode("utf-8-sig", errors="surrogateescape")
    reader = csv.DictReader(io.StringIO(text, newline=""))
    for i, row in enumerate(reader, start=1):
        bad = [k for k, v in row.items() if isinstance(v, str) and _has_surrogates(v)]
        if bad:
            safe = {k: (v.encode("utf-8", "replace").decode() if isinstance(v, str) else v) for k, v in row.items() if k}
            yield RawRow(origin, i, safe, f"undecodable bytes (not UTF-8) in column {bad[0]}")
            continue
        if None in row:  # more fields than the header
            yield RawRow(origin, i, {k: v for k, v in row.items() if k}, "more fields than the header has columns")
            continue
        yield RawRow(origin, i, {k: (v if v != "" else None) for k, v in row.items()})


def _has_surrogates(s: str) -> bool:
    return any("\udc80" <= ch <= "\udcff" for ch in s)


def _parquet_rows(path: Path) -> Iterator[RawRow]:
    origin = str(path)
    pf = pq.ParquetFile(path)
    i = 0
    for batch in pf.iter_batches(batch_size=2000):
        for item in batch.to_pylist():
            i += 1
            yield RawRow(origin, i, item)

"""Tickets and accounts from CSV, JSONL, JSON-array or Parquet files (the input-file contract).

Every reader streams: it holds one row (at most `max_row_chars` characters) and a small read
buffer, never the file, so a 300 MB export is read in bounded memory. A row that cannot be read
becomes a `RawRow` with an `error` (its quarantine reason) and the rows around it are read as
usual; a file that cannot be read at all (no header, no `id` column, not Parquet) becomes one
`RawRow` whose reason starts with "file rejected". What the reader noticed about a file (a sniffed
delimiter, a BOM, an empty file) is added to `FileSource.notes` for the run summary.

CSV recovery (docs/sources.md, "Input files"): csv reads a quoted field across lines, so one
unclosed quote would swallow every row after it. While a quoted field is open, each next line is
checked: a line that reads as a row start on its own (the header's field count, or fewer with its
own open quote, and an id in the id column shaped like the ids already read) starts a new row, and
the open one is quarantined as "unclosed quote". A record that grows past `max_row_chars` is
quarantined as "row too long" and skipped to where its quoted field closes (or the next row start).
"""

from __future__ import annotations

import codecs
import csv
import glob
import io
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Iterator

import pyarrow.parquet as pq

from csintel.sources import RawRow

FORMATS = {".csv": "csv", ".tsv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl",
           ".parquet": "parquet"}
DEFAULT_MAX_ROW_CHARS = 2_000_000   # `sources.max_row_chars`: one row, all its fields together
RAW_CHARS = 2_000                   # how much of a broken row the quarantine keeps
DELIMITERS = (",", ";", "\t", "|")  # sniffed from the header line, comma on a tie
PARQUET_BATCH = 256
READ_CHUNK = 1 << 20

# Columns the contract names, to tell a header from a data line and to match "ID" to "id".
TICKET_FIELDS = ("id", "subject", "body", "text", "comments", "account_id", "requester_email", "status",
                 "priority", "channel", "created_at", "solved_at", "closed_at", "updated_at",
                 "first_response_minutes", "csat", "tags")
ACCOUNT_FIELDS = ("account_id", "name", "arr_usd", "plan", "segment", "renewal_date", "csm_email",
                  "csm_slack_id", "domain")
KNOWN = {c.lower(): c for c in (*TICKET_FIELDS, *ACCOUNT_FIELDS)}
# What each kind of file must have: one column of each group.
REQUIRED = {
    "ticket": (("id",), ("subject", "body", "text")),
    "account": (("account_id",), ("name",)),
}
TOO_LONG = "row too long: over {limit:,} characters (limit sources.max_row_chars = {limit:,})"
# An id as exports write them: no spaces, no quotes; shape checks below narrow it per file.
ID_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:#/@+\-]{0,127}")


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
        yield from _parquet_rows(path, kind, max_row_chars, notes)
        return
    if path.stat().st_size == 0:
        notes.append(f"{path.name}: empty file (0 bytes): no rows read")
        return
    fh, encoding = _open_text(path, newline="" if fmt == "csv" else "\n")
    with fh:
        if encoding != "utf-8":
            notes.append(f"{path.name}: read as {encoding} (byte-order mark)")
        if fmt == "csv":
            yield from _csv_rows(path, fh, kind, max_row_chars, notes)
        elif path.suffix.lower() == ".json" and _first_char(fh) == "[":
            yield from _json_array_rows(path, fh, kind, max_row_chars, notes)
        else:
            yield from _jsonl_rows(path, fh, kind, max_row_chars, notes)


# ---------------------------------------------------------------------------------------------
# Text, encodings and bounded lines

def _open_text(path: Path, newline: str) -> tuple[IO[str], str]:
    """The file as text, its encoding from the byte-order mark (UTF-8 without one).

    Undecodable bytes become lone surrogates (surrogateescape), so the row that holds them is
    quarantined and its neighbours are read.
    """
    with path.open("rb") as probe:
        head = probe.read(4)
    if head.startswith(codecs.BOM_UTF32_LE) or head.startswith(codecs.BOM_UTF32_BE):
        encoding = "utf-32"
    elif head.startswith(codecs.BOM_UTF16_LE) or head.startswith(codecs.BOM_UTF16_BE):
        encoding = "utf-16"
    elif head.startswith(codecs.BOM_UTF8):
        encoding = "utf-8-sig"
    else:
        encoding = "utf-8"
    raw = path.open("rb")
    return io.TextIOWrapper(raw, encoding=encoding, errors="surrogateescape", newline=newline), encoding


def _first_char(fh: IO[str]) -> str:
    """The first non-space character, leaving the stream where it was."""
    pos = fh.tell()
    while True:
        chunk = fh.read(4096)
        if not chunk:
            break
        stripped = chunk.lstrip().lstrip("\ufeff").lstrip()
        if stripped:
            fh.seek(pos)
            return stripped[0]
    fh.seek(pos)
    return ""


def _lines(fh: IO[str], limit: int) -> Iterator[tuple[int, str, int]]:
    """(line number, text, quotes) per physical line; a line over `limit` characters comes back
    as its first RAW_CHARS characters with its true quote count negated (-1 - count), the rest
    read and dropped."""
    number = 0
    while True:
        line = fh.readline(limit + 1)
        if not line:
            return
        number += 1
        if len(line) <= limit:
            yield number, line, line.count('"')
            continue
        quotes, head = line.count('"'), line[:RAW_CHARS]
        while not line.endswith(("\n", "\r")):
            line = fh.readline(READ_CHUNK)
            if not line:
                break
            quotes += line.count('"')
        yield number, head, -1 - quotes


# What surrogateescape makes of a byte that is not UTF-8 (a regex: a Python loop over every
# character of a 300 MB file would cost more than reading it).
_UNDECODED = re.compile("[\udc80-\udcff]")


def _has_surrogates(s: str) -> bool:
    return _UNDECODED.search(s) is not None


def _first_surrogate(s: str) -> int:
    m = _UNDECODED.search(s)
    return m.start() if m else -1


def _too_long(limit: int) -> str:
    return TOO_LONG.format(limit=limit)


def _preview(text: str, n: int = 60) -> str:
    text = text.rstrip("\r\n")
    return text if len(text) <= n else text[:n] + "…"


# ---------------------------------------------------------------------------------------------
# CSV

def _split_line(text: str, delimiter: str, max_fields: int = 0) -> tuple[list[str], bool] | None:
    """One line split as csv would, and whether its last quoted field is still open at the line's
    end; None when the line is not clean CSV: text after a closing quote, or a quote inside an
    unquoted field (csv allows it, but a writer would have quoted that field; it is what the end
    of a multi-line field looks like: `line two",T-3,2026-11-02`). `max_fields` > 0 stops after
    that many fields."""
    pattern = _FIELD_PATTERNS.get(delimiter)
    if pattern is None:
        d = re.escape(delimiter)
        # Possessive quantifiers: a quoted field never backtracks into a shorter closed one.
        pattern = re.compile(rf'"((?:[^"]|"")*+)"|"((?:[^"]|"")*+)$|([^{d}"\r\n]*)')
        _FIELD_PATTERNS[delimiter] = pattern
    fields: list[str] = []
    pos, end = 0, len(text.rstrip("\r\n"))
    body = text[:end]
    while True:
        m = pattern.match(body, pos)
        if m is None:
            return None
        if m.group(2) is not None:
            fields.append(m.group(2).replace('""', '"'))
            return fields, True
        fields.append(m.group(1).replace('""', '"') if m.group(1) is not None else m.group(3))
        pos = m.end()
        if pos >= end or len(fields) == max_fields:
            return fields, False
        if body[pos] != delimiter:
            return None
        pos += 1


_FIELD_PATTERNS: dict[str, re.Pattern[str]] = {}


def _id_shape(value: str) -> str:
    """What ids of one export share: 'Q-17' and 'Q-2' are both 'Q-9'; '48213' is '9'."""
    return re.sub(r"[0-9]+", "9", value)


class _RowStart:
    """Does a line, on its own, read as the start of a new row of this file?"""

    MAX_SHAPES = 20   # more distinct id shapes than this: ids have no pattern, check the token only

    def __init__(self, delimiter: str, columns: int, key_index: int) -> None:
        self.delimiter, self.columns, self.key_index = delimiter, columns, key_index
        self.shapes: set[str] = set()

    def learn(self, key: str) -> None:
        if len(self.shapes) <= self.MAX_SHAPES:
            self.shapes.add(_id_shape(key))

    def __call__(self, text: str) -> bool:
        split = _split_line(text, self.delimiter)
        if split is None:
            return False
        fields, still_open = split
        complete = len(fields) - 1 if still_open else len(fields)
        if complete <= self.key_index:
            return False
        if (len(fields) > self.columns) if still_open else (len(fields) != self.columns):
            return False
        # An empty id on a complete row of the right width is a row too (one missing its id).
        return self.is_id(fields[self.key_index]) or (not still_open and not fields[self.key_index].strip())

    def is_id(self, value: str) -> bool:
        key = value.strip()
        if not ID_TOKEN.fullmatch(key):
            return False
        return not self.shapes or len(self.shapes) > self.MAX_SHAPES or _id_shape(key) in self.shapes

    def starts_like_a_row(self, text: str) -> bool:
        """A weaker test, used only to stop skipping a row csv rejected: the line's fields up to
        the id column split cleanly and the id has the file's shape, whatever follows."""
        if not self.shapes:
            return False
        prefix = _split_line(text, self.delimiter, max_fields=self.key_index + 1)
        return prefix is not None and len(prefix[0]) > self.key_index and self.is_id(prefix[0][self.key_index])

    def wrong_width_row(self, text: str) -> list[str] | None:
        """The fields of a line that reads as a whole row of this file but for its field count."""
        split = _split_line(text, self.delimiter)
        if split is None or split[1] or len(split[0]) < 2 or len(split[0]) <= self.key_index:
            return None
        fields = split[0]
        return fields if self.shapes and self.is_id(fields[self.key_index]) else None


class _Break(Exception):
    """Raised through csv's reader to end the current record early; `reason` is why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class _Feed:
    """The physical lines csv reads, one record at a time.

    csv asks for another line only while a quoted field is open: that is where a line that reads
    as a new row ends the record ("unclosed quote"), and where a record over the size limit is cut
    and skipped to the end of its quoted field ("row too long").
    """

    def __init__(self, lines: Iterator[tuple[int, str, int]], row_start: _RowStart, limit: int) -> None:
        self.lines, self.row_start, self.limit = lines, row_start, limit
        self.pending: tuple[int, str, int] | None = None
        self.start = self.last = 0
        self.head = ""            # the record's first characters, for the quarantine
        self.chars = 0
        self.quotes = 0           # quote characters in the record so far (odd = a field is open)
        self.taken: list[tuple[int, str]] = []   # the record's lines after its first

    def begin(self) -> None:
        self.start, self.head, self.chars, self.quotes = 0, "", 0, 0
        self.taken = []

    def swallowed_rows(self) -> Iterator[tuple[int, list[str] | None, str]]:
        """Rows that a rejected row's open quote ran over: (line, fields, text) each.

        They did not end the open field (a row start needs the header's field count and clean
        quoting), but they are rows of their own, broken too: quarantined with their own reason
        (`fields` None: their quotes do not pair up). Nothing here is stored, so this test may be
        looser than a row start's."""
        for number, text in self.taken:
            fields = self.row_start.wrong_width_row(text)
            if fields is not None or self.row_start.starts_like_a_row(text):
                yield number, fields, text

    def _next_line(self) -> tuple[int, str, int] | None:
        if self.pending is not None:
            line, self.pending = self.pending, None
            return line
        return next(self.lines, None)

    def __iter__(self) -> _Feed:
        return self

    def __next__(self) -> str:
        line = self._next_line()
        in_record = self.start > 0
        if line is None:
            if in_record:
                raise _Break("unclosed quote: a quoted field opened in this row never closes before the file ends")
            raise StopIteration
        number, text, quotes = line
        if in_record and self.row_start(text):
            self.pending = line
            raise _Break(f"unclosed quote: a quoted field opened in this row does not close before the next "
                         f"row starts (line {number})")
        if not in_record:
            self.start = number
        elif self.chars + len(text) <= self.limit:
            self.taken.append((number, text))
        self.last = number
        if len(self.head) < RAW_CHARS:
            self.head += text[:RAW_CHARS - len(self.head)]
        if quotes < 0 or self.chars + len(text) > self.limit:
            self.quotes += abs(quotes + 1) if quotes < 0 else quotes
            self._skip_rest()
            raise _Break(_too_long(self.limit))
        self.chars += len(text)
        self.quotes += quotes
        return text

    def skip_to_row_start(self) -> None:
        """After a row csv could not parse, its remaining lines up to the next row start."""
        while True:
            line = self._next_line()
            if line is None:
                return
            if self.row_start(line[1]) or self.row_start.starts_like_a_row(line[1]):
                self.pending = line
                return
            self.last = line[0]
            if len(self.taken) < 10_000:
                self.taken.append((line[0], line[1]))

    def _skip_rest(self) -> None:
        """Drop lines until the oversized record's quoted field closes or a new row starts."""
        while self.quotes % 2:
            line = self._next_line()
            if line is None:
                return
            number, text, quotes = line
            if self.row_start(text):
                self.pending = line
                return
            self.last = number
            self.quotes += abs(quotes + 1) if quotes < 0 else quotes


def _header(text: str) -> tuple[str, list[str]]:
    """The delimiter (the candidate that splits the header into the most columns) and the names."""
    best, names = ",", next(csv.reader([text]), [])
    for d in DELIMITERS[1:]:
        split = next(csv.reader([text], delimiter=d), [])
        if len(split) > len(names):
            best, names = d, split
    return best, [_column_name(n) for n in names]


def _column_name(name: str) -> str:
    name = name.strip().lstrip("\ufeff").strip()
    return KNOWN.get(name.lower(), name)


def _header_problem(names: list[str], text: str, delimiter: str, kind: str | None) -> str | None:
    """Why a header cannot be used for `kind`, or None."""
    reads = repr(_preview(text))
    key = REQUIRED[kind][0][0] if kind else None
    data_like = [n for n in names if _looks_like_value(n)]
    if not any(n in KNOWN.values() for n in names) or (key and key not in names and data_like):
        return (f"no header row: the first line reads {reads}, which names none of the columns csintel "
                f"reads; the first line must name the columns (e.g. id,subject,body,created_at)")
    if kind is None:
        return None
    for group in REQUIRED[kind]:
        if not any(c in names for c in group):
            wanted = " or ".join(repr(c) for c in group)
            hint = ""
            near = [n for n in names if group[0] in n.lower() and n not in KNOWN.values()]
            if near:
                hint = f"; is {near[0]!r} the {group[0]}? name it {group[0]!r}"
            elif len(names) == 1:
                hint = "; the header has one column: is the delimiter something other than , ; tab or |?"
            return f"no {wanted} column; the header reads {reads}{hint}"
    return None


def _looks_like_value(cell: str) -> bool:
    """A header cell that reads like data: an id with a digit ('Q-1', '48213') or a date."""
    cell = cell.strip()
    return bool(re.fullmatch(r"\d{4}-\d{2}-\d{2}.*", cell)) or (
        bool(ID_TOKEN.fullmatch(cell)) and any(ch.isdigit() for ch in cell))


def _csv_rows(path: Path, fh: IO[str], kind: str | None, limit: int, notes: list[str]) -> Iterator[RawRow]:
    origin = str(path)
    csv.field_size_limit(max(csv.field_size_limit(), limit + 1))   # our own limit applies first
    lines = _lines(fh, limit)
    first = next(((n, t, q) for n, t, q in lines if t.strip() or q < 0), None)
    if first is None:
        notes.append(f"{path.name}: empty file (no header, no rows)")
        return
    number, text, quotes = first
    if quotes < 0:
        yield RawRow(origin, number, None, f"file rejected: the first line is over {limit:,} characters: not a header")
        return
    delimiter, names = _header(text)
    problem = _header_problem(names, text, delimiter, kind)
    if problem:
        notes.append(f"{path.name}: file rejected: {problem}")
        yield RawRow(origin, number, {"_header": text[:RAW_CHARS]}, f"file rejected: {problem}")
        return
    if delimiter != ",":
        shown = "tab" if delimiter == "\t" else repr(delimiter)
        notes.append(f"{path.name}: read with delimiter {shown} (sniffed from the header {_preview(text)!r})")
    key = next((c for c in ("id", "account_id") if c in names), names[0])
    key_index = names.index(key)
    row_start = _RowStart(delimiter, len(names), key_index)
    feed = _Feed(lines, row_start, limit)
    # strict: text after a closing quote ('"a "b" c"') is an error, not glued into the field, so a
    # row with broken quoting is quarantined instead of stored with its columns shifted.
    reader = csv.reader(feed, delimiter=delimiter, strict=True)
    rows = 0
    while True:
        feed.begin()
        try:
            fields = next(reader)
        except StopIteration:
            break
        except _Break as brk:
            rows += 1
            yield RawRow(origin, feed.start or feed.last, _broken(feed.head, delimiter, key, key_index), brk.reason)
            if brk.reason.startswith("unclosed quote"):
                for row in _swallowed(origin, feed, names, delimiter, key, key_index, row_start):
                    rows += 1
                    yield row
            continue
        except csv.Error as exc:   # a reader error is one row's problem, never the file's
            rows += 1
            start = feed.start
            feed.skip_to_row_start()
            yield RawRow(origin, start, _broken(feed.head, delimiter, key, key_index),
                         f"malformed quoting: {exc} (a quote inside a quoted field must be doubled)")
            for row in _swallowed(origin, feed, names, delimiter, key, key_index, row_start):
                rows += 1
                yield row
            continue
        if not any(f.strip() for f in fields):
            continue   # a blank line
        rows += 1
        yield _csv_record(origin, feed.start, feed.last, names, fields, key_index, row_start)
    if rows == 0:
        notes.append(f"{path.name}: a header and no rows")


def _swallowed(origin: str, feed: _Feed, names: list[str], delimiter: str, key: str, key_index: int,
               row_start: _RowStart) -> Iterator[RawRow]:
    """The rows a rejected row ran over, each quarantined on its own."""
    for number, fields, text in feed.swallowed_rows():
        if fields is not None:
            yield _csv_record(origin, number, number, names, fields, key_index, row_start)
        else:
            yield RawRow(origin, number, _broken(text, delimiter, key, key_index),
                         f"malformed quoting: the row's quotes do not pair up (read inside the open quoted field "
                         f"of line {feed.start})")


def _csv_record(origin: str, number: int, last: int, names: list[str], fields: list[str], key_index: int,
                row_start: _RowStart) -> RawRow:
    n, width = len(fields), len(names)
    # A wrong field count on a row that ran over several lines is most likely a stray quote.
    span = f" (the row runs over lines {number}-{last}: a stray or unclosed quote?)" if last > number else ""
    data = {k: (v if v != "" else None) for k, v in zip(names, fields)}
    bad = next((k for k, v in zip(names, fields) if _has_surrogates(v)), None)
    if bad is not None:
        safe = {k: (v.encode("utf-8", "replace").decode() if isinstance(v, str) else v) for k, v in data.items()}
        return RawRow(origin, number, _cut(safe), f"undecodable bytes (not UTF-8) in column {bad}")
    if n > width:
        data["_extra_fields"] = fields[width:]
        return RawRow(origin, number, _cut(data), f"too many fields: {n} where the header has {width} columns{span}")
    if n < width:
        return RawRow(origin, number, _cut(data), f"too few fields: {n} where the header has {width} columns{span}")
    if [_column_name(f) for f in fields] == names:   # files concatenated with their headers
        return RawRow(origin, number, _cut(data), "a repeated header line")
    key = fields[key_index].strip()
    if key:
        row_start.learn(key)
    return RawRow(origin, number, data)


def _cut(data: dict[str, Any]) -> dict[str, Any]:
    """A broken row as the quarantine keeps it: every value cut to RAW_CHARS."""
    return {k: (v[:RAW_CHARS] if isinstance(v, str) else v) for k, v in data.items()}


def _broken(head: str, delimiter: str, key: str, key_index: int) -> dict[str, Any]:
    """What the quarantine keeps of a record that could not be parsed: its id if the first line
    shows it, and its first characters."""
    out: dict[str, Any] = {"_raw": head[:RAW_CHARS]}
    # Only the fields up to the id need to split cleanly; the breakage may come after them.
    split = _split_line(head.split("\n", 1)[0], delimiter, max_fields=key_index + 1) if head else None
    if split and len(split[0]) > key_index + (1 if split[1] else 0):
        out[key] = split[0][key_index][:200]
    return out


# ---------------------------------------------------------------------------------------------
# JSON lines and JSON arrays

def _jsonl_rows(path: Path, fh: IO[str], kind: str | None, limit: int, notes: list[str]) -> Iterator[RawRow]:
    origin = str(path)
    rows = with_key = 0
    keys: set[str] = set()
    key = "account_id" if kind == "account" else "id"
    for number, text, quotes in _lines(fh, limit):
        if quotes < 0:
            yield RawRow(origin, number, None, _too_long(limit))
            continue
        text = text.lstrip("\ufeff")   # a BOM at the start (or from files concatenated with one)
        if not text.strip():
            continue
        rows += 1
        if _has_surrogates(text):
            at = _first_surrogate(text)
            yield RawRow(origin, number, {"_raw": text[:RAW_CHARS].encode("utf-8", "replace").decode()},
                         f"undecodable bytes (not UTF-8) at character {at}")
            continue
        try:
            item = json.loads(text)
        except json.JSONDecodeError as exc:
            if rows == 1 and _looks_like_csv_header(text):
                reason = (f"file rejected: the first line reads {_preview(text)!r}, a CSV header, not JSON: "
                          f"is this a CSV file? name it .csv")
                notes.append(f"{path.name}: {reason}")
                yield RawRow(origin, number, {"_header": text[:RAW_CHARS]}, reason)
                return
            yield RawRow(origin, number, {"_raw": text[:RAW_CHARS]}, f"not valid JSON: {exc.msg} at column {exc.colno}")
            continue
        if isinstance(item, dict) and rows <= 50:
            with_key += key in item
            keys.update(item)
        yield _as_row(origin, number, item)
    if rows == 0:
        notes.append(f"{path.name}: empty file (no rows)")
    elif kind and with_key == 0 and keys:
        shown = ", ".join(sorted(keys)[:8])
        notes.append(f"{path.name}: no row among the first {min(rows, 50)} has an {key!r} key (they have {shown})")


def _looks_like_csv_header(text: str) -> bool:
    _, names = _header(text)
    return len(names) > 1 and any(n in KNOWN.values() for n in names)


def _as_row(origin: str, i: int, item: object) -> RawRow:
    if not isinstance(item, dict):
        return RawRow(origin, i, {"_raw": str(item)[:RAW_CHARS]}, "a row must be a JSON object")
    return RawRow(origin, i, item)


_NEXT_OBJECT = re.compile(r",\s*\{|\n\s*\{")


class _JsonArray:
    """A `.json` file holding one array of row objects, read element by element.

    Only the current element and a 1 MB read buffer are held. A broken element is quarantined and
    reading resumes at the next object that decodes, is followed by `,` or `]`, and has every key
    the rows read so far all had (else an id key), so a nested object inside the broken element
    (a comment) is not taken for a row.
    """

    def __init__(self, fh: IO[str], limit: int) -> None:
        self.fh, self.limit = fh, limit
        self.buf, self.pos, self.eof = "", 0, False
        self.decoder = json.JSONDecoder()
        self.keys: set[str] | None = None    # the keys every element so far had

    def fill(self) -> bool:
        chunk = self.fh.read(READ_CHUNK)
        if not chunk:
            self.eof = True
            return False
        self.buf, self.pos = self.buf[self.pos:] + chunk, 0
        return True

    def peek(self) -> str:
        """The next non-space character ('' at the end of the file)."""
        while True:
            while self.pos < len(self.buf) and self.buf[self.pos] in " \t\r\n\ufeff":
                self.pos += 1
            if self.pos < len(self.buf):
                return self.buf[self.pos]
            if not self.fill():
                return ""

    def elements(self) -> Iterator[tuple[Any, str | None]]:
        """(element, None) or (what the quarantine keeps, reason) for each element in order."""
        self.peek()
        self.pos += 1   # the '[' read_rows saw
        while True:
            c = self.peek()
            if c in ("]", ""):
                return
            if c == ",":          # a stray comma (e.g. [{...},,{...}]): nothing lost
                self.pos += 1
                continue
            try:
                item, end = self.decoder.raw_decode(self.buf, self.pos)
                if end >= len(self.buf) and not self.eof:
                    raise json.JSONDecodeError("the element may continue", self.buf, end)
            except json.JSONDecodeError as exc:
                if not self.eof and len(self.buf) - self.pos <= self.limit:
                    self.fill()
                    continue
                too_long = len(self.buf) - self.pos > self.limit
                yield ({"_raw": self.buf[self.pos:self.pos + RAW_CHARS]},
                       _too_long(self.limit) if too_long else f"not valid JSON: {exc.msg}")
                self.resync()
                continue
            if isinstance(item, dict):
                self.keys = set(item) if self.keys is None else self.keys & set(item)
            self.pos = end
            yield item, None

    def resync(self) -> None:
        """Move to where the next whole element starts after a broken one (or to the end)."""
        search = self.pos + 1
        while True:
            m = _NEXT_OBJECT.search(self.buf, search)
            if m is None:
                keep = max(self.pos, len(self.buf) - 64)
                self.pos = keep
                if not self.fill():
                    self.pos = len(self.buf)
                    return
                search = 0
                continue
            start = m.end() - 1
            try:
                item, end = self.decoder.raw_decode(self.buf, start)
            except json.JSONDecodeError:
                if not self.eof and len(self.buf) - start < self.limit:
                    self.pos = start - 1
                    if self.fill():
                        search = 0
                        continue
                search = start + 1
                continue
            rest = self.buf[end:end + 64].lstrip()
            if isinstance(item, dict) and rest[:1] in (",", "]") and (
                    self.keys <= set(item) if self.keys else bool({"id", "account_id"} & set(item))):
                self.pos = start
                return
            search = start + 1


def _json_array_rows(path: Path, fh: IO[str], kind: str | None, limit: int,
                     notes: list[str]) -> Iterator[RawRow]:
    origin = str(path)
    index = 0
    for index, (item, reason) in enumerate(_JsonArray(fh, limit).elements(), start=1):
        yield RawRow(origin, index, item, reason) if reason else _as_row(origin, index, item)
    if index == 0:
        notes.append(f"{path.name}: an empty JSON array (no rows)")


# ---------------------------------------------------------------------------------------------
# Parquet

def _parquet_rows(path: Path, kind: str | None, limit: int, notes: list[str]) -> Iterator[RawRow]:
    origin = str(path)
    try:
        pf = pq.ParquetFile(path)
    except Exception as exc:   # pyarrow raises several types for a file that is not Parquet
        reason = f"file rejected: not a readable Parquet file ({str(exc)[:200]})"
        notes.append(f"{path.name}: {reason}")
        yield RawRow(origin, 0, None, reason)
        return
    names = [_column_name(n) for n in pf.schema_arrow.names]
    problem = _header_problem(names, ",".join(pf.schema_arrow.names), ",", kind) if kind else None
    if problem:
        notes.append(f"{path.name}: file rejected: {problem}")
        yield RawRow(origin, 0, {"_header": pf.schema_arrow.names}, f"file rejected: {problem}")
        return
    if pf.metadata.num_rows == 0:
        notes.append(f"{path.name}: no rows")
    i = 0
    for batch in pf.iter_batches(batch_size=PARQUET_BATCH):
        for item in batch.to_pylist():
            i += 1
            item = {_column_name(k): v for k, v in item.items()}
            size = sum(len(v) for v in item.values() if isinstance(v, (str, bytes)))
            if size > limit:
                yield RawRow(origin, i, _cut({k: v for k, v in item.items() if isinstance(v, str)}), _too_long(limit))
                continue
            yield RawRow(origin, i, item)

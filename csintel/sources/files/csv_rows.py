"""CSV (and TSV) files as raw rows: the header checked, each record read through the recovering
feed of csv_lines, and every broken record quarantined on its own."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import IO, Any, Iterator

from csintel.sources import RawRow
from csintel.sources.files.csv_lines import Break, Feed, RowStart, split_line
from csintel.sources.files.header import column_name, header_problem, sniff_header
from csintel.sources.files.text import RAW_CHARS, bounded_lines, cut, has_surrogates, preview


def csv_rows(path: Path, fh: IO[str], kind: str | None, limit: int, notes: list[str]) -> Iterator[RawRow]:
    origin = str(path)
    csv.field_size_limit(max(csv.field_size_limit(), limit + 1))   # our own limit applies first
    lines = bounded_lines(fh, limit)
    first = next(((n, t, q) for n, t, q in lines if t.strip() or q < 0), None)
    if first is None:
        notes.append(f"{path.name}: empty file (no header, no rows)")
        return
    number, text, quotes = first
    if quotes < 0:
        yield RawRow(origin, number, None, f"file rejected: the first line is over {limit:,} characters: not a header")
        return
    delimiter, names = sniff_header(text)
    problem = header_problem(names, text, delimiter, kind)
    if problem:
        notes.append(f"{path.name}: file rejected: {problem}")
        yield RawRow(origin, number, {"_header": text[:RAW_CHARS]}, f"file rejected: {problem}")
        return
    if delimiter != ",":
        shown = "tab" if delimiter == "\t" else repr(delimiter)
        notes.append(f"{path.name}: read with delimiter {shown} (sniffed from the header {preview(text)!r})")
    key = next((c for c in ("id", "account_id") if c in names), names[0])
    key_index = names.index(key)
    row_start = RowStart(delimiter, len(names), key_index)
    feed = Feed(lines, row_start, limit)
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
        except Break as brk:
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


def _swallowed(origin: str, feed: Feed, names: list[str], delimiter: str, key: str, key_index: int,
               row_start: RowStart) -> Iterator[RawRow]:
    """The rows a rejected row ran over, each quarantined on its own."""
    for number, fields, text in feed.swallowed_rows():
        if fields is not None:
            yield _csv_record(origin, number, number, names, fields, key_index, row_start)
        else:
            yield RawRow(origin, number, _broken(text, delimiter, key, key_index),
                         f"malformed quoting: the row's quotes do not pair up (read inside the open quoted field "
                         f"of line {feed.start})")


def _csv_record(origin: str, number: int, last: int, names: list[str], fields: list[str], key_index: int,
                row_start: RowStart) -> RawRow:
    n, width = len(fields), len(names)
    # A wrong field count on a row that ran over several lines is most likely a stray quote.
    span = f" (the row runs over lines {number}-{last}: a stray or unclosed quote?)" if last > number else ""
    data: dict[str, Any] = {k: (v if v != "" else None) for k, v in zip(names, fields)}
    bad = next((k for k, v in zip(names, fields) if has_surrogates(v)), None)
    if bad is not None:
        safe = {k: (v.encode("utf-8", "replace").decode() if isinstance(v, str) else v) for k, v in data.items()}
        return RawRow(origin, number, cut(safe), f"undecodable bytes (not UTF-8) in column {bad}")
    if n > width:
        data["_extra_fields"] = fields[width:]
        return RawRow(origin, number, cut(data), f"too many fields: {n} where the header has {width} columns{span}")
    if n < width:
        return RawRow(origin, number, cut(data), f"too few fields: {n} where the header has {width} columns{span}")
    if [column_name(f) for f in fields] == names:   # files concatenated with their headers
        return RawRow(origin, number, cut(data), "a repeated header line")
    key = fields[key_index].strip()
    if key:
        row_start.learn(key)
    return RawRow(origin, number, data)


def _broken(head: str, delimiter: str, key: str, key_index: int) -> dict[str, Any]:
    """What the quarantine keeps of a record that could not be parsed: its id if the first line
    shows it, and its first characters."""
    out: dict[str, Any] = {"_raw": head[:RAW_CHARS]}
    # Only the fields up to the id need to split cleanly; the breakage may come after them.
    split = split_line(head.split("\n", 1)[0], delimiter, max_fields=key_index + 1) if head else None
    if split and len(split[0]) > key_index + (1 if split[1] else 0):
        out[key] = split[0][key_index][:200]
    return out

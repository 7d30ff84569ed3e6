"""JSON lines and JSON-array files as raw rows, one object a row; a line or element that does not
decode is quarantined and the reader goes on with the next."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import IO, Any, Iterator

from csintel.sources import RawRow
from csintel.sources.files.header import KNOWN, sniff_header
from csintel.sources.files.text import (RAW_CHARS, READ_CHUNK, bounded_lines, first_surrogate, has_surrogates,
                                        preview, too_long)


def jsonl_rows(path: Path, fh: IO[str], kind: str | None, limit: int, notes: list[str]) -> Iterator[RawRow]:
    origin = str(path)
    rows = with_key = 0
    keys: set[str] = set()
    key = "account_id" if kind == "account" else "id"
    for number, text, quotes in bounded_lines(fh, limit):
        if quotes < 0:
            yield RawRow(origin, number, None, too_long(limit))
            continue
        text = text.lstrip("\ufeff")   # a BOM at the start (or from files concatenated with one)
        if not text.strip():
            continue
        rows += 1
        if has_surrogates(text):
            at = first_surrogate(text)
            yield RawRow(origin, number, {"_raw": text[:RAW_CHARS].encode("utf-8", "replace").decode()},
                         f"undecodable bytes (not UTF-8) at character {at}")
            continue
        try:
            item = json.loads(text)
        except json.JSONDecodeError as exc:
            if rows == 1 and _looks_like_csv_header(text):
                reason = (f"file rejected: the first line reads {preview(text)!r}, a CSV header, not JSON: "
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
    _, names = sniff_header(text)
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
                oversized = len(self.buf) - self.pos > self.limit
                yield ({"_raw": self.buf[self.pos:self.pos + RAW_CHARS]},
                       too_long(self.limit) if oversized else f"not valid JSON: {exc.msg}")
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


def json_array_rows(path: Path, fh: IO[str], kind: str | None, limit: int,
                     notes: list[str]) -> Iterator[RawRow]:
    origin = str(path)
    index = 0
    for index, (item, reason) in enumerate(_JsonArray(fh, limit).elements(), start=1):
        yield RawRow(origin, index, item, reason) if reason else _as_row(origin, index, item)
    if index == 0:
        notes.append(f"{path.name}: an empty JSON array (no rows)")

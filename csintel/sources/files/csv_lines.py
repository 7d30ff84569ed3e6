"""CSV lines and records: splitting a line as csv would, telling a row start from a continuation
line, and the feed of physical lines that csv's reader reads one record at a time.

Recovery (docs/sources.md, "Input files"): csv reads a quoted field across lines, so one unclosed
quote would swallow every row after it. While a quoted field is open, each next line is checked:
a line that reads as a row start on its own (the header's field count, or fewer with its own open
quote, and an id in the id column shaped like the ids already read) starts a new row, and the open
one is quarantined as "unclosed quote". A record that grows past `max_row_chars` is quarantined as
"row too long" and skipped to where its quoted field closes (or the next row start).
"""

from __future__ import annotations

import re
from typing import Iterator

from csintel.sources.files.header import ID_TOKEN
from csintel.sources.files.text import RAW_CHARS, too_long


def split_line(text: str, delimiter: str, max_fields: int = 0) -> tuple[list[str], bool] | None:
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


def id_shape(value: str) -> str:
    """What ids of one export share: 'Q-17' and 'Q-2' are both 'Q-9'; '48213' is '9'."""
    return re.sub(r"[0-9]+", "9", value)


class RowStart:
    """Does a line, on its own, read as the start of a new row of this file?"""

    MAX_SHAPES = 20   # more distinct id shapes than this: ids have no pattern, check the token only

    def __init__(self, delimiter: str, columns: int, key_index: int) -> None:
        self.delimiter, self.columns, self.key_index = delimiter, columns, key_index
        self.shapes: set[str] = set()

    def learn(self, key: str) -> None:
        if len(self.shapes) <= self.MAX_SHAPES:
            self.shapes.add(id_shape(key))

    def __call__(self, text: str) -> bool:
        split = split_line(text, self.delimiter)
        if split is None:
            return False
        fields, still_open = split
        complete = len(fields) - 1 if still_open else len(fields)
        if complete <= self.key_index:
            return False
        if (len(fields) > self.columns) if still_open else (len(fields) != self.columns):
            return False
        # An empty id on a complete row of the right width is a row too (one missing its id), if it
        # holds anything: a line of bare delimiters (",,,") is what pasted logs and tables look
        # like inside a quoted field, and read as a row start it cut a valid ticket in two (seen
        # on real GitHub issues written by Python's csv module).
        if self.is_id(fields[self.key_index]):
            return True
        return not still_open and not fields[self.key_index].strip() and any(f.strip() for f in fields)

    def is_id(self, value: str) -> bool:
        key = value.strip()
        if not ID_TOKEN.fullmatch(key):
            return False
        return not self.shapes or len(self.shapes) > self.MAX_SHAPES or id_shape(key) in self.shapes

    def starts_like_a_row(self, text: str) -> bool:
        """A weaker test, used only to stop skipping a row csv rejected: the line's fields up to
        the id column split cleanly and the id has the file's shape, whatever follows."""
        if not self.shapes:
            return False
        prefix = split_line(text, self.delimiter, max_fields=self.key_index + 1)
        return prefix is not None and len(prefix[0]) > self.key_index and self.is_id(prefix[0][self.key_index])

    def wrong_width_row(self, text: str) -> list[str] | None:
        """The fields of a line that reads as a whole row of this file but for its field count."""
        split = split_line(text, self.delimiter)
        if split is None or split[1] or len(split[0]) < 2 or len(split[0]) <= self.key_index:
            return None
        fields = split[0]
        return fields if self.shapes and self.is_id(fields[self.key_index]) else None


class Break(Exception):
    """Raised through csv's reader to end the current record early; `reason` is why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Feed:
    """The physical lines csv reads, one record at a time.

    csv asks for another line only while a quoted field is open: that is where a line that reads
    as a new row ends the record ("unclosed quote"), and where a record over the size limit is cut
    and skipped to the end of its quoted field ("row too long").
    """

    def __init__(self, lines: Iterator[tuple[int, str, int]], row_start: RowStart, limit: int) -> None:
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

    def __iter__(self) -> Feed:
        return self

    def __next__(self) -> str:
        line = self._next_line()
        in_record = self.start > 0
        if line is None:
            if in_record:
                raise Break("unclosed quote: a quoted field opened in this row never closes before the file ends")
            raise StopIteration
        number, text, quotes = line
        if in_record and self.row_start(text):
            self.pending = line
            raise Break(f"unclosed quote: a quoted field opened in this row does not close before the next "
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
            raise Break(too_long(self.limit))
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

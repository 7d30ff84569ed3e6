"""Text, encodings and bounded lines: what every text reader (CSV, JSON lines, JSON array) shares."""

from __future__ import annotations

import codecs
import io
import re
from pathlib import Path
from typing import IO, Any, Iterator

RAW_CHARS = 2_000                   # how much of a broken row the quarantine keeps
READ_CHUNK = 1 << 20
TOO_LONG = "row too long: over {limit:,} characters (limit sources.max_row_chars = {limit:,})"


def open_text(path: Path, newline: str) -> tuple[IO[str], str]:
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


def first_char(fh: IO[str]) -> str:
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


def bounded_lines(fh: IO[str], limit: int) -> Iterator[tuple[int, str, int]]:
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


def has_surrogates(s: str) -> bool:
    return _UNDECODED.search(s) is not None


def first_surrogate(s: str) -> int:
    m = _UNDECODED.search(s)
    return m.start() if m else -1


def too_long(limit: int) -> str:
    return TOO_LONG.format(limit=limit)


def preview(text: str, n: int = 60) -> str:
    text = text.rstrip("\r\n")
    return text if len(text) <= n else text[:n] + "…"


def cut(data: dict[str, Any]) -> dict[str, Any]:
    """A broken row as the quarantine keeps it: every value cut to RAW_CHARS."""
    return {k: (v[:RAW_CHARS] if isinstance(v, str) else v) for k, v in data.items()}

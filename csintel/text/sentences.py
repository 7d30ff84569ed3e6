"""Sentence segmentation: the one segmenter every caller uses (quotes, feature requests,
sentiment, error and competitor context).

Regular expressions over raw text, offsets kept, so a sentence quotes the customer verbatim.
"""

from __future__ import annotations

import re

# --- sentences --------------------------------------------------------------------------------

SENTENCE_END = re.compile(r"(?<![.!?…])[.!?…]++[\"')\]]*+(?=\s)|\n")   # possessive: linear on "!!!!…"
ABBREVIATIONS = frozenset({
    "e.g", "i.e", "etc", "vs", "mr", "mrs", "ms", "dr", "prof", "approx", "no", "inc", "ltd", "st", "jr",
    "sr", "co", "corp", "fig", "dept", "est", "min", "max", "p.s", "a.m", "p.m", "u.s", "cf",
})


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) offsets of the sentences of `text`, split at end punctuation and line breaks."""
    spans: list[tuple[int, int]] = []
    start = 0
    for m in SENTENCE_END.finditer(text):
        end = m.end()
        if m.group() != "\n" and m.group().startswith(".") and _abbreviation_before(text, m.start()):
            continue
        _add_span(text, start, end, spans)
        start = end
    _add_span(text, start, len(text), spans)
    return spans


def _abbreviation_before(text: str, dot: int) -> bool:
    i = dot
    while i > 0 and not text[i - 1].isspace():
        i -= 1
    word = text[i:dot].lower().lstrip("(\"'")
    return word in ABBREVIATIONS or (len(word) == 1 and word.isalpha())


def _add_span(text: str, start: int, end: int, spans: list[tuple[int, int]]) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start:
        spans.append((start, end))


def split_sentences(text: str) -> list[str]:
    """The sentences of `text`, stripped."""
    return [text[s:e] for s, e in sentence_spans(text or "")]

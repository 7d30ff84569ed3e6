"""Sentence segmentation: the one segmenter every caller uses (quotes, feature requests,
sentiment, error context, competitor mentions).

A sentence ends at a line break (subjects and list items rarely end with a period) and at end
punctuation followed by a space, except after an abbreviation ("e.g.", "approx.", a single
letter) or at an ellipsis that the sentence goes on after ("hangs... then"). Punctuation glued to
the next sentence ("going on.I don't") ends one too, unless the word before it is part of a
name with dots ("java.lang.NullPointerException", "System.Net", "Example.Com"). Offsets are kept,
so a sentence quotes the customer verbatim. Chosen over spaCy's sentencizer (issue 17): on the
8,398 texts of data/ the two disagreed on 29, and this one was right on 25 of them (spaCy split
dotted exception names and "<!channel>"; it missed "$1.4M. Which" and double spaces); the four
it got wrong are the glued and ellipsis cases handled here.
"""

from __future__ import annotations

import re
from functools import lru_cache

SENTENCE_END = re.compile(
    r"(?<![.!?…])[.!?…]++[\"')\]]*+(?=\s)|\n"   # possessive: linear on "!!!!…"
    # Glued to the next sentence: a word, then "I" or a capitalised word ending there ("on.I don't").
    r"|(?<=[a-z])[.!?]++(?=(?:I|[A-Z][a-z]+)(?:['’][a-z]+)?(?:[\s,;:!?]|\.(?:\s|$)|$))"
)
ELLIPSIS_GOES_ON = re.compile(r"\.{2,}|…")
MAX_WORD = 40
PLAIN_WORD_BEFORE = re.compile(r"(?:^|(?<=\s))[(\"']?([A-Za-z][A-Za-z'’]*)$")
LETTERS = re.compile(r"[A-Za-z]+")
TOP_LEVEL_DOMAINS = frozenset({"com", "net", "org", "io", "co", "app", "ai", "dev", "de", "uk", "fr", "eu"})
ABBREVIATIONS = frozenset({
    "e.g", "i.e", "etc", "vs", "mr", "mrs", "ms", "dr", "prof", "approx", "no", "inc", "ltd", "st", "jr",
    "sr", "co", "corp", "fig", "dept", "est", "min", "max", "p.s", "a.m", "p.m", "u.s", "cf",
})


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) offsets of the sentences of `text`, split at end punctuation and line breaks."""
    # Several taggers segment the same ticket (sentiment, requests, errors, competitors): cached,
    # up to a size that keeps the cache small (a batch is 256 tickets in csintel.enrich and file tagging).
    return list(_cached_spans(text) if len(text) <= CACHE_MAX_CHARS else _sentence_spans(text))


CACHE_MAX_CHARS = 10_000   # with 1,024 entries: tens of MB at most


@lru_cache(maxsize=1024)
def _cached_spans(text: str) -> tuple[tuple[int, int], ...]:
    return _sentence_spans(text)


def _sentence_spans(text: str) -> tuple[tuple[int, int], ...]:
    spans: list[tuple[int, int]] = []
    start = 0
    for m in SENTENCE_END.finditer(text):
        end = m.end()
        if m.group() != "\n" and (m.group().startswith(".") and _abbreviation_before(text, m.start())
                                  or _goes_on(text, m) or _glued_to_a_name(text, m)):
            continue
        _add_span(text, start, end, spans)
        start = end
    _add_span(text, start, len(text), spans)
    return tuple(spans)


def _abbreviation_before(text: str, dot: int) -> bool:
    window = text[max(0, dot - MAX_WORD):dot]   # bounded: a dot with no space before it may repeat
    word = window.split()[-1].lower().lstrip("(\"'") if window and not window[-1].isspace() else ""
    return word in ABBREVIATIONS or (len(word) == 1 and word.isalpha()) or _list_number(text, dot, word)


def _list_number(text: str, dot: int, word: str) -> bool:
    """ "1. Open settings" on a line of its own: a list item's number, not a sentence."""
    if not (word.isdigit() and len(word) <= 2):
        return False
    i = dot - len(word)
    while i > 0 and text[i - 1] in " \t":
        i -= 1
    return i == 0 or text[i - 1] == "\n"


def _goes_on(text: str, m: re.Match[str]) -> bool:
    """An ellipsis followed by a lower-case word is a pause: 'shows "Loading..." forever'."""
    if not ELLIPSIS_GOES_ON.match(m.group()):
        return False
    return text[m.end():m.end() + MAX_WORD].lstrip()[:1].islower()


def _glued_to_a_name(text: str, m: re.Match[str]) -> bool:
    """Punctuation with no space after it ends a sentence only between plain words: not inside
    a dotted name ("tidewater.errors.AuthenticationError"), a domain or a word with digits."""
    if m.end() >= len(text) or text[m.end()].isspace():
        return False
    # A word is short: searching MAX_WORD characters each way keeps a long glued run linear.
    word = PLAIN_WORD_BEFORE.search(text, max(0, m.start() - MAX_WORD), m.start())
    after = LETTERS.match(text, m.end(), m.end() + MAX_WORD)
    return (word is None or word.group(1).lower() in ABBREVIATIONS
            or after is not None and after.group().lower() in TOP_LEVEL_DOMAINS)


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

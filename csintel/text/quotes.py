"""Short quotes: one whole sentence of a ticket, cut at a word boundary only when too long."""

from __future__ import annotations

import re

from csintel.text.clean import CLOSING
from csintel.text.sentences import split_sentences

ELLIPSIS = "…"
# A sentence that only greets, thanks or acknowledges says nothing about the subject, so a quote
# never spends its room on one ("My export fails. Got it, thanks." quotes the first sentence).
PLEASANTRY = re.compile(
    rf"^\W*(?:(?:ok(?:ay)?|got\s+it|sure|great|perfect|noted|understood|no\s+worries|much\s+appreciated"
    rf"|appreciate\s+it|(?:hi|hello|hey)(?:\s+there)?|{CLOSING})\W*)+$", re.IGNORECASE)


def short_quote(text: str, max_chars: int = 200, prefer: str | None = None) -> str:
    """A short quote: one whole sentence, cut at a word boundary with "…" only if it is too long.

    Picks the first sentence containing `prefer` (case-insensitive) when given and found, else
    the first sentence. A subject line (no end punctuation) gives way to the complete sentence
    after it, and a subject the body restates is quoted once, in its fuller form.
    """
    if not text or max_chars <= 0:
        return ""
    sentences = [" ".join(s.split()) for s in split_sentences(text)]
    sentences = [s for s in sentences if s]
    sentences = [s for s in sentences if not PLEASANTRY.match(s)] or sentences
    if not sentences:
        return ""
    index = 0
    if prefer:
        needle = prefer.lower()
        index = next((i for i, s in enumerate(sentences) if needle in s.lower()), 0)
    quote = sentences[index]
    if index + 1 < len(sentences) and _repeats(quote, sentences[index + 1]):
        # A subject line often restates the body's first sentence ("Half of my team..." then "Half
        # of my team is locked out."): quote the fuller of the two once, never both.
        quote = max(quote, sentences[index + 1], key=lambda s: len(s.rstrip(".…")))
    elif index + 1 < len(sentences) and not _complete(quote) and _complete(sentences[index + 1]) \
            and (not prefer or prefer.lower() in sentences[index + 1].lower()):
        # "Outlook sync error" then "Our Outlook calendar sync fails with CAL-503.": the body's
        # sentence says what the subject line names, as one complete sentence.
        quote = sentences[index + 1]
    if len(quote) <= max_chars:
        return quote
    return _cut(quote, max_chars, prefer)


def _complete(sentence: str) -> bool:
    """Whether a sentence ends as sentences do (a subject line or a list item does not)."""
    return sentence.rstrip("\"')]").endswith((".", "!", "?")) and not sentence.endswith(("...", ELLIPSIS))


def _repeats(a: str, b: str) -> bool:
    """Whether two sentences say the same thing: nearly all the words of the shorter are in the longer."""
    wa, wb = set(re.findall(r"\w+", a.lower())), set(re.findall(r"\w+", b.lower()))
    return bool(wa and wb) and len(wa & wb) >= 0.8 * min(len(wa), len(wb))


def _cut(sentence: str, max_chars: int, prefer: str | None) -> str:
    if max_chars == 1:
        return ELLIPSIS
    at = sentence.lower().find(prefer.lower()) if prefer else -1
    if at + len(prefer or "") > max_chars - 1 and at >= 0:
        # Centre the window on the preferred words so the quote shows why it was picked.
        begin = max(0, at - (max_chars - len(prefer or "")) // 3)
        space = sentence.find(" ", begin)
        begin = space + 1 if 0 <= space < at else begin
        window = sentence[begin:]
        head = _cut(window, max_chars - 1, None) if len(window) > max_chars - 1 else window
        return ELLIPSIS + head
    limit = max_chars - 1
    cut = sentence.rfind(" ", 0, limit + 1)
    head = sentence[:cut] if cut > limit // 2 else sentence[:limit]
    return head.rstrip(" ,;:-—") + ELLIPSIS

"""Ticket text as the theme model should see it: the customer's subject, without the scaffolding.

Themes are read off sentence embeddings and c-TF-IDF words, and both follow whatever text every
ticket of a group shares. On real text that is often not the subject: a brand's @handle on
every tweet to it, URLs, an issue template's headings and HTML comments, a web form's field
names, greetings, sign-offs and ticket numbers. Left in, they make "one theme per brand" or
"one theme per template" (measured: 600 support tweets gave a theme "AppleSupport, https" of 69%).

`model_text` removes them for embedding and labelling only; the customer's words stay intact
wherever they are shown (quotes, examples, digests). What it strips is configurable
(`ModelTextOptions`); when stripping would leave nothing (a ticket that is only a greeting or
only a URL), the ticket keeps a minimal text (the original, whitespace-normalised) so it is
still themed, never dropped.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from csintel.text import strip_noise

# Everything an option can name, in the order they are applied.
PARTS = ("html_comments", "templates", "urls", "handles", "ticket_refs", "greetings")

HTML_COMMENT = re.compile(r"<!--.*?(?:-->|$)", re.DOTALL)
URL = re.compile(r"(?:\bhttps?://|\bwww\.)[^\s<>\"')\]]+", re.IGNORECASE)
# @handles, but not e-mail addresses (the "@" follows a word character there).
HANDLE = re.compile(r"(?<![\w.@])@\w{1,30}\b")
# Ticket and case numbers say which ticket, never what it is about. Error codes such as
# "CAL-503" or "HTTP 504" are a theme's subject and are kept: only numbers introduced by '#' or
# a ticket word, and ServiceNow-style ids (INC0012345), go.
TICKET_REF = re.compile(
    r"(?:\b(?:ticket|case|incident|request|req|ref(?:erence)?|order|issue|conversation|pr|bug)\b\s*"
    r"(?:no\.?|number|id)?\s*[#:]?\s*\d{3,}\b"
    r"|(?<![\w&])#\d{2,}\b"
    r"|\b(?:INC|REQ|RITM|CHG|PRB|CS|SR)\d{5,}\b)",
    re.IGNORECASE,
)
# Template scaffolding on a line of its own: Markdown headings, bold-only lines, checkbox
# lines of a checklist, and a web form's field names with nothing after them.
TEMPLATE_LINE = re.compile(
    r"^\s*(?:#{1,6}\s+.*"                         # ### Describe the bug
    r"|\*\*[^*\n]{1,60}\*\*:?"                    # **Expected behavior**
    r"|[-*]\s*\[[ xX]?\]\s.*"                      # - [x] I searched existing issues
    r"|[A-Z][\w /()-]{0,40}:\s*(?:n/?a|none|-)?)\s*$",  # Steps to reproduce:   (empty field)
    re.MULTILINE,
)
# Leading field labels that web forms put before the customer's answer ("Description: ...").
FORM_LABEL = re.compile(
    r"^\s*(?:subject|description|details|message|summary|issue|problem|question|comments?|"
    r"what happened|steps to reproduce|expected (?:behaviou?r|result)|actual (?:behaviou?r|result))\s*:\s*",
    re.IGNORECASE | re.MULTILINE,
)
# A hashtag keeps its word (#delayed -> delayed): it is often the subject itself.
HASHTAG = re.compile(r"(?<![\w&])#(?=[^\W\d_]\w*)")
SPACE = re.compile(r"[ \t]+")


@dataclass(frozen=True)
class ModelTextOptions:
    """Which kinds of scaffolding `model_text` removes (all by default)."""

    html_comments: bool = True
    templates: bool = True
    urls: bool = True
    handles: bool = True
    ticket_refs: bool = True
    greetings: bool = True  # a leading greeting and a trailing sign-off or signature

    @classmethod
    def only(cls, parts: Iterable[str]) -> ModelTextOptions:
        """Options that strip exactly `parts` (names from `PARTS`); an unknown name is an error."""
        chosen = set(parts)
        unknown = sorted(chosen - set(PARTS))
        if unknown:
            raise ValueError(f"unknown text part(s) {unknown}: choose from {list(PARTS)}")
        return cls(**{p: p in chosen for p in PARTS})


DEFAULT = ModelTextOptions()


def model_text(text: str, options: ModelTextOptions = DEFAULT) -> str:
    """The text to embed and to name themes from; never empty for a non-empty input.

    Args:
        text: the customer's words (e.g. `customer_text`).
        options: what to strip.

    Returns:
        The text without the chosen scaffolding, one line per remaining line; the original text
        (whitespace-normalised) when nothing else would be left.
    """
    original = " ".join((text or "").split())
    out = text or ""
    if options.html_comments:
        out = HTML_COMMENT.sub(" ", out)
    if options.templates:
        out = TEMPLATE_LINE.sub("", out)
        out = FORM_LABEL.sub("", out)
    if options.urls:
        out = URL.sub(" ", out)
    if options.handles:
        out = HANDLE.sub(" ", out)
    if options.ticket_refs:
        out = TICKET_REF.sub(" ", out)
    out = HASHTAG.sub("", out)
    if options.greetings:
        out = strip_noise(out)
    # Only what a removal leaves at a line's start is trimmed ("Ticket #123: ..." -> "..."), so a
    # ticket with nothing to remove comes back unchanged (and keeps its cached embedding).
    lines = [SPACE.sub(" ", line).strip().lstrip(",;:- ") for line in out.splitlines()]
    out = "\n".join(line for line in lines if re.search(r"\w", line))
    return out if out else original


def model_texts(texts: Iterable[str], options: ModelTextOptions = DEFAULT) -> list[str]:
    """`model_text` of each text."""
    return [model_text(t, options) for t in texts]

"""Text cleaning: HTML to text, quoted replies, signatures and greetings off, the customer's own words.

Every function here takes untrusted customer text and never raises on odd input (empty, very
long, emojis, other scripts). Patterns are module constants, compiled once.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
import unicodedata
from html.parser import HTMLParser
from typing import Any

# --- HTML -------------------------------------------------------------------------------------

BLOCK_TAGS = frozenset({
    "br", "p", "div", "li", "ul", "ol", "tr", "table", "h1", "h2", "h3", "h4", "h5", "h6",
    "blockquote", "pre", "hr", "section", "article", "header", "footer", "dd", "dt",
})
DROPPED_TAGS = frozenset({"script", "style", "head", "title", "noscript", "template"})
HTML_HINT = re.compile(
    r"<(?:br|p|div|span|li|ul|ol|table|tr|td|a|b|i|u|em|strong|font|img|html|body|h[1-6]|blockquote)\b[^>]*>"
    r"|&(?:nbsp|amp|lt|gt|quot|#\d{2,5});",
    re.IGNORECASE,
)

# --- noise: quoted replies, signatures, greetings ---------------------------------------------

QUOTE_HEADERS = re.compile(
    r"^[ \t]*(?:"
    r"On\b[^\n]{0,200}(?:\n[^\n]{0,200})?\bwrote:[ \t]*$"        # Gmail/Apple, sometimes wrapped
    r"|-{2,}\s*Original Message\s*-{2,}"
    r"|-{2,}\s*Forwarded message\s*-{2,}"
    r"|Begin forwarded message:"
    r"|From:[^\n]*(?:\n[^\n]*){0,2}?\b(?:Sent|Date):"             # Outlook header, one line or several
    r"|_{10,}[ \t]*\n[ \t]*From:"
    r")",
    re.IGNORECASE | re.MULTILINE,
)
QUOTED_LINE = re.compile(r"^[ \t]*>.*(?:\n|$)", re.MULTILINE)
SIGNATURE_DELIMITER = re.compile(r"^-- ?$", re.MULTILINE)
MOBILE_FOOTER = re.compile(
    r"^[ \t]*(?:Sent from my \w+(?: \w+)?|Sent from (?:Mail|Outlook|Yahoo Mail) for \w+|Get Outlook for \w+)"
    r"[ \t.]*$",
    re.IGNORECASE | re.MULTILINE,
)
CLOSING = (
    r"(?:(?:best|kind|warm|warmest|many|with)\s+(?:regards|wishes|thanks)|regards|best|cheers|sincerely"
    r"|thanks(?:\s+(?:again|so much|a lot|in advance))?|thank\s+you(?:\s+(?:again|so much|in advance))?"
    r"|many\s+thanks|thx|tia|all\s+the\s+best|yours(?:\s+(?:truly|sincerely))?|talk\s+soon|br)"
)
CLOSING_LINE = re.compile(rf"^[ \t]*{CLOSING}[ \t]*[,.!]*[ \t]*$", re.IGNORECASE)
CLOSING_WITH_NAME = re.compile(
    rf"^[ \t]*{CLOSING}[ \t]*[,!][ \t]*(?-i:[A-Z][\w'.-]*(?:[ \t]+[A-Z][\w'.-]*){{0,2}})[ \t]*$", re.IGNORECASE
)
CONTACT_LINE = re.compile(r"^(?:[+()\d][\d ()+./-]{6,}|.*\S+@\S+\.\w+.*|(?:https?://|www\.)\S+|\S+\.(?:com|io|net|org"
                          r"|co)\S*)$")
SIGNATURE_SMALL_WORDS = frozenset({"of", "and", "&", "at", "for", "de", "van", "von", "the", "|", "-", "–"})
MAX_SIGNATURE_LINES = 6
MAX_SIGNATURE_WORDS = 8
GREETING = re.compile(
    r"^[ \t]*(?:hi|hello|hey|hiya|dear|greetings|good\s+(?:morning|afternoon|evening|day))\b"
    r"(?:[ \t]+[\w'.-]+){0,3}?[ \t]*(?:[,!:]|$)[ \t]*",
    re.IGNORECASE,
)
REPLY_PREFIX = re.compile(r"^\s*(?:(?:re|fw|fwd|aw|wg|sv)\s*:\s*)+", re.IGNORECASE)
CUSTOMER_ROLES = frozenset({"customer", "end-user", "enduser", "requester", "end user"})
HSPACE = re.compile(r"[ \t\f\v\u00a0\u2000-\u200b\u202f\u205f\u3000]+")


def looks_like_html(s: str) -> bool:
    """True when `s` contains tags or entities typical of HTML mail bodies."""
    return bool(s) and HTML_HINT.search(s) is not None


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.dropping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in DROPPED_TAGS:
            self.dropping += 1
        elif tag in BLOCK_TAGS:
            self.parts.append("\n")
        elif tag in ("td", "th"):
            self.parts.append(" ")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in BLOCK_TAGS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in DROPPED_TAGS:
            self.dropping = max(0, self.dropping - 1)
        elif tag in BLOCK_TAGS and tag != "br":
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.dropping:
            self.parts.append(data)


def html_to_text(s: str) -> str:
    """Convert an HTML body to plain text.

    Block elements (<br>, <p>, <div>, <li>, ...) become line breaks, entities are unescaped and
    <script>/<style> contents are dropped. Malformed HTML degrades to its text.
    """
    if not s:
        return ""
    parser = _TextExtractor()
    try:
        parser.feed(s)
        parser.close()
    except Exception:  # HTMLParser is lenient, but a broken input must never stop a run
        return _normalise_lines(html.unescape(re.sub(r"<[^>]*>", " ", s)))
    return _normalise_lines("".join(parser.parts))


def _normalise_lines(text: str) -> str:
    """Collapse horizontal whitespace, strip lines and drop blank lines."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = (HSPACE.sub(" ", line).strip() for line in text.split("\n"))
    return "\n".join(line for line in lines if line)


def strip_noise(text: str) -> str:
    """Remove quoted replies, signatures and a leading greeting; keep the writer's own words.

    Cuts at the first reply header ("On ... wrote:", "-----Original Message-----", an Outlook
    "From: ... Sent: ..." block), drops ">" lines, cuts at a "-- " signature delimiter, drops
    "Sent from my iPhone" lines, removes a trailing sign-off ("Thanks,", "Best regards," + short
    name/title/phone lines) and a leading greeting ("Hi team,").
    """
    if not text:
        return ""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    match = QUOTE_HEADERS.search(text)
    if match:
        text = text[: match.start()]
    match = SIGNATURE_DELIMITER.search(text)
    if match:
        text = text[: match.start()]
    text = QUOTED_LINE.sub("", text)
    text = MOBILE_FOOTER.sub("", text)
    lines = [line.strip() for line in text.split("\n")]
    lines = [line for line in lines if line]
    lines = _drop_sign_off(lines)
    lines = _drop_greeting(lines)
    return "\n".join(HSPACE.sub(" ", line) for line in lines)


def _drop_sign_off(lines: list[str]) -> list[str]:
    # Scan the last few lines for a bare closing; everything after it must look like a signature.
    start = max(1, len(lines) - MAX_SIGNATURE_LINES - 1)
    for i in range(start, len(lines)):
        line = lines[i]
        if CLOSING_LINE.match(line) or CLOSING_WITH_NAME.match(line):
            tail = lines[i + 1:]
            if all(_signature_like(t) for t in tail):
                return lines[:i]
    return lines


def _signature_like(line: str) -> bool:
    # Names, titles and companies are capitalised words; contact lines are numbers and addresses.
    if CONTACT_LINE.match(line):
        return True
    words = line.split()
    if len(words) > MAX_SIGNATURE_WORDS or line.endswith(("?", "!")):
        return False
    lowercase = [w for w in words if w[0].islower() and w not in SIGNATURE_SMALL_WORDS]
    return not lowercase


def _drop_greeting(lines: list[str]) -> list[str]:
    if not lines:
        return lines
    match = GREETING.match(lines[0])
    if not match:
        return lines
    rest = lines[0][match.end():].strip()
    if rest:
        return [rest[0].upper() + rest[1:], *lines[1:]]
    return lines[1:]


def customer_text(subject: str | None, body: str | None,
                  comments: list[dict[str, Any]] | str | None = None) -> str:
    """The customer's own words for NLP: subject, body and the customer's public comments.

    HTML bodies are converted, each part is cleaned with `strip_noise`, agents' comments and
    internal notes (public=False) are left out, a comment repeating the body is skipped, and
    whitespace is normalised (one line break between lines). `comments` may be a list of
    {author_role, body, public} dicts or its JSON string; any other string is ignored, since
    it carries no author roles.
    """
    parts: list[str] = []
    subject_clean = strip_noise(REPLY_PREFIX.sub("", _as_text(subject)))
    if subject_clean:
        parts.append(subject_clean)
    body_clean = _clean_part(_as_text(body))
    if body_clean:
        parts.append(body_clean)
    seen = {dedupe_key(p) for p in parts}
    for comment in _customer_comments(comments):
        cleaned = _clean_part(comment)
        key = dedupe_key(cleaned)
        if cleaned and key not in seen:
            seen.add(key)
            parts.append(cleaned)
    if len(parts) > 1 and parts[1].lower().startswith(parts[0].lower()):
        parts.pop(0)  # a subject that is just the body's first line
    if not parts:
        # Nothing but a greeting or a sign-off ("hello there"): still the customer's words, and
        # a ticket to count and theme, not a row to reject.
        raw = [_as_text(subject), html_to_text(_as_text(body)) if looks_like_html(_as_text(body)) else _as_text(body)]
        parts = [" ".join(p.split()) for p in raw if p.strip()]
    return "\n".join(parts)


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else str(value)


def _clean_part(text: str) -> str:
    return strip_noise(html_to_text(text) if looks_like_html(text) else text)


def dedupe_key(text: str) -> str:
    """Two texts with the same key differ only in case and whitespace."""
    return " ".join(text.lower().split())


def _customer_comments(comments: list[dict[str, Any]] | str | None) -> list[str]:
    if isinstance(comments, str):
        try:
            comments = json.loads(comments) if comments.lstrip().startswith("[") else None
        except ValueError:
            comments = None
    if not isinstance(comments, list):
        return []
    out = []
    for c in comments:
        if not isinstance(c, dict) or c.get("public", True) in (False, "false", "False", 0, "0"):
            continue
        role = _as_text(c.get("author_role")).strip().lower().replace("_", "-")
        if role in CUSTOMER_ROLES:
            out.append(_as_text(c.get("body") or c.get("html_body") or c.get("text")))
    return out


def normalise_for_hash(text: str) -> str:
    """NFKC, whitespace collapsed and stripped: the form `content_hash` digests."""
    return " ".join(unicodedata.normalize("NFKC", text or "").split())


def content_hash(text: str) -> str:
    """First 16 hex chars of the sha256 of the normalised text (case is kept: it carries tone)."""
    return hashlib.sha256(normalise_for_hash(text).encode("utf-8", "surrogatepass")).hexdigest()[:16]

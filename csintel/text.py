"""Text preparation: HTML to text, quoted replies and signatures, PII redaction, quotes.

Every function here takes untrusted customer text and never raises on odd input (empty, very
long, emojis, other scripts). Patterns are module constants, compiled once.
"""

from __future__ import annotations

import hashlib
import html
import ipaddress
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

# --- PII --------------------------------------------------------------------------------------

# The edges of a PII match use ASCII letters and digits, not \w or \b: Python's \w also matches
# CJK and Thai letters (those scripts put an address or number right against a word, with no
# space) and "_" (Markdown italics: _4111 1111 1111 1111_).
EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}(?![A-Za-z0-9])")
IPV4 = re.compile(r"(?<![A-Za-z0-9.])(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d"
                  r"|[1-9]?\d)(?![A-Za-z0-9]|\.\d)")
IPV6_CANDIDATE = re.compile(r"(?<![A-Za-z0-9:.])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:[0-9A-Fa-f]{1,4}"
                            r"|(?:\d{1,3}\.){3}\d{1,3})?(?![A-Za-z0-9:])")
VERSION_BEFORE = re.compile(r"\b(?:v|version|ver\.?|release|build)\s*$", re.IGNORECASE)
CARD_CANDIDATE = re.compile(r"(?<![A-Za-z0-9.,-])[2-6](?:[ -]?\d){12,18}(?!\d|[.,-]\d)")   # PANs start 2-6
CARD_SEPARATOR = re.compile(r"([ -])")
PHONE = re.compile(
    r"(?<![A-Za-z0-9+/.$-])(?:"
    r"\+\d{1,3}[ .-]?(?:\(\d{1,4}\)[ .-]?)?\d{1,4}(?:[ .-]?\d{2,4}){1,4}"        # international
    r"|(?:1[ .-]?)?(?:\(\d{3}\)[ .-]?|\d{3}[ .-])\d{3}[ .-]\d{4}"                  # North American
    r"|0\d{2,4}[ -]\d{3,4}[ -]?\d{3,4}"                                             # national trunk 0
    r")(?![A-Za-z0-9/-]|\.\d)"
)
PHONE_DIGITS = (8, 15)
GREETING_NAME = re.compile(
    r"\b((?:hi|hello|hey|dear|hiya|good\s+(?:morning|afternoon|evening))[ \t]+(?:(?:mr|mrs|ms|dr|prof)\.?[ \t]+)?)"
    r"([A-Za-z][\w'-]*(?:[ \t]+[A-Z][\w'-]*){0,2})(?=[ \t]*[,!:\n]|[ \t]*$)",
    re.IGNORECASE | re.MULTILINE,
)
NOT_NAMES = frozenset({   # words after a greeting that are not a person's name
    "team", "there", "all", "everyone", "everybody", "support", "folks", "guys", "y'all", "sir", "madam",
    "again", "both", "friends", "colleagues", "people", "you", "customer", "sales", "billing", "hr",
    "admin", "to", "the", "a", "an", "and", "or", "of", "for", "from", "is", "it", "i", "we", "my", "our",
    "your", "this", "that", "with", "in", "on", "at", "back", "mate",
})
NAME_WORD = re.compile(r"^(?:[A-Z][a-z'’-]+|[A-Z]\.?|[A-Z][a-z]*[A-Z][a-z]+|de|da|van|von|der|del|la|le)$")
NAME_AFTER_CLOSING = re.compile(
    rf"^([ \t]*{CLOSING}[ \t]*[,!.]?[ \t]*\n[ \t]*)([^\n]{{2,40}})$", re.IGNORECASE | re.MULTILINE
)
NAME_ON_CLOSING = re.compile(
    rf"^([ \t]*{CLOSING}[ \t]*[,!][ \t]*)([A-Z][\w'’-]+(?:[ \t]+[A-Z][\w'’-]+){{0,2}})[ \t]*$",
    re.IGNORECASE | re.MULTILINE,
)
MY_NAME = re.compile(
    r"\b((?i:my name is)[ \t]+)([A-Z][a-z'’-]+(?:[ \t]+[A-Z][a-z'’-]+)?)\b"
    r"|\b((?i:this is|i am|i'm)[ \t]+)([A-Z][a-z'’-]+(?:[ \t]+[A-Z][a-z'’-]+)?)(?=[ \t]*,|[ \t]+(?:from|at|with"
    r"|here)\b)"
)
NOT_NAME_WORDS = frozenset({
    "The", "This", "That", "Sent", "Get", "Please", "Thanks", "Thank", "Regards", "Team", "It", "We", "I",
})

# --- sentences --------------------------------------------------------------------------------

SENTENCE_END = re.compile(r"(?<![.!?…])[.!?…]++[\"')\]]*+(?=\s)|\n")   # possessive: linear on "!!!!…"
ABBREVIATIONS = frozenset({
    "e.g", "i.e", "etc", "vs", "mr", "mrs", "ms", "dr", "prof", "approx", "no", "inc", "ltd", "st", "jr",
    "sr", "co", "corp", "fig", "dept", "est", "min", "max", "p.s", "a.m", "p.m", "u.s", "cf",
})
ELLIPSIS = "…"


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
    seen = {_dedupe_key(p) for p in parts}
    for comment in _customer_comments(comments):
        cleaned = _clean_part(comment)
        key = _dedupe_key(cleaned)
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


def _dedupe_key(text: str) -> str:
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


def redact_pii(text: str) -> str:
    """Replace personal data with placeholders: [email], [phone], [card], [ip], [name].

    Cards must be 13-19 digits and Luhn-valid; names are redacted after a greeting, on a
    sign-off's name line and after "my name is". Ticket numbers, error codes, dates, times,
    prices, versions and counts are left alone.
    """
    if not text:
        return ""
    text = EMAIL.sub("[email]", text)
    text = CARD_CANDIDATE.sub(_card, text)
    text = IPV6_CANDIDATE.sub(_ipv6, text)
    text = IPV4.sub(_ipv4, text)
    text = PHONE.sub(_phone, text)
    text = GREETING_NAME.sub(_greeting_name, text)
    text = NAME_AFTER_CLOSING.sub(_closing_name, text)
    text = NAME_ON_CLOSING.sub(_closing_name, text)
    return MY_NAME.sub(lambda m: (m.group(1) or m.group(3)) + "[name]", text)


def _luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _card(m: re.Match[str]) -> str:
    # The candidate may run into a number written next to the card ("4111 1111 1111 1111 123",
    # "tried 3 4111 ..."): when the whole run is no card, try its runs of whole groups, longest first.
    parts = CARD_SEPARATOR.split(m.group())          # digit groups at even indices, separators between
    spans = sorted(((i, j) for i in range(0, len(parts), 2) for j in range(i, len(parts), 2)),
                   key=lambda span: span[0] - span[1])
    for i, j in spans:
        digits = re.sub(r"\D", "", "".join(parts[i:j + 1]))
        if 13 <= len(digits) <= 19 and digits[0] in "23456" and _luhn_ok(digits):
            return "".join(parts[:i]) + "[card]" + "".join(parts[j + 1:])
    return m.group()


def _ipv4(m: re.Match[str]) -> str:
    if VERSION_BEFORE.search(m.string[max(0, m.start() - 12): m.start()]):
        return m.group()
    return "[ip]"


def _ipv6(m: re.Match[str]) -> str:
    candidate = m.group()
    if sum(c.isalnum() for c in candidate) < 2:
        return candidate
    try:
        ipaddress.IPv6Address(candidate)
    except ValueError:
        return candidate
    return "[ip]"


def _phone(m: re.Match[str]) -> str:
    n = sum(c.isdigit() for c in m.group())
    return "[phone]" if PHONE_DIGITS[0] <= n <= PHONE_DIGITS[1] else m.group()


def _greeting_name(m: re.Match[str]) -> str:
    if any(w.lower() in NOT_NAMES for w in m.group(2).split()):
        return m.group()
    return m.group(1) + "[name]"


def _closing_name(m: re.Match[str]) -> str:
    words = m.group(2).strip().split()
    if not 1 <= len(words) <= 4 or words[0] in NOT_NAME_WORDS or not all(NAME_WORD.match(w) for w in words):
        return m.group()
    return m.group(1) + "[name]"


def normalise_for_hash(text: str) -> str:
    """NFKC, whitespace collapsed and stripped: the form `content_hash` digests."""
    return " ".join(unicodedata.normalize("NFKC", text or "").split())


def content_hash(text: str) -> str:
    """First 16 hex chars of the sha256 of the normalised text (case is kept: it carries tone)."""
    return hashlib.sha256(normalise_for_hash(text).encode("utf-8", "surrogatepass")).hexdigest()[:16]


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


def short_quote(text: str, max_chars: int = 200, prefer: str | None = None) -> str:
    """A short quote: one or two whole sentences, cut at a word boundary with "…" if needed.

    Picks the first sentence containing `prefer` (case-insensitive) when given and found, else
    the first sentence; adds the next sentence when the first is short and both fit.
    """
    if not text or max_chars <= 0:
        return ""
    sentences = [" ".join(s.split()) for s in split_sentences(text)]
    sentences = [s for s in sentences if s]
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
        index += 1
    if index + 1 < len(sentences) and len(quote) < 80 and not _repeats(quote, sentences[index + 1]):
        # A subject line has no end punctuation; a dash keeps it from running into the body.
        joiner = " " if quote[-1] in ".!?…:;" else " — "
        combined = f"{quote}{joiner}{sentences[index + 1]}"
        if len(combined) <= max_chars:
            quote = combined
    if len(quote) <= max_chars:
        return quote
    return _cut(quote, max_chars, prefer)


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

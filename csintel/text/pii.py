"""PII redaction: e-mail addresses, phone and card numbers, IP addresses and people's names.

Like the rest of csintel.text, it takes untrusted text and never raises on odd input.
"""

from __future__ import annotations

import ipaddress
import re

from csintel.text.clean import CLOSING

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

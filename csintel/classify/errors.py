"""Specific errors named in a ticket: HTTP statuses, product error codes, exceptions.

Output is normalised so the same error counts once across tickets: "HTTP 504" whether the
customer wrote "504 Gateway Timeout", "error 504" or "HTTP/1.1 504".
"""

from __future__ import annotations

import re

# --- data -------------------------------------------------------------------------------------

IGNORE_PREFIXES = ("TW", "ACC", "INV")   # ticket, account and invoice ids look like codes
NOT_ERROR_PREFIXES = frozenset({         # standards, encodings, periods: "ISO-8601", "UTF-16", "FY-2026"
    "ISO", "RFC", "UTF", "UTC", "GMT", "SHA", "MD", "PCI", "SOC", "COVID", "RSA", "AES", "TLS", "SSL", "FY", "Q",
    "CVE", "WCAG", "IEC", "EN", "DIN", "GDPR", "PO", "SKU", "US", "UK", "EU", "TLSV", "HTTP", "HTTPS",
})
HTTP_REASONS = (
    r"Bad\s+Request|Unauthori[sz]ed|Payment\s+Required|Forbidden|Not\s+Found|Method\s+Not\s+Allowed"
    r"|Not\s+Acceptable|Proxy\s+Authentication\s+Required|Request\s+Time-?\s?out|Conflict|Gone"
    r"|Length\s+Required|Precondition\s+Failed|Payload\s+Too\s+Large|Request\s+Entity\s+Too\s+Large"
    r"|URI\s+Too\s+Long|Unsupported\s+Media\s+Type|Unprocessable\s+(?:Entity|Content)|Locked"
    r"|Failed\s+Dependency|Too\s+Early|Upgrade\s+Required|Too\s+Many\s+Requests"
    r"|Request\s+Header\s+Fields\s+Too\s+Large|Internal\s+Server\s+Error|Server\s+Error|Not\s+Implemented"
    r"|Bad\s+Gateway|Service\s+(?:Temporarily\s+)?Unavailable|Gateway\s+Time-?\s?out"
    r"|HTTP\s+Version\s+Not\s+Supported|Insufficient\s+Storage|Network\s+Authentication\s+Required"
)
STATUS = r"(?P<code>[45]\d\d)"
NO_NUMBER_AROUND = r"(?![\d.,]\d|\d)"
HTTP_PATTERNS = [re.compile(p, re.IGNORECASE) for p in (
    rf"\bHTTPS?(?:/\d(?:\.\d)?)?[\s:#-]*(?:status\s*)?(?:code\s*)?[:#=]?\s*{STATUS}\b{NO_NUMBER_AROUND}",
    rf"(?<![$€£\d.,])\b{STATUS}\s*[-:]?\s*\(?(?:{HTTP_REASONS})\b",
    rf"(?<![$€£\d.,])\b{STATUS}\s+(?:errors?|error\s+codes?|status(?:\s+code)?|response|page|responses)\b",
    rf"\b(?:error|status|response|return|http\s+error)(?:\s+code)?\s*[:#=]?\s*{STATUS}\b{NO_NUMBER_AROUND}",
    r"\b(?:got|get|gets|getting|returns?|returned|returning|received|receiving|seeing|see|saw|throws?|throwing"
    rf"|hit|hitting|shows?|showing)\s+(?:an?\s+|the\s+)?{STATUS}\b{NO_NUMBER_AROUND}"
    r"(?=\s*(?:from|when|on|while|after|back|again|every|$|[.,;:!?)]))",
)]
DASH_CODE = re.compile(
    r"(?<![\w-])(?P<prefix>[A-Z][A-Z0-9]{1,11}(?:[-_][A-Z][A-Z0-9]*)*)[-_](?P<number>\d{2,6})(?![\w-]|\.\d)"
)
UNDERSCORE_CODE = re.compile(r"(?<![\w-])[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+(?![\w-])")
ERROR_WORDS = frozenset({
    "ERR", "ERROR", "INVALID", "FAILED", "FAILURE", "FAIL", "DENIED", "EXPIRED", "LIMIT", "EXCEEDED", "TIMEOUT",
    "TIMED", "REFUSED", "UNAUTHORIZED", "UNAUTHORISED", "FORBIDDEN", "MISSING", "UNKNOWN", "CONFLICT", "REJECTED",
    "UNAVAILABLE", "BLOCKED", "LOCKED", "NOT", "BAD", "UNSUPPORTED", "DUPLICATE", "INSUFFICIENT", "EXCEPTION",
    "CERT", "SSL", "QUOTA", "REVOKED", "DISABLED", "MALFORMED", "NO", "CANNOT", "UNABLE",
})
SHORT_CODE = re.compile(r"(?<![\w-])(?:E|ERR|ERROR)\d{3,5}(?![\w-]|\.\d)")
EXCEPTION = re.compile(
    r"(?<![\w.])(?:[A-Za-z_][\w]*\.)*"
    r"(?P<name>[A-Z][A-Za-z0-9]*(?:Error|Exception|Fault|Failure|Timeout|Refused|Denied))(?!\w)"
)
ERRNO = re.compile(
    r"(?<![\w])E(?:CONNRESET|TIMEDOUT|CONNREFUSED|CONNABORTED|NOTFOUND|ADDRINUSE|ADDRNOTAVAIL|PIPE|ACCES|PERM"
    r"|NOENT|HOSTUNREACH|NETUNREACH|NETDOWN|AI_AGAIN|PROTO|MFILE|NOSPC|NOMEM|BUSY|EXIST|ISDIR|NOTDIR|CANCELED"
    r"|SOCKETTIMEDOUT|HOSTDOWN)(?!\w)"
)


def extract_errors(text: str) -> list[str]:
    """Errors named in `text`: unique, normalised, in order of appearance.

    HTTP 4xx/5xx statuses in context become "HTTP 504"; product codes ("SYNC-409",
    "ERR_AUTH_EXPIRED", "E1234"), exception names ("TimeoutError") and errno names
    ("ECONNRESET") are kept as written. Plain numbers, prices, years, dates, phone and version
    numbers and ids with IGNORE_PREFIXES are not errors.
    """
    if not text:
        return []
    found: list[tuple[int, str]] = []
    for pattern in HTTP_PATTERNS:
        found.extend((m.start(), f"HTTP {m.group('code')}") for m in pattern.finditer(text))
    for m in DASH_CODE.finditer(text):
        head = re.split(r"[-_]", m.group("prefix"))[0]
        if head not in IGNORE_PREFIXES and head not in NOT_ERROR_PREFIXES and not head.isdigit():
            found.append((m.start(), m.group()))
    for m in UNDERSCORE_CODE.finditer(text):
        if set(m.group().split("_")) & ERROR_WORDS:
            found.append((m.start(), m.group()))
    found.extend((m.start(), m.group()) for m in SHORT_CODE.finditer(text))
    found.extend((m.start("name"), m.group("name")) for m in EXCEPTION.finditer(text))
    found.extend((m.start(), m.group()) for m in ERRNO.finditer(text))
    found.sort(key=lambda item: item[0])
    return list(dict.fromkeys(value for _, value in found))

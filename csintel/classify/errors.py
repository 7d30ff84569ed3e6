"""Specific errors named in a ticket: HTTP statuses, product error codes, exceptions.

Output is normalised so the same error counts once across tickets: "HTTP 504" whether the
customer wrote "504 Gateway Timeout", "error 504" or "HTTP/1.1 504".
"""

from __future__ import annotations

import re

# --- data -------------------------------------------------------------------------------------

# Ticket, account, invoice, order, case and contract ids look like codes.
IGNORE_PREFIXES = ("TW", "ACC", "INV", "CASE", "ORD", "ORDER", "SR", "REQ", "TKT", "TICKET", "REF", "CTR", "CUST",
                   "QUOTE", "Q", "PO", "ID")
# ... and so does any code right after a word that names an id ("ticket SR-50012", "room E1204").
ID_BEFORE = re.compile(
    r"\b(?:tickets?|case|order|invoice|account|contract|request|ref(?:erence)?|po|quote|id|room|suite|unit|building"
    r"|floor|gate|seat|flight|model|part|sku|serial|license|licence|customer|deal|opportunity|item|product"
    r"|(?:discount|promo|coupon|voucher|referral|gift)\s+codes?)"
    r"\s*(?:#|no\.?|number|id)?\s*[:#]?\s*$",
    re.IGNORECASE,
)
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
    rf"(?:{HTTP_REASONS})\s*[(\[]\s*{STATUS}\s*[)\]]",                     # "Gateway Timeout (504)"
    rf"(?<![$€£\d.,])(?<!\bthe\s)\b{STATUS}s\b(?!\s+(?:range|to\s+\d))",       # "504s all day"
    rf"\bHTTPS?(?:/\d(?:\.\d)?)?[\s:#-]*(?:status\s*)?(?:code\s*)?[:#=]?\s*{STATUS}\b{NO_NUMBER_AROUND}",
    rf"(?<![$€£\d.,])\b{STATUS}\s*[-:]?\s*\(?(?:{HTTP_REASONS})\b",
    rf"(?<![$€£\d.,])\b{STATUS}\s+(?:errors?|error\s+codes?|status(?:\s+code)?|response|page|responses)\b",
    rf"\b(?:error|status|response|return|http\s+error)(?:\s+code)?(?:\s+of)?\s*[:#=]?\s*{STATUS}\b{NO_NUMBER_AROUND}",
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
SHORT_CODE = re.compile(r"(?<![\w-])(?:E|ERR|ERROR)-?\d{3,5}(?![\w-]|\.\d)")   # E1234, E-4012
EXCEPTION = re.compile(
    r"(?<![\w.])(?:[A-Za-z_][\w]*\.)*"
    r"(?P<name>[A-Z][A-Za-z0-9]*(?:Error|Exception|Fault|Failure|Timeout|Refused|Denied))(?!\w)"
)
ERRNO = re.compile(
    r"(?<![\w])E(?:CONNRESET|TIMEDOUT|CONNREFUSED|CONNABORTED|NOTFOUND|ADDRINUSE|ADDRNOTAVAIL|PIPE|ACCES|PERM"
    r"|NOENT|HOSTUNREACH|NETUNREACH|NETDOWN|AI_AGAIN|PROTO|MFILE|NOSPC|NOMEM|BUSY|EXIST|ISDIR|NOTDIR|CANCELED"
    r"|SOCKETTIMEDOUT|HOSTDOWN)(?!\w)"
)


# A status named next to one already found: "502 and 503 errors", "500 ... and sometimes 502".
CHAINED_AFTER = re.compile(
    r"^[\s)\]]*(?:,|/|&|\band\b|\bor\b|\bthen\b)\s*(?:(?:sometimes|occasionally|then|also|even|a|an)\s+)*"
    rf"{STATUS}s?\b{NO_NUMBER_AROUND}",
    re.IGNORECASE,
)
CHAINED_BEFORE = re.compile(rf"(?<![$€£\d.,])\b{STATUS}s?\s*(?:,|/|&|\band\b|\bor\b)\s*$", re.IGNORECASE)
# A lower-case code counts only in an error's company: "sync-409 again", "error sync-409".
LOWER_CODE = re.compile(r"(?<![\w/.-])(?P<prefix>[a-z]{2,12})-(?P<number>\d{3,6})(?![\w-]|\.\d)")
LOWER_UNDERSCORE_CODE = re.compile(r"(?<![\w-])[a-z][a-z0-9]*(?:_[a-z0-9]+){2,}(?![\w-])")
ERROR_CONTEXT = re.compile(
    r"\b(?:errors?|fail\w*|codes?|exceptions?|crash\w*|again|returns?|returned|got|getting|seeing|shows?|showing"
    r"|throws?|throwing|says|hit|hitting)\b",
    re.IGNORECASE,
)
ERROR_CONTEXT_CHARS = 40
YEAR = re.compile(r"(?:19|20)\d\d")   # "SPRING-2026", "FY-2026": a year, unless an error is named nearby


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
        for m in pattern.finditer(text):
            found.append((m.start(), f"HTTP {m.group('code')}"))
            found.extend(_chained(text, m))
    for m in DASH_CODE.finditer(text):
        head = re.split(r"[-_]", m.group("prefix"))[0]
        if head not in IGNORE_PREFIXES and head not in NOT_ERROR_PREFIXES and not head.isdigit() and not _after_id(
                text, m.start()) and not (YEAR.fullmatch(m.group("number")) and not _error_nearby(text, m)):
            found.append((m.start(), m.group()))
    for m in LOWER_CODE.finditer(text):
        head = m.group("prefix").upper()
        if (head not in IGNORE_PREFIXES and head not in NOT_ERROR_PREFIXES and _error_nearby(text, m)
                and not _after_id(text, m.start())):
            found.append((m.start(), m.group().upper()))
    for m in UNDERSCORE_CODE.finditer(text):
        if set(m.group().split("_")) & ERROR_WORDS:
            found.append((m.start(), m.group()))
    for m in LOWER_UNDERSCORE_CODE.finditer(text):   # "error err_auth_expired": snake_case needs an error nearby
        if set(m.group().upper().split("_")) & ERROR_WORDS and _error_nearby(text, m):
            found.append((m.start(), m.group().upper()))
    found.extend((m.start(), m.group()) for m in SHORT_CODE.finditer(text) if not _after_id(text, m.start()))
    found.extend((m.start("name"), m.group("name")) for m in EXCEPTION.finditer(text))
    found.extend((m.start(), m.group()) for m in ERRNO.finditer(text))
    found.sort(key=lambda item: item[0])
    return list(dict.fromkeys(value for _, value in found))


def _chained(text: str, m: re.Match[str]) -> list[tuple[int, str]]:
    out = []
    end = m.end()
    while (chained := CHAINED_AFTER.match(text[end:end + 60])) is not None:
        out.append((end + chained.start("code"), f"HTTP {chained.group('code')}"))
        end += chained.end()
    before = CHAINED_BEFORE.search(text[max(0, m.start() - 30):m.start()])
    if before is not None:
        out.append((m.start() - 1, f"HTTP {before.group('code')}"))
    return out


def _error_nearby(text: str, m: re.Match[str]) -> bool:
    return bool(ERROR_CONTEXT.search(text[max(0, m.start() - ERROR_CONTEXT_CHARS):m.end() + ERROR_CONTEXT_CHARS]))


def _after_id(text: str, start: int) -> bool:
    return bool(ID_BEFORE.search(text[max(0, start - 30):start]))

"""Specific errors named in a ticket: HTTP statuses, product error codes, exceptions.

Output is normalised so the same error counts once across tickets: "HTTP 504" whether the
customer wrote "504 Gateway Timeout", "error 504" or "HTTP/1.1 504". A product code ("SYNC-409")
counts only with an error nearby in its sentence (error, failed, code, status, exception...),
never as a ticket or system id ("NW-103994", "SID_34"); a status is HTTP only when written as one,
never the number inside another code ("SYNC-409" is not HTTP 409). Word lists are data:
models/rules/errors.yaml.
"""

from __future__ import annotations

import bisect
import functools
import re
from pathlib import Path

import yaml

from csintel.config import SHIPPED_MODELS
from csintel.text import sentence_spans
from csintel.text.literals import fold, may_match, needed_words

# --- data -------------------------------------------------------------------------------------

RULES_FILE = SHIPPED_MODELS / "rules" / "errors.yaml"


def _load_rules(path: Path = RULES_FILE) -> dict[str, list[str]]:
    """The word lists of models/rules/errors.yaml, validated.

    Raises:
        ValueError: a list is missing or holds something other than words (named in the message).
    """
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    out: dict[str, list[str]] = {}
    for key in ("ignore_prefixes", "not_error_prefixes", "id_words", "error_words", "error_context"):
        value = data.get(key)
        if not isinstance(value, list) or not all(isinstance(w, str) and w.strip() for w in value):
            raise ValueError(f"{path}: '{key}' must be a list of words, got {value!r}")
        out[key] = [w.strip() for w in value]
    return out


RULES = _load_rules()
# Ticket, account, invoice, order, case and contract ids look like codes.
IGNORE_PREFIXES = tuple(w.upper() for w in RULES["ignore_prefixes"])
# ... and so does any code right after a word that names an id ("ticket SR-50012", "room E1204").
ID_BEFORE = re.compile(
    r"\b(?:" + "|".join(RULES["id_words"]) + r")\s*(?:#|no\.?|number|id)?\s*[:#]?\s*$", re.IGNORECASE,
)
NOT_ERROR_PREFIXES = frozenset(w.upper() for w in RULES["not_error_prefixes"])
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
STATUS_HINT = re.compile(r"[45]\d\d")
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
HTTP_NEEDS = [needed_words(p) for p in HTTP_PATTERNS]   # the words each needs besides its number
DASH_CODE = re.compile(
    r"(?<![\w-])(?P<prefix>[A-Z][A-Z0-9]{1,11}(?:[-_][A-Z][A-Z0-9]*)*)[-_](?P<number>\d{2,6})(?![\w-]|\.\d)"
)
UNDERSCORE_CODE = re.compile(r"(?<![\w-])[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+(?![\w-])")
ERROR_WORDS = frozenset(w.upper() for w in RULES["error_words"])   # "ERR_AUTH_EXPIRED" names an error itself
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
ERROR_CONTEXT = re.compile(r"\b(?:" + "|".join(RULES["error_context"]) + r")\b", re.IGNORECASE)
ERROR_CONTEXT_CHARS = 40
ID_NUMBER_DIGITS = 5      # "NW-103994": five digits and more after a short prefix is an id, not an error code
# The number of a status is not HTTP when it is the end of another code: "SYNC-409", "v2-500".
JOINED_BEFORE = re.compile(r"(?<![\w-])(?!HTTPS?[-_])[A-Za-z0-9]+[-_]$")
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
    sentences = functools.cache(lambda: sentence_spans(text))   # on first need: most codes need no context
    status = STATUS_HINT.search(text) is not None   # every HTTP pattern needs a 4xx/5xx number
    folded = fold(text) if status else None
    for pattern, needs in zip(HTTP_PATTERNS, HTTP_NEEDS) if status else ():
        if not may_match(needs, folded):
            continue
        for m in pattern.finditer(text):
            if JOINED_BEFORE.search(text[max(0, m.start("code") - 20):m.start("code")]):
                continue
            found.append((m.start(), f"HTTP {m.group('code')}"))
            found.extend(_chained(text, m))
    for m in DASH_CODE.finditer(text):
        parts = re.split(r"[-_]", m.group("prefix"))
        head = parts[0]
        named_error = bool(set(parts) & ERROR_WORDS)   # "ERR-5001", "AUTH_FAILED-2"
        if (head in IGNORE_PREFIXES or head in NOT_ERROR_PREFIXES or head.isdigit() or _after_id(text, m.start())
                or not named_error and not _error_nearby(text, m, sentences()) and not _opens_line(text, m)):
            continue
        underscored = m.group()[len(m.group("prefix"))] == "_"
        if not named_error and (underscored or len(m.group("number")) >= ID_NUMBER_DIGITS):
            continue   # "SID_34", "NW-103994": system and ticket ids, even in a ticket about an error
        found.append((m.start(), m.group()))
    for m in LOWER_CODE.finditer(text):
        head = m.group("prefix").upper()
        if (head not in IGNORE_PREFIXES and head not in NOT_ERROR_PREFIXES and _error_nearby(text, m, sentences())
                and not _after_id(text, m.start())):
            found.append((m.start(), m.group().upper()))
    for m in UNDERSCORE_CODE.finditer(text):
        if set(m.group().split("_")) & ERROR_WORDS:
            found.append((m.start(), m.group()))
    for m in LOWER_UNDERSCORE_CODE.finditer(text):   # "error err_auth_expired": snake_case needs an error nearby
        parts = m.group().upper().split("_")
        if set(parts) & ERROR_WORDS and (parts[0] in ("ERR", "ERROR") or _error_nearby(text, m, sentences())):
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


def _error_nearby(text: str, m: re.Match[str], sentences: list[tuple[int, int]]) -> bool:
    """An error word within ERROR_CONTEXT_CHARS of the match, in its own sentence."""
    index = max(0, bisect.bisect_right([s for s, _ in sentences], m.start()) - 1)
    start, end = sentences[index] if sentences else (0, len(text))
    before = text[max(start, m.start() - ERROR_CONTEXT_CHARS):m.start()]
    after = text[m.end():min(end, m.end() + ERROR_CONTEXT_CHARS)]
    return bool(ERROR_CONTEXT.search(before) or ERROR_CONTEXT.search(after))


def _opens_line(text: str, m: re.Match[str]) -> bool:
    """A subject line that starts with the code ("SYNC-401 on HubSpot integration") is about it."""
    return m.start() == 0 or text[m.start() - 1] == "\n"


def _after_id(text: str, start: int) -> bool:
    return bool(ID_BEFORE.search(text[max(0, start - 30):start]))

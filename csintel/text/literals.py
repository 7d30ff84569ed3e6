"""A cheap pre-check for a regex: the words every match must contain.

Rule modules scan each ticket with dozens of case-insensitive regexes, and almost none match
(a ticket names no churn intent, most sentences ask for nothing). Python's `re` has no fast
literal search under IGNORECASE, so each scan costs microseconds a pattern even when the text
lacks the pattern's words. `needed_words` reads a compiled pattern once and returns the literal
strings a match must contain ("cancel" for `\\bcancel(?:l?ing|led)?\\s+...`, one of {"renew",
"renewal"} for an alternation); `may_match` then skips the scan exactly when the lower-cased text
lacks them: a plain substring test, much faster than the scan.

Exact by construction: a pattern is skipped only when it cannot match. Strings are taken only
from literal characters every match must contain; anything the reader does not understand gives
no strings (the pattern always runs). Case: under IGNORECASE a few non-ASCII characters match
ASCII letters ("K", the Kelvin sign, matches "k"; dotless "ı" matches "i") while `str.lower` keeps
them apart, so a text holding one of them gets no pre-check (`fold` returns None).
"""

from __future__ import annotations

import re
from typing import Any, Sequence

try:   # the parser behind re.compile: public as sre_parse before 3.11, private since
    import re._parser as _sre_parse   # type: ignore[import-not-found]
    from re import _constants as _sre   # type: ignore[attr-defined]
except ImportError:   # pragma: no cover - older Pythons
    import sre_constants as _sre   # type: ignore[no-redef]
    import sre_parse as _sre_parse   # type: ignore[no-redef]

Needs = tuple[frozenset[str], ...]   # every set must have one member in the text
MAX_ALTERNATIVES = 40   # a set of more strings costs more substring tests than it saves
# The non-ASCII characters a case-insensitive ASCII letter matches: "İ", "ı", "ſ" and the Kelvin sign
# (scanning all of Unicode at import costs 0.3 s; tests/test_literals.py checks this list is complete).
FOLDS_TO_ASCII = "\u0130\u0131\u017f\u212a"
_FOLDS_TO_ASCII = re.compile(f"[{FOLDS_TO_ASCII}]")


def fold(text: str) -> str | None:
    """`text` lower-cased for `may_match`, or None when a substring test could miss a match."""
    if not text.isascii() and _FOLDS_TO_ASCII.search(text):
        return None
    return text.lower()


def may_match(needs: Needs, folded: str | None) -> bool:
    """False only when the pattern behind `needs` cannot match the text `folded` came from."""
    if folded is None:
        return True
    return all(any(word in folded for word in need) for need in needs)


def needed_words(pattern: re.Pattern[str]) -> Needs:
    """Sets of lower-case strings, one of each set in every match of `pattern` (empty: no pre-check)."""
    try:
        parsed = _sre_parse.parse(pattern.pattern, pattern.flags)
    except Exception:   # an unexpected parser change: no pre-check, the pattern always runs
        return ()
    needs = [need for need in _sequence(list(parsed)) if need and len(need) <= MAX_ALTERNATIVES]
    # The most selective first (longest shortest string); three are plenty.
    needs.sort(key=lambda need: (-min(map(len, need)), len(need)))
    return tuple(needs[:3])


def _sequence(items: Sequence[tuple[Any, Any]]) -> list[frozenset[str]]:
    """Every required set of a sequence of parsed items: its literal runs and its required groups."""
    needs: list[frozenset[str]] = []
    run = ""
    for op, arg in items:
        if op is _sre.LITERAL and arg < 128:
            run += chr(arg).lower()
            continue
        if run:
            needs.append(frozenset({run}))
            run = ""
        inner: Any = None
        if op is _sre.IN and arg and all(kind is _sre.LITERAL and c < 128 for kind, c in arg):
            needs.append(frozenset(chr(c).lower() for _, c in arg))   # "[(\[]": one of its characters
        elif op is _sre.SUBPATTERN:
            inner = arg[-1]
        elif op is getattr(_sre, "ATOMIC_GROUP", None):
            inner = arg
        elif op in (_sre.MAX_REPEAT, _sre.MIN_REPEAT, getattr(_sre, "POSSESSIVE_REPEAT", None)) and arg[0] >= 1:
            inner = arg[2]
        elif op is _sre.BRANCH:
            best = [_best(_sequence(list(branch))) for branch in arg[1]]
            if all(best):
                words: set[str] = set().union(*best)   # type: ignore[arg-type]
                # "renewal" holds "renew": a text with it passes the test for "renew" anyway.
                needs.append(frozenset(w for w in words if not any(o != w and o in w for o in words)))
            continue
        if inner is not None:
            needs.extend(_sequence(list(inner)))
    if run:
        needs.append(frozenset({run}))
    return needs


def _best(needs: list[frozenset[str]]) -> frozenset[str] | None:
    return max(needs, key=lambda need: (min(map(len, need)), -len(need)), default=None)

"""The regex pre-check (csintel.text.literals): it may skip a pattern only when the pattern cannot match."""

from __future__ import annotations

import re

import pytest

from csintel.classify.churn import load_churn_rules
from csintel.text.literals import FOLDS_TO_ASCII, fold, may_match, needed_words


def test_the_characters_that_fold_to_ascii_are_all_listed() -> None:
    every = "".join(chr(c) for c in range(0x80, 0x110000) if not 0xD800 <= c < 0xE000)
    assert set(re.findall("[a-z]", every, re.IGNORECASE)) == set(FOLDS_TO_ASCII)


@pytest.mark.parametrize(("pattern", "needs"), [
    (r"\bcancel(?:l?ing|led)?\s+(?:our\s+)?plan\b", [{"cancel"}, {"plan"}]),
    (r"(?:renew|renewal|stay)\b", [{"renew", "stay"}]),
    (r"\b(?:we|i)\s+\w+", [{"we", "i"}]),
    (r"Not Found\s*[(\[]\d+", [{"not found"}, {"(", "["}]),   # a class of a few characters counts too
    (r"[^ab]x[a-c]", [{"x"}]),
    (r"x?\d+", []),                       # nothing every match must contain
    (r"(?:a|)b{0,2}", []),
])
def test_needed_words(pattern: str, needs: list[set[str]]) -> None:
    assert sorted(map(sorted, needed_words(re.compile(pattern, re.IGNORECASE)))) == sorted(map(sorted, needs))


@pytest.mark.parametrize("text", [
    "We will CANCEL our Plan today", "we will cancel our plan", "nothing to see here", "",
    "We will cancel our pla\u0131n", "\u212aeep calm, we cancel our plan", "Wir kündigen unseren Plan",
])
def test_never_skips_a_pattern_that_matches(text: str) -> None:
    for pattern in [*load_churn_rules().patterns, re.compile(r"\bcancel\w*\s+our\s+plan\b", re.IGNORECASE),
                    re.compile(r"\bkeep\b", re.IGNORECASE)]:
        if pattern.search(text):
            assert may_match(needed_words(pattern), fold(text)), (pattern.pattern, text)


def test_skips_a_text_without_the_words() -> None:
    pattern = re.compile(r"\bcancel(?:l?ing|led)?\s+(?:our\s+)?plan\b", re.IGNORECASE)
    assert not may_match(needed_words(pattern), fold("The export to CSV fails with a timeout"))
    assert fold("\u212aeep") is None   # the Kelvin sign matches "k" under IGNORECASE: no pre-check

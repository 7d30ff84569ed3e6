"""Churn intent: does the customer mean to leave the vendor?

Separate from sentiment: "we won't be renewing" can be said calmly, and an angry bug report is no
plan to leave. Only intent towards the vendor counts: each pattern in the `churn` section of
models/rules/sentiment.yaml names its object (a subscription, contract or plan; a vendor or
product; "you"), so technical senses ("terminate the process", "switching to another file", "go
to References", "moved to TensorFlow", "explore alternatives to this approach") do not fire, and
a negator just before a cue cancels it ("we are not planning to cancel"). Its precision on real
technical text (GitHub issues) is measured by benchmarks/eval_sentiment.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from csintel.config import SHIPPED_MODELS
from csintel.text.literals import Needs, fold, may_match, needed_words

RULES_FILE = SHIPPED_MODELS / "rules" / "sentiment.yaml"
# A negator up to three words before a cue cancels it: "not planning to cancel", "no plans to switch".
# A negator counts only with the words of an intent between it and the cue: "not planning to cancel",
# "no plans to switch", "don't want to cancel"; "if this isn't fixed we will not renew" is churn.
NEGATED = re.compile(r"(?:\bnot|n't|\bnever|\bno(?:\s+plans?|\s+intention|\s+reason|\s+desire)?|\bwithout)\b\s*"
                     r"(?:(?:planning|plan|plans|going|want|wanting|intend|intending|thinking|considering|looking"
                     r"|about|to|be|being|of|any|at|all|currently|really|yet|actually|have|had|seriously)\s+){0,3}$",
                     re.IGNORECASE)
SELF_NEGATING = re.compile(r"^(?:not|won't|will not|wouldn't|don't|do not|aren't|are not)\b", re.IGNORECASE)
INNER_NEGATION = re.compile(r"\b(?:not|never|no)\b|n't\b", re.IGNORECASE)
PLACEHOLDER = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True)
class ChurnRules:
    """The compiled churn patterns and the file they came from."""

    patterns: tuple[re.Pattern[str], ...]
    source: str
    # The words each pattern needs (csintel.text.literals): a text without them is not scanned.
    needs: tuple[Needs, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "needs", tuple(needed_words(p) for p in self.patterns))


def compile_churn(section: Any, source: str) -> ChurnRules:
    """Compile the `churn` section of a sentiment rules file.

    Raises:
        ValueError: a missing or malformed section, an unknown {placeholder} or a bad regex, with
            the file and the pattern named.
    """
    if not isinstance(section, dict) or not isinstance(section.get("patterns"), list):
        raise ValueError(f"{source}: 'churn' needs a 'patterns' list (and optional 'words' lists)")
    words = section.get("words") or {}
    if not isinstance(words, dict) or not all(isinstance(v, list) for v in words.values()):
        raise ValueError(f"{source}: churn 'words' must map names to lists of words or regexes")
    groups = {name: "(?:" + "|".join(str(w) for w in items) + ")" for name, items in words.items()}
    compiled = []
    for i, raw in enumerate(section["patterns"], 1):
        unknown = sorted({m.group(1) for m in PLACEHOLDER.finditer(str(raw))} - groups.keys())
        if unknown:
            raise ValueError(f"{source}: churn pattern {i} uses unknown {{{', '.join(unknown)}}}: {raw}")
        text = PLACEHOLDER.sub(lambda m: groups[m.group(1)], str(raw))
        try:
            compiled.append(re.compile(text, re.IGNORECASE))
        except re.error as exc:
            raise ValueError(f"{source}: churn pattern {i} is not a valid regex ({exc}): {raw}") from exc
    return ChurnRules(tuple(compiled), source)


@lru_cache(maxsize=4)
def load_churn_rules(path: Path = RULES_FILE) -> ChurnRules:
    """The churn rules of a sentiment rules file (the shipped one by default), compiled once."""
    from csintel.classify.sentiment import read_rules_file

    return compile_churn(read_rules_file(path).get("churn"), str(path))


def churn_matches(text: str, rules: ChurnRules | None = None) -> list[tuple[int, int, str]]:
    """(start, end, phrase) of every statement of intent to leave the vendor in `text`.

    Offsets index `text` as given; curly apostrophes count as straight ones.
    """
    if not text:
        return []
    rules = rules or load_churn_rules()
    text = text.replace("\u2019", "'").replace("\u2018", "'")
    found: list[tuple[int, int, str]] = []
    folded = fold(text)
    for pattern, needs in zip(rules.patterns, rules.needs):
        if not may_match(needs, folded):
            continue
        for m in pattern.finditer(text):
            phrase = m.group().strip()
            if not SELF_NEGATING.match(phrase):
                # "we are not planning to cancel", "we're not switching to X next year"
                inner = "renew" not in phrase.lower() and INNER_NEGATION.search(phrase)
                if inner or NEGATED.search(text[max(0, m.start() - 40):m.start()]):
                    continue
            found.append((m.start(), m.end(), " ".join(phrase.lower().split())))
    return sorted(found)


def churn_phrases(text: str, rules: ChurnRules | None = None) -> tuple[str, ...]:
    """The phrases in `text` that state an intent to leave the vendor (empty when none)."""
    return tuple(dict.fromkeys(phrase for _, _, phrase in churn_matches(text, rules)))


def has_churn_intent(text: str) -> bool:
    """Whether `text` states an intent to leave the vendor."""
    return bool(churn_phrases(text))

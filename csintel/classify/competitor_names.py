"""Where a competitor is named, and whether the product is meant.

Names match in any casing, with possessives, as domains, and with one typo (names long enough
that are not ordinary words, in tokens that are not words themselves). A name that is also an
ordinary English word ("close", "front", "copper", "monday"; decided from wordfreq's frequency
list, no flag needed) counts only with evidence that the product is meant, never as part of the
interface ("the Close button") or of a longer name ("Dan Copper"). The word lists and thresholds
live in models/rules/competitors.yaml.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import spacy
import yaml
from spacy.lang.en.stop_words import STOP_WORDS
from spacy.language import Language
from spacy.matcher import PhraseMatcher
from spacy.tokens import Doc, Span

from csintel.classify.competitor_cues import (
    COMPARISON_STRONG, EVALUATING, INTEGRATION, INTEGRATION_AFTER, PRICING, SWITCH_VERB, SWITCHING,
)
from csintel.config import SHIPPED_MODELS

# An ordinary word needs evidence to be a product. Strong evidence just before or after it
# counts in any casing ("switching to close"); weak evidence only for a capitalised word
# ("Close has a better pipeline view" but not "the front has a button").
PRODUCT_BEFORE = re.compile(
    rf"\b(?:{SWITCH_VERB}\s+(?:over\s+)?(?:to|from)|(?:go|going|went)\s+(?:over\s+)?to|evaluat\w+|trial\w*|trying\s+out"
    rf"|tried\s+out|testing|consider\w*"
    r"|looking\s+at|demo\w*|than|vs\.?|versus|were\s+on|was\s+on|our\s+(?:old|previous)\s+crm|chose|choose|picked"
    r"|bought|signed\s+up\s+(?:for|with)|prefer|unlike)\s*$",
    re.IGNORECASE,
)
PRODUCT_AFTER = re.compile(
    r"^(?:\.(?:com|io|app|co)\b|\s+(?:crm|app|pricing|price|prices|plans?|instead|is\s+(?:cheaper|better|faster|easier"
    r"|simpler))\b)",
    re.IGNORECASE,
)
WEAK_BEFORE = re.compile(
    r"\b(?:using|use|used|uses|like|from|with|on|love|loved|hate|tried|trying|try)\s*$", re.IGNORECASE
)
WEAK_AFTER = re.compile(
    r"^(?:\s*['’]s|\s+(?:has|have|had|does|did|offers|offered|quoted|lets|costs?|charges|supports|allows"
    r"|is\s+\w+er))\b",
    re.IGNORECASE,
)
NOT_PRODUCT_AFTER = re.compile(   # "close to 200", "front of the page"
    r"^\s+(?:to\s+(?:\d|the|a|an|our|my|being|zero|100|enough|\w+ing)|by\b|of\b|enough\b)", re.IGNORECASE
)
SUBJECT_VERBS = frozenset({"is", "was", "has", "had", "does", "did", "are", "were", "will", "would", "seems", "looks"})
WORD = re.compile(r"[a-z]+")
DOMAIN_CHARS = re.compile(r"^[a-z0-9-]+(?:\.[a-z0-9-]+)+$")
RULES_FILE = SHIPPED_MODELS / "rules" / "competitors.yaml"


@dataclass(frozen=True)
class NameRules:
    """The word lists and thresholds of models/rules/competitors.yaml."""

    ordinary_word_zipf: float
    sentence_start_name_zipf: float
    typo_min_name_length: int
    typo_min_token_length: int
    typo_max_token_zipf: float
    typo_max_name_zipf: float
    not_name_after: frozenset[str]
    verb_object_after: frozenset[str]
    name_prefix_words: frozenset[str]
    always_capitalised: frozenset[str]


def load_name_rules(path: Path = RULES_FILE) -> NameRules:
    """Read and validate the rules file.

    Raises:
        ValueError: a key is missing or has the wrong type (named in the message).
    """
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    typo = data.get("typo") or {}

    def number(where: dict[str, Any], key: str, kind: type) -> Any:
        value = where.get(key)
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            raise ValueError(f"{path}: '{key}' must be a number, got {value!r}")
        return kind(value)

    def words(key: str) -> frozenset[str]:
        value = data.get(key)
        if not isinstance(value, list) or not all(isinstance(w, str) and w.strip() for w in value):
            raise ValueError(f"{path}: '{key}' must be a list of words, got {value!r}")
        return frozenset(w.strip().lower() for w in value)

    return NameRules(
        ordinary_word_zipf=number(data, "ordinary_word_zipf", float),
        sentence_start_name_zipf=number(data, "sentence_start_name_zipf", float),
        typo_min_name_length=number(typo, "min_name_length", int),
        typo_min_token_length=number(typo, "min_token_length", int),
        typo_max_token_zipf=number(typo, "max_token_zipf", float),
        typo_max_name_zipf=number(typo, "max_name_zipf", float),
        not_name_after=words("not_name_after"),
        verb_object_after=words("verb_object_after"),
        name_prefix_words=words("name_prefix_words") | STOP_WORDS,
        always_capitalised=words("always_capitalised"),
    )


def word_frequency(word: str) -> float:
    """Zipf frequency of `word` in English (wordfreq's offline lists; 0 when unknown)."""
    from wordfreq import zipf_frequency   # imported on first use: it costs ~0.4 s

    return float(zipf_frequency(word, "en"))


@dataclass(frozen=True)
class CompetitorSpec:
    """One competitor: its canonical name, other spellings and how to treat its mentions."""

    name: str
    aliases: tuple[str, ...] = ()
    integration_partner: bool = False
    ambiguous: bool | None = None   # None: decided from the word-frequency list


def _osa_distance_at_most_one(a: str, b: str) -> bool:
    """True when a and b differ by at most one edit (insert, delete, substitute, swap neighbours)."""
    if a == b:
        return True
    la, lb = len(a), len(b)
    if abs(la - lb) > 1:
        return False
    i = 0
    while i < min(la, lb) and a[i] == b[i]:
        i += 1
    if la == lb:
        if a[i + 1:] == b[i + 1:]:
            return True
        return i + 1 < la and a[i] == b[i + 1] and a[i + 1] == b[i] and a[i + 2:] == b[i + 2:]
    return a[i + 1:] == b[i:] if la > lb else a[i:] == b[i + 1:]


@dataclass(frozen=True)
class NameHit:
    """Where a competitor is named: its spec's index and the name's tokens."""

    spec: int
    start: int   # token index
    end: int
    evident: bool  # the words alone prove the product is meant (domain, "Close CRM")


class NameMatcher:
    """Finds where competitors are named and whether the product is meant (the base of
    csintel.classify.competitors.CompetitorMatcher, which adds each mention's context)."""

    def __init__(self, specs: Sequence[CompetitorSpec], nlp: Language | None = None,
                 rules: NameRules | None = None) -> None:
        self.rules = rules or load_name_rules()
        nlp = self.nlp = nlp if nlp is not None else spacy.blank("en")
        self.specs = list(specs)
        self.matcher = PhraseMatcher(nlp.vocab, attr="LOWER")
        self.bare: dict[int, set[str]] = {}          # spec -> its ordinary-word spellings
        self.rare_bare: set[str] = set()              # those a capital proves even opening a sentence
        self.domains: dict[str, int] = {}             # "pipedrive.com" -> spec
        self.fuzzy: dict[tuple[str, int], list[tuple[str, int]]] = {}  # (first letter, length) -> terms
        for index, spec in enumerate(self.specs):
            terms = {t.strip() for t in (spec.name, *spec.aliases) if t.strip()}
            patterns = []
            for term in sorted(terms):
                lower = term.lower()
                if DOMAIN_CHARS.match(lower):
                    self.domains[lower] = index
                doc = nlp.make_doc(term)
                patterns.append(doc)
                single_word = len(doc) == 1 and doc[0].is_alpha
                ordinary = single_word and (spec.ambiguous if spec.ambiguous is not None
                                            else word_frequency(lower) >= self.rules.ordinary_word_zipf)
                if ordinary:
                    self.bare.setdefault(index, set()).add(lower)
                    if word_frequency(lower) < self.rules.sentence_start_name_zipf:
                        self.rare_bare.add(lower)
                if (single_word and not spec.ambiguous and len(lower) >= self.rules.typo_min_name_length
                        and word_frequency(lower) < self.rules.typo_max_name_zipf):
                    self.fuzzy.setdefault((lower[0], len(lower)), []).append((lower, index))
            self.matcher.add(str(index), patterns)
        self.exact_terms = {t for bucket in self.fuzzy.values() for t, _ in bucket}
        # (first letter, length) of the words one edit from some name could be: one set lookup a word.
        self.fuzzy_keys = {(letter, length + step) for letter, length in self.fuzzy for step in (-1, 0, 1)}
        self._fuzzy_seen: dict[str, int | None] = {}   # word -> _fuzzy(word): words repeat across tickets
        # Most tickets name no competitor: a substring check for any spelling (and a look for typo
        # candidates) decides whether the text is worth parsing at all.
        spellings = sorted({t.strip().lower() for spec in self.specs for t in (spec.name, *spec.aliases) if t.strip()},
                           key=len, reverse=True)
        self.any_spelling = re.compile("|".join(map(re.escape, spellings))) if spellings else None

    def _may_mention(self, text: str) -> bool:
        lower = text.lower()
        if self.any_spelling is not None and self.any_spelling.search(lower):
            return True
        if not self.fuzzy:
            return False
        shortest = self.rules.typo_min_token_length
        keys = self.fuzzy_keys
        return any(self._fuzzy_cached(word) is not None
                   for word in set(WORD.findall(lower))
                   if len(word) >= shortest and (word[0], len(word)) in keys and word not in self.exact_terms)

    def _fuzzy_cached(self, word: str) -> int | None:
        if word not in self._fuzzy_seen:
            if len(self._fuzzy_seen) > 100_000:   # bounded: a stream of unique tokens must not grow it forever
                self._fuzzy_seen.clear()
            self._fuzzy_seen[word] = self._fuzzy(word)
        return self._fuzzy_seen[word]

    def _hits(self, doc: Doc) -> list[NameHit]:
        hits: dict[int, NameHit] = {}
        for match_id, start, end in self.matcher(doc):
            index = int(self.nlp.vocab.strings[match_id])
            span_text = doc[start:end].text.lower()
            evident = index not in self.bare or span_text not in self.bare[index]
            previous = hits.get(start)
            if previous is None or end > previous.end:
                hits[start] = NameHit(index, start, end, evident)
        for token in doc:
            if token.i in hits or not (token.is_alpha or "." in token.text):
                continue
            lower = token.lower_
            if "." in lower:
                domain = self._domain(lower)
                if domain is not None:
                    hits[token.i] = NameHit(domain, token.i, token.i + 1, True)
            elif len(lower) >= self.rules.typo_min_token_length and lower not in self.exact_terms:
                typo = self._fuzzy(lower)
                if typo is not None:
                    hits[token.i] = NameHit(typo, token.i, token.i + 1, True)
        covered: list[NameHit] = []
        reach = -1
        for start in sorted(hits):
            if start >= reach:
                covered.append(hits[start])
                reach = hits[start].end
        return covered

    def _domain(self, token: str) -> int | None:
        # "https://www.pipedrive.com/en/pricing" and "HUBSPOT.COM" are single tokens.
        host = re.sub(r"^(?:https?://)?", "", token).split("/", 1)[0].rstrip(".")
        labels = host.split(".")
        for i in range(len(labels) - 1):   # "app.hubspot.com", "www.pipedrive.com" -> the listed domain
            index = self.domains.get(".".join(labels[i:]))
            if index is not None:
                return index
        return None

    def _fuzzy(self, token: str) -> int | None:
        for length in (len(token) - 1, len(token), len(token) + 1):
            for term, index in self.fuzzy.get((token[0], length), ()):
                # The frequency lookup runs only for the rare token one edit from a name.
                if (_osa_distance_at_most_one(token, term)
                        and word_frequency(token) < self.rules.typo_max_token_zipf):
                    return index
        return None

    def _product_meant(self, doc: Doc, hit: NameHit, sent: Span) -> bool:
        token = doc[hit.start]
        if in_compound(doc, hit):
            return False
        before = doc[max(sent.start, hit.start - 4):hit.start].text
        after = doc[hit.end:min(sent.end, hit.end + 3)].text_with_ws
        after = (" " + after) if token.whitespace_ else after
        if NOT_PRODUCT_AFTER.match(after) or self._part_of_other_name(doc, hit, sent):
            return False
        if PRODUCT_AFTER.match(after) or PRODUCT_BEFORE.search(before):
            return True
        if self.specs[hit.spec].integration_partner and INTEGRATION_AFTER.match(after):
            return True   # "SALESFORCE SYNC FAILED", "the salesforce integration": any casing
        if token.text[:1].isupper() and (WEAK_AFTER.match(after) or WEAK_BEFORE.search(before)):
            return True
        return self._capitalised_as_name(doc, hit, sent)

    def _part_of_other_name(self, doc: Doc, hit: NameHit, sent: Span) -> bool:
        """ "the Close button", "Close date", "Dan Copper's contact": the word belongs to something else."""
        if hit.end < sent.end:
            following = doc[hit.end].lower_
            if following in self.rules.not_name_after or (
                    doc[hit.start].is_lower and following in self.rules.verb_object_after):
                return True
        if hit.start > sent.start:
            previous = doc[hit.start - 1]
            return (previous.is_alpha and previous.text[:1].isupper() and not previous.is_upper
                    and previous.lower_ not in self.rules.name_prefix_words)
        return False

    def _capitalised_as_name(self, doc: Doc, hit: NameHit, sent: Span) -> bool:
        token = doc[hit.start]
        if (not token.text[:1].isupper() or token.is_upper and len(token) > 1
                or token.lower_ in self.rules.always_capitalised):
            return False
        if hit.start == sent.start:
            # Capitals are the rule here; a name is the subject of "is/has/does" in a sentence
            # with a competitive cue ("Front is on our list of tools to look at").
            # A partner's name also opens a sentence about the integration ("Linear issues linked
            # to tickets lose their status").
            following = doc[hit.end] if hit.end < sent.end else None
            if following is None:
                return False
            if token.lower_ in self.rare_bare:
                return True
            if self.specs[hit.spec].integration_partner and INTEGRATION.search(sent.text):
                return True
            return following.lower_ in SUBJECT_VERBS and bool(
                SWITCHING.search(sent.text) or EVALUATING.search(sent.text) or PRICING.search(sent.text)
                or COMPARISON_STRONG.search(sent.text))
        if not doc[hit.start - 1].is_alpha and doc[hit.start - 1].text not in (",", "("):
            return False  # after a quote/colon/bullet: capitals are the rule there
        following = doc[hit.end] if hit.end < sent.end else None
        if following is not None and following.is_alpha and following.text[:1].isupper():
            return False  # "the Close Date field", "Front Desk": part of another capitalised name
        words = [t for t in sent if t.is_alpha]
        capitalised = sum(1 for t in words if t.text[:1].isupper())
        return capitalised <= max(2, len(words) // 2)  # Title Case Subject Lines prove nothing


def in_compound(doc: Doc, hit: NameHit) -> bool:
    """ "front-end", "close-up", "pre-close": a hyphen joins the word into another word."""
    joined_after = (hit.end + 1 < len(doc) and not doc[hit.end - 1].whitespace_ and doc[hit.end].text == "-"
                    and not doc[hit.end].whitespace_ and doc[hit.end + 1].is_alpha)
    joined_before = (hit.start >= 2 and doc[hit.start - 1].text == "-" and not doc[hit.start - 1].whitespace_
                     and not doc[hit.start - 2].whitespace_ and doc[hit.start - 2].is_alpha)
    return joined_after or joined_before

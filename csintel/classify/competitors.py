"""Competitor mentions with their context, found by spaCy phrase rules.

Names match in any casing, with possessives, as domains, and (for distinctive names) with one
typo. Names that are also ordinary words ("close", "front", "monday", "copper") count only with
evidence that the product is meant. Each mention is labelled with the context Sales cares about:
switching, evaluating, pricing, past_user, comparison, integration or other.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import spacy
import yaml
from spacy.attrs import SENT_START
from spacy.language import Language
from spacy.matcher import PhraseMatcher
from spacy.tokens import Doc, Span

# --- data -------------------------------------------------------------------------------------

CONTEXTS = ("switching", "evaluating", "past_user", "pricing", "comparison", "integration", "other")
COMPETITIVE_CONTEXTS = frozenset({"switching", "evaluating", "pricing", "comparison"})
SWITCH_VERB = (r"(?:switch\w*|mov(?:e|es|ed|ing)|migrat\w*|leav\w+|jump\w*|port(?:ing)?|transition\w*"
               r"|chang(?:e|es|ed|ing))")
# Cues about the mention itself, read from the words just before it ...
SWITCHING_BEFORE = re.compile(
    rf"(?:\b{SWITCH_VERB}\b[\w\s,'-]{{0,30}}?\b(?:to|for)|\b(?:go|going|went)\s+(?:over\s+)?(?:to|with)"
    r"|\breplac\w+\s+(?:you|your\s+\w+|\w+)\s+with|\b(?:decided|decide|chose|choosing|signed|signing"
    r"|sign)\s+(?:to\s+go\s+)?(?:with|up\s+with))\s*$",
    re.IGNORECASE,
)
FROM_BEFORE = re.compile(r"\b(?:from|off)\s*$", re.IGNORECASE)
PAST_BEFORE = re.compile(
    r"(?:\bused\s+to\s+(?:use|be\s+on|have)|\bwe\s+(?:used|had|were\s+using|were\s+on|came\s+from)"
    r"|\b(?:when|while)\s+(?:we|i)\s+(?:were|was)\s+(?:on|using|with)|\b(?:our|my)\s+(?:old|previous|former"
    r"|last)\s+(?:crm|tool|system|provider|vendor|platform|software)"
    r"|\b(?:came|coming|switched|moved|migrated|migrating|switching|moving|converted)\s+(?:over\s+)?from)\s*$",
    re.IGNORECASE,
)
# ... just after it ...
SWITCHING_AFTER = re.compile(r"^\W*(?:\w+\s+){0,2}?instead\b", re.IGNORECASE)
COMPARISON_AFTER = re.compile(
    r"^(?:\s*'s|\s*’s)?\s+(?:\w+\s+){0,2}?(?:lets|let\s+you|allows?|has|have|had|does|did|offers?|supports?|provides?"
    r"|gives|includes|can|handles|shows|is\s+(?:better|faster|easier|simpler|nicer|cheaper))\b",
    re.IGNORECASE,
)
EVALUATING_BEFORE = re.compile(
    r"\b(?:looking\s+at|looked\s+at|look\s+at|checking\s+out|check\s+out|trying(?:\s+out)?|tried(?:\s+out)?"
    r"|testing(?:\s+out)?|test\s+out)\s*$",
    re.IGNORECASE,
)
# ... or anywhere in its sentence.
EVALUATING = re.compile(
    r"\btrial\w*|\bevaluat\w+|\bdemos?\b|\bdemoed\b|\bconsider(?:ing|ed)\b|\bpilot\w*|\bpoc\b|\bproof\s+of\s+concept\b"
    r"|\bshortlist\w*|\bcomparing\b|\b(?:got|have|had|received|getting|requested)\s+(?:a\s+|an\s+)?(?:quote|proposal"
    r"|offer)\b"
    r"|\b(?:talking|talked|speaking|spoke)\s+(?:to|with)\b|\bin\s+talks\s+with\b",
    re.IGNORECASE,
)
PRICING = re.compile(
    r"\bcheaper\b|\bpric(?:e|es|ed|ing)\b|\bcosts?\b|\bcosting\b|\bhalf\s+the\s+price\b|\bdiscount\w*|\bexpensive\b"
    r"|\bpay(?:ing)?\s+less\b"
    r"|[$€£]\s?\d|\bper\s+(?:seat|user|month|year)\b|\bbudget\b|\bquote\b|\bfree\s+(?:plan|tier)\b|\bcheap\b"
    r"|\baffordable\b",
    re.IGNORECASE,
)
PAST_USER = re.compile(
    r"\bused\s+to\s+(?:use|be\s+on|have)\b|\bwe\s+(?:used|had|were\s+using|were\s+on)\b|\b(?:when|while)\s+(?:we"
    r"|i)\s+(?:were|was)\s+(?:on|using|with)\b"
    r"|\b(?:our|my)\s+(?:old|previous|former|last)\s+(?:crm|tool|system|provider|vendor|platform|software)\b"
    r"|\bpreviously\b|\bin\s+the\s+past\b|\bback\s+when\b",
    re.IGNORECASE,
)
COMPARISON_STRONG = re.compile(
    r"\bbetter\b|\bworse\b|\bunlike\s+(?:you|yours|your\s+\w+)\b|\bcompared\s+(?:to|with)\b|\bvs\.?\s|\bversus\b"
    r"|\bthan\s+(?:you|yours|your)\b"
    r"|\bsame\s+as\b|\bsimilar\s+to\b|\blike\s+(?:in|on)\b|\bfaster\b|\beasier\b|\bsimpler\b|\bnicer\b",
    re.IGNORECASE,
)
INTEGRATION = re.compile(
    r"\bsync\w*|\bintegrat\w+|\bconnector\w*|\bconnect\w*|\bfield\s+mapping\w*|\bmapping\w*"
    r"|\bimport\w*\s+(?:\w+\s+){0,2}?from\b"
    r"|\bexport\w*\s+(?:\w+\s+){0,2}?to\b|\bpush\w*\b|\bapi\b|\bwebhooks?\b|\bplugin\b|\badd-?on\b|\bmarketplace\b"
    r"|\btwo-way\b|\b2-way\b|\bbi-?directional\b",
    re.IGNORECASE,
)
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
    r"^(?:\s*['’]s|\s+(?:has|have|had|does|did|offers|lets|costs?|charges|supports|allows|is\s+\w+er))\b",
    re.IGNORECASE,
)
NOT_PRODUCT_AFTER = re.compile(   # "close to 200", "front of the page"
    r"^\s+(?:to\s+(?:\d|the|a|an|our|my|being|zero|100|enough|\w+ing)|by\b|of\b|enough\b)", re.IGNORECASE
)
ALWAYS_CAPITALISED = frozenset({  # capitals prove nothing for these words
    "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
    "january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
    "november", "december",
})
LONG_RUN = re.compile(r"\S{300,}")
DOMAIN_CHARS = re.compile(r"^[a-z0-9-]+(?:\.[a-z0-9-]+)+$")
FUZZY_MIN_LENGTH = 6
LOCAL_TOKENS = 6           # a partner's competitive cue must be this close when the sentence is about the sync
CONTEXT_TOKENS = 12        # the words before/after a name that its own cues are read from
MAX_TRIES_PER_SENTENCE = 3
SPEC_KEYS = frozenset({"name", "aliases", "integration_partner", "ambiguous"})


@dataclass(frozen=True)
class CompetitorSpec:
    """One competitor: its canonical name, other spellings and how to treat its mentions."""

    name: str
    aliases: tuple[str, ...] = ()
    integration_partner: bool = False
    ambiguous: bool = False


@dataclass(frozen=True)
class Mention:
    """A competitor named in a sentence, with the context of the mention."""

    name: str          # canonical
    context: str       # switching | evaluating | comparison | pricing | past_user | integration | other
    competitive: bool  # False for integration context
    sentence: str      # the sentence it was found in (raw; the caller redacts)


def load_competitors(path: Path) -> list[CompetitorSpec]:
    """Read a YAML file `{competitors: [...]}` into specs.

    Raises:
        ValueError: the file is not such a mapping, or an entry is malformed (named in the message).
    """
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ValueError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("competitors"), list):
        raise ValueError(f"{path}: expected a mapping with a 'competitors' list")
    return parse_competitors(data["competitors"], source=str(path))


def parse_competitors(entries: Sequence[Any], source: str = "competitors") -> list[CompetitorSpec]:
    """Validate a list of competitor mappings (as in the YAML file) into specs.

    Raises:
        ValueError: an entry is malformed or a name repeats; the message names the entry.
    """
    specs: list[CompetitorSpec] = []
    seen: set[str] = set()
    for i, entry in enumerate(entries, start=1):
        where = f"{source}: competitor #{i}"
        if not isinstance(entry, dict):
            raise ValueError(f"{where}: expected a mapping with a 'name', got {entry!r}")
        name = entry.get("name")
        if not isinstance(name, str) or not name.strip():
            raise ValueError(f"{where}: 'name' must be a non-empty string, got {name!r}")
        where = f"{source}: competitor #{i} ({name!r})"
        unknown = sorted(set(entry) - SPEC_KEYS)
        if unknown:
            raise ValueError(f"{where}: unknown key(s) {', '.join(map(str, unknown))}; "
                             f"allowed: {', '.join(sorted(SPEC_KEYS))}")
        aliases = entry.get("aliases") or []
        if not isinstance(aliases, list) or not all(isinstance(a, str) and a.strip() for a in aliases):
            raise ValueError(f"{where}: 'aliases' must be a list of non-empty strings, got {aliases!r}")
        flags = {}
        for key in ("integration_partner", "ambiguous"):
            value = entry.get(key, False)
            if not isinstance(value, bool):
                raise ValueError(f"{where}: '{key}' must be true or false, got {value!r}")
            flags[key] = value
        if name.strip().lower() in seen:
            raise ValueError(f"{where}: duplicate competitor name")
        seen.add(name.strip().lower())
        specs.append(CompetitorSpec(name.strip(), tuple(a.strip() for a in aliases), **flags))
    return specs


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
class _Hit:
    spec: int
    start: int   # token index
    end: int
    evident: bool  # the words alone prove the product is meant (domain, "Close CRM")


class CompetitorMatcher:
    """Finds competitor mentions in text; build once, call `find` per ticket."""

    def __init__(self, specs: Sequence[CompetitorSpec], nlp: Language | None = None) -> None:
        if nlp is None:
            nlp = spacy.blank("en")
            nlp.add_pipe("sentencizer")
        self.nlp = nlp
        self.specs = list(specs)
        self.matcher = PhraseMatcher(nlp.vocab, attr="LOWER")
        self.bare: dict[int, set[str]] = {}          # spec -> its ordinary-word spellings
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
                if spec.ambiguous and len(doc) == 1 and doc[0].is_alpha:
                    self.bare.setdefault(index, set()).add(lower)
                if not spec.ambiguous and " " not in lower and lower.isalpha() and len(lower) >= FUZZY_MIN_LENGTH:
                    self.fuzzy.setdefault((lower[0], len(lower)), []).append((lower, index))
            self.matcher.add(str(index), patterns)
        self.exact_terms = {t for bucket in self.fuzzy.values() for t, _ in bucket}

    def find(self, text: str) -> list[Mention]:
        """Competitor mentions in `text`: at most one per (competitor, sentence), in text order."""
        if not text or not text.strip():
            return []
        doc = self._parse(text)
        sents = list(doc.sents)
        sent_of = np.zeros(len(doc), dtype=np.int64)
        for i, sent in enumerate(sents):
            sent_of[sent.start:sent.end] = i
        best: dict[tuple[int, int], tuple[int, Mention]] = {}
        tries: dict[tuple[int, int], int] = {}
        for hit in self._hits(doc):
            sent = sents[sent_of[hit.start]]
            key = (hit.spec, sent.start)
            tries[key] = tries.get(key, 0) + 1
            if tries[key] > MAX_TRIES_PER_SENTENCE:   # a name repeated 1,000 times says no more
                continue
            if not hit.evident and not self._product_meant(doc, hit, sent):
                continue
            spec = self.specs[hit.spec]
            context = _context(doc, hit, sent, spec)
            competitive = context in COMPETITIVE_CONTEXTS or (not spec.integration_partner and context != "integration")
            rank = CONTEXTS.index(context)
            if key not in best or rank < best[key][0]:
                mention = Mention(spec.name, context, competitive, text[sent.start_char:sent.end_char].strip())
                best[key] = (rank, mention)
        return [mention for _, mention in best.values()]

    def _parse(self, text: str) -> Doc:
        # spaCy's tokenizer is quadratic on very long unbroken strings (base64, minified code):
        # blank them out, keeping offsets, so sentences still quote the raw text.
        doc = self.nlp.make_doc(LONG_RUN.sub(lambda m: " " * len(m.group()), text))
        # A line break ends a sentence (subjects and list items rarely end with a period); the
        # sentencizer fills in the rest, or, in a pipeline without one, nothing else is a start.
        has_sentencizer = any(n == "sentencizer" or "senter" in n or "parser" in n for n in self.nlp.pipe_names)
        if not len(doc):
            return doc
        starts = np.full(len(doc), 0 if has_sentencizer else -1, dtype=np.int64)
        starts[0] = 1
        for token in doc[:-1]:
            if "\n" in token.text_with_ws:
                starts[token.i + 1] = 1
        doc.from_array([SENT_START], starts.reshape(-1, 1).astype(np.uint64))
        for _, proc in self.nlp.pipeline:
            doc = proc(doc)
        return doc

    def _hits(self, doc: Doc) -> list[_Hit]:
        hits: dict[int, _Hit] = {}
        for match_id, start, end in self.matcher(doc):
            index = int(self.nlp.vocab.strings[match_id])
            span_text = doc[start:end].text.lower()
            evident = index not in self.bare or span_text not in self.bare[index]
            previous = hits.get(start)
            if previous is None or end > previous.end:
                hits[start] = _Hit(index, start, end, evident)
        for token in doc:
            if token.i in hits or not (token.is_alpha or "." in token.text):
                continue
            lower = token.lower_
            if "." in lower:
                index = self._domain(lower)
                if index is not None:
                    hits[token.i] = _Hit(index, token.i, token.i + 1, True)
            elif len(lower) >= FUZZY_MIN_LENGTH - 1 and lower not in self.exact_terms:
                index = self._fuzzy(lower)
                if index is not None:
                    hits[token.i] = _Hit(index, token.i, token.i + 1, True)
        covered: list[_Hit] = []
        reach = -1
        for start in sorted(hits):
            if start >= reach:
                covered.append(hits[start])
                reach = hits[start].end
        return covered

    def _domain(self, token: str) -> int | None:
        # "https://www.pipedrive.com/en/pricing" and "HUBSPOT.COM" are single tokens.
        host = re.sub(r"^(?:https?://)?(?:www\.)?", "", token).split("/", 1)[0].rstrip(".")
        return self.domains.get(host)

    def _fuzzy(self, token: str) -> int | None:
        for length in (len(token) - 1, len(token), len(token) + 1):
            for term, index in self.fuzzy.get((token[0], length), ()):
                if _osa_distance_at_most_one(token, term):
                    return index
        return None

    def _product_meant(self, doc: Doc, hit: _Hit, sent: Span) -> bool:
        token = doc[hit.start]
        before = doc[max(sent.start, hit.start - 4):hit.start].text
        after = doc[hit.end:min(sent.end, hit.end + 3)].text_with_ws
        after = (" " + after) if token.whitespace_ else after
        if NOT_PRODUCT_AFTER.match(after):
            return False
        if PRODUCT_AFTER.match(after) or PRODUCT_BEFORE.search(before):
            return True
        if token.text[:1].isupper() and (WEAK_AFTER.match(after) or WEAK_BEFORE.search(before)):
            return True
        return self._capitalised_as_name(doc, hit, sent)

    def _capitalised_as_name(self, doc: Doc, hit: _Hit, sent: Span) -> bool:
        token = doc[hit.start]
        if not token.text[:1].isupper() or token.is_upper and len(token) > 1 or token.lower_ in ALWAYS_CAPITALISED:
            return False
        if hit.start == sent.start or not doc[hit.start - 1].is_alpha and doc[hit.start - 1].text not in (",", "("):
            return False  # sentence-initial, or after a quote/colon/bullet: capitals are the rule there
        following = doc[hit.end] if hit.end < sent.end else None
        if following is not None and following.is_alpha and following.text[:1].isupper():
            return False  # "the Close Date field", "Front Desk": part of another capitalised name
        words = [t for t in sent if t.is_alpha]
        capitalised = sum(1 for t in words if t.text[:1].isupper())
        return capitalised <= max(2, len(words) // 2)  # Title Case Subject Lines prove nothing


def _context(doc: Doc, hit: _Hit, sent: Span, spec: CompetitorSpec) -> str:
    before = doc[max(sent.start, hit.start - CONTEXT_TOKENS):hit.start].text
    after = doc[hit.end:min(sent.end, hit.end + CONTEXT_TOKENS)].text_with_ws
    after = (" " + after) if doc[hit.end - 1].whitespace_ else after
    integration = INTEGRATION.search(sent.text)
    # A partner's sentence about the sync may also say "cost" or "better" about something else:
    # there, only cues right next to the name count.
    nearby = doc[max(sent.start, hit.start - LOCAL_TOKENS):min(sent.end, hit.end + LOCAL_TOKENS)].text
    cue_text = nearby if spec.integration_partner and integration else sent.text
    if SWITCHING_BEFORE.search(before) or SWITCHING_AFTER.match(after):
        return "switching"
    if EVALUATING_BEFORE.search(before) or EVALUATING.search(cue_text):
        return "evaluating"
    came_from = PAST_BEFORE.search(before) or PAST_USER.search(sent.text) or (
        FROM_BEFORE.search(before) and re.search(SWITCH_VERB, before, re.IGNORECASE))
    if came_from and not spec.integration_partner:
        return "past_user"
    if PRICING.search(cue_text):
        return "pricing"
    weak_comparison = COMPARISON_AFTER.match(after) and not (spec.integration_partner and integration)
    if COMPARISON_STRONG.search(cue_text) or weak_comparison:
        return "comparison"
    if integration or spec.integration_partner:
        return "integration"
    return "other"

"""Competitor mentions with their context, found by spaCy phrase rules.

Names match in any casing, with possessives, as domains, and with one typo (names long enough
that are not ordinary words, in tokens that are not words themselves). A name that is also an
ordinary English word ("close", "front", "copper", "monday"; decided from wordfreq's frequency
list, no flag needed) counts only with evidence that the product is meant, never as part of the
interface ("the Close button") or of a longer name ("Dan Copper"). Each mention is labelled
with the context Sales cares about: switching, evaluating, past_user (including a migration of
their old data), pricing, comparison, integration (only for configured integration partners) or
other — by the rules below (words next to the name, then its clause's cues) and, where an
embedder is given, by the trained context head (csintel.classify.competitor_context). The rules'
words live in models/rules/competitors.yaml. Accuracy: data/eval/README-extraction.md.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import spacy
import yaml
from spacy.lang.en.stop_words import STOP_WORDS
from spacy.attrs import SENT_START
from spacy.language import Language
from spacy.matcher import PhraseMatcher
from spacy.tokens import Doc, Span

from csintel.config import SHIPPED_MODELS
from csintel.text import sentence_spans

# --- data -------------------------------------------------------------------------------------

CONTEXTS = ("switching", "evaluating", "past_user", "pricing", "comparison", "integration", "other")
SWITCH_VERB = (r"(?:switch\w*|mov(?:e|es|ed|ing)|migrat\w*|leav\w+|jump\w*|port(?:ing)?|transition\w*"
               r"|chang(?:e|es|ed|ing))")
# Context is read in two tiers. First the words right next to the name, which say what is
# done with this product ("moving to X", "came from X", "the X sync"); then, when those say
# nothing, the cues of the name's clause, strongest context first (CONTEXTS order).
SWITCHING_BEFORE = re.compile(
    rf"(?:\b{SWITCH_VERB}\b[\w\s,'-]{{0,30}}?\b(?:to|for|into|onto)|\b(?:go|going|went|gone)\s+(?:over\s+)?(?:to|with)"
    r"|\b(?:replac\w+|ditch\w*|dump\w*|drop\w*|swap\w*|trad(?:e|es|ed|ing)|abandon\w*)\s+(?:you|your\s+\w+|\w+)"
    r"\s+(?:with|for)"
    r"|\b(?:decided|decide|chose|choosing|choose|picked|sign\w*(?:\s+\w+){0,3}?)\s+(?:to\s+go\s+)?(?:with|up\s+with)"
    r"|\b(?:chosen|selected|opted\s+for|settled\s+on|committed\s+to|standardi[sz]\w*\s+on)"
    r"|\b(?:will|'ll|going\s+to)\s+be\s+(?:on|using))\s*$",
    re.IGNORECASE,
)
SWITCHING_AFTER = re.compile(r"^\W*(?:\w+\s+){0,2}?instead\b", re.IGNORECASE)
PAST_BEFORE = re.compile(
    r"(?:\bused\s+to\s+(?:use|be\s+on|have)|\b(?:we|i)\s+(?:used|had|were\s+using|were\s+on|were|was)"
    r"|\b(?:when|while)\s+(?:we|i)\s+(?:were|was)\s+(?:on|using|with)"
    r"|\b(?:our|my)\s+(?:old|previous|former|last)\s+(?:crm|tool|system|provider|vendor|platform|software|helpdesk"
    r"|help\s+desk|inbox)(?:\s+(?:was|is))?\s*,?"
    r"|\bex-|\b(?:former|previous|past|ex)"
    r"|\b(?:we|i)\s+(?:left|dropped|ditched|quit|cancell?ed|abandoned|ran\s+on|lived\s+in|worked\s+in))\s*$",
    re.IGNORECASE,
)
# "We came over from X" is a past user; "contacts are not coming over from X" is the sync.
MOVED_FROM_BEFORE = re.compile(
    rf"(?:\b{SWITCH_VERB}\b|\b(?:came|coming|come|converted|ported))[\w\s,'-]{{0,30}}?\bfrom\s*$",
    re.IGNORECASE,
)
PERSON = re.compile(r"\b(?:we|i|us|our\s+(?:team|company|org|organi[sz]ation|reps|agents))\b", re.IGNORECASE)
EVALUATING_BEFORE = re.compile(
    r"\b(?:looking\s+at|looked\s+at|look\s+at|checking\s+out|check\s+out|trying(?:\s+out)?|testing(?:\s+out)?"
    r"|test\s+out|demo\s+(?:of|with)|trial\s+(?:of|with)|pilot\s+(?:of|with)|compar\w+\s+(?:\w+\s+)?(?:against|with|to)"
    r"|between)\s*$",
    re.IGNORECASE,
)
TRIED_BEFORE = re.compile(r"\b(?:tried|tested)(?:\s+out)?\s*$", re.IGNORECASE)
# The mention is about our integration with the product: its sync, or data that lives there.
INTEGRATION_AFTER = re.compile(
    r"^(?:\s*['’]s?)?\s+(?:\w+\s+)?(?:sync\w*|integrations?|connectors?|connections?|org|orgs|instance|sandbox"
    r"|forms?|fields?|api|plugin|add-?on|webhooks?|import\w*|export\w*|mapping\w*)\b",
    re.IGNORECASE,
)
INTEGRATION_BEFORE = re.compile(
    r"(?:\b(?:sync\w*|connect\w*|import\w*|export\w*|push\w*|pull\w*|mirror\w*|feed\w*|send\w*|map\w*|link\w*)"
    r"\s+(?:\w+\s+){0,3}?(?:to|from|with|into|in)"
    r"|\b(?:created|updated|edited|deleted|added|entered|changed|logged|stored|kept|lives?|living)\s+(?:in|on))\s*$",
    re.IGNORECASE,
)
PRICING_HIT = re.compile(r"/(?:\w+/)?(?:pricing|prices?|plans)\b", re.IGNORECASE)   # "pipedrive.com/pricing"
WEAK_COMPARISON_AFTER = re.compile(   # "Attio has this": for partners too weak (their API "has" things)
    r"^(?:\s*['’]s?)?\s+(?:\w+\s+){0,2}?(?:has|have|had|does|did|offers?|supports?|provides?|gives|includes|can"
    r"|handles|shows|is\s+(?:better|faster|easier|simpler|nicer|cheaper))\b",
    re.IGNORECASE,
)
FEATURE_AFTER = re.compile(   # "Copper's Gmail sidebar", "Zoho CRM's Blueprint feature"
    r"^\s*['’]s?\s+(?:\w+\s+){0,2}?(?:features?|views?|interface|ui|ux|apps?|dialer|sidebar|editor|inbox|timeline"
    r"|reports?|reporting|dashboards?|automations?|workflows?|mobile|search|bots?|pages?|macros?|templates?)\b",
    re.IGNORECASE,
)
IN_PRODUCT_BEFORE = re.compile(r"^\W*in\s*$", re.IGNORECASE)
HOW_IT_IS_THERE = re.compile(   # "In Salesforce this is...", "In HubSpot, you can...": how it works there
    r"^[\s,]*(?:this|that|it|you|they|there(?:'s|\s+is)|we\s+(?:can|could|just|only))\b", re.IGNORECASE)   # "In Copper, threads show up on the contact"
# Clause cues, strongest first.
HEDGE = re.compile(
    r"\b(?:consider\w*|thinking\s+(?:about|of)|explor\w+|debat\w+|discuss\w+|looking\s+into|weigh\w*|evaluat\w+)\b",
    re.IGNORECASE,
)
SWITCHING = re.compile(
    r"\bconsolidat\w+\s+(?:on|onto|into|there|to|with)\b"
    r"|\b(?:management|leadership|corporate|the\s+board|our\s+board"
    r"|(?:our|my|the)\s+(?:ceo|cfo|cto|coo|boss|vp|director)"
    r"|hq|headquarters|(?:half|most|all|part)\s+of\s+(?:our|the)\s+team|everyone)\s+wants?\s+"
    r"(?:us\b|to\s+(?:go|move|switch|use|consolidate|ditch|drop|leave)\b)"
    r"|\bwants?\s+to\s+(?:go|move|switch|migrate)\b|\bwon't\s+be\s+renewing\b|\bnot\s+(?:be\s+)?renewing\b",
    re.IGNORECASE,
)
EVALUATING = re.compile(
    r"\btrial\w*|\bevaluat\w+|\bdemos?\b|\bdemoed\b|\bconsider(?:ing|ed)\b|\bpilot\w*|\bpoc\b|\bproof\s+of\s+concept\b"
    r"|\bshortlist\w*|\bcompar(?:e|es|ing)\b|\bproposals?\b|\b(?:choos|decid|pick)\w*\s+between\b"
    r"|\bas\s+an?\s+(?:option|alternative|replacement|backup)\b|\balternatives?\b|\bon\s+(?:our|the)\s+(?:short)?list\b"
    r"|\blist\s+of\s+(?:tools|options|vendors|alternatives)\b|\bthinking\s+(?:about|of)\b|\bexplor\w+\b"
    r"|\breached\s+out\b|\bfree\s+(?:account|trial)\b|\bsign(?:ed)?\s+up\s+for\s+(?:a\s+)?(?:free|trial)\b"
    r"|\b(?:talking|talked|speaking|spoke)\s+(?:to|with)\b|\bin\s+talks\s+with\b",
    re.IGNORECASE,
)
PAST_TIME = re.compile(
    r"\blast\s+(?:year|month|quarter|spring|summer|fall|autumn|winter)\b|\b(?:years?|months?)\s+ago\b|\bin\s+20\d\d\b"
    r"|\bback\s+then\b|\bwent\s+back\b|\bbefore\s*(?:[,.;!?]|$)|\bbefore\s+(?:you|coming|switching|moving|joining)\b",
    re.IGNORECASE,
)
PAST_USER = re.compile(
    r"\bused\s+to\s+(?:use|be\s+on|have)\b|\bwe\s+(?:used|had|were\s+using|were\s+on)\b|\b(?:when|while)\s+(?:we"
    r"|i)\s+(?:were|was)\s+(?:on|using|with)\b"
    r"|\b(?:our|my)\s+(?:old|previous|former|last)\s+(?:crm|tool|system|provider|vendor|platform|software|helpdesk"
    r"|help\s+desk|inbox)\b"
    r"|\bpreviously\b|\bin\s+the\s+past\b|\bback\s+when\b|\bleft\s+(?:them|it|\w+)\s+for\b"
    r"|\bbefore\s*(?:[,.;!?]|$)|\bbefore\s+(?:you|coming|switching|moving|joining|we|i)\b",
    re.IGNORECASE,
)
PRICING = re.compile(
    r"\bcheaper\b|\bpric(?:e|es|ed|ing)\b|\bcosts?\b|\bcosting\b|\bhalf\s+the\s+price\b|\bdiscount\w*|\bexpensive\b"
    r"|\bpa(?:y|ys|ying|id)\b|\bcharg(?:e|es|ed|ing)\b|\bquot(?:e|es|ed|ing)\b|\boffer(?:ed|s)?\s+us\b"
    r"|[$€£]\s?\d|\bper\s+(?:seat|user|agent|month|year)\b|\bseats\b|\bbudget\b|\bfree\s+(?:plan|tier)\b"
    r"|\bmonths?\s+free\b|\bcheap\b|\baffordable\b|\bless\s+(?:than|for)\b|\blower\b|\bdeal\s+on\b",
    re.IGNORECASE,
)
COMPARISON_STRONG = re.compile(
    r"\bbetter\b|\bworse\b|\bunlike\b|\bcompared\s+(?:to|with)\b|\bvs\.?\s|\bversus\b|\bthan\s+(?:you|yours|your)\b"
    r"|\bsame\s+as\b|\bsimilar\s+to\b|\blike\s+(?:in|on)\b|\bfaster\b|\beasier\b|\bsimpler\b|\bnicer\b"
    r"|\bprefer\w*\b|\bwhat\s+(?:we|i|they|our\s+\w+(?:\s+\w+)?)\s+(?:need|needs|want|wants|keep\s+asking|asked)\b"
    r"|\bhere\s+too\b|\b(?:they|everyone|people)\s+love\s+it\b|\bup\s+against\b|\bexactly\s+what\b"
    r"|\bworks?\s+(?:\w+\s+)?there\b"
    r"|\bnatively\b|\bbuilt[\s-]?in\b|\bout\s+of\s+the\s+box\b|\byou\s+(?:don't|do\s+not|can't|cannot|only)\b"
    r"|\byours\s+(?:doesn't|does\s+not|can't|isn't)\b"
    r"|\byour\s+\w+\s+(?:don't|doesn't|do\s+not|does\s+not|can't|cannot|isn't|aren't)\b"
    r"|\bwhy\s+(?:can't|don't)\s+you\b|\b(?:lets|allows)\s+you\b"
    r"|\bin\s+\w+(?:\s+\w+)?,?\s+you\s+can\b"
    r"|\b(?:don't|doesn't|didn't|never)\s+(?:have|has|had|get|see)\s+(?:this|that|these|those|the\s+same)\s+"
    r"(?:problem|issue|bug)s?\b",
    re.IGNORECASE,
)
INTEGRATION = re.compile(
    r"\bsync\w*|\bintegrat\w+|\bconnector\w*|\bconnect\w*|\bfield\s+mapping\w*|\bmapping\w*|\bimport\w*|\bexport\w*"
    r"|\bpush\w*\b|\bapi\b|\bwebhooks?\b|\bplugin\b|\badd-?on\b|\bmarketplace\b|\bfeed\w*\s+(?:\w+\s+)?(?:into|to)\b"
    r"|\bforms?\b|\bmirror\w*|\bshow\s+up\s+in\b|\breach(?:es)?\s+(?:us|our|your)\b|\blink\w*\b|\bsandbox\b"
    r"|\btwo-way\b|\b2-way\b|\bbi-?directional\b",
    re.IGNORECASE,
)
CLAUSE_BREAK = frozenset({";", "but", "however", "whereas", "although", "though"})
COORDINATION = frozenset({",", "and", "or", "&", "/", "nor", "both"})
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
LONG_RUN = re.compile(r"\S{300,}")
WORD = re.compile(r"[a-z]+")
DOMAIN_CHARS = re.compile(r"^[a-z0-9-]+(?:\.[a-z0-9-]+)+$")
LOCAL_TOKENS = 6           # a partner's competitive cue must be this close when the sentence is about the sync
CONTEXT_TOKENS = 12        # the words before/after a name that its own cues are read from
MAX_TRIES_PER_SENTENCE = 3
SPEC_KEYS = frozenset({"name", "aliases", "integration_partner", "ambiguous"})
MASK = "the other product"   # a mention's name in the sentence the context head reads
RULES_FILE = SHIPPED_MODELS / "rules" / "competitors.yaml"


@dataclass(frozen=True)
class NameRules:
    """The word lists and thresholds of models/rules/competitors.yaml."""

    ordinary_word_zipf: float
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


@dataclass(frozen=True)
class Mention:
    """A competitor named in a sentence, with the context of the mention."""

    name: str          # canonical
    context: str       # switching | evaluating | comparison | pricing | past_user | integration | other
    competitive: bool  # False for integration context
    sentence: str      # the sentence it was found in (raw; the caller redacts)
    # The sentence with this name replaced by "the other product": what the context head reads.
    masked: str = field(default="", compare=False, repr=False)
    near: bool = field(default=False, compare=False, repr=False)   # decided by the words next to the name


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
        flags: dict[str, Any] = {}
        for key, default in (("integration_partner", False), ("ambiguous", None)):
            value = entry.get(key, default)
            if not isinstance(value, bool) and not (value is None and default is None):
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

    def __init__(self, specs: Sequence[CompetitorSpec], nlp: Language | None = None,
                 rules: NameRules | None = None) -> None:
        self.rules = rules or load_name_rules()
        nlp = self.nlp = nlp if nlp is not None else spacy.blank("en")
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
                single_word = len(doc) == 1 and doc[0].is_alpha
                ordinary = single_word and (spec.ambiguous if spec.ambiguous is not None
                                            else word_frequency(lower) >= self.rules.ordinary_word_zipf)
                if ordinary:
                    self.bare.setdefault(index, set()).add(lower)
                if (single_word and not spec.ambiguous and len(lower) >= self.rules.typo_min_name_length
                        and word_frequency(lower) < self.rules.typo_max_name_zipf):
                    self.fuzzy.setdefault((lower[0], len(lower)), []).append((lower, index))
            self.matcher.add(str(index), patterns)
        self.exact_terms = {t for bucket in self.fuzzy.values() for t, _ in bucket}
        # Most tickets name no competitor: a substring check for any spelling (and a look for typo
        # candidates) decides whether the text is worth parsing at all.
        spellings = sorted({t.strip().lower() for spec in self.specs for t in (spec.name, *spec.aliases) if t.strip()},
                           key=len, reverse=True)
        self.any_spelling = re.compile("|".join(map(re.escape, spellings))) if spellings else None

    def find(self, text: str) -> list[Mention]:
        """Competitor mentions in `text`: at most one per (competitor, sentence), in text order."""
        if not text or not text.strip() or not self._may_mention(text):
            return []
        doc = self._parse(text)
        sents = list(doc.sents)
        sent_of = np.zeros(len(doc), dtype=np.int64)
        for i, sent in enumerate(sents):
            sent_of[sent.start:sent.end] = i
        tries: dict[tuple[int, int], int] = {}
        found: list[tuple[_Hit, Span]] = []
        for hit in self._hits(doc):
            sent = sents[sent_of[hit.start]]
            key = (hit.spec, sent.start)
            tries[key] = tries.get(key, 0) + 1
            if tries[key] > MAX_TRIES_PER_SENTENCE:   # a name repeated 1,000 times says no more
                continue
            if hit.evident or self._product_meant(doc, hit, sent):
                found.append((hit, sent))
        names_in: dict[int, set[int]] = {}
        for hit, sent in found:
            names_in.setdefault(sent.start, set()).add(hit.spec)
        best: dict[tuple[int, int], tuple[int, Mention]] = {}
        for i, (hit, sent) in enumerate(found):
            spec = self.specs[hit.spec]
            start, end = _coordinated(doc, found, i)
            # Several competitors in one sentence: each takes the cues of its own clause.
            scope = _clause(doc, start, end, sent) if len(names_in[sent.start]) > 1 else sent
            context, near = _context(doc, hit, start, end, scope, spec)
            rank = CONTEXTS.index(context)
            key = (hit.spec, sent.start)
            if key not in best or rank < best[key][0]:
                name_start, name_end = doc[hit.start].idx, doc[hit.end - 1].idx + len(doc[hit.end - 1])
                masked = (text[sent.start_char:name_start] + MASK + text[name_end:sent.end_char]).strip()
                mention = Mention(spec.name, context, is_competitive(context, spec.integration_partner),
                                  text[sent.start_char:sent.end_char].strip(), masked, near)
                best[key] = (rank, mention)
        return [mention for _, mention in best.values()]

    def _may_mention(self, text: str) -> bool:
        lower = text.lower()
        if self.any_spelling is not None and self.any_spelling.search(lower):
            return True
        if not self.fuzzy:
            return False
        shortest = self.rules.typo_min_token_length
        return any(len(word) >= shortest and self._fuzzy(word) is not None and word not in self.exact_terms
                   for word in WORD.findall(lower)
                   if any((word[0], n) in self.fuzzy for n in (len(word) - 1, len(word), len(word) + 1)))

    def _parse(self, text: str) -> Doc:
        # spaCy's tokenizer is quadratic on very long unbroken strings (base64, minified code):
        # blank them out, keeping offsets, so sentences still quote the raw text.
        blanked = LONG_RUN.sub(lambda m: " " * len(m.group()), text)
        doc = self.nlp.make_doc(blanked)
        if not len(doc):
            return doc
        # Sentences are csintel's (csintel.text.sentences), as for quotes and requests: each of its
        # sentence starts opens a spaCy sentence, and no other token does, whatever the pipeline.
        token_starts = [token.idx for token in doc]
        starts = np.full(len(doc), -1, dtype=np.int64)
        for start, _ in sentence_spans(blanked):
            starts[min(bisect.bisect_left(token_starts, start), len(doc) - 1)] = 1
        starts[0] = 1
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
            elif len(lower) >= self.rules.typo_min_token_length and lower not in self.exact_terms:
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

    def _product_meant(self, doc: Doc, hit: _Hit, sent: Span) -> bool:
        token = doc[hit.start]
        if _in_compound(doc, hit):
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

    def _part_of_other_name(self, doc: Doc, hit: _Hit, sent: Span) -> bool:
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

    def _capitalised_as_name(self, doc: Doc, hit: _Hit, sent: Span) -> bool:
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


def is_competitive(context: str, integration_partner: bool) -> bool:
    """Whether a mention in this context is competitive intel: all but the integration (and, for a
    partner, a plain mention); a partner's past user came to us from them."""
    return context != "integration" and (context != "other" or not integration_partner)


def _in_compound(doc: Doc, hit: _Hit) -> bool:
    """ "front-end", "close-up", "pre-close": a hyphen joins the word into another word."""
    joined_after = (hit.end + 1 < len(doc) and not doc[hit.end - 1].whitespace_ and doc[hit.end].text == "-"
                    and not doc[hit.end].whitespace_ and doc[hit.end + 1].is_alpha)
    joined_before = (hit.start >= 2 and doc[hit.start - 1].text == "-" and not doc[hit.start - 1].whitespace_
                     and not doc[hit.start - 2].whitespace_ and doc[hit.start - 2].is_alpha)
    return joined_after or joined_before


def _coordinated(doc: Doc, found: Sequence[tuple[_Hit, Span]], i: int) -> tuple[int, int]:
    """Token span of the names joined to found[i] by "and", "or" or commas ("X and Y both have").

    Coordinated names share their cues: the verb after the last is about all of them.
    """
    start, end = found[i][0].start, found[i][0].end
    j = i
    while j > 0 and found[j - 1][1].start == found[i][1].start and _only_conjunctions(doc, found[j - 1][0].end, start):
        j -= 1
        start = found[j][0].start
    j = i
    while j + 1 < len(found) and found[j + 1][1].start == found[i][1].start and _only_conjunctions(
            doc, end, found[j + 1][0].start):
        j += 1
        end = found[j][0].end
    return start, end


def _only_conjunctions(doc: Doc, start: int, end: int) -> bool:
    return start < end and all(t.lower_ in COORDINATION for t in doc[start:end])


def _clause(doc: Doc, start: int, end: int, sent: Span) -> Span:
    """The part of the sentence around tokens start..end, between "but", ";", ", now" and the like."""
    def breaks(k: int) -> bool:
        word = doc[k].lower_
        return word in CLAUSE_BREAK or word == "now" and k > sent.start and doc[k - 1].lower_ in (",", "and", ";")
    left = start
    while left > sent.start and not breaks(left - 1):
        left -= 1
    right = end
    while right < sent.end and not breaks(right):
        right += 1
    return doc[left:right]


def _context(doc: Doc, hit: _Hit, start: int, end: int, clause: Span, spec: CompetitorSpec) -> tuple[str, bool]:
    """The mention's context, and whether the words right next to the name decided it."""
    before = doc[max(clause.start, start - CONTEXT_TOKENS):start].text
    after = doc[end:min(clause.end, end + CONTEXT_TOKENS)].text_with_ws
    after = (" " + after) if doc[end - 1].whitespace_ else after
    text = clause.text
    hedged = HEDGE.search(doc[clause.start:start].text)
    partner = spec.integration_partner
    # 1. What the words right next to the name do with it.
    if PAST_BEFORE.search(before) or MOVED_FROM_BEFORE.search(before) and PERSON.search(before):
        return "past_user", True
    if SWITCHING_BEFORE.search(before) or SWITCHING_AFTER.match(after):
        return ("evaluating" if hedged else "switching"), True
    if PRICING_HIT.search(doc[hit.start:hit.end].text):
        return "pricing", True
    if TRIED_BEFORE.search(before):
        return ("past_user" if PAST_TIME.search(text) else "evaluating"), True
    if EVALUATING_BEFORE.search(before):
        return "evaluating", True
    attached = INTEGRATION_AFTER.match(after) or INTEGRATION_BEFORE.search(before)
    if attached and partner:
        return "integration", True
    if IN_PRODUCT_BEFORE.match(doc[clause.start:start].text) and (not partner or HOW_IT_IS_THERE.match(after)):
        return "comparison", True   # "In Copper, threads show up"; a partner's "In Salesforce this is one checkbox"
    # 2. The clause's cues, strongest first.
    if SWITCHING.search(text):
        return ("evaluating" if hedged else "switching"), False
    if EVALUATING.search(text):
        return "evaluating", False
    if PAST_USER.search(text):
        return "past_user", False
    integration = INTEGRATION.search(text)
    # A partner's clause about the sync may also say "cost" or "better" about something else:
    # there, only cues right next to the name count.
    cue_text = (doc[max(clause.start, start - LOCAL_TOKENS):min(clause.end, end + LOCAL_TOKENS)].text
                if partner and integration else text)
    if PRICING.search(cue_text):
        return "pricing", False
    if (COMPARISON_STRONG.search(cue_text) or FEATURE_AFTER.match(after)
            or not partner and WEAK_COMPARISON_AFTER.match(after)):
        return "comparison", False
    if integration or attached or partner:
        return "integration", False
    return "other", False

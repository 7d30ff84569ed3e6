"""Support-language sentiment by rules.

General lexicons read support tickets badly: "error", "please fix" and "Thanks," sign-offs
dominate them, while "third time", "still not fixed" and "we're looking at alternatives" carry
the real signal. These rules weigh the cues support teams act on: frustration, urgency, churn
language, negated function ("doesn't load"), plain problem reports (mildly negative), and
thanks or praise that is about something (not a sign-off).
"""

from __future__ import annotations

import bisect
import math
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from csintel.classify.churn import churn_matches
from csintel.config import SHIPPED_MODELS
from csintel.text import sentence_spans
from csintel.text.literals import fold, may_match, needed_words

# --- data ------------------------------------------------------------------------------------
# The cue lists live in models/rules/sentiment.yaml: (pattern, weight) per kind. Kinds: problem
# (capped in total: a calm bug report is neutral), frustration, urgency (also the `urgent` flag),
# positive, resolution, polite (thanks/appreciation: counts only when the text has no complaint),
# neutral (zero-weight phrases that shadow the cue words inside them, e.g. "would love to see").
# Churn intent is its own detector (csintel/classify/churn.py, the file's `churn` section); a
# churn phrase also counts here as a strong negative cue.
RULES_FILE = SHIPPED_MODELS / "rules" / "sentiment.yaml"
WEIGHTED_KINDS = {"frustration": -1, "urgency": -1, "problem": -1, "positive": 1, "resolution": 1, "polite": 1}
CHURN_WEIGHT = 2.4


def read_rules_file(path: Path) -> dict[str, Any]:
    """The parsed rules file, with a clear error when it is missing or not a mapping."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ValueError(f"cannot read the sentiment rules {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping of cue kinds to lists")
    return data


def compile_rules(data: dict[str, Any], source: str) -> list[tuple[re.Pattern[str], float, str]]:
    """(compiled pattern, signed weight, kind) for every cue of a rules file.

    Raises:
        ValueError: a missing kind, a cue that is not [regex, weight], or a bad regex, with the file,
            the kind and the cue named.
    """
    def compiled(pattern: Any, where: str) -> re.Pattern[str]:
        try:
            return re.compile(str(pattern), re.IGNORECASE)
        except re.error as exc:
            raise ValueError(f"{source}: {where} is not a valid regex ({exc}): {pattern}") from exc

    missing = sorted(({"neutral"} | WEIGHTED_KINDS.keys()) - data.keys())
    if missing:
        raise ValueError(f"{source}: missing cue lists: {', '.join(missing)}")
    rules = [(compiled(p, f"neutral cue {i}"), 0.0, "neutral") for i, p in enumerate(data["neutral"], 1)]
    for kind, sign in WEIGHTED_KINDS.items():
        for i, cue in enumerate(data[kind] or [], 1):
            if not (isinstance(cue, list) and len(cue) == 2 and isinstance(cue[1], (int, float))):
                raise ValueError(f"{source}: {kind} cue {i} must be [regex, weight], got {cue!r}")
            rules.append((compiled(cue[0], f"{kind} cue {i}"), sign * float(cue[1]), kind))
    return rules


# Thanks that carries no verdict: a sign-off or a request for help to come.
GENERIC_THANKS = re.compile(
    r"^\W*(?:(?:many|huge|big)\s+)?(?:thanks|thank\s+you|thx|ty|tia|cheers)(?:\s+(?:so|very)\s+much|\s+a\s+lot"
    r"|\s+again)?"
    r"(?:\s+in\s+advance|\s+for\s+(?:your|the|any)\s+(?:help|time|assistance|support|patience|reply|response)"
    r"|\s+for\s+looking\s+into\s+(?:this|it)|\s+for\s+checking)?[\s,.!:)\-]*(?:\w+[\s,.!]*)?$",
    re.IGNORECASE,
)
# A negator up to two words before a cue flips or cancels it: "not happy", "not urgent".
NEGATORS = re.compile(
    r"(?:\bnot|n't|\bnever|\bno|\bnothing|\bwithout|\bhardly|\bbarely|\bnor)\b\s*(?:\w+\s+){0,2}$", re.IGNORECASE
)
NEGATABLE = frozenset({"positive", "resolution", "frustration", "urgency", "problem"})
BUT = re.compile(r"\b(?:but|however|though|although|yet|except)\b", re.IGNORECASE)
SHOUTING_PUNCT = re.compile(r"!!|\?!|!\?")
CAPS_WORD = re.compile(r"(?<![\w-])[A-Z]{3,}(?![\w-])")
ACRONYMS = frozenset({
    "API", "APIS", "CSV", "PDF", "CRM", "URL", "URLS", "SSO", "SAML", "UI", "UX", "ID", "IDS", "IP", "HTTP", "HTTPS",
    "JSON", "XML", "SQL", "CSS", "HTML", "JS", "IOS", "OS", "PC", "MAC", "USA", "US", "UK", "EU", "GDPR", "HIPAA",
    "SOC", "CEO", "CTO", "CFO", "VP", "HR", "IT", "QA", "FAQ", "AM", "PM", "UTC", "EST", "PST", "CET", "GMT",
    "TIA", "FYI", "BTW", "IMO", "AFAIK", "OK", "OKAY", "SMS", "MFA", "TFA", "OTP", "DNS", "SSL", "TLS", "VPN",
    "SDK", "CLI", "AWS", "GCP", "SAP", "ERP", "ROI", "KPI", "SLA", "ARR", "MRR", "USD", "EUR", "GBP", "CC", "BCC",
    "IE", "EG", "AI", "ML", "LLM", "XLSX", "XLS", "ZIP", "PNG", "JPG", "GIF", "SMTP", "IMAP", "POP", "CSAT", "NPS",
    "SFDC", "POC", "PO", "QBR", "ETA", "RE", "FW", "FWD", "TW", "ACC", "INV", "CAL", "SYNC", "ERR", "SKU", "B2B",
    "ASAP", "ISO", "TV", "DM", "PS", "NB", "LLC", "INC", "LTD", "GMBH", "CSM", "CS", "CX", "SEO", "SMB",
})
SHOUT_WEIGHT = 0.9
EXCLAIM_WEIGHT = 0.6
AMPLIFY = 1.3            # a shouted or !!!-ed sentence weighs more, whichever way it leans
BEFORE_BUT = 0.3         # "the UI is great but the sync fails": what follows "but" decides
AFTER_BUT = 1.3
PROBLEM_CAP = 0.25       # ten bug words are still one calm bug report: neutral on its own
CHURN_FLOOR = -0.6
ALPHA = 2.0              # squashes the raw sum into -1..1
THRESHOLD = 0.2


@dataclass(frozen=True)
class SentimentResult:
    """Sentiment of one text: label, score in -1..1, churn flag, and the cues behind it."""

    label: str            # "negative" | "neutral" | "positive"
    score: float          # -1..1
    churn_language: bool  # intent to leave the vendor: cancel, not renewing, switching to a rival ...
    cues: tuple[str, ...] # the phrases that drove the score (for explanations)
    urgent: bool = False  # "urgent", "production is down", "blocking our team": a signal of its own


RULES = compile_rules(read_rules_file(RULES_FILE), str(RULES_FILE))
RULE_NEEDS = [needed_words(pattern) for pattern, _, _ in RULES]   # a text without a cue's words is not scanned
SELF_NEGATING = re.compile(r"^(?:not|never|no longer|can't|cannot|can not|couldn't|won't|doesn't|don't|didn't|isn't"
                           r"|aren't|wasn't|weren't|hasn't|haven't|unable|fails?|failed|still|no one|nobody|no-one|no\b"
                           r"|without|zero)", re.IGNORECASE)


@dataclass
class _Cue:
    start: int
    end: int
    weight: float
    kind: str
    phrase: str


def score_sentiment(text: str) -> SentimentResult:
    """Score support text: negative for complaints, frustration, urgency and churn language,
    positive for specific thanks and praise, neutral for questions and plain requests."""
    return sentiment_with_features(text)[0]


# The rule evidence a trained sentiment head reads beside the embedding (csintel/classify/heads.py):
# the score, the churn flag, the weighed cues summed by kind (each sum signed as it counts), whether
# the text asks something, and VADER's general-purpose lexicon scores (negative, neutral, positive,
# compound): on the validation splits of benchmarks/train_sentiment.py they added 2.3 points of
# macro recall on tweets and 3 on tickets beside the support cues.
FEATURES = ("score", "churn", "frustration", "urgency", "problem", "positive", "resolution", "polite", "question",
            "vader_neg", "vader_neu", "vader_pos", "vader_compound")


def sentiment_features(text: str) -> list[float]:
    """The rules' evidence for one text, in the order of FEATURES."""
    return sentiment_with_features(text)[1]


def sentiment_with_features(text: str) -> tuple[SentimentResult, list[float]]:
    """The rules' result and their evidence (FEATURES) from one pass over the text."""
    score, churn, drivers = _analyse(text)
    urgent = any(c.kind == "urgency" and c.weight < 0 for c in drivers)
    label = "negative" if score <= -THRESHOLD else "positive" if score >= THRESHOLD else "neutral"
    phrases = tuple(dict.fromkeys(c.phrase for c in sorted(drivers, key=lambda c: -abs(c.weight))))
    sums = dict.fromkeys(FEATURES[2:8], 0.0)
    for cue in drivers:
        if cue.kind in sums:   # churn cues are the churn flag
            sums[cue.kind] += cue.weight
    sums["problem"] = max(sums["problem"], -PROBLEM_CAP)
    evidence = [score, float(churn), *sums.values(), float("?" in (text or "")), *_vader(text)]
    return SentimentResult(label, round(score, 4), churn, phrases, urgent), evidence


@lru_cache(maxsize=1)
def _vader_analyzer() -> Any:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


def _vader(text: str) -> tuple[float, float, float, float]:
    if not text or not text.strip():
        return 0.0, 0.0, 0.0, 0.0
    s = _vader_analyzer().polarity_scores(text[:20_000])   # its cost grows with length; a ticket is shorter
    return s["neg"], s["neu"], s["pos"], s["compound"]


def _analyse(text: str) -> tuple[float, bool, list[_Cue]]:
    """The score in -1..1, the churn flag, and the cues that carry weight after every adjustment."""
    if not text or not text.strip():
        return 0.0, False, []
    text = text.replace("’", "'").replace("‘", "'")
    spans = sentence_spans(text)
    starts = [s for s, _ in spans]
    cues, churn = _find_cues(text)
    complaint = any(c.weight < 0 for c in cues)
    substantive = any(not GENERIC_THANKS.match(text[s:e]) for s, e in spans)
    per_sentence: dict[int, list[_Cue]] = {}
    for cue in cues:
        # Thanks is politeness, not a verdict, when the text complains or it only signs off.
        if cue.kind == "polite":
            sentence = text[slice(*spans[_sentence_of(starts, cue.start)])]
            if complaint or (substantive and GENERIC_THANKS.match(sentence)):
                cue.weight = 0.0
        per_sentence.setdefault(_sentence_of(starts, cue.start), []).append(cue)
    raw_problem, raw_other = 0.0, 0.0
    drivers: list[_Cue] = []
    for index, (s, e) in enumerate(spans):
        sentence_cues = per_sentence.get(index, [])
        sentence = text[s:e]
        _add_emphasis(sentence, s, sentence_cues, complaint)
        but = BUT.search(sentence)
        pivot = s + but.start() if but else None
        if pivot is not None and any(c.start > pivot and c.weight for c in sentence_cues):
            for cue in sentence_cues:
                cue.weight *= BEFORE_BUT if cue.start < pivot else AFTER_BUT
        for cue in sentence_cues:
            if cue.kind == "problem":
                raw_problem += cue.weight
            else:
                raw_other += cue.weight
            if cue.weight:
                drivers.append(cue)
    raw = max(raw_problem, -PROBLEM_CAP) + raw_other
    score = raw / math.sqrt(raw * raw + ALPHA)
    if churn:
        score = min(score, CHURN_FLOOR)
    return score, churn, drivers


def _sentence_of(starts: list[int], offset: int) -> int:
    return max(0, bisect.bisect_right(starts, offset) - 1)


def _find_cues(text: str) -> tuple[list[_Cue], bool]:
    """The cues that survive longest-match shadowing and negation, and whether churn intent was found."""
    found = [_Cue(start, end, -CHURN_WEIGHT, "churn", phrase) for start, end, phrase in churn_matches(text)]
    folded = fold(text)
    for (pattern, weight, kind), needs in zip(RULES, RULE_NEEDS):
        if not may_match(needs, folded):
            continue
        for m in pattern.finditer(text):
            if m.end() > m.start():
                found.append(_Cue(m.start(), m.end(), weight, kind, m.group().lower()))
    # Longest match wins: "still not working" shadows "not working"; "would love" shadows "love".
    found.sort(key=lambda c: (c.start, -(c.end - c.start)))
    kept: list[_Cue] = []
    reach = -1
    for cue in found:
        if cue.start >= reach:
            kept.append(cue)
            reach = cue.end
    for cue in kept:
        if cue.kind in NEGATABLE and cue.weight and not SELF_NEGATING.match(cue.phrase):
            window = text[max(0, cue.start - 30): cue.start]
            negator = NEGATORS.search(window)
            if negator:
                cue.weight = _negated(cue)
                cue.phrase = f"{window[negator.start():].strip().lower()} {cue.phrase}"
    return kept, any(c.kind == "churn" for c in found)


def _negated(cue: _Cue) -> float:
    # "not happy" is a complaint; "not urgent", "no errors", "not cancelling" are nothing.
    if cue.kind in ("positive", "resolution"):
        return -0.8 * cue.weight
    return 0.0


def _add_emphasis(sentence: str, offset: int, cues: list[_Cue], complaint: bool) -> None:
    # Shouting and "!!!" amplify whatever the sentence says; they only add frustration to a
    # sentence that complains (or to a bare "!!!" in a text that complains elsewhere), so
    # "Hi!!" and "Love it!!!" stay what they are.
    lean = sum(c.weight for c in cues)
    shouting = any(w not in ACRONYMS for w in CAPS_WORD.findall(sentence))
    exclaiming = SHOUTING_PUNCT.search(sentence) is not None
    if not (shouting or exclaiming):
        return
    for c in cues:
        c.weight *= AMPLIFY
    if lean > 0 or (lean == 0 and not complaint):
        return
    if shouting:
        cues.append(_Cue(offset, offset, -SHOUT_WEIGHT, "frustration", "ALL CAPS"))
    if exclaiming and (lean < 0 or "!!!" in sentence):
        cues.append(_Cue(offset, offset, -EXCLAIM_WEIGHT, "frustration", "!!!"))

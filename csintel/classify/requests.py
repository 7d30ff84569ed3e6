"""Feature requests: detect the ask and extract what is asked for, by the rules.

A request is found by its cue ("please add", "it would be great if", "any plans to support",
"I wish", "why is there no" ...); bug reports, how-to questions and service asks ("please add
a user", "please close the ticket") are not requests. The rules live in
models/rules/requests.yaml; the trained detector that decides with them is
csintel.classify.request_head, and the naming and grouping of asks csintel.classify.request_groups.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import yaml

from csintel.config import SHIPPED_MODELS
from csintel.text import split_sentences

# --- data: the rules, from models/rules/requests.yaml -------------------------------------------

RULES_FILE = SHIPPED_MODELS / "rules" / "requests.yaml"
PATTERN_KEYS = ("absent_not_a_feature", "regret", "question_object", "answer_is_no", "someone_able", "not_a_need",
                "howto_object", "howto_question", "service_object", "bug_object", "weak_object", "cut", "leading_filler",
                "trailing_filler", "phrase_chars")
MAX_PHRASE_WORDS = 8
MAX_OBJECT_CHARS = 300   # eight words never need more; bounds the work on pathological input


@dataclass(frozen=True)
class RequestRules:
    """The request rules, compiled: cues in order, the object checks, the phrase clean-up."""

    version: str
    cues: tuple[tuple[str, re.Pattern[str]], ...]
    strict_cues: frozenset[str]
    absence_cues: frozenset[str]
    patterns: dict[str, re.Pattern[str]]
    unnamed: frozenset[str]          # phrases that name no capability ("fix", "way", "set")
    unnamed_start: re.Pattern[str]   # nor do phrases that start like "this sorted first"
    features: tuple[tuple[str, re.Pattern[str]], ...]   # the detector's cue features
    digest: str = ""                 # a hash of the file's content


def load_request_rules(path: Path = RULES_FILE) -> RequestRules:
    """Read and compile the request rules.

    Raises:
        ValueError: a missing key or a pattern that does not compile, with the file and key named.
    """
    try:
        raw = Path(path).read_bytes()
        data = yaml.safe_load(raw.decode("utf-8")) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ValueError(f"cannot read the request rules {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping with cues, patterns, ...")
    fragments = {str(k): str(v) for k, v in (data.get("fragments") or {}).items()}

    def compile_(where: str, pattern: Any) -> re.Pattern[str]:
        if not isinstance(pattern, str) or not pattern:
            raise ValueError(f"{path}: {where} must be a non-empty regular expression")
        for name, value in fragments.items():
            pattern = pattern.replace(f"<<{name}>>", value)
        left = re.search(r"<<(\w+)>>", pattern)
        if left:
            raise ValueError(f"{path}: {where} uses the fragment <<{left.group(1)}>>, which is not defined")
        try:
            return re.compile(pattern, re.IGNORECASE)
        except re.error as exc:
            raise ValueError(f"{path}: {where} is not a valid regular expression: {exc}") from exc

    for key in ("version", "cues", "patterns", "unnamed_phrases", "unnamed_start", "features"):
        if not data.get(key):
            raise ValueError(f"{path}: '{key}' is missing or empty")
    cues = []
    for i, cue in enumerate(data["cues"]):
        if not isinstance(cue, dict) or not cue.get("name"):
            raise ValueError(f"{path}: cues[{i}] needs a name and a pattern")
        cues.append((str(cue["name"]), compile_(f"cue '{cue['name']}'", cue.get("pattern"))))
    names = {name for name, _ in cues}
    named = {}
    for key in ("strict_cues", "absence_cues"):
        unknown = sorted(set(data.get(key) or ()) - names)
        if unknown:
            raise ValueError(f"{path}: {key} names cues that do not exist: {', '.join(unknown)}")
        named[key] = frozenset(data.get(key) or ())
    missing = [k for k in PATTERN_KEYS if k not in data["patterns"]]
    if missing:
        raise ValueError(f"{path}: patterns lacks {', '.join(missing)}")
    features = tuple((str(k), compile_(f"feature '{k}'", v)) for k, v in data["features"].items())
    return RequestRules(
        version=str(data["version"]), cues=tuple(cues), strict_cues=named["strict_cues"],
        absence_cues=named["absence_cues"],
        patterns={k: compile_(f"patterns.{k}", data["patterns"][k]) for k in PATTERN_KEYS},
        unnamed=frozenset(str(w).lower() for w in data["unnamed_phrases"]),
        unnamed_start=compile_("unnamed_start", data["unnamed_start"]), features=features,
        digest=hashlib.sha1(raw).hexdigest()[:8])


RULES = load_request_rules()
CUE_PATTERNS = list(RULES.cues)
STRICT_CUES = RULES.strict_cues
ABSENCE_CUES = RULES.absence_cues
ABSENT_NOT_A_FEATURE = RULES.patterns["absent_not_a_feature"]
REGRET = RULES.patterns["regret"]
QUESTION_OBJECT = RULES.patterns["question_object"]
ANSWER_IS_NO = RULES.patterns["answer_is_no"]
SOMEONE_ABLE = RULES.patterns["someone_able"]
NOT_A_NEED = RULES.patterns["not_a_need"]
HOWTO_OBJECT = RULES.patterns["howto_object"]
SERVICE_OBJECT = RULES.patterns["service_object"]
BUG_OBJECT = RULES.patterns["bug_object"]
WEAK_OBJECT = RULES.patterns["weak_object"]
CUT = RULES.patterns["cut"]
LEADING_FILLER = RULES.patterns["leading_filler"]
TRAILING_FILLER = RULES.patterns["trailing_filler"]
PHRASE_CHARS = RULES.patterns["phrase_chars"]
HOWTO_QUESTION = RULES.patterns["howto_question"]


@dataclass(frozen=True)
class RequestResult:
    """Whether a text asks for a feature, what it asks for, and the cue that said so."""

    is_request: bool
    phrase: str | None     # short normalised phrase, e.g. "dark mode", "bulk edit of deals"
    cue: str | None        # the cue that matched


NO_REQUEST = RequestResult(False, None, None)


def detect_request(text: str) -> RequestResult:
    """Detect a feature request in `text` and extract what is asked for."""
    if not text:
        return NO_REQUEST
    sentences = split_sentences(text.replace("’", "'"))
    for index, sentence in enumerate(sentences):
        for name, pattern in CUE_PATTERNS:
            match = pattern.search(sentence)
            if not match:
                continue
            raw = (match.groupdict().get("obj") or "").strip()
            if not raw and name == "feature request" and index + 1 < len(sentences):
                raw = sentences[index + 1]   # "Feature request" as a heading, the ask on the next line
            if SERVICE_OBJECT.search(raw.lstrip()) or BUG_OBJECT.search(raw) or REGRET.search(raw):
                continue
            if name in ABSENCE_CUES and ABSENT_NOT_A_FEATURE.search(raw.lstrip()):
                continue
            phrase = normalise_phrase(raw)
            if name in STRICT_CUES and (WEAK_OBJECT.match(phrase) or NOT_A_NEED.search(raw)
                                        or SERVICE_OBJECT.search(phrase)
                                        or HOWTO_OBJECT.search(sentence) or sentence.rstrip().endswith("?")
                                        or SOMEONE_ABLE.match(raw.lstrip())):
                continue
            if WEAK_OBJECT.match(phrase or ""):
                phrase = howto_object(sentences) or ""
            return RequestResult(True, phrase or None, name)
    return _question_answered_no(sentences)


def _question_answered_no(sentences: Sequence[str]) -> RequestResult:
    for index, sentence in enumerate(sentences):
        match = QUESTION_OBJECT.search(sentence)
        if match and any(ANSWER_IS_NO.search(s) for s in sentences[index + 1:index + 3]):
            raw = match.group("obj")
            phrase = normalise_phrase(raw)
            if phrase and not WEAK_OBJECT.match(phrase) and not SERVICE_OBJECT.search(raw.lstrip()):
                return RequestResult(True, phrase, "is there a way (no)")
    return NO_REQUEST


def howto_object(sentences: Sequence[str]) -> str | None:
    """The object of the first how-to question among `sentences` ("how do I export deals" -> "export deals")."""
    for sentence in sentences:
        match = HOWTO_OBJECT.search(sentence)
        if match:
            phrase = normalise_phrase(match.group("obj"))
            if phrase and not WEAK_OBJECT.match(phrase):
                return phrase
    return None


def normalise_phrase(raw: str) -> str:
    """Trim an ask to its object: no filler, lowercase, at most eight words."""
    text = unicodedata.normalize("NFKC", (raw or "")[:MAX_OBJECT_CHARS]).replace("’", "'")
    cut = CUT.search(text)
    if cut:
        text = text[: cut.start()]
    text = " ".join(PHRASE_CHARS.sub(" ", text).split()).lower()
    previous = None
    while text and text != previous:
        previous = text
        text = LEADING_FILLER.sub("", text, count=1).strip()
    words = text.split()[:MAX_PHRASE_WORDS]
    text = " ".join(words)
    previous = None
    while text and text != previous:
        previous = text
        text = TRAILING_FILLER.sub("", text).strip()
    return text.strip(" .'-/&+")

"""Feature requests: detect the ask, extract what is asked for, group similar asks.

A request is found by its cue ("please add", "it would be great if", "any plans to support",
"I wish", "why is there no" ...); bug reports, how-to questions and service asks ("please add
a user", "please close the ticket") are not requests. Grouping works on the phrases'
embeddings, so "dark mode" and "a dark theme" land in one group across weeks.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import yaml
from scipy.cluster.hierarchy import fcluster, linkage

from csintel.config import SHIPPED_MODELS
from csintel.text import split_sentences

# --- data: the rules, from models/rules/requests.yaml -------------------------------------------

RULES_FILE = SHIPPED_MODELS / "rules" / "requests.yaml"
PATTERN_KEYS = ("absent_not_a_feature", "regret", "question_object", "answer_is_no", "someone_able", "not_a_need",
                "howto_object", "howto_question", "service_object", "bug_object", "weak_object", "cut", "leading_filler",
                "trailing_filler", "phrase_chars")
MAX_PHRASE_WORDS = 8
MAX_OBJECT_CHARS = 300   # eight words never need more; bounds the work on pathological input
SLUG_STOPWORDS = frozenset({
    "a", "an", "the", "of", "for", "to", "in", "on", "with", "by", "at", "from", "and", "or", "our", "my", "your",
    "us", "me", "we", "i", "is", "be", "it", "that", "this",
})
SLUG_MAX = 60


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
                phrase = _howto_object(sentences)
            return RequestResult(True, phrase or None, name)
    return _question_answered_no(sentences)


def rule_features(texts: Sequence[str], rules: RequestRules = RULES,
                  said: Sequence[RequestResult] | None = None) -> np.ndarray:
    """The detector's cue features: the rules' decision, then each `features` pattern (0/1)."""
    said = said if said is not None else [detect_request(t) for t in texts]
    rows = [[float(r.is_request), *(float(bool(p.search(t or ""))) for _, p in rules.features)]
            for t, r in zip(texts, said)]
    return np.array(rows, dtype=np.float64).reshape(len(texts), 1 + len(rules.features))


def feature_names(rules: RequestRules = RULES) -> list[str]:
    return ["rules", *(name for name, _ in rules.features)]


NGRAM_FEATURES = 2 ** 16   # hashed word uni- and bigrams per field (the whole text, its opening line)


def hashed_ngrams(texts: Sequence[str], idf: np.ndarray) -> Any:
    """TF-IDF of hashed word 1-2-grams (sublinear tf, L2-normalised rows), as a sparse matrix.

    Hashing needs no vocabulary to ship: only `idf`, one weight per hash bucket.
    """
    from sklearn.feature_extraction.text import HashingVectorizer

    counts = HashingVectorizer(n_features=len(idf), ngram_range=(1, 2), alternate_sign=False,
                               norm=None).transform([t or "" for t in texts]).tocsr().astype(np.float64)
    counts.data = 1.0 + np.log(counts.data)
    weighted = counts.multiply(idf.reshape(1, -1)).tocsr()
    norms = np.sqrt(np.asarray(weighted.multiply(weighted).sum(axis=1))).ravel()
    norms[norms == 0] = 1.0
    return weighted.multiply((1.0 / norms).reshape(-1, 1)).tocsr()


def opening_line(text: str) -> str:
    """The title of an issue, the subject of a ticket: the text's first non-empty line."""
    return next((line for line in (text or "").splitlines() if line.strip()), "")


@dataclass(frozen=True)
class RequestHead:
    """A trained request detector: logistic regression on the ticket's embedding, the cue features
    (scaled by `feature_scale`) and hashed n-grams of the whole text and of its opening line
    (weighted by `ngram_weight`). It decides whether a text asks for something new; the rules
    still say what is asked for.
    """

    coef: np.ndarray            # (dim + cue features,): the dense part
    ngram_coef: np.ndarray      # (2, NGRAM_FEATURES): whole text, opening line
    idf: np.ndarray             # (2, NGRAM_FEATURES)
    intercept: float
    threshold: float            # P(request) at or above which a rule-found ask stands (chosen on validation)
    alone_threshold: float      # ... and an ask no rule found (no cue: a GitHub-style title) (chosen on validation)
    feature_scale: float
    ngram_weight: float
    features: tuple[str, ...]   # the cue features' names, in order (must match the rules file's)
    embedding: str              # the embedding model it was fitted on
    card: dict[str, Any]

    @property
    def dim(self) -> int:
        return int(self.coef.shape[0]) - len(self.features)

    @property
    def version(self) -> str:
        h = hashlib.sha1(json.dumps([self.intercept, self.threshold, self.alone_threshold, self.feature_scale,
                                     self.ngram_weight,
                                     self.features, self.embedding]).encode())
        for array in (self.coef, self.ngram_coef, self.idf):
            h.update(np.ascontiguousarray(array, dtype=np.float32).tobytes())
        return f"feature_request-head-{h.hexdigest()[:8]}"

    def design(self, vectors: np.ndarray, cues: np.ndarray, texts: Sequence[str]) -> Any:
        """The model's input rows: [embedding, scaled cues, weighted n-grams of text, of opening line]."""
        from scipy import sparse

        dense = np.hstack([np.asarray(vectors, dtype=np.float64), self.feature_scale * np.asarray(cues, np.float64)])
        return sparse.hstack([sparse.csr_matrix(dense),
                              self.ngram_weight * hashed_ngrams(texts, self.idf[0]),
                              self.ngram_weight * hashed_ngrams([opening_line(t) for t in texts], self.idf[1])]
                             ).tocsr()

    def probabilities(self, vectors: np.ndarray, cues: np.ndarray, texts: Sequence[str]) -> np.ndarray:
        if len(vectors) == 0:
            return np.zeros(0)
        weights = np.concatenate([self.coef, self.ngram_coef.ravel()])
        logits = self.design(vectors, cues, texts) @ weights + self.intercept
        return 1.0 / (1.0 + np.exp(-np.asarray(logits).ravel()))


HEAD_FILE = SHIPPED_MODELS / "heads" / "feature_request.json"


def save_request_head(head: RequestHead, folder: Path) -> Path:
    """Write feature_request.json (settings, card) and feature_request.npz (weights) into `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    stored = RequestHead(head.coef.astype(np.float32), head.ngram_coef.astype(np.float32),
                         head.idf.astype(np.float32), head.intercept, head.threshold, head.alone_threshold,
                         head.feature_scale,
                         head.ngram_weight, head.features, head.embedding, head.card)
    np.savez_compressed(folder / "feature_request.npz", coef=stored.coef, ngram_coef=stored.ngram_coef,
                        idf=stored.idf)
    meta = {"format": 1, "task": "feature_request", "version": stored.version, "intercept": head.intercept,
            "threshold": head.threshold, "alone_threshold": head.alone_threshold, "feature_scale": head.feature_scale, "ngram_weight": head.ngram_weight,
            "features": list(head.features), "embedding": head.embedding, "dim": head.dim, "card": head.card}
    path = folder / "feature_request.json"
    path.write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    return path


def load_request_head(path: Path = HEAD_FILE) -> RequestHead:
    """Read a request head saved by `save_request_head`.

    Raises:
        ValueError: an unreadable head, or one trained on other cue features than the rules file's.
    """
    try:
        meta = json.loads(Path(path).read_text(encoding="utf-8"))
        with np.load(Path(path).with_suffix(".npz")) as arrays:
            coef, ngram_coef, idf = arrays["coef"], arrays["ngram_coef"], arrays["idf"]
    except (OSError, ValueError, KeyError) as exc:
        raise ValueError(f"cannot read the feature-request head {path}: {exc}") from exc
    if list(meta.get("features", [])) != feature_names():
        raise ValueError(f"{path}: trained on cue features {meta.get('features')}, but "
                         f"{RULES_FILE.name} defines {feature_names()}: retrain it (benchmarks/eval_requests.py)")
    head = RequestHead(coef, ngram_coef, idf, float(meta["intercept"]), float(meta["threshold"]),
                       float(meta["alone_threshold"]), float(meta["feature_scale"]), float(meta["ngram_weight"]), tuple(meta["features"]),
                       str(meta["embedding"]), dict(meta.get("card") or {}))
    if coef.shape != (int(meta["dim"]) + len(head.features),) or ngram_coef.shape != idf.shape:
        raise ValueError(f"{path}: weights of shape {coef.shape}, {ngram_coef.shape} do not match its settings")
    return head


class RequestDetector:
    """Feature requests for a batch: the trained head decides, the rules name the ask.

    Without a head that fits the embedder (another model, another dimension) the rules decide alone.
    """

    def __init__(self, head: RequestHead | None = None) -> None:
        self.head = head

    @classmethod
    def for_embedder(cls, embedding: str, dim: int, path: Path = HEAD_FILE) -> "RequestDetector":
        """The shipped head when it was trained on this embedding model (any backend of it), else rules only."""
        if not Path(path).is_file():
            return cls(None)
        head = load_request_head(path)
        same = head.dim == dim and head.embedding.split("+", 1)[0] == embedding.split("+", 1)[0]
        return cls(head if same else None)

    @property
    def version(self) -> str:
        """The rules file's content and the head's weights: a change of either is a new tags version."""
        return f"{RULES.version}-{RULES.digest}" + (f"+{self.head.version}" if self.head is not None else "")

    def probabilities(self, texts: Sequence[str], vectors: np.ndarray,
                      said: Sequence[RequestResult] | None = None) -> np.ndarray | None:
        """P(request) per text, or None without a head."""
        if self.head is None:
            return None
        said = said if said is not None else [detect_request(t) for t in texts]
        return self.head.probabilities(vectors, rule_features(texts, said=said), texts)

    def detect(self, texts: Sequence[str], vectors: np.ndarray) -> list[RequestResult]:
        """One result per text; `vectors` are the texts' embeddings (as the Enricher has them)."""
        said = [detect_request(t) for t in texts]
        probs = self.probabilities(texts, vectors, said)
        out = []
        for i, (text, rule) in enumerate(zip(texts, said)):
            if probs is None or self.head is None:
                is_request = rule.is_request
            elif rule.is_request:
                # The rules found an ask; the model may still say it is none ("Any ETA on a fix?").
                is_request = bool(probs[i] >= self.head.threshold)
            else:
                # No cue: the model alone, surer, and never for a how-to question ("Is there a way
                # to filter by stage?" is a question about what exists, not an ask for more).
                is_request = bool(probs[i] >= self.head.alone_threshold) and not HOWTO_QUESTION.search(text)
            if not is_request:
                out.append(NO_REQUEST)
                continue
            phrase = rule.phrase if rule.is_request else None
            out.append(RequestResult(True, capability_name(phrase, text), rule.cue or "model"))
        return out


def capability_name(phrase: str | None, text: str) -> str | None:
    """The name of what is asked for: the cue's phrase when it names a capability, else the object
    of a how-to question, else a short opening line (an issue title, a subject), else None (the ask
    is counted but joins no group: a group named "fix" or "way" tells a PM nothing)."""
    if phrase and names_capability(phrase):
        return phrase
    sentences = split_sentences((text or "").replace("’", "'"))
    candidates = [_howto_object(sentences)]
    # Only a real title line (a subject, an issue title: a first line with more text below it).
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    while lines and GREETING.match(lines[0]) and len(lines[0].split()) <= 3:   # "Hello," "Hi team,"
        lines = lines[1:]
    opening = lines[0] if len(lines) > 1 else ""
    if opening and not GREETING.match(opening) and len(opening.split()) <= MAX_TITLE_WORDS \
            and not opening.endswith(("?", "!")):
        candidates.append(normalise_phrase(opening))
    for candidate in candidates:
        if candidate and names_capability(candidate) and not BUG_OBJECT.search(candidate):
            return candidate
    return None


GREETING = re.compile(r"^\s*(?:hi|hello|hey|dear|good\s+(?:morning|afternoon|evening)|thanks|thank\s+you|greetings)\b",
                      re.IGNORECASE)
MAX_TITLE_WORDS = 10   # a longer opening sentence is a story, not a title


def names_capability(phrase: str, rules: RequestRules = RULES) -> bool:
    """Whether a phrase can name a request group: not "fix", "way", "set", "this sorted first"."""
    words = phrase.lower().split()
    if not words or phrase.lower() in rules.unnamed or rules.unnamed_start.search(phrase):
        return False
    content = [w for w in words if w not in SLUG_STOPWORDS and w not in rules.unnamed]
    return bool(content) and any(len(w) > 2 for w in content)


def _question_answered_no(sentences: Sequence[str]) -> RequestResult:
    for index, sentence in enumerate(sentences):
        match = QUESTION_OBJECT.search(sentence)
        if match and any(ANSWER_IS_NO.search(s) for s in sentences[index + 1:index + 3]):
            raw = match.group("obj")
            phrase = normalise_phrase(raw)
            if phrase and not WEAK_OBJECT.match(phrase) and not SERVICE_OBJECT.search(raw.lstrip()):
                return RequestResult(True, phrase, "is there a way (no)")
    return NO_REQUEST


def _howto_object(sentences: Sequence[str]) -> str | None:
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


def slugify(phrase: str) -> str:
    """A URL-safe id from a phrase: "bulk edit of deals" -> "bulk-edit-deals"."""
    ascii_text = unicodedata.normalize("NFKD", phrase or "").encode("ascii", "ignore").decode().lower()
    words = re.findall(r"[a-z0-9]+", ascii_text)
    kept = [w for w in words if w not in SLUG_STOPWORDS] or words
    slug = ""
    for word in kept:
        candidate = f"{slug}-{word}" if slug else word
        if len(candidate) > SLUG_MAX:
            break
        slug = candidate
    return slug or (kept[0][:SLUG_MAX] if kept else "request")


def group_requests(phrases: Sequence[str], vectors: np.ndarray,
                   existing: Sequence[tuple[str, str, np.ndarray]] = (), threshold: float = 0.72,
                   ) -> tuple[list[str], list[tuple[str, str, np.ndarray]]]:
    """Assign each phrase to a request group.

    A phrase joins the most similar existing group when their cosine is >= `threshold`; the
    rest are clustered among themselves (average linkage, cut at cosine distance
    1 - threshold, over the phrases in sorted order so input order does not matter). A new
    group's id is the slug of its most central phrase, made unique; its centroid is the
    normalised mean of its members.

    Returns:
        (group id per phrase, new groups as (group_id, label, centroid)).

    Raises:
        ValueError: `vectors` does not have one row per phrase.
    """
    n = len(phrases)
    given = np.asarray(vectors)
    if n == 0:
        return [], []
    if given.ndim != 2 or given.shape[0] != n:
        raise ValueError(f"group_requests: {n} phrases but vectors has shape {given.shape}")
    dtype = given.dtype if np.issubdtype(given.dtype, np.floating) else np.float64
    unit = _normalise_rows(given.astype(np.float64))
    ids: list[str | None] = [None] * n
    taken = {gid for gid, _, _ in existing}
    # Centroids of another dimension come from an earlier embedding model: they cannot match.
    usable = [(gid, np.asarray(c, dtype=np.float64).ravel()) for gid, _, c in existing]
    usable = [(gid, c) for gid, c in usable if c.shape[0] == unit.shape[1]]
    if usable:
        centroids = _normalise_rows(np.vstack([c for _, c in usable]))
        sims = unit @ centroids.T
        best = sims.argmax(axis=1)
        for i in range(n):
            if sims[i, best[i]] >= threshold:
                ids[i] = usable[best[i]][0]
    rest = sorted((i for i in range(n) if ids[i] is None), key=lambda i: (phrases[i], i))
    created: list[tuple[str, str, np.ndarray]] = []
    for members in _clusters(unit, rest, threshold):
        sims = unit[members] @ unit[members].T
        centrality = sims.sum(axis=1)
        order = sorted(range(len(members)),
                       key=lambda k: (-round(float(centrality[k]), 6), len(phrases[members[k]]), phrases[members[k]]))
        label = phrases[members[order[0]]]
        gid = _unique(slugify(label), taken)
        taken.add(gid)
        centroid = _normalise_rows(unit[members].mean(axis=0, keepdims=True))[0].astype(dtype)
        for i in members:
            ids[i] = gid
        created.append((gid, label, centroid))
    return [gid or "" for gid in ids], created


def _normalise_rows(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return np.divide(matrix, norms, out=np.zeros_like(matrix), where=norms > 0)


def _clusters(unit: np.ndarray, indices: list[int], threshold: float) -> list[list[int]]:
    """Groups of `indices`, ordered by their first member in `indices`."""
    if not indices:
        return []
    if len(indices) == 1:
        return [indices]
    distances = np.clip(1.0 - unit[indices] @ unit[indices].T, 0.0, 2.0)
    condensed = distances[np.triu_indices(len(indices), k=1)]
    labels = fcluster(linkage(condensed, method="average"), t=1.0 - threshold, criterion="distance")
    groups: dict[int, list[int]] = {}
    for position, label in enumerate(labels):
        groups.setdefault(int(label), []).append(indices[position])
    return list(groups.values())


def _unique(slug: str, taken: set[str]) -> str:
    if slug not in taken:
        return slug
    n = 2
    while f"{slug}-{n}" in taken:
        n += 1
    return f"{slug}-{n}"

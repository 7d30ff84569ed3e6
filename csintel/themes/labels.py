"""Name themes: class-based TF-IDF keywords, a short label, and the most central tickets."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, CountVectorizer

from csintel.themes.cluster import canonical_labels, normalize_rows

# Words every support ticket uses whatever its subject: greetings, sign-offs, the vocabulary of
# asking for help. Left in, they top the keywords of every large theme.
SUPPORT_BOILERPLATE = frozenset(
    """
    hi hello hey dear greetings morning afternoon thanks thank thx ty cheers regards best kind
    sincerely appreciate appreciated please pls kindly team guys folks sorry hope asap urgent
    urgently issue issues problem problems help helping ticket tickets support question
    questions query request requests customer assist assistance advise advice reply response
    able unable trying tried try getting got get just like need needs want wanted know let
    seems still also would could cannot doesn don didn isn won ve ll im ive thing things
    """.split()
)
STOP_WORDS = sorted(ENGLISH_STOP_WORDS | SUPPORT_BOILERPLATE)
# Tokens of two or more word characters with at least one letter: bare numbers (order ids,
# years, counts) say nothing about a theme, and error codes are reported separately.
TOKEN_PATTERN = r"(?u)\b(?=\w*[^\W\d_])\w{2,}\b"
MAX_CANDIDATES = 30  # best-scoring terms considered for the label
MAX_LABEL_PHRASES = 3
MAX_LABEL_WORDS = 5
# A phrase after the first joins the label only if it scores at least this share of the best.
MIN_RELATIVE_SCORE = 0.4
# An error code shared by this share of a theme's tickets is part of its name.
ERROR_SHARE = 0.3
# A phrase names the theme only if this share of its tickets (and at least two) contain it: a
# phrase from a single ticket is that ticket's, not the theme's. With no such phrase the
# keywords are weak and the dominant category names the theme.
MIN_PHRASE_SHARE = 0.2
MIN_PHRASE_TICKETS = 2
REPRESENTATIVES = 3
MAX_PHRASE_WORDS = 4
# A theme's phrase is read from its most central tickets, from their first words (where the
# subject is said): this bounds the cost at a few ms a theme, whatever the window.
PHRASE_DOCS = 200
PHRASE_TOKENS = 150
PHRASE_TOKEN = re.compile(r"[^\W_][\w'-]*")
STOP_SET = frozenset(STOP_WORDS)
UNLABELLED = "Unlabelled theme"


@dataclass(frozen=True)
class ThemeLabel:
    """A theme's name, its top keywords and its most central tickets (row indices)."""

    label: str
    keywords: tuple[str, ...]
    representative: tuple[int, ...]


def label_clusters(
    texts: Sequence[str],
    labels: np.ndarray,
    vectors: np.ndarray,
    categories: Sequence[str | None] | None = None,
    errors: Sequence[Sequence[str]] | None = None,
    top_n: int = 8,
) -> dict[int, ThemeLabel]:
    """Label every cluster from its tickets.

    Keywords are BERTopic's class-based TF-IDF over 1-2 grams (outliers count as one more class,
    so words common everywhere score low); the label joins the best two or three non-redundant
    keywords and appends the dominant error code when at least 30% of the theme shares it.

    Args:
        texts: ticket text per row.
        labels: cluster per row, -1 = unclustered.
        vectors: (N, dim) embeddings, used to pick the representative tickets.
        categories: optional category per row; names a theme whose keywords are weak.
        errors: optional error codes per row (e.g. "HTTP 504").
        top_n: number of keywords to keep per theme.

    Returns:
        Cluster id -> ThemeLabel, for every cluster id >= 0 present in `labels`.
    """
    labels = np.asarray(labels, dtype=np.int64)
    n = len(texts)
    if len(labels) != n or len(vectors) != n:
        raise ValueError("texts, labels and vectors must have one entry per row")
    if any(extra is not None and len(extra) != n for extra in (categories, errors)):
        raise ValueError("categories and errors must have one entry per row")
    clusters = [int(c) for c in np.unique(labels[labels >= 0])]
    if not clusters:
        return {}
    terms, classes, scores = class_tfidf(texts, labels)
    class_row = {int(c): i for i, c in enumerate(classes)}
    x = normalize_rows(vectors)
    out: dict[int, ThemeLabel] = {}
    for c in clusters:
        rows = np.flatnonzero(labels == c)
        ranked = _ranked_terms(terms, scores[class_row[c]])
        error = _dominant_error(errors, rows)
        avoid = _words(error.lower()) if error else frozenset()
        phrase = _best_phrase(ranked, texts, _central_first(x, rows), avoid)
        phrases = [phrase] if phrase else _label_phrases(_common_terms(ranked, texts, rows), avoid)
        category = None if phrases else _dominant_category(categories, rows)
        if not phrases and not category:
            phrases = _label_phrases(ranked, avoid)[:1]
        out[c] = ThemeLabel(
            label=_compose(_cased(phrases, texts, rows), category, error),
            keywords=tuple(term for term, _ in ranked[:top_n]),
            representative=_central_rows(x, rows),
        )
    return _unique_labels(out, texts, labels)


def _unique_labels(named: dict[int, ThemeLabel], texts: Sequence[str], labels: np.ndarray) -> dict[int, ThemeLabel]:
    """Give every theme a label no other theme has: a reader cannot tell two "Card" themes apart.

    Each theme that shares its label gets its own best keyword the label does not yet say
    ("Card: declined", "Card: delivery"); a theme with none left is numbered by size. The
    largest theme keeps a shared label unchanged, so names are stable and deterministic.
    """
    by_label: dict[str, list[int]] = {}
    for c in sorted(named):
        by_label.setdefault(named[c].label, []).append(c)
    taken = {label for label, group in by_label.items() if len(group) == 1}
    out = dict(named)
    for label, group in sorted(by_label.items()):
        if len(group) == 1:
            continue
        said = _words(label.lower())
        for rank, c in enumerate(sorted(group, key=lambda c: (-int(np.sum(labels == c)), c))):
            name = label
            if rank:
                extra = next((k for k in named[c].keywords if not _words(k) <= said
                              and f"{label}: {k}" not in taken), None)
                rows = np.flatnonzero(labels == c)
                name = f"{label}: {_cased([extra], texts, rows)[0]}" if extra else label
                n = 2
                while name in taken:
                    name, n = f"{label} ({n})", n + 1
            taken.add(name)
            out[c] = ThemeLabel(name, named[c].keywords, named[c].representative)
    return out


def class_tfidf(
    texts: Sequence[str], labels: np.ndarray
) -> tuple[np.ndarray, np.ndarray, sparse.csr_matrix]:
    """BERTopic's c-TF-IDF: L1-normalised term counts per class times log(1 + A / f_term).

    A is the average number of words per class and f_term the term's count over all classes.

    Returns:
        The vocabulary (1-2 grams), the class labels (sorted, including -1) and a sparse
        (classes, terms) matrix of scores.
    """
    labels = np.asarray(labels, dtype=np.int64)
    classes, index = np.unique(labels, return_inverse=True)
    vectorizer = CountVectorizer(
        ngram_range=(1, 2), stop_words=STOP_WORDS, token_pattern=TOKEN_PATTERN, lowercase=True
    )
    try:
        counts = vectorizer.fit_transform(texts)
    except ValueError:  # nothing but stop words: no vocabulary at all
        return np.array([], dtype=object), classes, sparse.csr_matrix((len(classes), 0))
    onehot = sparse.csr_matrix(
        (np.ones(len(labels)), (index, np.arange(len(labels)))), shape=(len(classes), len(labels))
    )
    # Sparse throughout: a 1-2 gram vocabulary of a large window runs to millions of terms.
    per_class = sparse.csr_matrix(onehot @ counts, dtype=np.float64)
    words_per_class = np.asarray(per_class.sum(axis=1)).ravel()
    tf = sparse.diags(1.0 / np.maximum(words_per_class, 1.0)) @ per_class
    average_words = words_per_class.sum() / len(classes)
    term_counts = np.asarray(per_class.sum(axis=0)).ravel()
    idf = np.log(1.0 + average_words / np.maximum(term_counts, 1.0))
    return vectorizer.get_feature_names_out(), classes, sparse.csr_matrix(tf.multiply(idf))


def merge_near_duplicates(
    centroids: np.ndarray, labels: np.ndarray, threshold: float = 0.92
) -> np.ndarray:
    """Fuse clusters whose centroids are near-identical.

    Clusters linked by a chain of pairs with cosine >= threshold become one (union-find), which
    takes the lowest id of the group before everything is renumbered canonically (largest
    first, ties by smallest member row).

    Args:
        centroids: (k, dim) centroids; row i = cluster i.
        labels: cluster per row, -1 = unclustered.
        threshold: cosine at or above which two clusters are the same theme.

    Returns:
        New labels per row; recompute centroids from them.
    """
    labels = np.asarray(labels, dtype=np.int64)
    k = len(centroids)
    if labels.size and labels.max() >= k:
        raise ValueError(f"labels reach {labels.max()} but only {k} centroids were given")
    parent = list(range(k))

    def root(i: int) -> int:
        while parent[i] != i:
            i = parent[i]
        return i

    if k:
        c = normalize_rows(centroids)
        sims = c @ c.T
        for i, j in zip(*np.nonzero(np.triu(sims >= threshold, k=1))):
            a, b = root(int(i)), root(int(j))
            parent[max(a, b)] = min(a, b)
    mapping = np.array([root(i) for i in range(k)] + [-1], dtype=np.int64)
    return canonical_labels(mapping[labels])  # index -1 picks the trailing -1


def _best_phrase(ranked: list[tuple[str, float]], texts: Sequence[str], rows: np.ndarray,
                 avoid: frozenset[str]) -> str | None:
    """The phrase a person would name the theme by: the contiguous 2-4 words, as the tickets
    write them, that most of the theme shares and that its distinctive terms make up.

    Candidates come from up to PHRASE_DOCS of the most central tickets; a phrase must not start
    or end with a stop word ("export to CSV" yes, "to CSV" no), must occur in MIN_PHRASE_SHARE
    of them (and at least two), and scores its share times the c-TF-IDF of the terms it holds
    (unigrams and the bigrams of its content words). Ties go to the longer, then alphabetical.
    """
    weight = dict(ranked[:MAX_CANDIDATES])
    docs = rows[:PHRASE_DOCS]
    counts: Counter[tuple[str, ...]] = Counter()
    for r in docs:
        tokens = PHRASE_TOKEN.findall(texts[r].lower())[:PHRASE_TOKENS]
        seen = set()
        for n in range(2, MAX_PHRASE_WORDS + 1):
            for i in range(len(tokens) - n + 1):
                gram = tuple(tokens[i:i + n])
                if gram[0] not in STOP_SET and gram[-1] not in STOP_SET:
                    seen.add(gram)
        counts.update(seen)
    need = max(min(MIN_PHRASE_TICKETS, len(docs)), MIN_PHRASE_SHARE * len(docs))
    best: tuple[float, int, tuple[str, ...]] | None = None
    for gram, df in counts.items():
        if df < need:
            continue
        content = [t for t in gram if t not in STOP_SET]
        if set(content) <= avoid:
            continue
        score = sum(weight.get(t, 0.0) for t in content) + sum(
            weight.get(f"{a} {b}", 0.0) for a, b in zip(content, content[1:]))
        if score <= 0:
            continue
        key = (-score * df / len(docs), -len(gram), gram)
        if best is None or key < best:
            best = key
    return " ".join(best[2]) if best else None


def _central_first(x: np.ndarray, rows: np.ndarray) -> np.ndarray:
    centroid = normalize_rows(x[rows].mean(axis=0, keepdims=True))[0]
    return rows[np.lexsort((rows, -(x[rows] @ centroid)))]


def _ranked_terms(terms: np.ndarray, scores: sparse.csr_matrix) -> list[tuple[str, float]]:
    positive = [(str(terms[i]), float(v)) for i, v in zip(scores.indices, scores.data) if v > 0]
    # Ties go to the alphabetically first term so labels never depend on vocabulary order.
    return sorted(positive, key=lambda kv: (-kv[1], kv[0]))


def _label_phrases(ranked: list[tuple[str, float]], avoid: frozenset[str]) -> list[str]:
    chosen: list[str] = []
    if not ranked:
        return chosen
    best = ranked[0][1]
    for term, score in ranked:
        if len(chosen) >= MAX_LABEL_PHRASES or (chosen and score < MIN_RELATIVE_SCORE * best):
            break
        words = frozenset(term.split())
        if words <= avoid:  # already said by the error code
            continue
        # A phrase that contains chosen ones replaces them ("export" -> "csv export"); one that
        # would repeat a word of another chosen phrase ("export csv") adds nothing.
        subsumed = [p for p in chosen if frozenset(p.split()) < words]
        kept = [p for p in chosen if p not in subsumed]
        if words & {w for p in kept for w in p.split()}:
            continue
        if sum(len(p.split()) for p in kept) + len(words) > MAX_LABEL_WORDS:
            continue
        at = chosen.index(subsumed[0]) if subsumed else len(chosen)
        chosen = [p for p in chosen[:at] if p not in subsumed] + [term] + [
            p for p in chosen[at:] if p not in subsumed
        ]
    return chosen


def _words(text: str) -> frozenset[str]:
    return frozenset(re.findall(r"\w+", text))


def _common_terms(
    ranked: list[tuple[str, float]], texts: Sequence[str], rows: np.ndarray
) -> list[tuple[str, float]]:
    need = max(min(MIN_PHRASE_TICKETS, len(rows)), MIN_PHRASE_SHARE * len(rows))
    docs = [_words(texts[r].lower()) for r in rows]
    # All the phrase's words in a ticket count: bigrams skip stop words, so not always adjacent.
    return [
        (term, score)
        for term, score in ranked[:MAX_CANDIDATES]
        if sum(frozenset(term.split()) <= d for d in docs) >= need
    ]


def _dominant_error(errors: Sequence[Sequence[str]] | None, rows: np.ndarray) -> str | None:
    if errors is None:
        return None
    counts = Counter(code for r in rows for code in set(errors[r]) if code)
    if not counts:
        return None
    code, count = min(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return code if count >= ERROR_SHARE * len(rows) else None


def _dominant_category(categories: Sequence[str | None] | None, rows: np.ndarray) -> str | None:
    if categories is None:
        return None
    counts = Counter(categories[r] for r in rows if categories[r])
    if not counts:
        return None
    name = min(counts.items(), key=lambda kv: (-kv[1], kv[0]))[0]
    text = re.sub(r"[_\-]+", " ", str(name)).strip()
    return text[:1].upper() + text[1:]


def _cased(phrases: list[str], texts: Sequence[str], rows: np.ndarray) -> list[str]:
    """Write each word as the theme's tickets mostly write it ("csv" -> "CSV")."""
    wanted = {w for p in phrases for w in p.split()}
    forms: dict[str, Counter[str]] = {w: Counter() for w in wanted}
    for r in rows:
        for token in re.findall(r"\w+", texts[r]):
            if token.lower() in forms:
                forms[token.lower()][token] += 1

    def spell(word: str) -> str:
        if not forms[word]:
            return word
        # Ties prefer the plain lower-case form, then the alphabetically first.
        return min(forms[word].items(), key=lambda kv: (-kv[1], kv[0] != word, kv[0]))[0]

    return [" ".join(spell(w) for w in p.split()) for p in phrases]


def _compose(phrases: list[str], category: str | None, error: str | None) -> str:
    text = ", ".join(phrases)
    if category:
        text = f"{category}: {text}" if text else category
    if text and text[0].islower() and text.split()[0].islower():
        text = text[0].upper() + text[1:]
    if error:
        text = f"{text} ({error})" if text else error
    return text or UNLABELLED


def _central_rows(x: np.ndarray, rows: np.ndarray) -> tuple[int, ...]:
    centroid = normalize_rows(x[rows].mean(axis=0, keepdims=True))[0]
    sims = x[rows] @ centroid
    order = np.lexsort((rows, -sims))  # most central first, ties by row index
    return tuple(int(r) for r in rows[order[:REPRESENTATIVES]])

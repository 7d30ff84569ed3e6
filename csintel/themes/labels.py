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
from csintel.themes.phrases import CONTRACTIONS, SUBJECT_WORDS, Phrase, stem, theme_phrases

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
# An error code shared by this share of a theme's tickets is part of its name.
ERROR_SHARE = 0.3
REPRESENTATIVES = 3
STOP_SET = frozenset(STOP_WORDS)
# Words a label phrase may not start or end with: the keywords' stop words, less the few that
# name a support subject ("top up", "pay the bill"), plus contractions ("didn't") and the verbs
# and adverbs that end a clause fragment, never a subject ("account does", "way to let").
PHRASE_STOP = (STOP_SET - SUBJECT_WORDS) | CONTRACTIONS | frozenset(
    "do does did doing done way let say says said right away anymore whether take takes took seem seems vs versus via "
    "etc".split())
# Acronyms written as such in a label however the tickets type them ("my pin is blocked").
ACRONYMS = {w.lower(): w for w in """
    PIN ATM API SSO SAML iOS IBAN SWIFT SEPA CSV PDF URL SMS OTP VPN DNS SSL TLS HTTP HTTPS CRM
    ERP SDK UI UX iPhone iPad macOS eSIM USB GPS FAQ ETA PTO IRS HR TV USD EUR GBP
    """.split()}
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
    so words common everywhere score low). The label is a phrase the theme's central tickets say
    (`csintel.themes.phrases`: scored on coverage and distinctiveness, chosen by MMR on the
    embeddings), unique across themes, with the dominant error code appended when at least 30%
    of the theme shares it; a theme with no such phrase is named by its dominant category, else
    by its best keyword.

    Args:
        texts: ticket text per row.
        labels: cluster per row, -1 = unclustered.
        vectors: (N, dim) embeddings: the representative tickets and the phrases' MMR.
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
    order = {c: _central_first(x, np.flatnonzero(labels == c)) for c in clusters}
    error = {c: _dominant_error(errors, order[c]) for c in clusters}
    avoid = {c: _words(e.lower()) for c, e in error.items() if e}
    phrase = _first_free(theme_phrases(texts, labels, x, order, PHRASE_STOP, avoid), labels)
    out: dict[int, ThemeLabel] = {}
    for c in clusters:
        rows = order[c]
        ranked = _ranked_terms(terms, scores[class_row[c]])
        said = phrase[c]
        category = None if said else _dominant_category(categories, rows)
        # No phrase and no category: the best keyword the error code does not already say.
        words = [said] if said else [] if category else [
            t for t, _ in ranked if not _words(t) <= avoid.get(c, frozenset())][:1]
        out[c] = ThemeLabel(
            label=_compose(_cased(words, texts, rows), category, error[c]),
            keywords=tuple(term for term, _ in ranked[:top_n]),
            representative=tuple(int(r) for r in rows[:REPRESENTATIVES]),
        )
    return _unique_labels(out, texts, labels)


def _first_free(candidates: dict[int, list[Phrase]], labels: np.ndarray) -> dict[int, str | None]:
    """One phrase per theme that no other theme has, when the candidates allow it.

    The larger theme (ties: the smaller id) chooses first; a theme whose best phrase is taken
    takes its next one, else its best joined with the first of its others that is free ("card
    declined, contactless"). What stays shared is told apart by `_unique_labels`.
    """
    sizes = np.bincount(labels[labels >= 0]) if (labels >= 0).any() else np.zeros(0, dtype=int)
    taken: set[str] = set()
    out: dict[int, str | None] = {}
    for c in sorted(candidates, key=lambda c: (-int(sizes[c]), c)):
        # Keys, not texts, are compared: "exchange rate" and "exchange rates" are one label.
        phrases = candidates[c]
        options = [(ph.key, ph.text) for ph in phrases] + [
            (f"{phrases[0].key}, {ph.key}", f"{phrases[0].text}, {ph.text}") for ph in phrases[1:]]
        key, out[c] = next((o for o in options if o[0] not in taken), options[0] if options else ("", None))
        taken.add(key)
    return out


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
        said = {stem(w) for w in _words(label.lower())}
        for rank, c in enumerate(sorted(group, key=lambda c: (-int(np.sum(labels == c)), c))):
            name = label
            if rank:
                extra = next((k for k in named[c].keywords if not {stem(w) for w in _words(k)} <= said
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


def _central_first(x: np.ndarray, rows: np.ndarray) -> np.ndarray:
    centroid = normalize_rows(x[rows].mean(axis=0, keepdims=True))[0]
    return rows[np.lexsort((rows, -(x[rows] @ centroid)))]


def _ranked_terms(terms: np.ndarray, scores: sparse.csr_matrix) -> list[tuple[str, float]]:
    positive = [(str(terms[i]), float(v)) for i, v in zip(scores.indices, scores.data) if v > 0]
    # Ties go to the alphabetically first term so labels never depend on vocabulary order.
    return sorted(positive, key=lambda kv: (-kv[1], kv[0]))


def _words(text: str) -> frozenset[str]:
    return frozenset(re.findall(r"\w+", text))


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
    """Write each word as the theme's tickets mostly write it ("csv" -> "CSV"), an acronym as such."""
    wanted = {w for p in phrases for w in re.findall(r"[\w'-]+", p)}
    forms: dict[str, Counter[str]] = {w: Counter() for w in wanted}
    for r in rows:
        for token in re.findall(r"\w+", texts[r]):
            if token.lower() in forms:
                forms[token.lower()][token] += 1

    def spell(word: str) -> str:
        if word in ACRONYMS:
            return ACRONYMS[word]
        if not forms[word] or word in STOP_SET:   # "Our" opens sentences; inside a label it is "our"
            return word
        # Ties prefer the plain lower-case form, then the alphabetically first.
        return min(forms[word].items(), key=lambda kv: (-kv[1], kv[0] != word, kv[0]))[0]

    return [re.sub(r"[\w'-]+", lambda m: spell(m.group()), p) for p in phrases]


def _compose(phrases: list[str], category: str | None, error: str | None) -> str:
    text = ", ".join(phrases)
    if category:
        text = f"{category}: {text}" if text else category
    if text and text[0].islower() and text.split()[0].islower():
        text = text[0].upper() + text[1:]
    if error:
        text = f"{text} ({error})" if text else error
    return text or UNLABELLED



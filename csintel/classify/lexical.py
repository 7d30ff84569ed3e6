"""The lexical view of a ticket: TF-IDF of word 1-2-grams and character 4-grams, stored as plain data.

Frozen sentence embeddings blur the tokens that decide many real tickets: product and error
codes, system names, in-house jargon ("gigaset", "SAP-GUI", "VPN-Token"). A head that reads these
n-grams beside the embedding (csintel.classify.heads) keeps them. The vocabulary and the inverse
document frequencies are kept as arrays (no pickled vectorizer), so a head stays a JSON card
plus an .npz of numbers, and the same texts always give the same features.

The transform is scikit-learn's TfidfVectorizer with `sublinear_tf=True` and L2 norm, done by hand
on top of CountVectorizer with a fixed vocabulary: each block (words, characters) is normalised on
its own, so each has unit length, like the embedding.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any, Sequence

import numpy as np
from scipy import sparse

WORD_NGRAMS = (1, 2)
# Character 4-grams within words only: 2-5-grams cost 4x as much to extract (2.0 s against 0.5 s
# for 600 IT tickets here, where encoding them takes 20-35 s under load), and tagging time matters.
CHAR_NGRAMS = (4, 4)
# Caps keep a head small and tagging fast; the most frequent n-grams are kept.
MAX_WORDS = 20_000
MAX_CHARS = 30_000
# Below this many training texts an n-gram seen once is kept (few-shot); above, it must be seen twice.
MIN_DF_ABOVE = 200


@dataclass(frozen=True)
class Lexicon:
    """A fitted vocabulary with its idf per n-gram: `transform` gives the TF-IDF rows."""

    words: tuple[str, ...]
    word_idf: np.ndarray
    chars: tuple[str, ...]
    char_idf: np.ndarray

    def __len__(self) -> int:
        return len(self.words) + len(self.chars)

    @cached_property
    def _vectorizers(self) -> tuple[Any, Any]:
        from sklearn.feature_extraction.text import CountVectorizer

        return (CountVectorizer(analyzer="word", ngram_range=WORD_NGRAMS, lowercase=True, dtype=np.float64,
                                vocabulary={t: i for i, t in enumerate(self.words)}),
                CountVectorizer(analyzer="char_wb", ngram_range=CHAR_NGRAMS, lowercase=True, dtype=np.float64,
                                vocabulary={t: i for i, t in enumerate(self.chars)}))

    def transform(self, texts: Sequence[str]) -> sparse.csr_matrix:
        """TF-IDF rows (sublinear tf, each block L2-normalised), words then characters."""
        from sklearn.preprocessing import normalize

        blocks = []
        for vectorizer, idf in zip(self._vectorizers, (self.word_idf, self.char_idf)):
            if len(idf) == 0 or len(texts) == 0:
                blocks.append(sparse.csr_matrix((len(texts), len(idf))))
                continue
            counts = vectorizer.transform(list(texts)).tocsr()
            counts.data = 1.0 + np.log(counts.data)
            counts = counts @ sparse.diags(np.asarray(idf, dtype=np.float64))
            blocks.append(normalize(counts, norm="l2", copy=False))
        return sparse.hstack(blocks, format="csr")

    def digest_bytes(self) -> bytes:
        """Everything that changes the features, for a head's version hash."""
        return ("\x1f".join(self.words) + "\x1e" + "\x1f".join(self.chars)).encode() + \
            np.ascontiguousarray(self.word_idf, dtype=np.float32).tobytes() + \
            np.ascontiguousarray(self.char_idf, dtype=np.float32).tobytes()

    def arrays(self) -> dict[str, np.ndarray]:
        """The lexicon as plain arrays for an .npz (unicode, not objects: loads without pickle)."""
        return {"lex_words": np.array(self.words, dtype=str), "lex_word_idf": self.word_idf.astype(np.float32),
                "lex_chars": np.array(self.chars, dtype=str), "lex_char_idf": self.char_idf.astype(np.float32)}

    @staticmethod
    def from_arrays(arrays: Any) -> "Lexicon":
        return Lexicon(tuple(str(t) for t in arrays["lex_words"]), np.asarray(arrays["lex_word_idf"], dtype=np.float64),
                       tuple(str(t) for t in arrays["lex_chars"]), np.asarray(arrays["lex_char_idf"], dtype=np.float64))


def fit_lexicon(texts: Sequence[str]) -> Lexicon:
    """Learn the vocabulary and idf of word and character n-grams from training texts."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    min_df = 2 if len(texts) >= MIN_DF_ABOVE else 1
    parts = []
    for analyzer, ngrams, cap in (("word", WORD_NGRAMS, MAX_WORDS), ("char_wb", CHAR_NGRAMS, MAX_CHARS)):
        vectorizer = TfidfVectorizer(analyzer=analyzer, ngram_range=ngrams, lowercase=True, sublinear_tf=True,
                                     min_df=min_df, max_features=cap)
        try:
            vectorizer.fit(list(texts))
        except ValueError:   # nothing survives min_df (e.g. texts with no words at all)
            parts.append(((), np.zeros(0)))
            continue
        order = sorted(vectorizer.vocabulary_.items(), key=lambda kv: kv[1])
        parts.append((tuple(t for t, _ in order), np.asarray(vectorizer.idf_, dtype=np.float64)))
    (words, word_idf), (chars, char_idf) = parts
    return Lexicon(words, word_idf, chars, char_idf)

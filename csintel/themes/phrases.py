"""Label phrases a product manager would write, mined from a theme's most central tickets.

A label is a short phrase the tickets themselves say ("Card payment declined", "Lost my luggage",
"Outlook calendar events stopped syncing"), not a keyword list. No tagger is needed (none is
packaged offline; spaCy's blank English model has none either, and its tokenizer splits "can't"):
a phrase is a run of up to five words (spanning at most five, light words included) inside one
clause of a ticket, which ends at subject pronouns and auxiliaries ("the money *I* sent", "how long
*do* transfers take"), has no stop word at either edge (except a verb's particle: "top up", "log
in"), says no word twice, and is not cut at its longest before a subject word ("charge for
exchanging foreign" + "currency"). Phrases are counted by a key that drops the light words and
folds inflections and negations ("my card isn't working" = "card not working"), and written the
tersest way more than one ticket says them, verbatim ("card payment declined" over "card payment
has been declined"), so a label is never cut mid-word and a reader can find it in the tickets.

Each candidate is scored like BERTopic's c-TF-IDF, but over tickets rather than words:
    coverage (share of the theme's tickets that say it) x log(1 + 1 / sum of its coverage in
    every class), where the unclustered tickets are one more class,
so a phrase every theme says ("my card") scores low. Each specific word (rare in English, by
wordfreq) beyond the first makes a phrase worth more, and a longer phrase absorbs a shorter one it
contains when most tickets that say the short one say the long one.
The best candidates are then ordered by maximal marginal relevance on the embeddings: a phrase's
vector is the mean of the vectors of the theme's tickets that say it (the embedder the themes
were built with, at no extra encoding), its relevance the score weighed by its cosine to the
theme's centroid, its redundancy the cosine to the phrases already chosen. The first is the
label, unless it is one word: then it takes the commonest longer phrase containing it that
EXTEND_SHARE of its tickets say, even one below MIN_SHARE of the theme whose other words name the
theme ("PIN" -> "Change my PIN", "Message" -> "Error message"), failing that one that starts with a
verb or modifier the stop list holds or ends with an object pronoun ("Next holiday", "Get paid",
"Call me"); one word stays only where the tickets share nothing longer. The others are the
alternatives a theme takes when a larger theme already has its label.
Everything is ordered by score, then by text, so the same tickets always give the same phrases.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from csintel.themes.cluster import normalize_rows

# Words that carry no subject between a phrase's words: determiners, possessives, auxiliaries.
# Dropped before phrases are formed, so "my card was declined" says "card declined".
LIGHT_WORDS = frozenset(
    """
    a an the my your our their his her its this that these those some any is was were are am be
    been being has have had got gets getting just really very still already again also
    """.split()
)
# Words scikit-learn's English stop list holds that name a support subject ("top up", "pay the
# bill", "make a call", "card is empty"): a phrase may start or end with them.
SUBJECT_WORDS = frozenset("top call bill fill find show empty full first last back move fire interest".split())
# Contractions are function words: inside a phrase ("transfer didn't work"), never at its edge.
CONTRACTIONS = frozenset(
    """
    i'm i've i'd i'll you're you've it's that's there's what's let's he's she's we're they're
    don't doesn't didn't can't won't isn't wasn't aren't weren't haven't hasn't hadn't couldn't
    wouldn't shouldn't
    """.split()
)
# Said the same way as "not" when phrases are counted: "card isn't working" and "card not working"
# are one phrase.
NEGATIONS = frozenset("not no never don't doesn't didn't can't cannot won't isn't wasn't aren't weren't "
                      "haven't hasn't hadn't couldn't wouldn't".split())
# A phrasal verb's particle may end a phrase after a content word ("top up", "cash out"); "in"
# only after the verbs that take it, or "speak in" would name a theme.
PARTICLES = frozenset("up out off down".split())
VERBS_IN = frozenset("log logged logging sign signed signing check checked checking".split())
# Phrase boundaries: a phrase never spans a sentence, a comma, brackets or a dash.
CLAUSE = re.compile(r"[.!?;:,()\[\]{}\"“”\n]+|\s[-–—]+\s")
TOKEN = re.compile(r"[^\W_][\w'’-]*")
HAS_LETTER = re.compile(r"[^\W\d_]")
MAX_WORDS = 5
MAX_SPAN = 5             # words a phrase spans in the ticket, light words included
# Subject pronouns and auxiliaries end a phrase: "setting i'm missing" and "long do transfers"
# are two fragments glued, not a subject.
BREAKERS = frozenset("""
    i me we us you he she they i'm i've i'd i'll we're we've we'd we'll you're you've you'd you'll
    they're they've they'd he's she's do does did can could will would should shall may might must
    """.split())
# Tickets mined per class (the most central first) and words read per ticket: the subject is said
# early (a subject line, the first sentence; later sentences are context that a templated or
# chatty theme repeats), and this bounds the cost at a few ms a theme whatever the window.
DOCS_PER_CLASS = 200
TOKENS_PER_DOC = 30
# A phrase names a theme only if this share of its mined tickets (and at least two) say it. 8%
# (not 10% or more) on the development sets of benchmarks/bench_theme_labels.py: fewer one-word
# labels at the same relevance; 5% let phrases of a few tickets in ("Thier own deals").
MIN_SHARE = 0.08
MIN_TICKETS = 2
LONGER_BONUS = 0.5       # per specific word beyond the first
# A word rarer than this in English (wordfreq's Zipf scale: "card" 5.0, "call" 5.6, "way" 6.01) is specific:
# only such words make a longer phrase worth more ("Dashboard widgets empty", not "Way to let user").
SPECIFIC_ZIPF = 5.5
ABSORB_SHARE = 0.6       # a longer phrase said by this share of the shorter one's tickets absorbs it
# A one-word phrase gives way to the commonest longer phrase that contains it and is said by
# this share of its tickets (at least MIN_TICKETS). Chosen on the development sets of
# benchmarks/bench_theme_labels.py among 0.05, 0.1, 0.15, 0.2 and 0.3: the lowest gave the fewest
# one-word labels at no loss of relevance (0.1 was the rule while a longer phrase had to reach
# MIN_SHARE of the theme itself).
EXTEND_SHARE = 0.05
# Stop words a one-word label's longer phrase may start with (a verb or modifier: "get a refund",
# "next holiday") or end with (an object: "call me", "repeat that", "cancel it"); tried only when no
# phrase by the usual rules contains the word, so "report a lost card" beats "report it".
EXTEND_LEAD = frozenset("get next".split())
EXTEND_TAIL = frozenset("me it that".split())
CANDIDATES = 12          # best-scoring phrases ordered by MMR
ALTERNATIVES = 4         # phrases kept per theme: the label and what it falls back to
MMR_LAMBDA = 0.7


@dataclass(frozen=True)
class Phrase:
    """A candidate label: its words (lower case, as the theme's tickets say its key), score, ticket
    share and counting key (`doc_phrases`)."""

    text: str
    score: float
    share: float
    key: str


def clauses(text: str, keep: frozenset[str] = frozenset()) -> list[tuple[list[str], list[int]]]:
    """The text's clauses: each clause's lower-case tokens and the positions of those that are not
    light words (the words phrases are counted by); words in `keep` neither cut a clause nor are
    light."""
    out = []
    budget = TOKENS_PER_DOC
    for part in CLAUSE.split(text.lower().replace("’", "'")):
        for piece in _pieces(TOKEN.findall(part), keep):
            content = [i for i, t in enumerate(piece) if t not in LIGHT_WORDS or t in keep][:budget]
            budget -= len(content)
            if content:
                out.append((piece, content))
            if budget <= 0:
                return out
    return out


def _pieces(tokens: list[str], keep: frozenset[str] = frozenset()) -> list[list[str]]:
    """A clause cut at its subject pronouns and auxiliaries: "money i sent" and "long do transfers"
    are no phrases, "money" and "sent" are."""
    out: list[list[str]] = [[]]
    for t in tokens:
        if t in BREAKERS and t not in keep:
            out.append([])
        else:
            out[-1].append(t)
    return [p for p in out if p]


def doc_phrases(text: str, stop: frozenset[str], lead: frozenset[str] = frozenset(),
                tail: frozenset[str] = frozenset()) -> dict[str, str]:
    """Every phrase of 1-5 words a ticket says: its `phrase_key` -> the words as the ticket says
    them (light words between them included, so a label is said verbatim by a ticket).

    A phrase of two or more words may also start with a word in `lead` and end with one in `tail`
    (`EXTEND_LEAD`, `EXTEND_TAIL`: "get a refund", "call me"), stop words or not.
    """
    found = {}
    for words, content in clauses(text, tail):
        tokens = [words[p] for p in content]
        for i, first in enumerate(tokens):
            if (first in stop and first not in lead) or first in tail or not HAS_LETTER.search(first):
                continue
            for n in range(1 + (first in stop), min(MAX_WORDS, len(tokens) - i) + 1):
                last = tokens[i + n - 1]
                span = content[i + n - 1] - content[i] + 1
                if span > MAX_SPAN:
                    break
                # A phrase at its longest that the ticket goes on after with a subject word is cut
                # mid-phrase ("charge for exchanging foreign" + "currency"): no candidate.
                cut = i + n < len(tokens) and tokens[i + n] not in stop \
                    and (n == MAX_WORDS or content[i + n] - content[i] + 1 > MAX_SPAN)
                if (last not in stop or (n > 1 and (_particle(last, tokens[i + n - 2], stop) or last in tail))) \
                        and not cut and last not in lead \
                        and HAS_LETTER.search(last) and len(set(tokens[i:i + n])) == n:
                    key = " ".join(stem(w) for w in tokens[i:i + n])
                    found[key] = " ".join(words[content[i]:content[i + n - 1] + 1])
    return found


def stem(word: str) -> str:
    """A word's counting key: inflections and negations fold ("isn't working", "doesn't work")."""
    if word in NEGATIONS:
        return "not"
    for suffix in ("ing", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3 and not word.endswith("ss"):
            word = word[:-len(suffix)]
            break
    if len(word) >= 4 and word[-1] == word[-2]:   # "cancelled" -> "cancel", "stopped" -> "stop"
        word = word[:-1]
    return word.rstrip("e") or word


def _particle(word: str, before: str, stop: frozenset[str]) -> bool:
    return before not in stop and (word in PARTICLES or (word == "in" and before in VERBS_IN))


def mined_rows(labels: np.ndarray, order: dict[int, np.ndarray]) -> dict[int, np.ndarray]:
    """The rows mined per class: each theme's most central (`order`), an even spread of the rest."""
    out = {c: rows[:DOCS_PER_CLASS] for c, rows in order.items()}
    rest = np.flatnonzero(labels < 0)
    if len(rest):
        step = max(1, len(rest) // DOCS_PER_CLASS)
        out[-1] = rest[::step][:DOCS_PER_CLASS]
    return out


def theme_phrases(texts: Sequence[str], labels: np.ndarray, x: np.ndarray, order: dict[int, np.ndarray],
                  stop: frozenset[str], avoid: dict[int, frozenset[str]] | None = None) -> dict[int, list[Phrase]]:
    """Candidate labels per theme, best first (see the module docstring).

    Args:
        texts: the model text per row.
        labels: cluster per row, -1 = unclustered.
        x: unit-length embeddings per row.
        order: per theme id, its rows most central first.
        stop: words a phrase may not start or end with.
        avoid: per theme, words already said elsewhere in its name (an error code): a phrase of
            only those words is no candidate.

    Returns:
        Theme id -> up to ALTERNATIVES phrases (possibly none).
    """
    mined = mined_rows(labels, order)
    said = {c: [doc_phrases(texts[r], stop) for r in rows] for c, rows in mined.items()}
    counts: dict[int, Counter[str]] = {}
    total: dict[str, float] = {}   # a phrase's coverage summed over every class
    for c, docs in said.items():
        counts[c] = Counter(key for d in docs for key in d)
        for key, k in counts[c].items():
            total[key] = total.get(key, 0.0) + k / len(docs)
    out = {}
    for c in order:
        docs = said[c]
        need = max(min(MIN_TICKETS, len(docs)), MIN_SHARE * len(docs))
        words = (avoid or {}).get(c, frozenset())
        eligible = {key: k for key, k in counts[c].items() if k >= need}
        written = _written(docs, {key for key in eligible if key not in _absorbed(eligible)})
        scored = [ph for ph in (_phrase(key, text, eligible[key] / len(docs), total[key], stop, words)
                                for key, text in written.items()) if ph]
        scored.sort(key=lambda ph: (-ph.score, ph.text))
        chosen = _mmr(scored[:CANDIDATES], docs, x[mined[c]], stop)
        out[c] = _extended(chosen, [texts[r] for r in mined[c]], docs, total, stop, words)
    return out


def _written(docs: list[dict[str, str]], keys: set[str]) -> dict[str, str]:
    """Each key written as its tickets write it: the tersest form that more than one ticket says
    ("card payment declined" over "card payment has been declined"), ties by count, then
    alphabetically."""
    forms = Counter((key, form) for d in docs for key, form in d.items() if key in keys)
    written: dict[str, str] = {}
    for (key, form), _ in sorted(forms.items(), key=lambda kv: (kv[1] < MIN_TICKETS, len(kv[0][1].split()),
                                                                 -kv[1], kv[0][1])):
        written.setdefault(key, form)
    return written


def _phrase(key: str, text: str, share: float, total: float, stop: frozenset[str],
            avoid: frozenset[str]) -> Phrase | None:
    """The candidate's score: coverage x distinctiveness, more for each specific word beyond the
    first; None for a phrase of stop words only or of words the name already says."""
    said_words = set(text.split())
    if said_words <= avoid or said_words <= stop:
        return None
    specific = sum(w not in stop and w not in LIGHT_WORDS and _zipf(w) < SPECIFIC_ZIPF for w in text.split())
    score = share * math.log1p(1.0 / total) * (1.0 + LONGER_BONUS * max(0, specific - 1))
    return Phrase(text, score, share, key)


def _extended(chosen: list[Phrase], texts: list[str], docs: list[dict[str, str]], total: dict[str, float],
              stop: frozenset[str], avoid: frozenset[str]) -> list[Phrase]:
    """A one-word label gives way to a phrase of more words: one word names a subject, not what is
    wrong with it ("Message" -> "Error message").

    The longer phrase is the commonest that contains the word and that EXTEND_SHARE of the word's
    tickets (at least MIN_TICKETS) say, even below MIN_SHARE of the theme: the word already names
    the theme, the phrase says what about it. Phrases by the usual rules come first ("PIN" ->
    "Change my PIN"); failing those, one that starts with a word of EXTEND_LEAD or ends with one of
    EXTEND_TAIL ("Next holiday", "Call me").
    """
    if not chosen or " " in chosen[0].key:
        return chosen
    word = chosen[0]
    longer = _containing(word.key, docs, total, stop, avoid) or _containing(
        word.key, [{**doc_phrases(t, stop, EXTEND_LEAD, EXTEND_TAIL), **d} for t, d in zip(texts, docs)],
        total, stop, avoid)
    if not longer:
        return chosen
    best = min(longer, key=lambda ph: (-ph.share, -ph.score, ph.text))
    return [best, *(ph for ph in chosen if ph.key != best.key)]


def _containing(word: str, docs: list[dict[str, str]], total: dict[str, float], stop: frozenset[str],
                avoid: frozenset[str]) -> list[Phrase]:
    """The phrases of more words that contain `word` and EXTEND_SHARE of its tickets say (see
    `_extended`), less those a longer one absorbs."""
    counts = Counter(key for d in docs for key in d)
    need = max(MIN_TICKETS, EXTEND_SHARE * counts[word])
    theme = max(MIN_TICKETS, MIN_SHARE * len(docs))
    light = {stem(w) for w in stop}
    # Below MIN_SHARE of the theme, the phrase's other words must each name the theme (MIN_SHARE of
    # its tickets say them): "error message", not one customer's "call mark".
    pool = {key: k for key, k in counts.items() if k >= need and key != word and word in key.split()
            and (k >= theme or all(counts[w] >= theme for w in key.split() if w not in light))}
    pool = {key: k for key, k in pool.items() if key not in _absorbed(pool)}
    # A phrase no other theme's tickets were counted for is scored as said by this theme alone.
    return [ph for ph in (_phrase(key, text, pool[key] / len(docs), total.get(key, pool[key] / len(docs)), stop, avoid)
                          for key, text in _written(docs, set(pool)).items()) if ph]


@lru_cache(maxsize=65536)
def _zipf(word: str) -> float:
    from wordfreq import zipf_frequency   # imported on first use: it costs ~0.4 s

    return float(zipf_frequency(word, "en"))


def _absorbed(eligible: dict[str, int]) -> set[str]:
    """The phrases a longer eligible phrase says in most of the tickets that say them."""
    out = set()
    for longer, k in eligible.items():
        words = longer.split()
        for n in range(1, len(words)):
            for i in range(len(words) - n + 1):
                part = " ".join(words[i:i + n])
                if part in eligible and k >= ABSORB_SHARE * eligible[part]:
                    out.add(part)
    return out


def _mmr(candidates: list[Phrase], docs: list[dict[str, str]], x: np.ndarray, stop: frozenset[str]) -> list[Phrase]:
    """Order candidates by maximal marginal relevance to the theme's centroid."""
    if not candidates:
        return []
    centroid = normalize_rows(x.mean(axis=0, keepdims=True))[0]
    vectors = normalize_rows(np.stack([x[[i for i, d in enumerate(docs) if ph.key in d]].mean(axis=0)
                                       for ph in candidates]))
    best = max(ph.score for ph in candidates)
    # The score says how well the phrase names the theme, the cosine whether the tickets that say it
    # are its centre rather than an edge; the score leads.
    relevance = np.array([ph.score / best for ph in candidates]) * (0.5 + 0.5 * np.clip(vectors @ centroid, 0.0, 1.0))
    chosen: list[int] = []
    left = list(range(len(candidates)))
    while left and len(chosen) < ALTERNATIVES:
        def gain(i: int) -> tuple[float, str]:
            redundancy = max((float(vectors[i] @ vectors[j]) for j in chosen), default=0.0)
            return (-(MMR_LAMBDA * relevance[i] - (1 - MMR_LAMBDA) * redundancy), candidates[i].text)

        pick = min(left, key=gain)
        left.remove(pick)
        content = {w for w in candidates[pick].text.split() if w not in stop}
        # A phrase whose subject words a chosen one already says adds nothing a reader needs.
        if any(content <= {w for w in candidates[j].text.split()} for j in chosen):
            continue
        chosen.append(pick)
    return [candidates[i] for i in chosen]

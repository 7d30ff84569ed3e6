"""Competitor mentions with their context, found by spaCy phrase rules.

Where a competitor is named and whether the product is meant (aliases, domains, typos, names
that are ordinary words) is csintel.classify.competitor_names; the context Sales cares about
(switching, evaluating, past_user including a migration of their old data, pricing, comparison,
integration only for configured integration partners, or other) is read by the rules of
csintel.classify.competitor_cues and, where an embedder is given, by the trained context head
(csintel.classify.competitor_context). This module reads the competitor list, finds each
mention's sentence (csintel.text's segmenter) and puts the two together. The rules' words live
in models/rules/competitors.yaml. Accuracy: data/eval/README-extraction.md.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import yaml
from spacy.attrs import SENT_START
from spacy.tokens import Doc, Span

from csintel.classify.competitor_cues import CONTEXTS, clause_around, mention_context
from csintel.classify.competitor_names import CompetitorSpec, NameHit, NameMatcher
from csintel.text import sentence_spans

COORDINATION = frozenset({",", "and", "or", "&", "/", "nor", "both"})
LONG_RUN = re.compile(r"\S{300,}")
MAX_TRIES_PER_SENTENCE = 3
SPEC_KEYS = frozenset({"name", "aliases", "integration_partner", "ambiguous"})
MASK = "the other product"   # a mention's name in the sentence the context head reads


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


class CompetitorMatcher(NameMatcher):
    """Finds competitor mentions in text, each with its context; build once, call `find` per ticket."""

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
        found: list[tuple[NameHit, Span]] = []
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
            scope = clause_around(doc, start, end, sent) if len(names_in[sent.start]) > 1 else sent
            context, near = mention_context(doc, doc[hit.start:hit.end], start, end, scope, spec.integration_partner)
            rank = CONTEXTS.index(context)
            key = (hit.spec, sent.start)
            if key not in best or rank < best[key][0]:
                name_start, name_end = doc[hit.start].idx, doc[hit.end - 1].idx + len(doc[hit.end - 1])
                masked = (text[sent.start_char:name_start] + MASK + text[name_end:sent.end_char]).strip()
                mention = Mention(spec.name, context, is_competitive(context, spec.integration_partner),
                                  text[sent.start_char:sent.end_char].strip(), masked, near)
                best[key] = (rank, mention)
        return [mention for _, mention in best.values()]

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


def is_competitive(context: str, integration_partner: bool) -> bool:
    """Whether a mention in this context is competitive intel: all but the integration (and, for a
    partner, a plain mention); a partner's past user came to us from them."""
    return context != "integration" and (context != "other" or not integration_partner)


def _coordinated(doc: Doc, found: Sequence[tuple[NameHit, Span]], i: int) -> tuple[int, int]:
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

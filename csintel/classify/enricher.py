"""One Enricher runs every tagger over a batch of tickets.

The taggers are independent modules (taxonomy, sentiment, competitors, requests, errors); this
class builds them once from the settings and stamps their combined version on every result, so a
change of model, taxonomy or competitor list is visible (and re-taggable) in the warehouse.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import yaml

from csintel.classify.competitors import (
    CompetitorMatcher, CompetitorSpec, Mention, load_competitors, parse_competitors,
)
from csintel.classify.competitor_context import classify_contexts, shipped_context_head
from csintel.classify.errors import extract_errors
from csintel.classify.request_groups import group_requests
from csintel.classify.request_head import RequestDetector
from csintel.classify.heads import TASKS as HEAD_TASKS
from csintel.classify.heads import Head, installed_head
from csintel.classify.sentiment import SentimentResult, sentiment_with_features
from csintel.classify.taxonomy import Prediction, ZeroShotClassifier, load_taxonomy, predictions
from csintel.config import Settings
from csintel.embed import Embedder
from csintel.tags_version import tags_version
from csintel.text import redact_pii, short_quote

POLARITY = {"positive": 1.0, "negative": -1.0}   # a sentiment head's score: P(positive) - P(negative)


@dataclass
class TicketTags:
    """Every tag of one ticket: the `csintel tag` output line and the ticket_tags row."""

    id: str
    category: Prediction
    root_cause: Prediction
    sentiment: SentimentResult
    competitors: list[Mention]
    is_request: bool
    request: str | None
    errors: list[str]
    group: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "category": {"label": self.category.label, "confidence": self.category.confidence},
            "root_cause": {"label": self.root_cause.label, "confidence": self.root_cause.confidence},
            "sentiment": {"label": self.sentiment.label, "score": round(self.sentiment.score, 3),
                          "churn_language": self.sentiment.churn_language, "urgent": self.sentiment.urgent},
            "competitors": [{"name": m.name, "context": m.context, "competitive": m.competitive,
                             "sentence": m.sentence} for m in self.competitors],
            "feature_request": {"is_request": self.is_request, "request": self.request, "group": self.group},
            "errors": self.errors,
        }


@dataclass
class RequestGroup:
    group_id: str
    label: str
    centroid: np.ndarray


def competitor_specs(settings: Settings) -> tuple[list[CompetitorSpec], str]:
    """The competitor list (inline in the config, else the configured file) and its version."""
    if settings.competitors:
        specs = parse_competitors([{k: v for k, v in vars(c).items() if v is not None}
                                   for c in settings.competitors], source="competitors")
        blob = json.dumps([vars(c) for c in settings.competitors], sort_keys=True)
        return specs, "inline-" + hashlib.sha1(blob.encode()).hexdigest()[:8]
    path = settings.resolve(settings.models.competitors_file)
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    version = str(data.get("version") or "competitors-" + hashlib.sha1(Path(path).read_bytes()).hexdigest()[:8])
    return load_competitors(Path(path)), version


@dataclass
class Enricher:
    settings: Settings
    embedder: Embedder
    version: str = field(init=False)
    versions: dict[str, str] = field(init=False)

    def __post_init__(self) -> None:
        models = self.settings.models
        taxonomy = load_taxonomy(self.settings.resolve(models.taxonomy))
        specs, competitors_version = competitor_specs(self.settings)
        self.matcher = CompetitorMatcher(specs)
        self.partners = {s.name: s.integration_partner for s in specs}
        # The trained head decides each mention's context when it fits the embedder (else the rules do).
        self.context_head = shipped_context_head(self.embedder)
        self.thresholds = {"category": models.category_min_confidence,
                           "root_cause": models.root_cause_min_confidence,
                           "sentiment": models.sentiment_min_confidence}
        # A trained head (the model folder's, else a shipped one that fits) replaces zero-shot or the rules.
        self.heads: dict[str, Head] = {}
        for task in HEAD_TASKS:
            labels = [s.name for s in taxonomy.tasks[task]] if task in taxonomy.tasks else None
            head = installed_head(task, self.settings, self.embedder, labels)
            if head is not None:
                self.heads[task] = head
        # The shipped request detector when it was trained on this embedding model, else the rules.
        self.requests = RequestDetector.for_embedder(self.embedder.name, self.embedder.dim)
        self.classifier = (None if {"category", "root_cause"} <= self.heads.keys()
                           else ZeroShotClassifier(taxonomy, self.embedder, self.thresholds))
        # The version comes from the files and settings alone (csintel.tags_version), so digests
        # and reports know it without loading a model; `versions` adds what actually loaded, for
        # the run record: the embedder's name and backend (a silent fallback shows there) and heads.
        self.version = tags_version(self.settings)
        self.versions = {
            "tags": self.version,
            "embedding": self.embedder.name,
            "backend": str(getattr(self.embedder, "backend", "unknown")),
            "taxonomy": taxonomy.version,
            "competitors": competitors_version,
            "heads": ",".join(head.version for head in self.heads.values()) or "none",
            "requests": self.requests.version,
            "competitor_context": self.context_head.version if self.context_head is not None else "rules",
        }

    def tag(self, ids: Sequence[str], texts: Sequence[str], vectors: np.ndarray,
            groups: Sequence[RequestGroup] = ()) -> tuple[list[TicketTags], list[RequestGroup]]:
        """Tag a batch. `vectors` are the texts' embeddings; `groups` the known request groups.

        Returns the tags and the request groups this batch created.
        """
        out = self.tag_each(ids, texts, vectors)
        return out, self.group(out, groups, self.request_vectors(out))

    def tag_each(self, ids: Sequence[str], texts: Sequence[str], vectors: np.ndarray) -> list[TicketTags]:
        """Every tag that depends on the ticket alone (request groups not yet assigned).

        Pure given the settings, so batches can be tagged in any order or on other machines;
        `group` then assigns request groups, which depend on earlier batches, in order.
        """
        categories = self._classify("category", vectors, texts)
        causes = self._classify("root_cause", vectors, texts)
        sentiments = self._sentiments(vectors, texts)
        requests = self.requests.detect(texts, vectors)
        found = classify_contexts([self.matcher.find(text) for text in texts], self.context_head, self.embedder,
                                  self.partners)
        out: list[TicketTags] = []
        for i, text in enumerate(texts):
            request = requests[i]
            mentions = [Mention(m.name, m.context, m.competitive, short_quote(redact_pii(m.sentence), 240))
                        for m in found[i]]
            out.append(TicketTags(
                id=ids[i], category=categories[i], root_cause=causes[i], sentiment=sentiments[i],
                competitors=mentions, is_request=request.is_request,
                # The phrase becomes a group label in digests: redact it like any quote.
                request=redact_pii(request.phrase) if request.is_request and request.phrase else None,
                errors=extract_errors(text),
            ))
        return out

    def _classify(self, task: str, vectors: np.ndarray, texts: Sequence[str]) -> list[Prediction]:
        head = self.heads.get(task)
        if head is not None:
            return head.predict(vectors, texts, head.abstain_below(self.thresholds[task]))
        assert self.classifier is not None   # built whenever a taxonomy task lacks a head
        return self.classifier.predict(task, vectors)

    def _sentiments(self, vectors: np.ndarray, texts: Sequence[str]) -> list[SentimentResult]:
        ruled = [sentiment_with_features(t) for t in texts]
        head = self.heads.get("sentiment")
        if head is None or not ruled:
            return [result for result, _ in ruled]
        # The head decides the label and the score, P(positive) - P(negative); the rules still say
        # whether churn language was used and which cues they saw (the explanation).
        probs = head.probabilities(vectors, texts, np.array([evidence for _, evidence in ruled]))
        scores = probs @ np.array([POLARITY.get(label, 0.0) for label in head.labels])
        labels = predictions(probs, head.labels, self.thresholds["sentiment"])
        return [SentimentResult(pred.label, round(float(score), 4), rules.churn_language, rules.cues, rules.urgent)
                for (rules, _), score, pred in zip(ruled, scores, labels)]

    def request_vectors(self, tags: Sequence[TicketTags]) -> np.ndarray:
        """Embeddings of the request phrases of `tags`, in order, for `group`."""
        phrases = [t.request for t in tags if t.is_request and t.request]
        return self.embedder.encode(phrases) if phrases else np.zeros((0, self.embedder.dim), dtype=np.float32)

    def group(self, tags: Sequence[TicketTags], groups: Sequence[RequestGroup],
              vectors: np.ndarray) -> list[RequestGroup]:
        """Assign request groups to `tags` (whose phrases embed to `vectors`); returns the new groups."""
        asking = [t for t in tags if t.is_request and t.request]
        if not asking:
            return []
        phrases = [t.request or "" for t in asking]
        existing = [(g.group_id, g.label, g.centroid) for g in groups]
        ids, created = group_requests(phrases, vectors, existing,
                                      threshold=self.settings.models.request_group_threshold)
        for t, gid in zip(asking, ids):
            t.group = gid
        return [RequestGroup(gid, label, np.asarray(c, dtype=np.float32)) for gid, label, c in created]

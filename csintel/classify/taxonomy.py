"""Category and root cause from a taxonomy file, zero-shot with embeddings.

Each label's prototype is the normalised mean of the embeddings of its description and examples;
a ticket's label is the nearest prototype. Similarities become probabilities with a softmax at a
fixed temperature, and below the configured confidence the answer is "uncertain" rather than a
guess. (A head trained on labelled tickets replaces this where a team has labels.)
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import yaml

from csintel.embed import Embedder

UNCERTAIN = "uncertain"
TASKS = ("category", "root_cause")
# MiniLM cosine similarities between a ticket and prototypes sit in a narrow band (~0.1-0.6);
# a low temperature spreads them into usable probabilities.
TEMPERATURE = 0.04


class TaxonomyError(ValueError):
    pass


@dataclass(frozen=True)
class LabelSpec:
    name: str
    description: str
    examples: tuple[str, ...]


@dataclass(frozen=True)
class Taxonomy:
    version: str
    tasks: dict[str, tuple[LabelSpec, ...]]


@dataclass(frozen=True)
class Prediction:
    label: str
    confidence: float


def load_taxonomy(path: str | Path) -> Taxonomy:
    """Read and validate a taxonomy YAML (`version`, then `category:` and `root_cause:` label maps)."""
    p = Path(path)
    if not p.is_file():
        raise TaxonomyError(f"taxonomy file {p} not found (set [models] taxonomy)")
    data = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
    tasks: dict[str, tuple[LabelSpec, ...]] = {}
    for task in TASKS:
        labels = data.get(task)
        if not isinstance(labels, dict) or len(labels) < 2:
            raise TaxonomyError(f"{p}: '{task}' must map at least two labels to a description and examples")
        specs = []
        for name, spec in labels.items():
            if not isinstance(spec, dict) or not str(spec.get("description") or "").strip():
                raise TaxonomyError(f"{p}: {task}.{name} needs a non-empty description")
            examples = spec.get("examples") or []
            if not isinstance(examples, list):
                raise TaxonomyError(f"{p}: {task}.{name}.examples must be a list of sentences")
            specs.append(LabelSpec(str(name), str(spec["description"]).strip(), tuple(map(str, examples))))
        tasks[task] = tuple(specs)
    version = str(data.get("version") or "")
    if not version:
        version = "taxonomy-" + hashlib.sha1(p.read_bytes()).hexdigest()[:8]
    return Taxonomy(version=version, tasks=tasks)


class ZeroShotClassifier:
    """Nearest label prototype for each task of a taxonomy."""

    def __init__(self, taxonomy: Taxonomy, embedder: Embedder, min_confidence: dict[str, float]) -> None:
        self.taxonomy = taxonomy
        self.min_confidence = min_confidence
        self._labels: dict[str, list[str]] = {}
        self._prototypes: dict[str, np.ndarray] = {}
        for task, specs in taxonomy.tasks.items():
            texts, owners = [], []
            for i, spec in enumerate(specs):
                for text in (f"{spec.name.replace('_', ' ')}: {spec.description}", *spec.examples):
                    texts.append(text)
                    owners.append(i)
            vectors = embedder.encode(texts)
            owner = np.asarray(owners)
            protos = np.stack([vectors[owner == i].mean(axis=0) for i in range(len(specs))])
            self._prototypes[task] = protos / np.linalg.norm(protos, axis=1, keepdims=True)
            self._labels[task] = [s.name for s in specs]

    def labels(self, task: str) -> list[str]:
        return list(self._labels[task])

    def prototypes(self, task: str) -> np.ndarray:
        """The unit-length label prototypes (rows in `labels(task)` order)."""
        return self._prototypes[task]

    def probabilities(self, task: str, vectors: np.ndarray) -> np.ndarray:
        """Label probabilities per vector (columns in `labels(task)` order)."""
        if len(vectors) == 0:
            return np.zeros((0, len(self._labels[task])))
        logits = vectors @ self._prototypes[task].T / TEMPERATURE
        probs = np.exp(logits - logits.max(axis=1, keepdims=True))
        return probs / probs.sum(axis=1, keepdims=True)

    def predict(self, task: str, vectors: np.ndarray) -> list[Prediction]:
        return predictions(self.probabilities(task, vectors), self._labels[task], self.min_confidence.get(task, 0.0))


def predictions(probs: np.ndarray, labels: Sequence[str], min_confidence: float) -> list[Prediction]:
    """Top label and its probability per row; "uncertain" below `min_confidence`."""
    out = []
    for row in probs:
        i = int(row.argmax())
        confidence = float(row[i])
        out.append(Prediction(labels[i] if confidence >= min_confidence else UNCERTAIN, round(confidence, 4)))
    return out

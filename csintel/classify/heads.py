"""Trained classifier heads: logistic regression on frozen sentence embeddings.

A head replaces zero-shot (category, root cause) or the rules (sentiment) once a team has labelled
tickets. What each task's head reads, and its settings, were chosen by 3 x 5-fold cross-validation
on data/train (macro F1 at 8 labels per label and at all of them); data/eval only reports the
result (benchmarks/eval_classifiers.py):
- category, root cause: the embedding, with the taxonomy's description and examples of each label
  added as labelled examples (weight 2). That prior is what lets 8 labels per label beat both
  zero-shot and plain logistic regression (+5 points of macro F1 in cross-validation); with more
  labels the real examples outweigh it. The zero-shot similarities as extra features lost 1-4
  points; adding zero-shot's log-probabilities to the head's was +1 for category, -0.3 for root
  cause, not worth a second model.
- sentiment: the embedding plus the rules' evidence (csintel.classify.sentiment.FEATURES: churn,
  frustration, urgency, problem, praise, ... sums): +8 points over the embedding alone.
Confidences are calibrated with one temperature fitted on cross-validated logits; a prediction
below the task's `[models] <task>_min_confidence` is "uncertain".

A head is saved as `<task>.json` (labels, temperature, card) beside `<task>.npz` (weights) and a
short `<task>.md` card: plain numbers, no pickles. Heads in `[models] model_dir` (what `csintel
train` writes) take precedence over the shipped ones in models/heads/.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from csintel.classify.sentiment import FEATURES as RULE_FEATURES
from csintel.classify.sentiment import sentiment_features
from csintel.classify.taxonomy import UNCERTAIN, Prediction, Taxonomy, predictions
from csintel.config import SHIPPED_MODELS, Settings
from csintel.embed import Embedder

log = logging.getLogger(__name__)

TASKS = ("category", "root_cause", "sentiment")
SENTIMENT_LABELS = ("negative", "neutral", "positive")
SHIPPED_HEADS = SHIPPED_MODELS / "heads"
FORMAT = 1
CV_FOLDS = 5
ECE_BINS = 10
SEED = 0


@dataclass(frozen=True)
class Recipe:
    """How a task's head is fitted (values chosen by cross-validation on data/train, see above)."""

    c: float                # inverse L2 strength of the logistic regression
    prior_weight: float     # weight of each taxonomy description/example as a labelled example; 0 = none
    rule_scale: float       # scale of the sentiment rule features beside the embedding; 0 = not used


RECIPES = {
    "category": Recipe(c=10.0, prior_weight=2.0, rule_scale=0.0),
    "root_cause": Recipe(c=10.0, prior_weight=2.0, rule_scale=0.0),
    "sentiment": Recipe(c=3.0, prior_weight=0.0, rule_scale=1.0),
}


@dataclass(frozen=True)
class Head:
    """A fitted head: softmax(features @ coef.T + intercept) / temperature over `labels`."""

    task: str
    labels: tuple[str, ...]
    coef: np.ndarray          # (labels, features)
    intercept: np.ndarray     # (labels,)
    temperature: float
    rule_scale: float
    embedding: str            # the embedding model's name it was fitted on
    card: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def dim(self) -> int:
        """The embedding dimension it expects."""
        return int(self.coef.shape[1]) - (len(RULE_FEATURES) if self.rule_scale else 0)

    @property
    def version(self) -> str:
        """A content hash of everything that changes predictions: a new head is a new tags version."""
        h = hashlib.sha1()
        h.update(json.dumps([self.task, self.labels, round(self.temperature, 6), self.rule_scale,
                             self.embedding]).encode())
        h.update(np.ascontiguousarray(self.coef, dtype=np.float32).tobytes())
        h.update(np.ascontiguousarray(self.intercept, dtype=np.float32).tobytes())
        return f"{self.task}-head-{h.hexdigest()[:8]}"

    def probabilities(self, vectors: np.ndarray, texts: Sequence[str],
                      rules: np.ndarray | None = None) -> np.ndarray:
        """Calibrated label probabilities, one row per text, columns in `labels` order.

        `rules`: the texts' sentiment rule features when the caller has them (else computed).
        """
        if len(vectors) == 0:
            return np.zeros((0, len(self.labels)))
        logits = features(vectors, texts, self.rule_scale, rules) @ self.coef.T + self.intercept
        return _softmax(logits / self.temperature)

    def predict(self, vectors: np.ndarray, texts: Sequence[str], min_confidence: float = 0.0) -> list[Prediction]:
        """The most probable label per text, or "uncertain" when its probability is below `min_confidence`."""
        return predictions(self.probabilities(vectors, texts), self.labels, min_confidence)


def features(vectors: np.ndarray, texts: Sequence[str], rule_scale: float,
             rules: np.ndarray | None = None) -> np.ndarray:
    """The head's inputs: the embedding, plus the scaled rule features when `rule_scale` is set."""
    vectors = np.asarray(vectors, dtype=np.float64)
    if not rule_scale:
        return vectors
    if rules is None:
        rules = np.array([sentiment_features(t) for t in texts], dtype=np.float64)
    return np.hstack([vectors, rule_scale * np.asarray(rules, dtype=np.float64).reshape(len(vectors), -1)])


def train_head(task: str, texts: Sequence[str], labels: Sequence[str], embedder: Embedder, *,
               taxonomy: Taxonomy | None = None, vectors: np.ndarray | None = None, trained_on: str = "",
               recipe: Recipe | None = None, cross_validate: bool = True) -> Head:
    """Fit a head on labelled texts; calibrate it on cross-validated logits.

    Args:
        task: "category", "root_cause" or "sentiment".
        texts, labels: the labelled examples (no "uncertain" labels: a head learns what to say).
        embedder: the embedding model (its name is recorded; texts are encoded unless `vectors`).
        taxonomy: for category/root cause, the labels' descriptions and examples, used as a prior.
        vectors: the texts' embeddings when the caller has them.
        trained_on: what the data was, for the card.
        recipe: the fitting recipe (default: RECIPES[task]).
        cross_validate: estimate accuracy and fit the temperature on held-out folds (else T = 1).

    Raises:
        ValueError: an unknown task, fewer than two labels, a label with fewer than two examples,
            or sentiment labels other than negative/neutral/positive.
    """
    if task not in TASKS:
        raise ValueError(f"unknown task '{task}': one of {', '.join(TASKS)}")
    recipe = recipe or RECIPES[task]
    counts = Counter(labels)
    problems = _label_problems(task, counts)
    if problems:
        raise ValueError(problems)
    order = tuple(sorted(counts))
    y = np.array([order.index(lab) for lab in labels])
    x = features(embedder.encode(list(texts)) if vectors is None else vectors, texts, recipe.rule_scale)
    prior_x, prior_y = _prior_examples(task, order, taxonomy, embedder, recipe)

    temperature, cv = 1.0, None
    folds = min(CV_FOLDS, min(counts.values()))
    if cross_validate and folds >= 2:
        from sklearn.model_selection import StratifiedKFold

        held_out = np.zeros((len(y), len(order)))
        for fit_rows, test_rows in StratifiedKFold(folds, shuffle=True, random_state=SEED).split(x, y):
            coef, intercept = _fit(x[fit_rows], y[fit_rows], prior_x, prior_y, recipe, len(order))
            held_out[test_rows] = x[test_rows] @ coef.T + intercept
        temperature = fit_temperature(held_out, y)
        cv = cv_report(held_out, y, order, temperature, folds)
    coef, intercept = _fit(x, y, prior_x, prior_y, recipe, len(order))
    card = {
        "trained_on": trained_on, "examples": len(y), "per_label": {lab: counts[lab] for lab in order},
        "prior_examples": len(prior_y), "recipe": vars(recipe), "cross_validation": cv,
        "created": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    return Head(task, order, coef, intercept, temperature, recipe.rule_scale, base_model(embedder.name), card)


def _label_problems(task: str, counts: Counter[str]) -> str:
    if len(counts) < 2:
        return f"{task}: need examples of at least two labels, got {sorted(counts) or 'none'}"
    if UNCERTAIN in counts:
        return f"{task}: '{UNCERTAIN}' is what a head says when unsure, not a label to learn; drop those rows"
    few = sorted(lab for lab, n in counts.items() if n < 2)
    if few:
        return f"{task}: every label needs at least two examples; too few for {', '.join(few)}"
    if task == "sentiment" and set(counts) - set(SENTIMENT_LABELS):
        return (f"sentiment labels must be {', '.join(SENTIMENT_LABELS)}; "
                f"got {', '.join(sorted(set(counts) - set(SENTIMENT_LABELS)))}")
    return ""


def _prior_examples(task: str, labels: Sequence[str], taxonomy: Taxonomy | None, embedder: Embedder,
                    recipe: Recipe) -> tuple[np.ndarray, np.ndarray]:
    """The taxonomy's description and examples of each trained label, as extra labelled rows."""
    texts: list[str] = []
    owners: list[int] = []
    if recipe.prior_weight and taxonomy is not None and task in taxonomy.tasks:
        for spec in taxonomy.tasks[task]:
            if spec.name in labels:
                for text in (f"{spec.name.replace('_', ' ')}: {spec.description}", *spec.examples):
                    texts.append(text)
                    owners.append(labels.index(spec.name))
    if not texts:
        return np.zeros((0, 0)), np.zeros(0, dtype=int)
    return features(embedder.encode(texts), texts, recipe.rule_scale), np.array(owners)


def _fit(x: np.ndarray, y: np.ndarray, prior_x: np.ndarray, prior_y: np.ndarray, recipe: Recipe,
         n_labels: int) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.linear_model import LogisticRegression

    weights = np.ones(len(y))
    if len(prior_y):
        x = np.vstack([x, prior_x])
        y = np.concatenate([y, prior_y])
        weights = np.concatenate([weights, np.full(len(prior_y), recipe.prior_weight)])
    model = LogisticRegression(C=recipe.c, class_weight="balanced", max_iter=3000)
    model.fit(x, y, sample_weight=weights)
    coef = np.zeros((n_labels, x.shape[1]))
    intercept = np.zeros(n_labels)
    if n_labels == 2:   # sklearn keeps one row for two classes: the second class's logit
        coef[1], intercept[1] = model.coef_[0], model.intercept_[0]
    else:
        coef[model.classes_], intercept[model.classes_] = model.coef_, model.intercept_
    return coef, intercept


def fit_temperature(logits: np.ndarray, y: np.ndarray) -> float:
    """The temperature that minimises the negative log-likelihood of held-out logits."""
    from scipy.optimize import minimize_scalar

    def nll(log_t: float) -> float:
        z = logits / np.exp(log_t)
        z = z - z.max(axis=1, keepdims=True)
        return float(-(z[np.arange(len(y)), y] - np.log(np.exp(z).sum(axis=1))).mean())

    return round(float(np.exp(minimize_scalar(nll, bounds=(-3.0, 3.0), method="bounded").x)), 4)


def expected_calibration_error(confidence: np.ndarray, correct: np.ndarray, bins: int = ECE_BINS) -> float:
    """Mean |accuracy - confidence| over equal-width confidence bins, weighted by their size."""
    if len(confidence) == 0:
        return 0.0
    index = np.minimum((np.asarray(confidence) * bins).astype(int), bins - 1)
    total = 0.0
    for b in range(bins):
        rows = index == b
        if rows.any():
            total += rows.sum() * abs(float(np.mean(correct[rows])) - float(np.mean(confidence[rows])))
    return round(float(total) / len(confidence), 4)


def cv_report(held_out: np.ndarray, y: np.ndarray, labels: Sequence[str], temperature: float,
              folds: int) -> dict[str, Any]:
    """Cross-validated accuracy, macro F1 and calibration (before and after the temperature)."""
    from sklearn.metrics import f1_score

    predicted = held_out.argmax(axis=1)
    correct = predicted == y
    raw = _softmax(held_out).max(axis=1)
    calibrated = _softmax(held_out / temperature).max(axis=1)
    return {"folds": folds, "accuracy": round(float(correct.mean()), 4),
            "macro_f1": round(float(f1_score(y, predicted, average="macro", labels=range(len(labels)))), 4),
            "ece_uncalibrated": expected_calibration_error(raw, correct),
            "ece": expected_calibration_error(calibrated, correct), "temperature": temperature}


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


# --- saving and finding heads -------------------------------------------------------------------

def save_head(head: Head, folder: Path) -> Path:
    """Write `<task>.json`, `<task>.npz` and the `<task>.md` card into `folder`; returns the JSON path."""
    folder.mkdir(parents=True, exist_ok=True)
    np.savez(folder / f"{head.task}.npz", coef=head.coef.astype(np.float32),
             intercept=head.intercept.astype(np.float32))
    version = head.version   # hashed from float32 weights: the same as the loaded head's
    meta = {"format": FORMAT, "task": head.task, "version": version, "labels": list(head.labels),
            "temperature": head.temperature, "rule_scale": head.rule_scale,
            "rule_features": list(RULE_FEATURES) if head.rule_scale else [], "embedding": head.embedding,
            "dim": head.dim, "card": head.card}
    path = folder / f"{head.task}.json"
    path.write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    (folder / f"{head.task}.md").write_text(head_card(head, version), encoding="utf-8")
    return path


def load_head(path: Path) -> Head:
    """Read a head saved by `save_head` (the JSON path; the weights are the .npz beside it).

    Raises:
        ValueError: an unreadable or inconsistent head, with the file named.
    """
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
        with np.load(path.with_suffix(".npz")) as arrays:
            coef, intercept = arrays["coef"], arrays["intercept"]
    except (OSError, ValueError, KeyError) as exc:
        raise ValueError(f"cannot read the classifier head {path}: {exc}; retrain it with `csintel train`") from exc
    if meta.get("format") != FORMAT:
        raise ValueError(f"{path}: head format {meta.get('format')} is not {FORMAT}; retrain it with `csintel train`")
    labels = tuple(meta["labels"])
    if meta.get("rule_scale") and list(meta.get("rule_features", [])) != list(RULE_FEATURES):
        raise ValueError(f"{path}: trained on other sentiment rule features; retrain it with `csintel train`")
    if coef.shape[0] != len(labels) or intercept.shape != (len(labels),):
        raise ValueError(f"{path}: weights do not match its {len(labels)} labels; retrain it with `csintel train`")
    return Head(str(meta["task"]), labels, coef, intercept, float(meta["temperature"]),
                float(meta.get("rule_scale", 0.0)), str(meta["embedding"]), dict(meta.get("card") or {}))


def base_model(name: str) -> str:
    """The model behind an embedder's name: a backend suffix ("all-MiniLM-L6-v2+int8") dropped."""
    return name.split("+", 1)[0]


def compatible(head: Head, embedder: Embedder) -> bool:
    """Whether the head can read this embedder's vectors: the same model and dimension. Another
    backend of the same model (ONNX, int8) counts as the same: its vectors agree at cosine >= 0.97."""
    return head.dim == embedder.dim and base_model(head.embedding) == base_model(embedder.name)


def installed_head(task: str, settings: Settings, embedder: Embedder,
                   taxonomy_labels: Sequence[str] | None = None) -> Head | None:
    """The head the tagger uses for `task`: the model folder's, else the shipped one, else None.

    A shipped head is used only where it fits: the same embedding model and, for category and root
    cause, exactly the configured taxonomy's labels (it was trained for the shipped taxonomy).

    Raises:
        ValueError: the model folder's head was trained on another embedding model.
    """
    own = settings.resolve(settings.models.model_dir) / f"{task}.json"
    if own.is_file():
        head = load_head(own)
        if not compatible(head, embedder):
            raise ValueError(f"{own} was trained on embeddings of '{head.embedding}' ({head.dim}-d) but the config "
                             f"uses '{embedder.name}' ({embedder.dim}-d): retrain it with `csintel train --task "
                             f"{task}` or delete it")
        return head
    shipped = SHIPPED_HEADS / f"{task}.json"
    if not shipped.is_file():
        return None
    head = load_head(shipped)
    if not compatible(head, embedder):
        log.info("shipped %s head skipped: trained on %s, the config uses %s", task, head.embedding, embedder.name)
        return None
    if taxonomy_labels is not None and set(head.labels) != set(taxonomy_labels):
        log.info("shipped %s head skipped: its labels are not the configured taxonomy's", task)
        return None
    return head


def head_card(head: Head, version: str) -> str:
    """A short Markdown card: what the head is, what it was trained on, how well it did."""
    card = head.card
    lines = [f"# {head.task} head `{version}`", "",
             f"Logistic regression on frozen `{head.embedding}` sentence embeddings"
             + (f" plus the sentiment rules' evidence ({', '.join(RULE_FEATURES)}) scaled by {head.rule_scale}"
                if head.rule_scale else "")
             + (f", with the taxonomy's {card['prior_examples']} label descriptions and examples as a prior"
                if card.get("prior_examples") else "") + ".", "",
             f"- trained on: {card.get('trained_on') or 'unnamed data'} ({card.get('examples', '?')} examples, "
             f"created {card.get('created', '?')})",
             "- per label: " + ", ".join(f"{k} {v}" for k, v in (card.get("per_label") or {}).items()),
             f"- confidences: temperature {head.temperature} fitted on cross-validated logits; below "
             f"`[models] {head.task}_min_confidence` the label is `uncertain`"]
    cv = card.get("cross_validation")
    if cv:
        lines.append(f"- {cv['folds']}-fold cross-validation: accuracy {cv['accuracy']}, macro F1 {cv['macro_f1']}, "
                     f"ECE {cv['ece_uncalibrated']} before calibration, {cv['ece']} after")
    held = card.get("held_out")
    if held:
        lines.append(f"- held-out test ({held['file']}, {held['n']} tickets, never trained on): accuracy "
                     f"{held['accuracy']}, macro recall {held['macro_recall']}, macro F1 {held['macro_f1']}"
                     + (f"; {held['baseline']['name']} on the same tickets: accuracy {held['baseline']['accuracy']}, "
                        f"macro recall {held['baseline']['macro_recall']}, macro F1 {held['baseline']['macro_f1']}"
                        if held.get("baseline") else ""))
    lines += ["", "Retrain with `csintel train --task " + head.task + " --labeled FILE`; "
              "score with `csintel eval --task " + head.task + " --test FILE`.", ""]
    return "\n".join(lines)

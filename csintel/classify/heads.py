"""Trained classifier heads: logistic regression on frozen sentence embeddings (plus, for category
and root cause, word and character n-gram TF-IDF when validation says it helps).

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

Category and root cause are "hybrid" heads (csintel.classify.head_selection fits them): frozen embeddings blur the
words that decide many real tickets (product codes, system names, jargon), so the head can also
read TF-IDF of word 1-2-grams and character 4-grams, fitted in the same logistic regression.
How much weight the lexical view gets, the regularisation and the class weighting are chosen on
validation data (a given split, else cross-validation); so is the head's own abstention threshold
(see `choose_threshold`): on the top label's calibrated confidence, or on the head's energy
(T * logsumexp(logits / T): how strongly any label fits at all), whichever catches more stand-in
out-of-scope tickets on validation. Both are recorded in the card. With few examples a label, `csintel train`
also fine-tunes the encoder on them and keeps that head where it wins on validation
(csintel.classify.fewshot); such a head carries its encoder and reads its own embeddings.

A head is saved as `<task>.json` (labels, temperature, card) beside `<task>.npz` (weights) and a
short `<task>.md` card: plain numbers, no pickles (a fine-tuned encoder: the sentence-transformers
folder `<task>-encoder`, its weights' digest in the JSON). Heads in `[models] model_dir` (what `csintel
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
from scipy import sparse

# expected_calibration_error is imported from here by callers that predate csintel.classify.calibration.
from csintel.classify.calibration import cv_report, expected_calibration_error, fit_temperature, softmax  # noqa: F401
from csintel.classify.head_card import head_card
from csintel.classify.lexical import Lexicon
from csintel.classify.sentiment import FEATURES as RULE_FEATURES
from csintel.classify.sentiment import sentiment_features
from csintel.classify.taxonomy import UNCERTAIN, Prediction, Taxonomy, predictions
from csintel.classify.tuned_encoder import TunedEncoder
from csintel.config import SHIPPED_MODELS, Settings
from csintel.embed import Embedder

log = logging.getLogger(__name__)

TASKS = ("category", "root_cause", "sentiment")
SENTIMENT_LABELS = ("negative", "neutral", "positive")
SHIPPED_HEADS = SHIPPED_MODELS / "heads"
ENCODER_SUFFIX = "-encoder"   # a fine-tuned encoder is saved as the folder <task>-encoder beside its head
FORMAT = 1
# 2: a head with a lexicon (TF-IDF n-grams) and its own abstention threshold; 3: with its own
# fine-tuned encoder (csintel.classify.fewshot), which an older csintel would silently ignore;
# 4: abstaining on energy (min_energy), which an older csintel would also ignore (never abstaining).
FORMATS = (1, 2, 3, 4)
CV_FOLDS = 5
SEED = 0


@dataclass(frozen=True)
class Recipe:
    """How a task's head is fitted (values chosen by cross-validation on data/train, see above)."""

    c: float                # inverse L2 strength of the logistic regression
    prior_weight: float     # weight of each taxonomy description/example as a labelled example; 0 = none
    rule_scale: float       # scale of the sentiment rule features beside the embedding; 0 = not used
    lexical: float = 0.0    # weight of the TF-IDF n-gram blocks beside the embedding; 0 = embedding only
    balanced: bool = True   # class_weight="balanced" (else every example counts once)
    names: bool = False     # few-shot: each label's name, where the taxonomy does not describe it, as a prior example
    # Unlabelled tickets as pseudo-labelled rows (csintel.classify.semi_supervised), where given and
    # where that wins on validation.
    unlabelled: bool = False


RECIPES = {
    "category": Recipe(c=10.0, prior_weight=2.0, rule_scale=0.0),
    "root_cause": Recipe(c=10.0, prior_weight=2.0, rule_scale=0.0),
    "sentiment": Recipe(c=3.0, prior_weight=0.0, rule_scale=1.0),
}
# Category and root cause choose their recipe on validation data (csintel.classify.head_selection).
SELECTED_TASKS = ("category", "root_cause")


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
    # The TF-IDF n-grams the last columns of `coef` read (their weight is folded into `coef`).
    lexicon: Lexicon | None = field(default=None, compare=False)
    # Below this calibrated confidence the head abstains, whatever lower threshold the config sets:
    # chosen on validation data to catch out-of-scope tickets (see choose_threshold); 0 = none.
    min_confidence: float = 0.0
    # The sentence encoder fine-tuned for this head (few-shot training), whose embeddings it reads
    # instead of the configured embedder's; None = the configured embedder's.
    encoder: TunedEncoder | None = field(default=None, compare=False)
    # Below this energy (see `energy`) the head abstains too: chosen like min_confidence, where
    # energy catches more out-of-scope tickets than confidence does; None = not used.
    min_energy: float | None = None

    @property
    def dim(self) -> int:
        """The embedding dimension it expects."""
        return (int(self.coef.shape[1]) - (len(RULE_FEATURES) if self.rule_scale else 0)
                - (len(self.lexicon) if self.lexicon is not None else 0))

    def abstain_below(self, configured: float) -> float:
        """The threshold in force: the config's `<task>_min_confidence`, raised to the head's own."""
        return max(float(configured), self.min_confidence)

    @property
    def version(self) -> str:
        """A content hash of everything that changes predictions: a new head is a new tags version."""
        h = hashlib.sha1()
        h.update(json.dumps([self.task, self.labels, round(self.temperature, 6), self.rule_scale,
                             self.embedding] + ([round(self.min_confidence, 6)] if self.min_confidence else [])
                            + ([["energy", round(self.min_energy, 6)]] if self.min_energy is not None else [])
                            ).encode())
        if self.lexicon is not None:
            h.update(self.lexicon.digest_bytes())
        if self.encoder is not None:
            h.update(self.encoder.digest.encode())
        h.update(np.ascontiguousarray(self.coef, dtype=np.float32).tobytes())
        h.update(np.ascontiguousarray(self.intercept, dtype=np.float32).tobytes())
        return f"{self.task}-head-{h.hexdigest()[:8]}"

    def logits(self, vectors: np.ndarray, texts: Sequence[str], rules: np.ndarray | None = None) -> np.ndarray:
        """Raw label scores, one row per text, before the temperature (see `probabilities`)."""
        if self.encoder is not None and len(texts):
            vectors = self.encoder.encode(list(texts))
        if len(vectors) == 0:
            return np.zeros((0, len(self.labels)))
        x = features(vectors, texts, self.rule_scale, rules)
        logits = x @ self.coef[:, :x.shape[1]].T + self.intercept
        if self.lexicon is not None and len(self.lexicon):
            logits = logits + np.asarray(self.lexicon.transform(texts) @ self.coef[:, x.shape[1]:].T)
        return np.asarray(logits)

    def probabilities(self, vectors: np.ndarray, texts: Sequence[str],
                      rules: np.ndarray | None = None) -> np.ndarray:
        """Calibrated label probabilities, one row per text, columns in `labels` order.

        `rules`: the texts' sentiment rule features when the caller has them (else computed).
        A head with its own fine-tuned encoder encodes `texts` itself and ignores `vectors`.
        """
        return softmax(self.logits(vectors, texts, rules) / self.temperature)

    def answers(self, vectors: np.ndarray, texts: Sequence[str],
                min_confidence: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
        """Calibrated probabilities, and per text whether the head answers: its top label's probability
        is at least `min_confidence` and, for a head with `min_energy`, its energy at least that."""
        logits = self.logits(vectors, texts)
        probs = softmax(logits / self.temperature) if len(logits) else logits
        answered = probs.max(axis=1) >= min_confidence if len(probs) else np.zeros(0, dtype=bool)
        if self.min_energy is not None and len(logits):
            answered &= energy(logits, self.temperature) >= self.min_energy
        return probs, answered

    def predict(self, vectors: np.ndarray, texts: Sequence[str], min_confidence: float = 0.0) -> list[Prediction]:
        """The most probable label per text, or "uncertain" where the head does not answer (see `answers`)."""
        probs, answered = self.answers(vectors, texts, min_confidence)
        return gated(predictions(probs, self.labels, 0.0), answered)


def gated(top: Sequence[Prediction], answered: np.ndarray) -> list[Prediction]:
    """The top predictions, "uncertain" (with the same confidence) where the head does not answer."""
    return [p if ok else Prediction(UNCERTAIN, p.confidence) for p, ok in zip(top, answered)]


def energy(logits: np.ndarray, temperature: float) -> np.ndarray:
    """T * logsumexp(logits / T) per row: how strongly the head's labels, together, claim a text.

    An out-of-scope text fits no label, so all its logits are low; the softmax hides that (a text
    that fits none may still fit one far better than the rest), energy does not. On held-out classes
    of Banking77 and CLINC150 it separates out-of-scope texts better than the top probability
    (benchmarks/eval_categories.py; docs/categories.md).
    """
    from scipy.special import logsumexp

    return np.asarray(temperature * logsumexp(np.asarray(logits) / temperature, axis=1))


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
               recipe: Recipe | None = None, cross_validate: bool = True,
               validation: tuple[Sequence[str], Sequence[str], np.ndarray | None] | None = None,
               unlabelled: tuple[Sequence[str], np.ndarray | None] | None = None) -> Head:
    """Fit a head on labelled texts; calibrate it on cross-validated logits.

    Category and root cause without a fixed `recipe` choose theirs on validation data (the given
    `validation` split, else cross-validation): see `select_and_train`. With neither
    (`cross_validate=False`) they use RECIPES[task], the embedding alone.

    Args:
        task: "category", "root_cause" or "sentiment".
        texts, labels: the labelled examples (no "uncertain" labels: a head learns what to say).
        embedder: the embedding model (its name is recorded; texts are encoded unless `vectors`).
        taxonomy: for category/root cause, the labels' descriptions and examples, used as a prior.
        vectors: the texts' embeddings when the caller has them.
        trained_on: what the data was, for the card.
        recipe: the fitting recipe (default: RECIPES[task]).
        cross_validate: estimate accuracy and fit the temperature on held-out folds (else T = 1).
        validation: (texts, labels, vectors or None) to choose the recipe, temperature and
            abstention threshold on; labels not among the training labels count as out of scope.
        unlabelled: (texts, vectors or None) of tickets nobody labelled: category and root cause
            try them as pseudo-labelled rows and keep them where that wins on validation
            (csintel.classify.semi_supervised); ignored with a fixed `recipe` and for sentiment.

    Raises:
        ValueError: an unknown task, fewer than two labels, a label with fewer than two examples,
            or sentiment labels other than negative/neutral/positive.
    """
    if task not in TASKS:
        raise ValueError(f"unknown task '{task}': one of {', '.join(TASKS)}")
    counts = Counter(labels)
    problems = _label_problems(task, counts)
    if problems:
        raise ValueError(problems)
    if recipe is None and task in SELECTED_TASKS and (cross_validate or validation is not None):
        from csintel.classify.head_selection import select_and_train   # it builds on this module

        return select_and_train(task, texts, labels, embedder, taxonomy=taxonomy, vectors=vectors,
                                trained_on=trained_on, validation=validation, unlabelled=unlabelled)
    recipe = recipe or RECIPES[task]
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
            coef, intercept = fit_weights(x[fit_rows], y[fit_rows], prior_x, prior_y, recipe, len(order))
            held_out[test_rows] = x[test_rows] @ coef.T + intercept
        temperature = fit_temperature(held_out, y)
        cv = cv_report(held_out, y, order, temperature, folds)
    coef, intercept = fit_weights(x, y, prior_x, prior_y, recipe, len(order))
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


def taxonomy_prior(task: str, labels: Sequence[str], taxonomy: Taxonomy | None,
                 recipe: Recipe) -> tuple[list[str], np.ndarray]:
    """The taxonomy's description and examples of each trained label, and their label indices."""
    texts: list[str] = []
    owners: list[int] = []
    if recipe.prior_weight and taxonomy is not None and task in taxonomy.tasks:
        for spec in taxonomy.tasks[task]:
            if spec.name in labels:
                for text in (f"{spec.name.replace('_', ' ')}: {spec.description}", *spec.examples):
                    texts.append(text)
                    owners.append(list(labels).index(spec.name))
    return texts, np.array(owners, dtype=int)


def _prior_examples(task: str, labels: Sequence[str], taxonomy: Taxonomy | None, embedder: Embedder,
                    recipe: Recipe) -> tuple[np.ndarray, np.ndarray]:
    """The taxonomy's description and examples of each trained label, as extra labelled rows."""
    texts, owners = taxonomy_prior(task, labels, taxonomy, recipe)
    if not texts:
        return np.zeros((0, 0)), np.zeros(0, dtype=int)
    return features(embedder.encode(texts), texts, recipe.rule_scale), owners


def stack_rows(top: Any, bottom: Any) -> Any:
    """Two design matrices one above the other, sparse when the first is."""
    return sparse.vstack([top, bottom], format="csr") if sparse.issparse(top) else np.vstack([top, bottom])


def fit_weights(x: np.ndarray, y: np.ndarray, prior_x: np.ndarray, prior_y: np.ndarray, recipe: Recipe,
                n_labels: int, prior_weights: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Logistic regression weights (labels x features) and intercepts; the prior rows weigh
    `prior_weights` each (default: the recipe's prior_weight)."""
    from sklearn.linear_model import LogisticRegression

    weights = np.ones(len(y))
    if len(prior_y):
        x = stack_rows(x, prior_x)
        y = np.concatenate([y, prior_y])
        weights = np.concatenate([weights, np.full(len(prior_y), recipe.prior_weight) if prior_weights is None
                                  else np.asarray(prior_weights, dtype=np.float64)])
    # tol 1e-3 (sklearn's default is 1e-4): the same predictions here at a fraction of the iterations.
    model = LogisticRegression(C=recipe.c, class_weight="balanced" if recipe.balanced else None, max_iter=3000,
                               tol=1e-3)
    model.fit(x, y, sample_weight=weights)
    coef = np.zeros((n_labels, x.shape[1]))
    intercept = np.zeros(n_labels)
    if len(model.classes_) < n_labels:   # a label absent from these rows (a held-out-class fit): never predicted
        intercept[:] = -1e4
        coef[model.classes_], intercept[model.classes_] = (model.coef_, model.intercept_) if len(model.classes_) > 2 \
            else (np.vstack([np.zeros_like(model.coef_[0]), model.coef_[0]]),
                  np.array([0.0, model.intercept_[0]]))
    elif n_labels == 2:   # sklearn keeps one row for two classes: the second class's logit
        coef[1], intercept[1] = model.coef_[0], model.intercept_[0]
    else:
        coef[model.classes_], intercept[model.classes_] = model.coef_, model.intercept_
    return coef, intercept


# --- saving and finding heads -------------------------------------------------------------------

def save_head(head: Head, folder: Path) -> Path:
    """Write `<task>.json`, `<task>.npz` and the `<task>.md` card into `folder`; returns the JSON path."""
    folder.mkdir(parents=True, exist_ok=True)
    lexical = head.lexicon.arrays() if head.lexicon is not None else {}
    encoder = None
    if head.encoder is not None:
        head.encoder.save(folder / f"{head.task}{ENCODER_SUFFIX}")
        encoder = {"folder": f"{head.task}{ENCODER_SUFFIX}", "digest": head.encoder.digest,
                   "base": head.encoder.base, "dim": head.encoder.dim}
    np.savez(folder / f"{head.task}.npz", coef=head.coef.astype(np.float32),
             intercept=head.intercept.astype(np.float32), **lexical)
    # Hashed from the float32 arrays as loaded back: the same as the loaded head's.
    version = Head(head.task, head.labels, head.coef.astype(np.float32), head.intercept.astype(np.float32),
                   head.temperature, head.rule_scale, head.embedding,
                   lexicon=Lexicon.from_arrays(lexical) if lexical else None,
                   min_confidence=head.min_confidence, encoder=head.encoder, min_energy=head.min_energy).version
    meta = {"format": 4 if head.min_energy is not None else 3 if encoder else 2 if lexical or head.min_confidence
            else FORMAT, "task": head.task, "version": version, "labels": list(head.labels),
            "temperature": head.temperature, "rule_scale": head.rule_scale,
            "rule_features": list(RULE_FEATURES) if head.rule_scale else [], "embedding": head.embedding,
            "dim": head.dim, "min_confidence": head.min_confidence, "min_energy": head.min_energy,
            "lexicon": {"words": len(head.lexicon.words), "chars": len(head.lexicon.chars)} if head.lexicon else None,
            **({"encoder": encoder} if encoder else {}), "card": head.card}
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
            lexicon = Lexicon.from_arrays(arrays) if "lex_words" in arrays.files else None
    except (OSError, ValueError, KeyError) as exc:
        raise ValueError(f"cannot read the classifier head {path}: {exc}; retrain it with `csintel train`") from exc
    if meta.get("format") not in FORMATS:
        raise ValueError(f"{path}: head format {meta.get('format')} is not one of {FORMATS}; "
                         "retrain it with `csintel train`")
    labels = tuple(meta["labels"])
    if meta.get("rule_scale") and list(meta.get("rule_features", [])) != list(RULE_FEATURES):
        raise ValueError(f"{path}: trained on other sentiment rule features; retrain it with `csintel train`")
    if coef.shape[0] != len(labels) or intercept.shape != (len(labels),):
        raise ValueError(f"{path}: weights do not match its {len(labels)} labels; retrain it with `csintel train`")
    tuned = meta.get("encoder")
    if tuned and not (path.parent / tuned["folder"]).is_dir():
        raise ValueError(f"{path}: its fine-tuned encoder folder {tuned['folder']} is missing; retrain it with "
                         "`csintel train`")
    encoder = (TunedEncoder(str(tuned["base"]), str(tuned["digest"]), int(tuned["dim"]),
                            path=path.parent / tuned["folder"]) if tuned else None)
    return Head(str(meta["task"]), labels, coef, intercept, float(meta["temperature"]),
                float(meta.get("rule_scale", 0.0)), str(meta["embedding"]), dict(meta.get("card") or {}),
                lexicon=lexicon, min_confidence=float(meta.get("min_confidence") or 0.0), encoder=encoder,
                min_energy=None if meta.get("min_energy") is None else float(meta["min_energy"]))


def base_model(name: str) -> str:
    """The model behind an embedder's name: a backend suffix ("all-MiniLM-L6-v2+int8") dropped."""
    return name.split("+", 1)[0]


def compatible(head: Head, embedder: Embedder) -> bool:
    """Whether the head can read this embedder's vectors: the same model and dimension. Another
    backend of the same model (ONNX, int8) counts as the same: its vectors agree at cosine >= 0.97.
    A head with its own fine-tuned encoder reads its own vectors, so any embedder will do."""
    if head.encoder is not None:
        return True
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

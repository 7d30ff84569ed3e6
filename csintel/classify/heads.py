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

Category and root cause are "hybrid" heads (csintel.classify.hybrid): frozen embeddings blur the
words that decide many real tickets (product codes, system names, jargon), so the head can also
read TF-IDF of word 1-2-grams and character 4-grams, fitted in the same logistic regression.
How much weight the lexical view gets, the regularisation and the class weighting are chosen on
validation data (a given split, else cross-validation); so is the head's own abstention threshold
(see `choose_threshold`). Both are recorded in the card.

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
from scipy import sparse

from csintel.classify.lexical import Lexicon, fit_lexicon
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
FORMATS = (1, 2)        # 2: a head with a lexicon (TF-IDF n-grams) and its own abstention threshold
CV_FOLDS = 5
ECE_BINS = 10
SEED = 0


@dataclass(frozen=True)
class Recipe:
    """How a task's head is fitted (values chosen by cross-validation on data/train, see above)."""

    c: float                # inverse L2 strength of the logistic regression
    prior_weight: float     # weight of each taxonomy description/example as a labelled example; 0 = none
    rule_scale: float       # scale of the sentiment rule features beside the embedding; 0 = not used
    lexical: float = 0.0    # weight of the TF-IDF n-gram blocks beside the embedding; 0 = embedding only
    balanced: bool = True   # class_weight="balanced" (else every example counts once)


RECIPES = {
    "category": Recipe(c=10.0, prior_weight=2.0, rule_scale=0.0),
    "root_cause": Recipe(c=10.0, prior_weight=2.0, rule_scale=0.0),
    "sentiment": Recipe(c=3.0, prior_weight=0.0, rule_scale=1.0),
}
# Category and root cause choose their recipe on validation data, one setting at a time (each fit
# of 77-150 labels costs seconds to minutes here): C on the embedding alone, then the lexical weight
# at that C, then class weighting. The embedding alone (lexical 0) stays a candidate, so n-grams are
# used only where they win on held-out rows.
SELECTED_TASKS = ("category", "root_cause")
LEXICAL_WEIGHTS = (0.0, 0.5, 1.0)
C_VALUES = (4.0, 16.0, 64.0)
HOLDOUT_ABOVE = 2000    # above this many examples, one stratified 20% holdout instead of k folds (cost)
HOLDOUT_SHARE = 0.2
OOS_GROUPS = 4          # held-out-class simulation: labels split into this many groups ...
OOS_FITS = 2            # ... of which this many are each left out of one fit (cost)
# The abstention threshold may cost at most this much in-scope accuracy on validation rows.
MAX_INSCOPE_LOSS = 0.03


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
                            ).encode())
        if self.lexicon is not None:
            h.update(self.lexicon.digest_bytes())
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
        x = features(vectors, texts, self.rule_scale, rules)
        logits = x @ self.coef[:, :x.shape[1]].T + self.intercept
        if self.lexicon is not None and len(self.lexicon):
            logits = logits + np.asarray(self.lexicon.transform(texts) @ self.coef[:, x.shape[1]:].T)
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
               recipe: Recipe | None = None, cross_validate: bool = True,
               validation: tuple[Sequence[str], Sequence[str], np.ndarray | None] | None = None) -> Head:
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
        return select_and_train(task, texts, labels, embedder, taxonomy=taxonomy, vectors=vectors,
                                trained_on=trained_on, validation=validation)
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


def _prior_texts(task: str, labels: Sequence[str], taxonomy: Taxonomy | None,
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
    texts, owners = _prior_texts(task, labels, taxonomy, recipe)
    if not texts:
        return np.zeros((0, 0)), np.zeros(0, dtype=int)
    return features(embedder.encode(texts), texts, recipe.rule_scale), owners


def _fit(x: np.ndarray, y: np.ndarray, prior_x: np.ndarray, prior_y: np.ndarray, recipe: Recipe,
         n_labels: int) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.linear_model import LogisticRegression

    weights = np.ones(len(y))
    if len(prior_y):
        x = sparse.vstack([x, prior_x], format="csr") if sparse.issparse(x) else np.vstack([x, prior_x])
        y = np.concatenate([y, prior_y])
        weights = np.concatenate([weights, np.full(len(prior_y), recipe.prior_weight)])
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


# --- the hybrid head: recipe, temperature and abstention chosen on validation data -----------------

@dataclass
class _Arrangement:
    """One split of rows into fitted and held out, with its lexicon and features prepared."""

    fit: np.ndarray           # indices into the training rows
    held: np.ndarray          # indices into the held-out pool (training rows in CV, else the validation rows)
    lexicon: Lexicon
    fit_lex: sparse.csr_matrix
    held_lex: sparse.csr_matrix
    prior_lex: sparse.csr_matrix


def _design(dense: np.ndarray, lex: sparse.csr_matrix, weight: float) -> Any:
    """The head's inputs for one lexical weight: the embedding alone, or embedding | weight x n-grams."""
    if not weight:
        return dense
    return sparse.hstack([sparse.csr_matrix(dense), lex * weight], format="csr")


def select_and_train(task: str, texts: Sequence[str], labels: Sequence[str], embedder: Embedder, *,
                     taxonomy: Taxonomy | None = None, vectors: np.ndarray | None = None, trained_on: str = "",
                     validation: tuple[Sequence[str], Sequence[str], np.ndarray | None] | None = None,
                     lexical_weights: Sequence[float] = LEXICAL_WEIGHTS, c_values: Sequence[float] = C_VALUES) -> Head:
    """Fit a category/root-cause head whose recipe, temperature and abstention threshold are chosen
    on validation data: `validation` when given, else 5-fold cross-validation (one stratified 20%
    holdout above HOLDOUT_ABOVE examples). The final head is fitted on the training rows only.

    Candidates, one setting at a time: each C on the embedding alone (balanced classes), then each
    lexical weight at the best C, then the best with unweighted classes; the score is accuracy +
    macro F1 on the held-out in-scope rows.
    """
    from sklearn.model_selection import StratifiedKFold, StratifiedShuffleSplit

    counts = Counter(labels)
    order = tuple(sorted(counts))
    y = np.array([order.index(lab) for lab in labels])
    texts = list(texts)
    x = np.asarray(embedder.encode(texts) if vectors is None else vectors, dtype=np.float64)
    prior_recipe = RECIPES[task]
    prior_texts, prior_y = _prior_texts(task, order, taxonomy, prior_recipe)
    prior_x = (np.asarray(embedder.encode(prior_texts), dtype=np.float64) if prior_texts
               else np.zeros((0, x.shape[1])))

    if validation is not None:
        pool_texts = list(validation[0])
        pool_x = np.asarray(embedder.encode(pool_texts) if validation[2] is None else validation[2], dtype=np.float64)
        pool_y = np.array([order.index(lab) if lab in order else -1 for lab in validation[1]])
        splits = [(np.arange(len(y)), np.arange(len(pool_y)))]
        how = f"the given validation split ({len(pool_y)} rows, {int((pool_y < 0).sum())} out of scope)"
    else:
        pool_texts, pool_x, pool_y = texts, x, y
        folds = min(CV_FOLDS, min(counts.values()))
        if len(y) > HOLDOUT_ABOVE:
            splitter: Any = StratifiedShuffleSplit(1, test_size=HOLDOUT_SHARE, random_state=SEED)
            how = f"a stratified {HOLDOUT_SHARE:.0%} holdout of the training rows"
        elif folds >= 2:
            splitter = StratifiedKFold(folds, shuffle=True, random_state=SEED)
            how = f"{folds}-fold cross-validation"
        else:
            raise ValueError(f"{task}: every label needs at least two examples to choose a recipe")
        splits = list(splitter.split(x, y))

    def arrange(fit: np.ndarray, held: np.ndarray) -> _Arrangement:
        lexicon = fit_lexicon([texts[i] for i in fit] + prior_texts)
        return _Arrangement(fit, held, lexicon, lexicon.transform([texts[i] for i in fit]),
                            lexicon.transform([pool_texts[i] for i in held]), lexicon.transform(prior_texts))

    need_lex = any(lexical_weights)
    arrangements = [arrange(f, h) if need_lex else
                    _Arrangement(f, h, Lexicon((), np.zeros(0), (), np.zeros(0)), *(sparse.csr_matrix((n, 0))
                                 for n in (len(f), len(h), len(prior_texts)))) for f, h in splits]

    def held_logits(recipe: Recipe, drop: frozenset[int] = frozenset(), only: list[_Arrangement] | None = None
                    ) -> np.ndarray:
        logits = np.full((len(pool_y), len(order)), np.nan)
        for a in only or arrangements:
            keep = np.array([y[i] not in drop for i in a.fit])
            pkeep = np.array([p not in drop for p in prior_y], dtype=bool)
            fx = _design(x[a.fit][keep], a.fit_lex[keep], recipe.lexical)
            px = _design(prior_x[pkeep], a.prior_lex[pkeep], recipe.lexical)
            coef, intercept = _fit(fx, y[a.fit][keep], px, prior_y[pkeep], recipe, len(order))
            hx = _design(pool_x[a.held], a.held_lex, recipe.lexical)
            logits[a.held] = np.asarray(hx @ coef.T) + intercept
        return logits

    held_rows = np.unique(np.concatenate([a.held for a in arrangements]))
    in_scope = held_rows[pool_y[held_rows] >= 0]

    def merit(logits: np.ndarray) -> tuple[float, float]:
        from sklearn.metrics import f1_score

        truth, guess = pool_y[in_scope], logits[in_scope].argmax(axis=1)
        return (float((truth == guess).mean()),
                float(f1_score(truth, guess, average="macro", labels=sorted(set(truth)))))

    trials: list[dict[str, Any]] = []
    best: tuple[float, Recipe, np.ndarray] | None = None

    def trial(recipe: Recipe) -> None:
        nonlocal best
        logits = held_logits(recipe)
        accuracy, macro_f1 = merit(logits)
        trials.append({"lexical": recipe.lexical, "c": recipe.c, "balanced": recipe.balanced,
                       "accuracy": round(accuracy, 4), "macro_f1": round(macro_f1, 4)})
        if best is None or accuracy + macro_f1 > best[0] + 1e-9:
            best = (accuracy + macro_f1, recipe, logits)

    for c in c_values:
        trial(Recipe(c=c, prior_weight=prior_recipe.prior_weight, rule_scale=0.0, lexical=0.0))
    assert best is not None
    for weight in (w for w in lexical_weights if w):
        trial(Recipe(**{**vars(best[1]), "lexical": weight}))
    trial(Recipe(**{**vars(best[1]), "balanced": False}))
    _, chosen, logits = best

    temperature = fit_temperature(logits[in_scope], pool_y[in_scope])
    report = cv_report(logits[in_scope], pool_y[in_scope], order, temperature, len(arrangements))
    confidence = _softmax(logits / temperature).max(axis=1)
    correct = logits.argmax(axis=1) == pool_y
    out_rows = held_rows[pool_y[held_rows] < 0]
    if len(out_rows):
        oos_source = "validation rows whose label is not a training label"
        oos_conf = confidence[out_rows]
    elif len(order) >= 3:
        oos_source = (f"held-out classes (labels split into {min(OOS_GROUPS, len(order))} groups; "
                      f"{OOS_FITS} of them each left out of one fit)")
        oos_conf = _held_out_class_confidence(order, pool_y, arrangements[0], held_logits, chosen, temperature)
    else:
        oos_source, oos_conf = "none (two labels)", np.zeros(0)
    threshold, abstention = choose_threshold(confidence[in_scope], correct[in_scope], oos_conf)
    abstention["oos_source"] = oos_source

    lexicon = fit_lexicon(texts + prior_texts) if chosen.lexical else None
    fx = _design(x, lexicon.transform(texts), chosen.lexical) if lexicon else x
    px = _design(prior_x, lexicon.transform(prior_texts), chosen.lexical) if lexicon else prior_x
    coef, intercept = _fit(fx, y, px, prior_y, chosen, len(order))
    if lexicon is not None:     # fold the weight into the weights: the head reads plain TF-IDF
        coef[:, x.shape[1]:] *= chosen.lexical
    card = {
        "trained_on": trained_on, "examples": len(y), "per_label": {lab: counts[lab] for lab in order},
        "prior_examples": len(prior_y), "recipe": vars(chosen), "cross_validation": report,
        "selection": {"validation": how, "score": "accuracy + macro F1 on held-out in-scope rows",
                      "trials": trials},
        "abstention": abstention, "lexicon": {"words": len(lexicon.words), "chars": len(lexicon.chars)}
        if lexicon else None,
        "created": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    return Head(task, order, coef, intercept, temperature, 0.0, base_model(embedder.name), card,
                lexicon=lexicon, min_confidence=threshold)


def _held_out_class_confidence(order: Sequence[str], pool_y: np.ndarray, arrangement: _Arrangement,
                               held_logits: Any, recipe: Recipe, temperature: float) -> np.ndarray:
    """Confidences on stand-ins for out-of-scope tickets: the labels are split into groups; each
    group is left out of a fit, and that fit's confidence on the group's held-out rows is recorded."""
    rng = np.random.default_rng(SEED)
    shuffled = rng.permutation(len(order))
    groups = [frozenset(int(i) for i in g) for g in np.array_split(shuffled, min(OOS_GROUPS, len(order)))][:OOS_FITS]
    out = []
    for group in groups:
        logits = held_logits(recipe, drop=group, only=[arrangement])
        rows = arrangement.held[np.isin(pool_y[arrangement.held], list(group))]
        if len(rows):
            out.append(_softmax(logits[rows] / temperature).max(axis=1))
    return np.concatenate(out) if out else np.zeros(0)


def choose_threshold(in_conf: np.ndarray, in_correct: np.ndarray, oos_conf: np.ndarray,
                     max_loss: float = MAX_INSCOPE_LOSS) -> tuple[float, dict[str, Any]]:
    """The abstention threshold: maximise in-scope accuracy (abstaining counts as wrong) plus
    out-of-scope recall (abstaining is right), costing at most `max_loss` in-scope accuracy.

    With no out-of-scope evidence the answer is 0 (abstaining could only lose).
    """
    in_conf, in_correct, oos_conf = np.asarray(in_conf), np.asarray(in_correct, dtype=bool), np.asarray(oos_conf)
    top1 = float(in_correct.mean()) if len(in_correct) else 0.0
    best_t, best_j, below, previous = 0.0, -1.0, 0.0, 0.0
    for t in np.unique(np.concatenate([[0.0], in_conf, oos_conf])):
        accuracy = float((in_correct & (in_conf >= t)).mean()) if len(in_conf) else 0.0
        if top1 - accuracy > max_loss + 1e-12:
            break    # thresholds only grow from here, and so does the loss
        recall = float((oos_conf < t).mean()) if len(oos_conf) else 0.0
        if accuracy + recall > best_j + 1e-12:
            best_t, best_j, below = float(t), accuracy + recall, previous
        previous = float(t)
    # Any value in (below, best_t] scores the same on validation: take the middle, rounded down,
    # rather than sit exactly on one validation ticket's confidence.
    threshold = float(np.floor((below + best_t) / 2 * 1e4) / 1e4) if best_t else 0.0
    return threshold, {
        "threshold": threshold, "max_inscope_loss": max_loss, "validation_inscope_rows": int(len(in_conf)),
        "validation_oos_rows": int(len(oos_conf)), "inscope_accuracy_top1": round(top1, 4),
        "inscope_accuracy": round(float((in_correct & (in_conf >= threshold)).mean()), 4) if len(in_conf) else None,
        "oos_recall": round(float((oos_conf < threshold).mean()), 4) if len(oos_conf) else None,
    }


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
    lexical = head.lexicon.arrays() if head.lexicon is not None else {}
    np.savez(folder / f"{head.task}.npz", coef=head.coef.astype(np.float32),
             intercept=head.intercept.astype(np.float32), **lexical)
    # Hashed from the float32 arrays as loaded back: the same as the loaded head's.
    version = Head(head.task, head.labels, head.coef.astype(np.float32), head.intercept.astype(np.float32),
                   head.temperature, head.rule_scale, head.embedding,
                   lexicon=Lexicon.from_arrays(lexical) if lexical else None,
                   min_confidence=head.min_confidence).version
    meta = {"format": 2 if lexical or head.min_confidence else FORMAT, "task": head.task, "version": version, "labels": list(head.labels),
            "temperature": head.temperature, "rule_scale": head.rule_scale,
            "rule_features": list(RULE_FEATURES) if head.rule_scale else [], "embedding": head.embedding,
            "dim": head.dim, "min_confidence": head.min_confidence,
            "lexicon": {"words": len(head.lexicon.words), "chars": len(head.lexicon.chars)} if head.lexicon else None,
            "card": head.card}
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
    return Head(str(meta["task"]), labels, coef, intercept, float(meta["temperature"]),
                float(meta.get("rule_scale", 0.0)), str(meta["embedding"]), dict(meta.get("card") or {}),
                lexicon=lexicon, min_confidence=float(meta.get("min_confidence") or 0.0))


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
             + (f" plus TF-IDF of word 1-2-grams and character 4-grams ({len(head.lexicon.words)} + "
                f"{len(head.lexicon.chars)} n-grams, weight {card.get('recipe', {}).get('lexical')})"
                if head.lexicon is not None else "")
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
    selection = card.get("selection")
    if selection:
        recipe = card.get("recipe", {})
        lines.append(f"- chosen on {selection['validation']} ({selection['score']}): C {recipe.get('c')}, lexical "
                     f"weight {recipe.get('lexical')} (0 = the embedding alone), class weights "
                     f"{'balanced' if recipe.get('balanced') else 'none'}; every candidate tried:")
        lines += [f"  - lexical {t['lexical']}, C {t['c']}, {'balanced' if t['balanced'] else 'unweighted'}: "
                  f"accuracy {t['accuracy']}, macro F1 {t['macro_f1']}" for t in selection.get("trials", [])]
    abstention = card.get("abstention")
    if abstention:
        lines.append(f"- abstention: below confidence {abstention['threshold']} the label is `uncertain` (or the "
                     f"config's `{head.task}_min_confidence` if higher); chosen on the same validation rows to "
                     f"catch out-of-scope tickets, stood in for by {abstention['oos_source']}, at most "
                     f"{abstention['max_inscope_loss']} in-scope accuracy lost: in-scope accuracy "
                     f"{abstention['inscope_accuracy_top1']} -> {abstention['inscope_accuracy']}, out-of-scope recall "
                     f"{abstention['oos_recall']}")
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

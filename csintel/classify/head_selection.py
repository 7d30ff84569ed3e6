"""The hybrid head's fitting: recipe, temperature and abstention threshold chosen on validation data.

Category and root cause choose their recipe on validation data, one setting at a time (each fit
of 77-150 labels costs seconds to minutes here): C on the embedding alone, then the lexical weight
at that C, then class weighting. The embedding alone (lexical 0) stays a candidate, so n-grams are
used only where they win on held-out rows. A few-shot file (median label at most FEW_SHOT_MAX
examples) also tries each label's name ("card_arrival" -> "card arrival") as one more prior
example where the taxonomy does not describe the label (weight NAME_WEIGHT), kept where it wins
on validation: on Banking77 at 8 a label, +1 point of val accuracy over 5 draws (docs/categories.md). The abstention rule and threshold are chosen on the
same rows (`choose_abstention`). csintel.classify.heads describes the head; this module fits it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Sequence

import numpy as np
from scipy import sparse

from csintel.classify.calibration import cv_report, fit_temperature, softmax
from csintel.classify.fewshot import FEW_SHOT_MAX
from csintel.classify.heads import (CV_FOLDS, RECIPES, SEED, Head, Recipe, base_model, energy, fit_weights,
                                    stack_rows, taxonomy_prior)
from csintel.classify.lexical import Lexicon, fit_lexicon
from csintel.classify.semi_supervised import MIN_UNLABELLED, knn_graph, pseudo_labels, usable_unlabelled
from csintel.classify.taxonomy import Taxonomy
from csintel.embed import Embedder

LEXICAL_WEIGHTS = (0.0, 0.5, 1.0)
C_VALUES = (4.0, 16.0, 64.0)
HOLDOUT_ABOVE = 2000    # above this many examples, one stratified 20% holdout instead of k folds (cost)
HOLDOUT_SHARE = 0.2
OOS_GROUPS = 4          # held-out-class simulation: labels split into this many groups ...
OOS_FITS = 2            # ... of which this many are each left out of one fit (cost)
# The abstention threshold may cost at most this much in-scope accuracy on validation rows. It was
# 0.03 with the top probability as the only rule; with energy, 1.5 points catch more of the stand-in
# out-of-scope rows of Banking77 and CLINC150 (held-out classes of their val splits) than 3 points
# did with the probability (docs/categories.md, "Abstention").
MAX_INSCOPE_LOSS = 0.015
# A label name's weight as a prior example: 1 beat 0 (no names), 0.5 and 2 on Banking77's val split
# in each of 5 draws of 8 examples a label (the taxonomy's descriptions weigh RECIPES' prior_weight, 2).
NAME_WEIGHT = 1.0
# What the head may abstain on: its top label's calibrated probability, or its energy.
ABSTENTION_RULES = ("confidence", "energy")


@dataclass
class _Arrangement:
    """One split of rows into fitted and held out, with its lexicon and features prepared."""

    fit: np.ndarray           # indices into the training rows
    held: np.ndarray          # indices into the held-out pool (training rows in CV, else the validation rows)
    lexicon: Lexicon
    fit_lex: sparse.csr_matrix
    held_lex: sparse.csr_matrix
    prior_lex: sparse.csr_matrix
    unlabelled_lex: sparse.csr_matrix
    # The unlabelled rows' pseudo-labels from a head fitted on `fit` only (set when they are tried).
    pseudo: np.ndarray | None = None


def _design(dense: np.ndarray, lex: sparse.csr_matrix, weight: float) -> Any:
    """The head's inputs for one lexical weight: the embedding alone, or embedding | weight x n-grams."""
    if not weight:
        return dense
    return sparse.hstack([sparse.csr_matrix(dense), lex * weight], format="csr")


def select_and_train(task: str, texts: Sequence[str], labels: Sequence[str], embedder: Embedder, *,
                     taxonomy: Taxonomy | None = None, vectors: np.ndarray | None = None, trained_on: str = "",
                     validation: tuple[Sequence[str], Sequence[str], np.ndarray | None] | None = None,
                     lexical_weights: Sequence[float] = LEXICAL_WEIGHTS, c_values: Sequence[float] = C_VALUES,
                     unlabelled: tuple[Sequence[str], np.ndarray | None] | None = None) -> Head:
    """Fit a category/root-cause head whose recipe, temperature and abstention threshold are chosen
    on validation data: `validation` when given, else 5-fold cross-validation (one stratified 20%
    holdout above HOLDOUT_ABOVE examples). The final head is fitted on the training rows only.

    Candidates, one setting at a time: each C on the embedding alone (balanced classes), then each
    lexical weight at the best C, then the best with unweighted classes; the score is accuracy +
    macro F1 on the held-out in-scope rows. With at least MIN_UNLABELLED usable `unlabelled` tickets,
    a last candidate adds them with pseudo-labels (csintel.classify.semi_supervised) to the best
    recipe's rows: each split's pseudo-labels come from a head fitted on that split's fitted rows only,
    so the held-out rows' labels never reach them.
    """
    from sklearn.model_selection import StratifiedKFold, StratifiedShuffleSplit

    counts = Counter(labels)
    order = tuple(sorted(counts))
    y = np.array([order.index(lab) for lab in labels])
    texts = list(texts)
    x = np.asarray(embedder.encode(texts) if vectors is None else vectors, dtype=np.float64)
    prior_recipe = RECIPES[task]
    prior_texts, prior_y = taxonomy_prior(task, order, taxonomy, prior_recipe)
    # Label names as prior examples (the last prior rows), tried where labels have few examples.
    named = ([i for i, lab in enumerate(order) if i not in set(prior_y.tolist())]
             if prior_recipe.prior_weight and float(np.median(list(counts.values()))) <= FEW_SHOT_MAX else [])
    name_rows = np.r_[np.zeros(len(prior_y), dtype=bool), np.ones(len(named), dtype=bool)]
    prior_texts = prior_texts + [order[i].replace("_", " ") for i in named]
    prior_y = np.concatenate([prior_y, np.array(named, dtype=int)]).astype(int)
    prior_x = (np.asarray(embedder.encode(prior_texts), dtype=np.float64) if prior_texts
               else np.zeros((0, x.shape[1])))

    # Tickets nobody labelled, and their kNN graph (the same for every split: no labels in it).
    spare = usable_unlabelled(list(unlabelled[0]), texts) if unlabelled is not None else np.zeros(0, dtype=int)
    if len(spare) >= MIN_UNLABELLED and unlabelled is not None:
        u_texts = [str(unlabelled[0][i]) for i in spare]
        u_x = np.asarray(embedder.encode(u_texts) if unlabelled[1] is None else np.asarray(unlabelled[1])[spare],
                         dtype=np.float64)
        graph = knn_graph(u_x)
    else:
        u_texts, u_x, graph = [], np.zeros((0, x.shape[1])), None

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
        # The unlabelled texts join the vocabulary (no labels involved): pseudo-labelled rows need their n-grams.
        lexicon = fit_lexicon([texts[i] for i in fit] + prior_texts + u_texts)
        return _Arrangement(fit, held, lexicon, lexicon.transform([texts[i] for i in fit]),
                            lexicon.transform([pool_texts[i] for i in held]), lexicon.transform(prior_texts),
                            lexicon.transform(u_texts))

    need_lex = any(lexical_weights)
    arrangements = [arrange(f, h) if need_lex else
                    _Arrangement(f, h, Lexicon((), np.zeros(0), (), np.zeros(0)), *(sparse.csr_matrix((n, 0))
                                 for n in (len(f), len(h), len(prior_texts), len(u_texts)))) for f, h in splits]

    def fit_split(a: _Arrangement, recipe: Recipe, drop: frozenset[int] = frozenset()) -> tuple[np.ndarray, np.ndarray]:
        """The weights fitted on one split's rows (less the labels in `drop`), with its pseudo-labelled
        unlabelled rows when the recipe says so."""
        keep = np.array([y[i] not in drop for i in a.fit])
        pkeep = np.array([p not in drop for p in prior_y], dtype=bool) & (recipe.names | ~name_rows)
        fx = _design(x[a.fit][keep], a.fit_lex[keep], recipe.lexical)
        fy = y[a.fit][keep]
        if recipe.unlabelled and a.pseudo is not None:
            ukeep = ~np.isin(a.pseudo, list(drop))
            ux = _design(u_x[ukeep], a.unlabelled_lex[ukeep], recipe.lexical)
            fx = stack_rows(fx, ux)
            fy = np.concatenate([fy, a.pseudo[ukeep]])
        px = _design(prior_x[pkeep], a.prior_lex[pkeep], recipe.lexical)
        return fit_weights(fx, fy, px, prior_y[pkeep], recipe, len(order),
                           np.where(name_rows[pkeep], NAME_WEIGHT, recipe.prior_weight))

    def held_logits(recipe: Recipe, drop: frozenset[int] = frozenset(), only: list[_Arrangement] | None = None
                    ) -> np.ndarray:
        logits = np.full((len(pool_y), len(order)), np.nan)
        for a in only or arrangements:
            coef, intercept = fit_split(a, recipe, drop)
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
        trials.append({"lexical": recipe.lexical, "c": recipe.c, "balanced": recipe.balanced, "names": recipe.names,
                       **({"unlabelled": len(u_texts)} if recipe.unlabelled else {}),
                       "accuracy": round(accuracy, 4), "macro_f1": round(macro_f1, 4)})
        if best is None or accuracy + macro_f1 > best[0] + 1e-9:
            best = (accuracy + macro_f1, recipe, logits)

    for c in c_values:
        trial(Recipe(c=c, prior_weight=prior_recipe.prior_weight, rule_scale=0.0, lexical=0.0))
    assert best is not None
    for weight in (w for w in lexical_weights if w):
        trial(Recipe(**{**vars(best[1]), "lexical": weight}))
    trial(Recipe(**{**vars(best[1]), "balanced": False}))
    if name_rows.any():
        trial(Recipe(**{**vars(best[1]), "names": True}))
    if graph is not None:
        plain = best[1]
        for a in arrangements:
            coef, intercept = fit_split(a, plain)
            a.pseudo = pseudo_labels(graph, np.asarray(_design(u_x, a.unlabelled_lex, plain.lexical) @ coef.T)
                                     + intercept)
        trial(Recipe(**{**vars(plain), "unlabelled": True}))
    _, chosen, logits = best

    temperature = fit_temperature(logits[in_scope], pool_y[in_scope])
    report = cv_report(logits[in_scope], pool_y[in_scope], order, temperature, len(arrangements))
    correct = logits.argmax(axis=1) == pool_y
    out_rows = held_rows[pool_y[held_rows] < 0]
    if len(out_rows):
        oos_source = "validation rows whose label is not a training label"
        oos_logits = logits[out_rows]
    elif len(order) >= 3:
        oos_source = (f"held-out classes (labels split into {min(OOS_GROUPS, len(order))} groups; "
                      f"{OOS_FITS} of them each left out of one fit)")
        oos_logits = _held_out_class_logits(order, pool_y, arrangements[0], held_logits, chosen)
    else:
        oos_source, oos_logits = "none (two labels)", np.zeros((0, len(order)))
    rule, threshold, abstention = choose_abstention(logits[in_scope], correct[in_scope], oos_logits, temperature)
    abstention["oos_source"] = oos_source

    used = chosen.names | ~name_rows
    prior_texts, prior_x, prior_y = [t for t, u in zip(prior_texts, used) if u], prior_x[used], prior_y[used]
    name_rows = name_rows[used]
    lexicon = fit_lexicon(texts + prior_texts + u_texts) if chosen.lexical else None
    fx = _design(x, lexicon.transform(texts), chosen.lexical) if lexicon else x
    px = _design(prior_x, lexicon.transform(prior_texts), chosen.lexical) if lexicon else prior_x
    prior_weights = np.where(name_rows, NAME_WEIGHT, chosen.prior_weight)
    semi = None
    if chosen.unlabelled:   # pseudo-labels from the plain head on all labelled rows, then the refit
        ux = _design(u_x, lexicon.transform(u_texts), chosen.lexical) if lexicon else u_x
        coef, intercept = fit_weights(fx, y, px, prior_y, chosen, len(order), prior_weights)
        pseudo = pseudo_labels(graph, np.asarray(ux @ coef.T) + intercept)
        fx = stack_rows(fx, ux)
        y_fit = np.concatenate([y, pseudo])
        semi = {"rows": len(u_texts), "pseudo_labels": {order[i]: int(n) for i, n in
                                                        zip(*np.unique(pseudo, return_counts=True))}}
    else:
        y_fit = y
    coef, intercept = fit_weights(fx, y_fit, px, prior_y, chosen, len(order), prior_weights)
    if lexicon is not None:     # fold the weight into the weights: the head reads plain TF-IDF
        coef[:, x.shape[1]:] *= chosen.lexical
    card = {
        "trained_on": trained_on, "examples": len(y), "per_label": {lab: counts[lab] for lab in order},
        "prior_examples": len(prior_y), "recipe": vars(chosen), "cross_validation": report,
        "selection": {"validation": how, "score": "accuracy + macro F1 on held-out in-scope rows",
                      "trials": trials},
        "abstention": abstention, "lexicon": {"words": len(lexicon.words), "chars": len(lexicon.chars)}
        if lexicon else None,
        "unlabelled": None if graph is None else {
            "offered": len(u_texts), "used": bool(chosen.unlabelled), **(semi or {}),
            "method": "pseudo-labels: the head's probabilities smoothed over a kNN graph of the unlabelled "
                      "tickets (csintel.classify.semi_supervised), kept where that won on validation"},
        "created": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    return Head(task, order, coef, intercept, temperature, 0.0, base_model(embedder.name), card,
                lexicon=lexicon, min_confidence=threshold if rule == "confidence" else 0.0,
                min_energy=threshold if rule == "energy" else None)


def _held_out_class_logits(order: Sequence[str], pool_y: np.ndarray, arrangement: _Arrangement,
                           held_logits: Any, recipe: Recipe) -> np.ndarray:
    """Logits of stand-ins for out-of-scope tickets: the labels are split into groups; each group is
    left out of a fit, and that fit's logits on the group's held-out rows are recorded (a label
    left out has logit -1e4: it adds nothing to the probabilities or the energy)."""
    rng = np.random.default_rng(SEED)
    shuffled = rng.permutation(len(order))
    groups = [frozenset(int(i) for i in g) for g in np.array_split(shuffled, min(OOS_GROUPS, len(order)))][:OOS_FITS]
    out = []
    for group in groups:
        logits = held_logits(recipe, drop=group, only=[arrangement])
        rows = arrangement.held[np.isin(pool_y[arrangement.held], list(group))]
        if len(rows):
            out.append(logits[rows])
    return np.concatenate(out) if out else np.zeros((0, len(order)))


def choose_abstention(in_logits: np.ndarray, in_correct: np.ndarray, oos_logits: np.ndarray, temperature: float,
                      max_loss: float = MAX_INSCOPE_LOSS) -> tuple[str, float, dict[str, Any]]:
    """The head's own abstention: (rule, threshold, card entry). Each rule of ABSTENTION_RULES gets its
    threshold from `choose_threshold`; the one with the higher in-scope accuracy + out-of-scope recall
    is kept (the top probability on a tie). With no out-of-scope evidence: confidence, threshold 0."""
    scores = {"confidence": lambda z: softmax(z / temperature).max(axis=1) if len(z) else np.zeros(0),
              "energy": lambda z: energy(z, temperature) if len(z) else np.zeros(0)}
    found = {rule: choose_threshold(scores[rule](in_logits), in_correct, scores[rule](oos_logits), max_loss,
                                    floor=0.0 if rule == "confidence" else -np.inf) for rule in ABSTENTION_RULES}

    def merit(rule: str) -> float:
        info = found[rule][1]
        return float(info["inscope_accuracy"] or 0.0) + float(info["oos_recall"] or 0.0)

    # Energy must win outright (it then abstains on something: its threshold is finite).
    rule = "energy" if merit("energy") > merit("confidence") + 1e-9 else "confidence"
    threshold, info = found[rule]
    return rule, threshold, {"rule": rule, **info, "candidates": {
        r: {k: found[r][1][k] for k in ("threshold", "inscope_accuracy", "oos_recall")} for r in ABSTENTION_RULES}}


def choose_threshold(in_conf: np.ndarray, in_correct: np.ndarray, oos_conf: np.ndarray,
                     max_loss: float = MAX_INSCOPE_LOSS, floor: float = 0.0) -> tuple[float, dict[str, Any]]:
    """The abstention threshold on a score (a probability, or energy): maximise in-scope accuracy
    (abstaining counts as wrong) plus out-of-scope recall (abstaining is right), costing at most
    `max_loss` in-scope accuracy.

    With no out-of-scope evidence the answer is `floor`, the score's least value (abstaining could
    only lose).
    """
    in_conf, in_correct, oos_conf = np.asarray(in_conf), np.asarray(in_correct, dtype=bool), np.asarray(oos_conf)
    top1 = float(in_correct.mean()) if len(in_correct) else 0.0
    best_t, best_j, below, previous = floor, -1.0, floor, floor
    for t in np.unique(np.concatenate([[floor], in_conf, oos_conf])):
        accuracy = float((in_correct & (in_conf >= t)).mean()) if len(in_conf) else 0.0
        if top1 - accuracy > max_loss + 1e-12:
            break    # thresholds only grow from here, and so does the loss
        recall = float((oos_conf < t).mean()) if len(oos_conf) else 0.0
        if accuracy + recall > best_j + 1e-12:
            best_t, best_j, below = float(t), accuracy + recall, previous
        previous = float(t)
    # Any value in (below, best_t] scores the same on validation: take the middle, rounded down,
    # rather than sit exactly on one validation ticket's confidence.
    threshold = float(np.floor((below + best_t) / 2 * 1e4) / 1e4) if best_t > floor and np.isfinite(below) \
        else best_t
    return threshold, {
        "threshold": threshold if np.isfinite(threshold) else None, "max_inscope_loss": max_loss,
        "validation_inscope_rows": int(len(in_conf)),
        "validation_oos_rows": int(len(oos_conf)), "inscope_accuracy_top1": round(top1, 4),
        "inscope_accuracy": round(float((in_correct & (in_conf >= threshold)).mean()), 4) if len(in_conf) else None,
        "oos_recall": round(float((oos_conf < threshold).mean()), 4) if len(oos_conf) else None,
    }

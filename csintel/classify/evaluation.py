"""Training and scoring classifiers on labelled tickets: the logic of `csintel train` and `csintel eval`.

A labelled file is CSV (or JSONL) with a `text` column and the labels in `label`, or, when there is
no `label` column, in a column named after the task: one file can then label category, root cause
and sentiment at once (data/eval/tickets.csv does). Rows with an empty label are not part of that
task. An optional `hard` column (0/1) marks the hard cases, which are also scored on their own.
`csintel train` reads those rows' texts as unlabelled tickets, with any `--unlabelled` file's: a
category or root-cause head tries them as pseudo-labelled rows (csintel.classify.semi_supervised)
and keeps them where that wins on validation.

Scoring: a prediction the model abstained on has the label "uncertain"; it is wrong for a labelled
row, and a row labelled "uncertain" is right only when the model abstains. Macro averages run over
the labels present in the test file.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import pandas as pd

from csintel.classify.fewshot import train_best
from csintel.classify.heads import TASKS, Head, expected_calibration_error, gated, installed_head
from csintel.classify.sentiment import score_sentiment
from csintel.classify.taxonomy import (
    UNCERTAIN, Prediction, Taxonomy, ZeroShotClassifier, load_taxonomy, predictions,
)
from csintel.config import Settings
from csintel.embed import Embedder, configured_embedder

# The extraction taggers are scored by their own module (labels there are lists, not one class).
EXTRACTION_TASKS = {"competitors": "eval_competitors", "feature_request": "eval_feature_requests",
                    "errors": "eval_errors"}
EVAL_TASKS = (*TASKS, *EXTRACTION_TASKS)
# The TF-IDF + logistic regression baseline's inverse regularisation (a common default for text).
TFIDF_C = 10.0
# VADER's documented cut-offs on its compound score.
VADER_THRESHOLD = 0.05


@dataclass(frozen=True)
class Labeled:
    """The rows of a labelled file that carry a label for one task."""

    path: Path
    texts: list[str]
    labels: list[str]
    hard: list[bool] | None    # None when the file has no `hard` column
    unlabelled: list[str] = field(default_factory=list)   # texts of the rows with no label for the task


def read_labeled(path: Path, task: str) -> Labeled:
    """Labelled rows for `task` from a CSV or JSONL file (see the module doc for the columns).

    Raises:
        FileNotFoundError: no such file.
        ValueError: no `text` column, no `label` (or task-named) column, or no labelled rows.
    """
    path = Path(path)
    frame = _read_rows(path, "labelled")
    column = "label" if "label" in frame.columns else task
    if "text" not in frame.columns or column not in frame.columns:
        raise ValueError(f"{path}: needs a `text` column and a `label` (or `{task}`) column; "
                         f"found {', '.join(map(str, frame.columns)) or 'none'}")
    texts = frame["text"].fillna("").astype(str).str.strip()
    labels = frame[column].fillna("").astype(str).str.strip()
    keep = (texts != "") & (labels != "")
    if not keep.any():
        raise ValueError(f"{path}: no rows with both a text and a {task} label")
    hard = None
    if "hard" in frame.columns:
        hard = [str(v).strip().lower() in ("1", "true", "yes") for v in frame["hard"][keep]]
    return Labeled(path, texts[keep].tolist(), labels[keep].tolist(), hard,
                   texts[(texts != "") & (labels == "")].tolist())


def read_unlabelled(path: Path) -> list[str]:
    """The non-empty `text` values of a CSV or JSONL file (any other column is ignored).

    Raises:
        FileNotFoundError: no such file.
        ValueError: no `text` column.
    """
    path = Path(path)
    frame = _read_rows(path, "unlabelled")
    if "text" not in frame.columns:
        raise ValueError(f"{path}: needs a `text` column; found {', '.join(map(str, frame.columns)) or 'none'}")
    texts = frame["text"].fillna("").astype(str).str.strip()
    return texts[texts != ""].tolist()


def _read_rows(path: Path, kind: str) -> pd.DataFrame:
    if not path.is_file():
        raise FileNotFoundError(f"{kind} file {path} not found")
    if path.suffix.lower() in (".jsonl", ".ndjson"):
        return pd.DataFrame([json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()
                             if line.strip()])
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def train(task: str, labeled: Path, settings: Settings, embedder: Embedder | None = None,
          test: Path | None = None, progress: Callable[[str], None] | None = None,
          fine_tune: bool = True, unlabelled: Path | None = None) -> Head:
    """Fit the task's head on a labelled file (cross-validated; a few-shot file also tries a fine-tuned
    encoder, csintel.classify.fewshot); with `test`, record held-out figures in its card.

    The file's rows without a label for the task, and the texts of `unlabelled`, are offered to a
    category or root-cause head as unlabelled tickets (see the module doc)."""
    if task not in TASKS:
        raise ValueError(f"csintel train learns {', '.join(TASKS)}; got '{task}'")
    embedder = embedder or configured_embedder(settings)
    data = read_labeled(labeled, task)
    taxonomy = load_taxonomy(settings.resolve(settings.models.taxonomy)) if task != "sentiment" else None
    spare = data.unlabelled + (read_unlabelled(unlabelled) if unlabelled is not None else [])
    head = train_best(task, data.texts, data.labels, embedder, taxonomy=taxonomy, trained_on=str(labeled),
                      base_model_path=settings.models.embedding, progress=progress, fine_tune=fine_tune,
                      unlabelled=spare)
    if test is not None:
        result = evaluate(task, test, settings, embedder=embedder, head=head)
        head.card["held_out"] = {"file": str(test), **{k: result[k] for k in
                                 ("n", "accuracy", "macro_recall", "macro_f1", "ece")},
                                 "baseline": {k: result["baseline"][k] for k in
                                              ("name", "accuracy", "macro_recall", "macro_f1")}
                                 if result.get("baseline") else None}
    return head


def evaluate(task: str, test: Path, settings: Settings, *, train_file: Path | None = None,
             embedder: Embedder | None = None, head: Head | None = None) -> dict[str, Any]:
    """Score a task on a labelled test file, as one JSON-able dict.

    The model is, in order: `head` when given, a head trained in memory on `train_file`, the
    installed head (model folder, else shipped), else zero-shot (category, root cause) or the
    rules (sentiment). The obvious alternative is scored on the same rows as `baseline`: for
    category and root cause, zero-shot when the test labels are the taxonomy's, else TF-IDF +
    logistic regression trained on the same `train_file` (none without one: zero-shot cannot say
    labels it does not know); VADER for sentiment (and the rules beside a sentiment head).
    """
    if task in EXTRACTION_TASKS:
        from csintel.classify import eval_extraction

        if train_file is not None:
            raise ValueError(f"--train does not apply to {task}: its tagger is configured, not trained")
        result: dict[str, Any] = getattr(eval_extraction, EXTRACTION_TASKS[task])(Path(test), settings)
        return result
    if task not in TASKS:
        raise ValueError(f"unknown task '{task}': one of {', '.join(EVAL_TASKS)}")
    data = read_labeled(test, task)
    embedder = embedder or configured_embedder(settings)
    taxonomy = load_taxonomy(settings.resolve(settings.models.taxonomy))
    taxonomy_labels = [s.name for s in taxonomy.tasks[task]] if task != "sentiment" else None
    if head is None and train_file is not None:
        head = train(task, train_file, settings, embedder)
        origin = f"trained in memory on {train_file}"
    elif head is None:
        head = installed_head(task, settings, embedder, taxonomy_labels)
        origin = "installed"
    else:
        origin = "given"
    vectors = embedder.encode(data.texts)
    threshold = _min_confidence(settings, task)
    if head is not None:   # a head may carry its own, validated abstention threshold
        threshold = head.abstain_below(threshold)
    result: dict[str, Any] = {"task": task, "test": str(data.path), "embedding": embedder.name}
    baseline: tuple[str, list[Prediction]] | None = None
    if head is not None:
        probs, answered = head.answers(vectors, data.texts, threshold)
        top = predictions(probs, head.labels, 0.0)
        predicted = gated(top, answered)
        result |= {"model": head.version, "model_origin": origin}
        if task == "sentiment":
            result["rules"] = score(data.labels, [p.label for p in _rules(data.texts)])
        else:
            baseline = category_baseline(task, data, taxonomy, embedder, vectors, threshold, train_file)
            if baseline is None:
                result["baseline_note"] = ("no baseline: the test labels are not the taxonomy's (zero-shot cannot "
                                           "say them); give --train to score TF-IDF + logistic regression beside it")
    elif task == "sentiment":
        predicted, top = _rules(data.texts), []
        result |= {"model": "rules", "model_origin": "no head installed"}
    else:
        predicted, top = _zero_shot(task, taxonomy, embedder, vectors, threshold)
        result |= {"model": f"zero-shot ({taxonomy.version})", "model_origin": "no head installed"}
    if task == "sentiment":
        baseline = "vader", vader_labels(data.texts)
    labels = [p.label for p in predicted]
    result |= score(data.labels, labels, per_label=True)
    answered = [t == p for t, p in zip(data.labels, labels) if p != UNCERTAIN]
    result["accuracy_answered"] = round(float(np.mean(answered)), 4) if answered else None
    # Calibration of the top label's confidence, abstentions included (their confidence is still a claim).
    result["ece"] = expected_calibration_error(np.array([p.confidence for p in top]),
                                               np.array([t == p.label for t, p in zip(data.labels, top)])) if top else None
    if data.hard is not None and any(data.hard):
        rows = [i for i, h in enumerate(data.hard) if h]
        result["hard"] = score([data.labels[i] for i in rows], [labels[i] for i in rows])
    if baseline is not None:
        name, guessed = baseline
        result["baseline"] = {"name": name, **score(data.labels, [p.label for p in guessed])}
    if task != "sentiment":
        result["confusion"] = confusion(data.labels, labels)
    return result


def category_baseline(task: str, data: Labeled, taxonomy: Taxonomy, embedder: Embedder, vectors: np.ndarray,
                      threshold: float, train_file: Path | None) -> tuple[str, list[Prediction]] | None:
    """The baseline beside a category/root-cause head: zero-shot when every test label is one of the
    taxonomy's (zero-shot can only say those), else TF-IDF + logistic regression fitted on
    `train_file`; None when neither applies."""
    known = {s.name for s in taxonomy.tasks[task]}
    if set(data.labels) - {UNCERTAIN} <= known:
        return "zero-shot", _zero_shot(task, taxonomy, embedder, vectors, threshold)[0]
    if train_file is None:
        return None
    training = read_labeled(train_file, task)
    guessed = tfidf_baseline(training.texts, training.labels)(data.texts)
    return "tf-idf + logistic regression", [Prediction(label, 1.0) for label in guessed]


def tfidf_baseline(texts: Sequence[str], labels: Sequence[str]) -> Callable[[Sequence[str]], list[str]]:
    """The obvious lexical baseline, fitted on training rows: TF-IDF of word 1-2-grams (sublinear tf)
    and logistic regression (C=10). Returns a function from texts to predicted labels."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    model = make_pipeline(TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True),
                          LogisticRegression(C=TFIDF_C, max_iter=3000))
    model.fit(list(texts), list(labels))
    return lambda new: [str(p) for p in model.predict(list(new))] if len(new) else []


def _min_confidence(settings: Settings, task: str) -> float:
    return float(getattr(settings.models, f"{task}_min_confidence", 0.0))


def _zero_shot(task: str, taxonomy: Taxonomy, embedder: Embedder, vectors: np.ndarray,
               threshold: float) -> tuple[list[Prediction], list[Prediction]]:
    """Zero-shot predictions with abstention, and the same without (for calibration)."""
    classifier = ZeroShotClassifier(taxonomy, embedder, {task: threshold})
    probs = classifier.probabilities(task, vectors)
    return predictions(probs, classifier.labels(task), threshold), predictions(probs, classifier.labels(task), 0.0)


def _rules(texts: Sequence[str]) -> list[Prediction]:
    return [Prediction(score_sentiment(t).label, 1.0) for t in texts]


def vader_labels(texts: Sequence[str]) -> list[Prediction]:
    """VADER's label per text (compound >= 0.05 positive, <= -0.05 negative, else neutral)."""
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    analyzer = SentimentIntensityAnalyzer()
    out = []
    for text in texts:
        compound = analyzer.polarity_scores(text)["compound"]
        label = "positive" if compound >= VADER_THRESHOLD else "negative" if compound <= -VADER_THRESHOLD else "neutral"
        out.append(Prediction(label, round(abs(compound), 4)))
    return out


def score(truth: Sequence[str], predicted: Sequence[str], per_label: bool = False) -> dict[str, Any]:
    """Accuracy, macro precision/recall/F1 over the truth's labels, abstentions, and per-label figures."""
    truth_labels = sorted(set(truth))
    figures = {}
    for label in sorted(set(truth) | set(predicted)):
        tp = sum(t == label and p == label for t, p in zip(truth, predicted))
        support = sum(t == label for t in truth)
        said = sum(p == label for p in predicted)
        precision = tp / said if said else 0.0
        recall = tp / support if support else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        figures[label] = {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4),
                            "support": support, "predicted": said}
    n = len(truth)
    out: dict[str, Any] = {
        "n": n,
        "accuracy": round(sum(t == p for t, p in zip(truth, predicted)) / n, 4) if n else 0.0,
        "macro_precision": _mean(figures[k]["precision"] for k in truth_labels),
        "macro_recall": _mean(figures[k]["recall"] for k in truth_labels),
        "macro_f1": _mean(figures[k]["f1"] for k in truth_labels),
        "abstained": sum(p == UNCERTAIN for p in predicted),
    }
    if per_label:
        out["coverage"] = round(1 - out["abstained"] / n, 4) if n else 0.0
        out["per_label"] = figures
    return out


def confusion(truth: Sequence[str], predicted: Sequence[str]) -> dict[str, Any]:
    """Rows: true labels; columns: predicted labels (the true ones, then any others such as "uncertain")."""
    rows = sorted(set(truth))
    columns = rows + sorted(set(predicted) - set(rows))
    matrix = [[sum(t == r and p == c for t, p in zip(truth, predicted)) for c in columns] for r in rows]
    return {"rows": rows, "columns": columns, "matrix": matrix}


def _mean(values: Any) -> float:
    values = list(values)
    return round(float(np.mean(values)), 4) if values else 0.0


def format_report(result: dict[str, Any]) -> str:
    """The eval result as text: headline figures, per-label table, confusion matrix."""
    lines = [f"{result.get('task')} on {result.get('test', '')} (n={result['n']})"]
    if "model" in result:
        lines.append(f"  model      {result['model']} ({result.get('model_origin', '')}), embedding "
                     f"{result.get('embedding', '')}")
    lines.append(f"  accuracy {result['accuracy']}  macro precision {result.get('macro_precision', '-')}  "
                 f"macro recall {result['macro_recall']}  macro F1 {result['macro_f1']}"
                 + (f"  abstained {result['abstained']}" if "abstained" in result else "")
                 + (f"  ECE {result['ece']}" if result.get("ece") is not None else ""))
    for key, name in (("hard", "hard cases"), ("rules", "rules"), ("baseline", None)):
        part = result.get(key)
        if isinstance(part, dict):
            lines.append(f"  {name or part.get('name', key):<10} accuracy {part['accuracy']}  macro recall "
                         f"{part['macro_recall']}  macro F1 {part['macro_f1']}  (n={part['n']})")
    if result.get("baseline_note"):
        lines.append(f"  {result['baseline_note']}")
    per_label = result.get("per_label") or {}
    if per_label:
        width = max(12, *(len(k) for k in per_label))
        lines.append(f"  {'label':<{width}} precision  recall     f1  support")
        for label, v in per_label.items():
            lines.append(f"  {label:<{width}} {v['precision']:>9.3f} {v['recall']:>7.3f} {v['f1']:>6.3f} "
                         f"{v.get('support', ''):>8}")
    matrix = result.get("confusion")
    if matrix and result.get("task") == "category":
        short = [c[:6] for c in matrix["columns"]]
        width = max(len(r) for r in matrix["rows"])
        lines.append("  confusion (rows: true, columns: predicted)")
        lines.append(f"  {'':<{width}} " + " ".join(f"{c:>6}" for c in short))
        for r, row in zip(matrix["rows"], matrix["matrix"]):
            lines.append(f"  {r:<{width}} " + " ".join(f"{v:>6}" for v in row))
    return "\n".join(lines)


"""Feature-request detection on public issue reports (NLBSE'24) and on the hand-written support sets.

Run: .venv/bin/python benchmarks/eval_requests.py [--save] [--output FILE]
Writes benchmarks/results/eval_requests.json; with --save also writes the shipped detector
models/heads/feature_request.{json,npz} and its card feature_request.md.

Data and splits (data/README.md): NLBSE'24 issue reports (GitHub issues labelled bug / feature /
question; "feature" = a request), its training split minus a seeded 10% validation slice for
fitting, that slice for choosing the settings and the threshold, its test split (1,500) only
reported. The project's hand-written support sets data/eval/requests_dev*.csv join the training
rows (support-style text, weight SUPPORT_WEIGHT); data/eval/requests_test.csv is only reported.

Models compared on the same rows:
- rules: csintel.classify.requests.detect_request alone (what shipped before);
- tfidf+lr: TF-IDF of words and bigrams + logistic regression (threshold chosen on validation);
- embedding+lr: the packaged sentence embedding + logistic regression;
- head (shipped): the embedding plus the rules' decision and the cue features of
  models/rules/requests.yaml plus hashed word n-grams of the text and of its opening line,
  logistic regression; C, n-gram weight and threshold chosen on validation.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Sequence

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from scipy import sparse
from sklearn.feature_extraction.text import HashingVectorizer
from sklearn.linear_model import LogisticRegression

sys.path.insert(0, str(Path(__file__).resolve().parent))
import public_data  # noqa: E402

from csintel.classify.eval_extraction import binary_prf, read_cases  # noqa: E402
from csintel.classify.request_head import (  # noqa: E402
    NGRAM_FEATURES, RequestDetector, RequestHead, feature_names, opening_line, rule_features, save_request_head,
)
from csintel.classify.requests import HOWTO_QUESTION, RULES, detect_request  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
EVAL = ROOT / "data" / "eval"
RESULTS = Path(__file__).parent / "results" / "eval_requests.json"
HEADS = ROOT / "models" / "heads"
SUPPORT_TRAIN = ("requests_dev", "requests_dev2", "requests_dev3")
SUPPORT_TEST = "requests_test"
MAX_CHARS = 2000          # the encoder reads ~256 tokens; the rest of a long issue body is never seen
SUPPORT_WEIGHT = 2.0      # a hand-written support row counts twice: they are few beside 1,350 issues
C_GRID = (0.5, 1.0, 2.0, 4.0, 8.0)
HEAD_C_GRID = (1.0, 4.0, 16.0)
NGRAM_WEIGHTS = (1.0, 2.0)
CUE_SCALE = 1.0
ALONE_GRID = tuple(round(a, 2) for a in np.arange(0.20, 0.91, 0.05))
ALONE_PRECISION = 0.85
THRESHOLDS = tuple(round(t, 2) for t in np.arange(0.20, 0.81, 0.02))
EMBEDDING = "all-MiniLM-L6-v2"
# Asks that are not feature requests, from the failure cases (scored, not trained on).
NOT_REQUESTS = ("Any ETA on a fix?", "When will this be fixed?", "Is there a workaround for the sync error?",
                "What is the timeline for a fix?")




def best_threshold(truth: Sequence[bool], probs: np.ndarray) -> tuple[float, float]:
    """(threshold, F1) with the best F1 on these rows; ties go to the higher threshold (precision)."""
    scored = [(binary_prf(truth, list(probs >= t))["f1"], t) for t in THRESHOLDS]
    f1, t = max(scored, key=lambda x: (x[0], x[1]))
    return t, f1


def _precision(truth: np.ndarray, said: np.ndarray) -> float:
    return float((truth & said).sum() / said.sum()) if said.sum() else 1.0


def howto(texts: Sequence[str]) -> np.ndarray:
    return np.array([bool(HOWTO_QUESTION.search(t)) for t in texts])


def fit_idf(texts: Sequence[str]) -> np.ndarray:
    """Smoothed inverse document frequency per hash bucket, as scikit-learn's TfidfTransformer fits it."""
    counts = HashingVectorizer(n_features=NGRAM_FEATURES, ngram_range=(1, 2), alternate_sign=False,
                               norm=None).transform(texts)
    df = np.bincount(counts.nonzero()[1], minlength=NGRAM_FEATURES)
    return np.log((1 + len(texts)) / (1 + df)) + 1.0


def load() -> dict[str, tuple[list[str], list[bool]]]:
    nlbse = public_data.nlbse24()
    out = {f"nlbse_{k}": ([t[:MAX_CHARS] for t in s.texts], [lab == "feature" for lab in s.labels])
           for k, s in nlbse.items()}
    for name in (*SUPPORT_TRAIN, SUPPORT_TEST):
        rows = read_cases(EVAL / f"{name}.csv")
        out[name] = ([t for t, _, _ in rows], [label != "none" for _, label, _ in rows])
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--save", action="store_true", help="write the shipped head into models/heads/")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()
    started = time.time()
    data = load()
    vectors = {k: public_data.embed(texts) for k, (texts, _) in data.items()}
    said = {k: [detect_request(t) for t in texts] for k, (texts, _) in data.items()}
    cues = {k: rule_features(texts, said=said[k]) for k, (texts, _) in data.items()}
    truth = {k: labels for k, (_, labels) in data.items()}
    train_sets = ("nlbse_train", *SUPPORT_TRAIN)
    weights = np.concatenate([np.full(len(truth[k]), 1.0 if k.startswith("nlbse") else SUPPORT_WEIGHT)
                              for k in train_sets])
    y = np.concatenate([truth[k] for k in train_sets])
    reported = ("nlbse_val", "nlbse_test", SUPPORT_TEST)

    def stack(keys: Sequence[str], scale: float, with_cues: bool = True) -> np.ndarray:
        return np.vstack([np.hstack([vectors[k], scale * cues[k]]) if with_cues else vectors[k] for k in keys])

    result: dict[str, Any] = {
        "data": {k: {"n": len(truth[k]), "requests": int(sum(truth[k]))} for k in truth},
        "protocol": "fit on nlbse_train + requests_dev*; C, cue scale and threshold chosen on nlbse_val; "
                    "nlbse_test and requests_test only reported",
        "anchors": {"SetFit (NLBSE'24 organisers' baseline), feature F1 on nlbse_test": 0.856,
                    "rules before this work, feature F1 on nlbse_test": 0.455},
        "models": {},
    }

    # Rules alone.
    result["models"]["rules"] = {k: binary_prf(truth[k], [r.is_request for r in said[k]]) for k in reported}

    # TF-IDF + logistic regression.
    texts_train = [t for k in train_sets for t in data[k][0]]
    tfidf = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True, max_features=50000)
    xt = tfidf.fit_transform(texts_train)
    lr = LogisticRegression(C=4.0, class_weight="balanced", max_iter=3000).fit(xt, y, sample_weight=weights)
    p_tfidf = {k: lr.predict_proba(tfidf.transform(data[k][0]))[:, 1] for k in reported}
    t_tfidf, _ = best_threshold(truth["nlbse_val"], p_tfidf["nlbse_val"])
    result["models"]["tfidf+lr"] = {"threshold": t_tfidf, **{k: binary_prf(truth[k], list(p_tfidf[k] >= t_tfidf))
                                                             for k in reported}}

    # The embedding alone: C and threshold chosen on nlbse_val.
    best: tuple[float, float, float] | None = None   # (val F1, C, threshold)
    for c in C_GRID:
        model = LogisticRegression(C=c, class_weight="balanced", max_iter=3000).fit(
            np.vstack([vectors[k] for k in train_sets]), y, sample_weight=weights)
        t, f1 = best_threshold(truth["nlbse_val"], model.predict_proba(vectors["nlbse_val"])[:, 1])
        if best is None or f1 > best[0]:
            best = (f1, c, t)
    assert best is not None
    _, c, t = best
    model = LogisticRegression(C=c, class_weight="balanced", max_iter=3000).fit(
        np.vstack([vectors[k] for k in train_sets]), y, sample_weight=weights)
    result["models"]["embedding+lr"] = {"C": c, "threshold": t, **{
        k: binary_prf(truth[k], list(model.predict_proba(vectors[k])[:, 1] >= t)) for k in reported}}

    # The head: embedding + cue features + hashed n-grams (text, opening line); settings on nlbse_val.
    idf = np.vstack([fit_idf(texts_train), fit_idf([opening_line(t) for t in texts_train])])
    dense_dim = vectors["nlbse_train"].shape[1] + len(feature_names())

    def draft(c_scale: float, weight: float, coef: np.ndarray | None = None, intercept: float = 0.0,
              threshold: float = 0.5) -> RequestHead:
        coef = np.zeros(dense_dim + 2 * NGRAM_FEATURES) if coef is None else coef
        return RequestHead(coef[:dense_dim], coef[dense_dim:].reshape(2, NGRAM_FEATURES), idf, intercept, threshold,
                           threshold, c_scale, weight, tuple(feature_names()), EMBEDDING, {})

    def design(head: RequestHead, keys: Sequence[str]) -> Any:
        return sparse.vstack([head.design(vectors[k], cues[k], data[k][0]) for k in keys]).tocsr()

    best_head: tuple[float, float, float, float] | None = None   # (val F1, C, n-gram weight, threshold)
    for c in HEAD_C_GRID:
        for weight in NGRAM_WEIGHTS:
            shape = draft(CUE_SCALE, weight)
            model = LogisticRegression(C=c, class_weight="balanced", max_iter=5000).fit(
                design(shape, train_sets), y, sample_weight=weights)
            t, f1 = best_threshold(truth["nlbse_val"], model.predict_proba(design(shape, ["nlbse_val"]))[:, 1])
            print(f"head C={c} n-gram weight={weight}: validation F1 {f1} at {t}", flush=True)
            if best_head is None or f1 > best_head[0]:
                best_head = (f1, c, weight, t)
    assert best_head is not None
    _, c, weight, t = best_head
    shape = draft(CUE_SCALE, weight)
    model = LogisticRegression(C=c, class_weight="balanced", max_iter=5000).fit(
        design(shape, train_sets), y, sample_weight=weights)
    head = draft(CUE_SCALE, weight, model.coef_[0].astype(np.float64), float(model.intercept_[0]), t)
    probs = {k: head.probabilities(vectors[k], cues[k], data[k][0]) for k in reported}
    result["models"]["head probability"] = {"C": c, "ngram_weight": weight, "threshold": t, **{
        k: binary_prf(truth[k], list(probs[k] >= t)) for k in reported}}
    # An ask no rule found stands on the model alone: the lowest threshold at which such asks are
    # right at least ALONE_PRECISION of the time on nlbse_val (support text has many how-to
    # questions that read like GitHub feature issues).
    ruled = np.array([r.is_request for r in said["nlbse_val"]])
    val_truth = np.array(truth["nlbse_val"])
    alone = next((a for a in ALONE_GRID if a >= t and _precision(val_truth, ~ruled & (probs["nlbse_val"] >= a)
                                                                 & ~howto(data["nlbse_val"][0])) >= ALONE_PRECISION),
                 ALONE_GRID[-1])
    head = RequestHead(head.coef, head.ngram_coef, head.idf, head.intercept, t, alone, head.feature_scale,
                       head.ngram_weight, head.features, head.embedding, {})
    detector = RequestDetector(head)
    result["models"]["head"] = {"C": c, "ngram_weight": weight, "threshold": t, "alone_threshold": alone, **{
        k: binary_prf(truth[k], [r.is_request for r in detector.detect(data[k][0], vectors[k])]) for k in reported}}

    head_rows = result["models"]["head"]
    card = {
        "trained_on": "NLBSE'24 issue reports, train split minus a seeded 10% slice (feature vs bug/question), "
                      f"plus data/eval/{', '.join(SUPPORT_TRAIN)} (hand-written support tickets, weight "
                      f"{SUPPORT_WEIGHT})",
        "examples": int(len(y)), "requests": int(y.sum()),
        "chosen_on_validation": {"C": head_rows["C"], "ngram_weight": head_rows["ngram_weight"],
                                 "threshold": head_rows["threshold"], "alone_threshold": head_rows["alone_threshold"], "data": "NLBSE'24 validation slice (150)"},
        "held_out": {"nlbse_test": head_rows["nlbse_test"], SUPPORT_TEST: head_rows[SUPPORT_TEST]},
        "baselines": {m: {k: result["models"][m][k] for k in ("nlbse_test", SUPPORT_TEST)}
                      for m in ("rules", "tfidf+lr", "embedding+lr", "head probability")},
        "rules_version": RULES.version,
        "created": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    head = RequestHead(head.coef, head.ngram_coef, head.idf, head.intercept, head.threshold, head.alone_threshold,
                       head.feature_scale, head.ngram_weight, head.features, head.embedding, card)
    detector = RequestDetector(head)
    check = list(NOT_REQUESTS)
    verdicts = detector.detect(check, public_data.embed(check))
    result["not_requests"] = {t: v.is_request for t, v in zip(check, verdicts)}
    result["head_version"] = head.version
    if args.save:
        save_request_head(head, HEADS)
        (HEADS / "feature_request.md").write_text(head_card(head, result), encoding="utf-8")
    result["seconds"] = round(time.time() - started, 1)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"{'model':14} {'NLBSE test P/R/F1':>22} {'requests_test P/R/F1':>24}")
    for name, rows in result["models"].items():
        a, b = rows["nlbse_test"], rows[SUPPORT_TEST]
        print(f"{name:14} {a['precision']:>7.3f}{a['recall']:>7.3f}{a['f1']:>7.3f}"
              f" {b['precision']:>8.3f}{b['recall']:>7.3f}{b['f1']:>7.3f}")
    print("not requests said to be requests:", [t for t, v in result["not_requests"].items() if v])


def head_card(head: RequestHead, result: dict[str, Any]) -> str:
    card = head.card
    models = result["models"]
    lines = [
        f"# feature_request head `{head.version}`", "",
        f"Logistic regression on frozen `{head.embedding}` sentence embeddings of the whole ticket plus "
        f"{len(head.features)} cue features ({', '.join(head.features)}; `rules` is the rule tagger's own "
        f"decision, the others are the `features` patterns of models/rules/requests.yaml), scaled by "
        f"{head.feature_scale}, plus TF-IDF of hashed word 1-2-grams ({NGRAM_FEATURES:,} buckets) of the whole text "
        f"and of its opening line (title, subject), weighted {head.ngram_weight}. "
        "It decides whether a ticket asks for something new; the rules name what is "
        "asked for. Without a compatible embedder the rules decide alone.", "",
        f"- trained on: {card['trained_on']} ({card['examples']} examples, {card['requests']} requests; "
        f"created {card['created']})",
        f"- chosen on validation ({card['chosen_on_validation']['data']}): C {card['chosen_on_validation']['C']}, "
        f"n-gram weight {card['chosen_on_validation']['ngram_weight']}; an ask the rules found stands at "
        f"P(request) >= {head.threshold} (the F1-best threshold), one they did not at >= {head.alone_threshold} "
        f"(the lowest at which such asks were right {ALONE_PRECISION:.0%} of the time) and never for a how-to "
        "question (`howto_question` in the rules file)",
        "", "Held out (never trained or tuned on): precision / recall / F1 of the request class", "",
        "| model | NLBSE'24 test (1,500 GitHub issues, 500 feature; public) | requests_test (62 support tickets; "
        "written by this project) |", "|---|---|---|",
    ]
    for name in ("rules", "tfidf+lr", "embedding+lr", "head probability", "head"):
        a, b = models[name]["nlbse_test"], models[name][SUPPORT_TEST]
        lines.append(f"| {name}{' (this head)' if name == 'head' else ''} | {a['precision']:.3f} / {a['recall']:.3f} / "
                     f"**{a['f1']:.3f}** | {b['precision']:.3f} / {b['recall']:.3f} / **{b['f1']:.3f}** |")
    lines += ["", "SetFit trained on NLBSE'24 (the organisers' baseline): feature F1 0.856.", "",
              "Reproduce: `python benchmarks/eval_requests.py --save` (results in "
              "benchmarks/results/eval_requests.json).", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    main()

"""Extraction taggers (competitors, feature requests, errors) on the hand-written cases in data/eval.

Run: .venv/bin/python benchmarks/eval_extraction.py [--output FILE]; writes
benchmarks/results/eval_extraction.json and prints a summary table. Each set is scored with the
same functions `csintel eval --task competitors|feature_request|errors` calls. The `dev*` sets
were iterated on (`competitors_dev4` is the context head's validation set); `test` (round 3),
`test2` (round 4) and competitors `test3` (round 6) sets were written before the taggers saw them
and scored once (see data/eval/README-extraction.md for the protocol); the competitor context head
is trained on `test`-`test3` since round 7 (`test4`), which is its held-out set. Competitor lists carry no ambiguity hints here
(the helpdesk list's `ambiguous` flags are dropped): ordinary-word names are found automatically.
Alternatives compared in the same run:
- competitor context: the rules alone against the shipped context head (as tagged);
- feature requests: a logistic regression on the packaged embedding of the whole ticket,
  trained on the dev sets, alone and OR-ed with the rules; grouping at other thresholds;
- errors: a naive pattern (any 4xx/5xx number, any CAPS-123 token) to show what context saves.
"""

from __future__ import annotations

import argparse
import json
import re
import time
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import adjusted_rand_score

from csintel.file_tagging import read_tickets
from csintel.classify.competitor_context import classify_contexts, shipped_context_head
from csintel.classify.competitors import CompetitorMatcher
from csintel.classify.enricher import competitor_specs
from csintel.classify.errors import extract_errors
from csintel.classify.eval_extraction import binary_prf, eval_competitors, eval_errors, eval_feature_requests, read_cases
from csintel.classify.request_groups import group_requests
from csintel.classify.requests import detect_request
from csintel.config import SAMPLE_DIR, Settings, load_settings
from csintel.embed import configured_embedder, load_embedder

ROOT = Path(__file__).resolve().parents[1]
EVAL = ROOT / "data" / "eval"
RESULTS = Path(__file__).parent / "results" / "eval_extraction.json"
HELPDESK_CONFIG = EVAL / "competitors-helpdesk.toml"
DEV_SETS = ("dev", "dev2", "dev3")
SETS = (*DEV_SETS, "test")
COMPETITOR_SETS = (*DEV_SETS, "dev4", "test", "test2", "test3", "test4")
ERROR_SETS = (*DEV_SETS, "test", "test2")
SUMMARY_KEYS = ("n", "context_by", "accuracy", "macro_f1", "macro_recall", "precision", "recall", "f1", "context_accuracy",
                "competitive_accuracy", "detection_f1", "grouping_ari", "groups_true", "groups_found", "phrase_words",
                "negative_rows", "negative_rows_flagged", "quotes", "per_label", "per_note")
THRESHOLDS = (0.40, 0.45, 0.50, 0.55)
LEARNED_CUTOFFS = (0.5, 0.7)


def summary(result: dict[str, Any]) -> dict[str, Any]:
    return {k: result[k] for k in SUMMARY_KEYS if k in result}




def learned_requests(embedder: Any) -> dict[str, Any]:
    """Rules vs a ticket-embedding classifier trained on the dev sets, on the test set."""
    cases = {name: read_cases(EVAL / f"requests_{name}.csv") for name in SETS}
    vectors = {name: embedder.encode([t for t, _, _ in rows]) for name, rows in cases.items()}
    truth = {name: [label != "none" for _, label, _ in rows] for name, rows in cases.items()}
    model = LogisticRegression(C=2.0, max_iter=2000, class_weight="balanced").fit(
        np.vstack([vectors[n] for n in DEV_SETS]), np.concatenate([truth[n] for n in DEV_SETS]))
    probability = model.predict_proba(vectors["test"])[:, 1]
    rules = [detect_request(t).is_request for t, _, _ in cases["test"]]
    out: dict[str, Any] = {"rules": binary_prf(truth["test"], rules)}
    for cutoff in LEARNED_CUTOFFS:
        learned = [bool(p > cutoff) for p in probability]
        out[f"learned>{cutoff}"] = binary_prf(truth["test"], learned)
        out[f"rules_or_learned>{cutoff}"] = binary_prf(truth["test"], [a or b for a, b in zip(rules, learned)])
    return out


def grouping_thresholds(embedder: Any) -> dict[str, dict[str, float]]:
    """Grouping ARI of the detected phrases at several thresholds, per set (the default is 0.50)."""
    out: dict[str, dict[str, float]] = {}
    for name in SETS:
        found = [(detect_request(t), label) for t, label, _ in read_cases(EVAL / f"requests_{name}.csv")]
        rows = [(r.phrase or "", label) for r, label in found if label != "none" and r.is_request and r.phrase]
        vectors = embedder.encode([p for p, _ in rows])
        out[name] = {str(th): round(float(adjusted_rand_score(
            [g for _, g in rows], group_requests([p for p, _ in rows], vectors, threshold=th)[0])), 4)
            for th in THRESHOLDS}
    return out


NAIVE_HTTP = re.compile(r"\b([45]\d\d)\b")
NAIVE_CODE = re.compile(r"\b[A-Z][A-Z0-9]+[-_]\d+\b")


def naive_errors() -> dict[str, Any]:
    """A pattern without context, on the errors test set: what the context rules buy."""
    cases = read_cases(EVAL / "errors_test.csv")
    tp = fp = fn = 0
    flagged = 0
    for text, label, _ in cases:
        want = {s for s in label.split("|") if s}
        got = {f"HTTP {m}" for m in NAIVE_HTTP.findall(text)} | set(NAIVE_CODE.findall(text))
        tp, fp, fn = tp + len(want & got), fp + len(got - want), fn + len(want - got)
        flagged += bool(got) and not want
    p, r = tp / (tp + fp) if tp + fp else 0.0, tp / (tp + fn) if tp + fn else 0.0
    return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(2 * p * r / (p + r), 4) if p + r else 0.0,
            "negative_rows_flagged": flagged}


def speed(settings: Settings) -> dict[str, Any]:
    """Milliseconds per ticket of the competitor and error taggers over the bundled sample (one
    process; the context head's share is the encoding of the mention sentences, spread over all tickets)."""
    texts = [t.text for t in read_tickets(SAMPLE_DIR / "tickets.jsonl", 50_000) if t.text]
    specs = competitor_specs(settings)[0]
    matcher = CompetitorMatcher(specs)
    out: dict[str, Any] = {"tickets": len(texts)}
    for name, tagger in (("competitors", matcher.find), ("feature_requests", detect_request),
                         ("errors", extract_errors)):
        start = time.perf_counter()
        for text in texts:
            tagger(text)
        seconds = time.perf_counter() - start
        out[f"{name}_per_s"] = round(len(texts) / seconds)
        out[f"{name}_ms_per_ticket"] = round(1000 * seconds / len(texts), 3)
    embedder = configured_embedder(settings)
    found = [matcher.find(text) for text in texts]
    start = time.perf_counter()
    classify_contexts(found, shipped_context_head(embedder), embedder, {s.name: s.integration_partner for s in specs})
    out["context_head_ms_per_ticket"] = round(1000 * (time.perf_counter() - start) / len(texts), 3)
    out["mentions"] = sum(len(f) for f in found)
    return out


def without_hints(settings: Settings) -> Settings:
    """The same competitor list with its `ambiguous` flags dropped (a user's list without hints)."""
    specs, _ = competitor_specs(settings)
    return load_settings_from_specs(specs)


def load_settings_from_specs(specs: list[Any]) -> Settings:
    from csintel.config import settings_from_dict

    return settings_from_dict({"competitors": [{"name": s.name, "aliases": list(s.aliases),
                                                "integration_partner": s.integration_partner} for s in specs]})


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--output", type=Path, default=RESULTS)
    args = ap.parse_args()
    settings = load_settings(None)
    helpdesk = load_settings(HELPDESK_CONFIG)
    embedder = load_embedder(settings.models.embedding, settings.models.device, settings.models.batch_size)
    helpdesk = without_hints(helpdesk)
    result: dict[str, Any] = {"competitors": {}, "competitors_rules_only": {}, "competitors_helpdesk": {},
                              "feature_requests": {}, "errors": {}}
    for name in COMPETITOR_SETS:
        path = EVAL / f"competitors_{name}.csv"
        result["competitors"][name] = summary(eval_competitors(path, settings))
        result["competitors_rules_only"][name] = summary(eval_competitors(path, settings, use_head=False))
    for name in SETS:
        result["feature_requests"][name] = summary(eval_feature_requests(EVAL / f"requests_{name}.csv", settings))
    for name in ERROR_SETS:
        result["errors"][name] = summary(eval_errors(EVAL / f"errors_{name}.csv", settings))
    for name in ("dev", "dev2", "dev3"):
        result["competitors_helpdesk"][name] = summary(
            eval_competitors(EVAL / f"competitors-helpdesk_{name}.csv", helpdesk))
    result["alternatives"] = {
        "feature_request_detection_on_test": learned_requests(embedder),
        "grouping_ari_by_threshold": grouping_thresholds(embedder),
        "naive_errors_on_test": naive_errors(),
    }
    result["speed"] = speed(settings)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n")
    rows = [("competitors", "f1", "context_accuracy"), ("competitors_rules_only", "f1", "context_accuracy"),
            ("competitors_helpdesk", "f1", "context_accuracy"),
            ("feature_requests", "detection_f1", "grouping_ari"), ("errors", "f1", "accuracy")]
    print(f"{'task':22s} {'set':5s} {'n':>4s}  main   second")
    for task, first, second in rows:
        for name, r in result[task].items():
            print(f"{task:22s} {name:5s} {r['n']:4d}  {r[first]:.3f}  {r[second] if r[second] is not None else '-'}")
    print(json.dumps({"alternatives": result["alternatives"], "speed": result["speed"]}, indent=1))


if __name__ == "__main__":
    main()

"""Accuracy of the extraction taggers (competitors, feature requests, errors) on labelled cases.

`csintel eval --task competitors|feature_request|errors --test FILE` calls these functions. A
test file is CSV (or JSONL) with `text,label` and an optional `note` (the kind of hard case, for
a per-kind breakdown); the label encodings are in data/eval/README-extraction.md:
- competitors: `HubSpot:switching|Close:evaluating`, empty when no competitor is named;
- feature_request: `none`, or the id of the request group the ask belongs to;
- errors: the normalised signatures, `|`-joined (`HTTP 500|SYNC-409`), empty when none.
Each function returns a JSON-able dict with at least `accuracy`, `macro_f1`, `macro_recall`, `n`.
"""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np
import pandas as pd
from sklearn.metrics import adjusted_rand_score

from csintel.classify.competitor_context import classify_contexts, shipped_context_head
from csintel.classify.competitors import CONTEXTS, CompetitorMatcher, Mention, is_competitive
from csintel.classify.enricher import competitor_specs
from csintel.classify.errors import ERRNO, extract_errors
from csintel.classify.request_groups import group_requests
from csintel.classify.request_head import RequestDetector
from csintel.config import Settings
from csintel.embed import configured_embedder
from csintel.text import EMAIL, PHONE, redact_pii, short_quote

NO_REQUEST = "none"
MAX_MISTAKES = 25          # rows listed in the result, to show what went wrong
QUOTE_CHARS = 240          # as the Enricher quotes a mention's sentence
Case = tuple[str, str, str]   # text, label, note


def read_cases(path: Path) -> list[Case]:
    """(text, label, note) rows of a CSV or JSONL file with `text` and `label` columns.

    Raises:
        ValueError: the file lacks a `text` or `label` column.
    """
    path = Path(path)
    if path.suffix.lower() in (".jsonl", ".ndjson"):
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        frame = pd.DataFrame(rows)
    else:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    missing = {"text", "label"} - set(frame.columns)
    if missing:
        raise ValueError(f"{path}: needs columns text,label (missing {', '.join(sorted(missing))})")
    notes = frame["note"] if "note" in frame.columns else [""] * len(frame)
    return [(_cell(t), _cell(lab), _cell(n)) for t, lab, n in zip(frame["text"], frame["label"], notes)]


def _cell(value: Any) -> str:
    return "" if value is None or (isinstance(value, float) and np.isnan(value)) else str(value).strip()


# --- competitors ------------------------------------------------------------------------------

def eval_competitors(test: Path, settings: Settings, use_head: bool = True) -> dict[str, Any]:
    """Competitor mentions: found (name level) and in the right context.

    Contexts come from the shipped context head, as the Enricher tags them (the rules' alone
    with `use_head=False`, or when the configured embedder is not the head's).

    A ticket's context for a competitor is its strongest mention's (CONTEXTS order), as the
    matcher reports one per sentence. `accuracy` is the share of rows whose {name: context}
    is exactly right; `macro_f1`/`macro_recall` average the per-context F1/recall of
    (name, context) pairs, so both a missed name and a wrong context cost.
    """
    cases = read_cases(test)
    specs, version = competitor_specs(settings)
    matcher = CompetitorMatcher(specs)
    known = {s.name for s in specs}
    gold = [parse_competitor_label(label) for _, label, _ in cases]
    unknown = sorted({name for g in gold for name in g} - known)
    if unknown:
        raise ValueError(f"{test}: labels name competitors missing from the configured list: {', '.join(unknown)}")
    found = [matcher.find(text) for text, _, _ in cases]
    head = None
    if use_head and any(found):
        embedder = configured_embedder(settings)
        head = shipped_context_head(embedder)
        found = classify_contexts(found, head, embedder, {s.name: s.integration_partner for s in specs})
    pred = [strongest(mentions) for mentions in found]

    names = _pair_counts((set(g), set(p)) for g, p in zip(gold, pred))
    pairs = [(set(g.items()), set(p.items())) for g, p in zip(gold, pred)]
    per_context = {c: _prf(*_pair_counts(({x for x in gs if x[1] == c}, {x for x in ps if x[1] == c})
                                          for gs, ps in pairs)) for c in CONTEXTS}
    per_context = {c: v for c, v in per_context.items() if v["support"] or v["predicted"]}
    matched = [(g[n], p[n]) for g, p in zip(gold, pred) for n in g.keys() & p.keys()]
    partners = {s.name for s in specs if s.integration_partner}
    competitive_right = sum(is_competitive(g[n], n in partners) == is_competitive(p[n], n in partners)
                            for g, p in zip(gold, pred) for n in g.keys() & p.keys())
    per_name = {n: _prf(*_pair_counts(({n} & set(g), {n} & set(p)) for g, p in zip(gold, pred)))
                for n in sorted(known)}
    quotes = [short_quote(redact_pii(m.sentence), QUOTE_CHARS) for ms in found for m in ms]
    right = [g == p for g, p in zip(gold, pred)]
    return {
        "task": "competitors", "test": str(test), "n": len(cases), "competitor_list": version,
        "context_by": head.version if head is not None else "rules",
        "accuracy": _ratio(sum(right), len(cases)),
        "macro_precision": _mean(v["precision"] for v in per_context.values()),
        "macro_f1": _mean(v["f1"] for v in per_context.values()),
        "macro_recall": _mean(v["recall"] for v in per_context.values()),
        "mentions": _prf(*names),
        "precision": _prf(*names)["precision"], "recall": _prf(*names)["recall"], "f1": _prf(*names)["f1"],
        "context_accuracy": _ratio(sum(a == b for a, b in matched), len(matched)),
        "competitive_accuracy": _ratio(competitive_right, len(matched)),
        "quotes": {"n": len(quotes),
                   "with_pii": sum(bool(EMAIL.search(q) or PHONE.search(q)) for q in quotes),
                   "shortened": sum(q.endswith("…") or q.startswith("…") for q in quotes)},
        "per_label": per_context,
        "per_competitor": {n: v for n, v in per_name.items() if v["support"] or v["predicted"]},
        "per_note": _per_note(cases, right),
        "mistakes": [{"text": t, "label": label, "predicted": format_competitor_label(p)}
                     for (t, label, _), p, ok in zip(cases, pred, right) if not ok][:MAX_MISTAKES],
    }


def parse_competitor_label(label: str) -> dict[str, str]:
    """`"HubSpot:switching|Close:evaluating"` -> {"HubSpot": "switching", "Close": "evaluating"}.

    Raises:
        ValueError: a part lacks its context or names an unknown one.
    """
    out: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in (label or "").split("|"))):
        name, sep, context = part.rpartition(":")
        if not sep or not name.strip() or context.strip() not in CONTEXTS:
            raise ValueError(f"bad competitor label {part!r}: expected Name:context with context in {CONTEXTS}")
        out[name.strip()] = context.strip()
    return out


def format_competitor_label(mentions: dict[str, str]) -> str:
    return "|".join(f"{name}:{context}" for name, context in mentions.items())


def strongest(mentions: Sequence[Mention]) -> dict[str, str]:
    """Each competitor's strongest context over its mentions (CONTEXTS order), in text order."""
    out: dict[str, str] = {}
    for m in mentions:
        if m.name not in out or CONTEXTS.index(m.context) < CONTEXTS.index(out[m.name]):
            out[m.name] = m.context
    return out


# --- feature requests -------------------------------------------------------------------------

def eval_feature_requests(test: Path, settings: Settings) -> dict[str, Any]:
    """Detection of feature requests, the extracted phrase, and grouping of the phrases.

    `accuracy`, `macro_f1`, `macro_recall` are for detection (request vs `none`);
    `grouping_ari` is the adjusted Rand index between the labelled groups and the groups the
    Enricher's grouping (same embedder and threshold) makes of the detected phrases.
    """
    cases = read_cases(test)
    # As the Enricher tags: the shipped detector when it fits the configured embedder, else the rules.
    embedder = configured_embedder(settings)
    texts = [text for text, _, _ in cases]
    detector = RequestDetector.for_embedder(embedder.name, embedder.dim)
    results = detector.detect(texts, embedder.encode(texts) if texts else np.zeros((0, embedder.dim)))
    truth = [label != NO_REQUEST for _, label, _ in cases]
    said = [r.is_request for r in results]
    detection = binary_prf(truth, said)
    rejection = _prf(*_binary_counts([not t for t in truth], [not s for s in said]))
    right = [t == s for t, s in zip(truth, said)]

    grouped = [i for i, (r, t) in enumerate(zip(results, truth)) if t and r.is_request and r.phrase]
    phrases = [results[i].phrase or "" for i in grouped]
    ari = None
    n_groups = 0
    if phrases:
        ids, _ = group_requests(phrases, embedder.encode(phrases), threshold=settings.models.request_group_threshold)
        gold_groups = [cases[i][1] for i in grouped]
        ari = round(float(adjusted_rand_score(gold_groups, ids)), 4)
        n_groups = len(set(ids))
        group_of = dict(zip(grouped, ids))
    else:
        group_of = {}
    lengths = [len(r.phrase.split()) for r in results if r.is_request and r.phrase]
    per_group: dict[str, dict[str, Any]] = {}
    for (_, label, _), r in zip(cases, results):
        if label != NO_REQUEST:
            entry = per_group.setdefault(label, {"support": 0, "detected": 0})
            entry["support"] += 1
            entry["detected"] += r.is_request
    for entry in per_group.values():
        entry["recall"] = _ratio(entry["detected"], entry["support"])
    return {
        "task": "feature_request", "test": str(test), "n": len(cases), "detector": detector.version,
        "accuracy": _ratio(sum(right), len(cases)),
        "macro_precision": _mean([detection["precision"], rejection["precision"]]),
        "macro_f1": _mean([detection["f1"], rejection["f1"]]),
        "macro_recall": _mean([detection["recall"], rejection["recall"]]),
        "detection": detection, "detection_f1": detection["f1"],
        "precision": detection["precision"], "recall": detection["recall"], "f1": detection["f1"],
        "grouping_ari": ari, "grouped": len(grouped),
        "groups_true": len({cases[i][1] for i in grouped}), "groups_found": n_groups,
        "phrase_words": {"mean": round(float(np.mean(lengths)), 2) if lengths else None,
                         "max": max(lengths) if lengths else None,
                         "missing": sum(r.is_request and not r.phrase for r in results)},
        "per_label": {"request": detection, "none": rejection}, "per_group": per_group,
        "per_note": _per_note(cases, right),
        "mistakes": [{"text": t, "label": label, "predicted": r.phrase if r.is_request else NO_REQUEST,
                      "cue": r.cue} for (t, label, _), r, ok in zip(cases, results, right) if not ok][:MAX_MISTAKES],
        "groups": _group_listing(cases, results, group_of),
    }


def _group_listing(cases: Sequence[Case], results: Sequence[Any], group_of: dict[int, str]) -> dict[str, list[str]]:
    """Labelled group -> the predicted group of each member (its phrase), to see splits and merges."""
    out: dict[str, list[str]] = defaultdict(list)
    for i, gid in group_of.items():
        out[cases[i][1]].append(f"{gid} <- {results[i].phrase}")
    return dict(sorted(out.items()))


# --- errors -----------------------------------------------------------------------------------

def eval_errors(test: Path, settings: Settings) -> dict[str, Any]:
    """Error signatures: each (row, signature) pair is a hit or a miss; kinds averaged for macro.

    `settings` is accepted for the common signature; the extractor has no configuration.
    """
    del settings
    cases = read_cases(test)
    gold = [[s.strip() for s in label.split("|") if s.strip()] for _, label, _ in cases]
    pred = [extract_errors(text) for text, _, _ in cases]
    overall = _pair_counts((set(g), set(p)) for g, p in zip(gold, pred))
    kinds = sorted({error_kind(s) for row in gold + pred for s in row})
    per_kind = {k: _prf(*_pair_counts(({s for s in g if error_kind(s) == k}, {s for s in p if error_kind(s) == k})
                                      for g, p in zip(gold, pred))) for k in kinds}
    right = [set(g) == set(p) for g, p in zip(gold, pred)]
    negatives = [p for g, p in zip(gold, pred) if not g]
    return {
        "task": "errors", "test": str(test), "n": len(cases),
        "accuracy": _ratio(sum(right), len(cases)),
        "macro_precision": _mean(v["precision"] for v in per_kind.values()),
        "macro_f1": _mean(v["f1"] for v in per_kind.values()),
        "macro_recall": _mean(v["recall"] for v in per_kind.values()),
        "signatures": _prf(*overall),
        "precision": _prf(*overall)["precision"], "recall": _prf(*overall)["recall"], "f1": _prf(*overall)["f1"],
        "negative_rows": len(negatives), "negative_rows_flagged": sum(bool(p) for p in negatives),
        "per_label": per_kind, "per_note": _per_note(cases, right),
        "mistakes": [{"text": t, "label": label, "predicted": "|".join(p)}
                     for (t, label, _), p, ok in zip(cases, pred, right) if not ok][:MAX_MISTAKES],
    }


def error_kind(signature: str) -> str:
    """http (HTTP 500), errno (ECONNRESET), exception (TypeError) or code (SYNC-409, E1234)."""
    if signature.startswith("HTTP "):
        return "http"
    if ERRNO.fullmatch(signature):
        return "errno"
    if re.search(r"[a-z]", signature):
        return "exception"
    return "code"


# --- shared -----------------------------------------------------------------------------------

def _pair_counts(rows: Iterable[tuple[set[Any], set[Any]]]) -> tuple[int, int, int]:
    tp = fp = fn = 0
    for want, got in rows:
        tp, fp, fn = tp + len(want & got), fp + len(got - want), fn + len(want - got)
    return tp, fp, fn


def _binary_counts(truth: Sequence[bool], said: Sequence[bool]) -> tuple[int, int, int]:
    pairs = [(bool(t), bool(s)) for t, s in zip(truth, said)]   # numpy bools sum to numpy ints, not JSON
    return (sum(t and s for t, s in pairs), sum(s and not t for t, s in pairs), sum(t and not s for t, s in pairs))


def binary_prf(truth: Sequence[bool], said: Sequence[bool]) -> dict[str, Any]:
    """Precision, recall and F1 of a yes/no tagger (with support and predicted counts)."""
    return _prf(*_binary_counts(truth, said))


def _prf(tp: int, fp: int, fn: int) -> dict[str, Any]:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(f, 4),
            "support": tp + fn, "predicted": tp + fp}


def _per_note(cases: Sequence[Case], right: Sequence[bool]) -> dict[str, dict[str, Any]]:
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for (_, _, note), ok in zip(cases, right):
        if note:
            counts[note]["n"] += 1
            counts[note]["right"] += ok
    return {note: {"n": c["n"], "accuracy": _ratio(c["right"], c["n"])} for note, c in sorted(counts.items())}


def _ratio(a: float, b: float) -> float | None:
    return round(a / b, 4) if b else None


def _mean(values: Iterable[float]) -> float:
    values = list(values)
    return round(float(np.mean(values)), 4) if values else 0.0

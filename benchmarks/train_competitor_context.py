"""Train the shipped competitor-context head (models/heads/competitor_context.*) and write its card.

Run: .venv/bin/python benchmarks/train_competitor_context.py
Data: the mentions the matcher finds in the hand-written dev sets (data/eval/competitors_dev*.csv
with the shipped list, competitors-helpdesk_dev*.csv with the helpdesk list), each labelled with
its ticket's gold context. The test sets (competitors_test.csv, round 3; competitors_test2.csv,
round 4) are never read here. The regularisation C is chosen by leave-one-set-out
cross-validation over the six dev sets (each set in turn is the validation set); the head is then
refitted on all six with that C. The rules' context on the same mentions is reported beside it
(the rules were tuned on these sets, so their figure is optimistic).
Writes benchmarks/results/competitor_context.json and the head with its card.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from csintel.classify.competitor_context import (  # noqa: E402
    MASK, SHIPPED, ContextHead, fit_context_head, load_context_head, save_context_head,
)
from csintel.classify.competitors import CompetitorMatcher  # noqa: E402
from csintel.classify.enricher import competitor_specs  # noqa: E402
from csintel.classify.eval_extraction import parse_competitor_label, read_cases  # noqa: E402
from csintel.config import load_settings  # noqa: E402
from csintel.embed import configured_embedder  # noqa: E402

EVAL = ROOT / "data" / "eval"
RESULTS = ROOT / "benchmarks" / "results" / "competitor_context.json"
SETS = [("competitors_dev", None), ("competitors_dev2", None), ("competitors_dev3", None),
        ("competitors-helpdesk_dev", "competitors-helpdesk.toml"),
        ("competitors-helpdesk_dev2", "competitors-helpdesk.toml"),
        ("competitors-helpdesk_dev3", "competitors-helpdesk.toml")]
CS = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0)


def mentions(name: str, config: str | None) -> list[dict[str, Any]]:
    """Every found mention of a gold competitor: masked sentence, gold context, partner, rules' context."""
    settings = load_settings(EVAL / config if config else None)
    specs, _ = competitor_specs(settings)
    partners = {s.name: s.integration_partner for s in specs}
    matcher = CompetitorMatcher(specs)
    rows = []
    for text, label, _ in read_cases(EVAL / f"{name}.csv"):
        gold = parse_competitor_label(label)
        for m in matcher.find(text):
            if m.name in gold:
                rows.append({"text": m.masked, "gold": gold[m.name], "partner": partners[m.name], "rule": m.context})
    return rows


def accuracy(head: ContextHead, vectors: np.ndarray, rows: list[dict[str, Any]]) -> float:
    predicted = head.predict(vectors, [r["partner"] for r in rows])
    return float(np.mean([p == r["gold"] for p, r in zip(predicted, rows)]))


def main() -> None:
    embedder = configured_embedder(load_settings(None))
    data = {name: mentions(name, config) for name, config in SETS}
    vectors = {name: embedder.encode([r["text"] for r in rows]) for name, rows in data.items()}
    cv: dict[str, dict[str, float]] = {}
    for c in CS:
        per_set = {}
        for held in data:
            train = [n for n in data if n != held]
            head = fit_context_head(np.vstack([vectors[n] for n in train]),
                                    [r["gold"] for n in train for r in data[n]], embedder.name, c)
            per_set[held] = round(accuracy(head, vectors[held], data[held]), 4)
        per_set["mean"] = round(float(np.mean(list(per_set.values()))), 4)
        cv[str(c)] = per_set
    best = max(CS, key=lambda c: cv[str(c)]["mean"])
    rules = {n: round(float(np.mean([r["rule"] == r["gold"] for r in rows])), 4) for n, rows in data.items()}
    all_rows = [r for rows in data.values() for r in rows]
    counts = {label: sum(r["gold"] == label for r in all_rows) for label in sorted({r["gold"] for r in all_rows})}
    card = {"trained_on": [f"data/eval/{n}.csv" for n, _ in SETS], "mentions": len(all_rows), "per_label": counts,
            "c": best, "chosen_by": "leave-one-set-out cross-validation over the six dev sets (mean accuracy)",
            "cv_accuracy": cv[str(best)], "rules_on_the_same_mentions": rules, "mask": MASK}
    head = fit_context_head(np.vstack(list(vectors.values())), [r["gold"] for r in all_rows],
                            embedder.name.split("+", 1)[0], best, card)
    save_context_head(head, SHIPPED)
    head = load_context_head(SHIPPED)
    (SHIPPED.with_suffix(".md")).write_text(card_text(head), encoding="utf-8")
    result = {"embedder": embedder.name, "cv_accuracy_by_c": cv, "chosen_c": best, "rules_by_set": rules,
              "mentions": len(all_rows), "per_label": counts, "version": head.version}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({"chosen_c": best, "cv": cv[str(best)], "rules": rules, "version": head.version}, indent=1))


def card_text(head: ContextHead) -> str:
    card = head.card
    cv = card["cv_accuracy"]
    lines = [
        "# Competitor context head",
        "",
        f"`{head.version}`: logistic regression (C = {card['c']}) on the {head.embedding} embedding of the sentence",
        f"that names the competitor, the name replaced by \"{card['mask']}\". Labels: {', '.join(head.labels)}.",
        "\"integration\" is allowed only for vendors configured as `integration_partner`.",
        "",
        f"**Data** (hand-written by this project): {card['mentions']} mentions found by the matcher in "
        + ", ".join(f"`{p}`" for p in card["trained_on"]) + "; per label: "
        + ", ".join(f"{k} {v}" for k, v in card["per_label"].items()) + ".",
        "",
        f"**Chosen on validation**: C by {card['chosen_by']}: mean accuracy {cv['mean']:.3f} "
        "(" + ", ".join(f"{k.removeprefix('competitors')} {v:.3f}" for k, v in cv.items() if k != "mean") + ").",
        "The rules' context on the same mentions (tuned on them, so optimistic): "
        + ", ".join(f"{k.removeprefix('competitors')} {v:.3f}" for k, v in card["rules_on_the_same_mentions"].items())
        + ".",
        "",
        "**Held out** (never trained or tuned on; `benchmarks/eval_extraction.py`): see the competitor rows of",
        "docs/tagging.md and data/eval/README-extraction.md (`competitors_test.csv`, round 3;",
        "`competitors_test2.csv`, round 4).",
        "",
        "Retrain: `.venv/bin/python benchmarks/train_competitor_context.py` "
        "(→ `benchmarks/results/competitor_context.json`).",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()

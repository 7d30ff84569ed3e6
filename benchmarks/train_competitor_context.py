"""Train the shipped competitor-context head (models/heads/competitor_context.*) and write its card.

Run: .venv/bin/python benchmarks/train_competitor_context.py
Data (all hand-written by this project): the mentions the matcher finds in
data/eval/competitors_dev*.csv (shipped list) and competitors-helpdesk_dev*.csv (helpdesk list),
each labelled with its ticket's gold context.
- Train: the six round 1-3 dev sets (the rules were tuned on them).
- Validation: competitors_dev4.csv (round 5, written before any model saw it). The head's C and
  the weight of the rules' context feature are chosen there, against the rules alone, the head
  without the rules' feature, and "rules where the words next to the name decide, else the head";
  then the chosen head is refitted on train + validation.
- Test: competitors_test.csv (round 3) and competitors_test2.csv (round 4) are never read here;
  benchmarks/eval_extraction.py scores them.
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
    SHIPPED, ContextHead, fit_context_head, load_context_head, save_context_head,
)
from csintel.classify.competitors import MASK  # noqa: E402
from csintel.classify.competitors import CompetitorMatcher  # noqa: E402
from csintel.classify.enricher import competitor_specs  # noqa: E402
from csintel.classify.eval_extraction import parse_competitor_label, read_cases  # noqa: E402
from csintel.config import load_settings  # noqa: E402
from csintel.embed import configured_embedder  # noqa: E402

EVAL = ROOT / "data" / "eval"
RESULTS = ROOT / "benchmarks" / "results" / "competitor_context.json"
TRAIN = [("competitors_dev", None), ("competitors_dev2", None), ("competitors_dev3", None),
         ("competitors-helpdesk_dev", "competitors-helpdesk.toml"),
         ("competitors-helpdesk_dev2", "competitors-helpdesk.toml"),
         ("competitors-helpdesk_dev3", "competitors-helpdesk.toml")]
VALIDATION = ("competitors_dev4", None)
CS = (1.0, 4.0, 16.0, 64.0)
RULE_SCALES = (0.0, 0.25, 0.5, 1.0)


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
                rows.append({"text": m.masked, "gold": gold[m.name], "partner": partners[m.name], "rule": m.context,
                             "near": m.near})
    return rows


def accuracy(predicted: list[str], rows: list[dict[str, Any]]) -> float:
    return round(float(np.mean([p == r["gold"] for p, r in zip(predicted, rows)])), 4)


def fit(vectors: np.ndarray, rows: list[dict[str, Any]], embedding: str, c: float, scale: float,
        card: dict[str, Any] | None = None) -> ContextHead:
    return fit_context_head(vectors, [r["rule"] for r in rows], [r["gold"] for r in rows], embedding, c, scale, card)


def predict(head: ContextHead, vectors: np.ndarray, rows: list[dict[str, Any]]) -> list[str]:
    return head.predict(vectors, [r["rule"] for r in rows], [r["partner"] for r in rows])


def main() -> None:
    embedder = configured_embedder(load_settings(None))
    embedding = embedder.name.split("+", 1)[0]
    train = [r for name, config in TRAIN for r in mentions(name, config)]
    val = mentions(*VALIDATION)
    v_train = embedder.encode([r["text"] for r in train])
    v_val = embedder.encode([r["text"] for r in val])
    grid: dict[str, float] = {}
    near_then_head: dict[str, float] = {}
    for c in CS:
        for scale in RULE_SCALES:
            predicted = predict(fit(v_train, train, embedding, c, scale), v_val, val)
            grid[f"C={c},rule_scale={scale}"] = accuracy(predicted, val)
            if scale == 0.0:
                near_then_head[f"C={c}"] = accuracy([r["rule"] if r["near"] else p for r, p in zip(val, predicted)], val)
    best_c, best_scale = max(((c, s) for c in CS for s in RULE_SCALES),
                             key=lambda cs: (grid[f"C={cs[0]},rule_scale={cs[1]}"], -cs[0]))
    rules = accuracy([r["rule"] for r in val], val)
    everything = train + val
    counts = {label: sum(r["gold"] == label for r in everything) for label in sorted({r["gold"] for r in everything})}
    card = {"trained_on": [f"data/eval/{n}.csv" for n, _ in (*TRAIN, VALIDATION)], "mentions": len(everything),
            "per_label": counts, "c": best_c, "rule_scale": best_scale,
            "validation": {"set": f"data/eval/{VALIDATION[0]}.csv", "mentions": len(val),
                           "head": grid[f"C={best_c},rule_scale={best_scale}"],
                           "head_without_rules": max(grid[f"C={c},rule_scale=0.0"] for c in CS),
                           "near_rules_then_head": max(near_then_head.values()), "rules": rules},
            "mask": MASK}
    head = fit(np.vstack([v_train, v_val]), everything, embedding, best_c, best_scale, card)
    save_context_head(head, SHIPPED)
    head = load_context_head(SHIPPED)
    SHIPPED.with_suffix(".md").write_text(card_text(head), encoding="utf-8")
    result = {"embedder": embedder.name, "train_mentions": len(train), "validation_mentions": len(val),
              "validation_accuracy": grid, "near_rules_then_head": near_then_head, "rules_on_validation": rules,
              "chosen": {"c": best_c, "rule_scale": best_scale}, "per_label": counts, "version": head.version}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: result[k] for k in ("validation_accuracy", "near_rules_then_head", "rules_on_validation",
                                             "chosen", "version")}, indent=1))


def card_text(head: ContextHead) -> str:
    card = head.card
    val = card["validation"]
    return "\n".join([
        "# Competitor context head",
        "",
        f"`{head.version}`: logistic regression (C = {card['c']}) on the {head.embedding} embedding of the sentence",
        f"that names the competitor, the name replaced by \"{card['mask']}\", beside the rules' context as a",
        f"one-hot feature (scale {card['rule_scale']}). Labels: {', '.join(head.labels)}. \"integration\" is allowed",
        "only for vendors configured as `integration_partner`; a migration of a vendor's old data is `past_user`.",
        "",
        f"**Data** (hand-written by this project, data/eval/README-extraction.md): {card['mentions']} mentions found by",
        "the matcher in " + ", ".join(f"`{p}`" for p in card["trained_on"]) + "; per label: "
        + ", ".join(f"{k} {v}" for k, v in card["per_label"].items()) + ".",
        "",
        f"**Chosen on validation** (`{val['set']}`, {val['mentions']} mentions, trained on the other sets): C and the",
        f"rules' feature scale by accuracy: the head {val['head']:.3f}; without the rules' feature"
        f" {val['head_without_rules']:.3f}; the rules where the words next to the name decide, else the head"
        f" {val['near_rules_then_head']:.3f}; the rules alone {val['rules']:.3f}. Then refitted on all the sets above.",
        "",
        "**Held out** (never trained or tuned on): `benchmarks/eval_extraction.py` scores",
        "`competitors_test.csv` (round 3) and `competitors_test2.csv` (round 4); the figures are in docs/tagging.md.",
        "",
        "Retrain: `.venv/bin/python benchmarks/train_competitor_context.py` (→ `benchmarks/results/competitor_context.json`).",
        "",
    ])

if __name__ == "__main__":
    main()

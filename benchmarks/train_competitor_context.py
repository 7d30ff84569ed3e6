"""Train the shipped competitor-context head (models/heads/competitor_context.*) and write its card.

Run: .venv/bin/python benchmarks/train_competitor_context.py
Data (all hand-written by this project): the mentions the matcher finds in
- data/train/competitor_context.csv: sentences written for this head from the label definitions
  (data/eval/README-extraction.md) and issue 14's phenomena, in words unlike the dev sets' (rows
  342 on, written after round 6 = competitors_test3.csv: mostly integration partners named
  competitively, migrations and past users, ordinary-word names and neutral mentions, none taken
  from a test set; rows 591 on, written for the round-7 work after round 7 =
  competitors_test4.csv had been written and scored once: ticket-like text from many kinds of
  writers, terse, non-native, sarcastic, negated, several names);
- data/eval/competitors_dev*.csv (shipped list) and competitors-helpdesk_dev*.csv (helpdesk list);
- the rounds 3, 4 and 6 (competitors_test.csv, _test2.csv, _test3.csv): scored several times
  before, so no longer held out; since round 7 they are training and cross-validation data,
each mention labelled with its row's gold context.
Hyper-parameters (C, the window of words around the name, class-balanced weights or not, the
weights of the cue flags, of the hashed word flags and of the rules' context) are chosen by leave-one-source-out
cross-validation over these files (the training file in three seeded random parts: it alone holds
the neutral `other` mentions), scored on the folds whose text the rules were not written on
(data/train/competitor_context.csv, competitors_dev4.csv and the rounds 3, 4 and 6: the rules were tuned on the other dev
sets, where they are right by construction, so scoring there rewards copying them). The chosen
head is refitted on everything.
Test: competitors_test4.csv (round 7) is never read here; benchmarks/eval_extraction.py scores it.
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
    SHIPPED, ContextHead, encode_mentions, fit_context_head, load_context_head, save_context_head,
)
from csintel.classify.competitors import MASK, CompetitorMatcher, Mention  # noqa: E402
from csintel.classify.enricher import competitor_specs  # noqa: E402
from csintel.classify.eval_extraction import parse_competitor_label, read_cases  # noqa: E402
from csintel.config import load_settings  # noqa: E402
from csintel.embed import Embedder, configured_embedder  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "competitor_context.json"
HELPDESK = "data/eval/competitors-helpdesk.toml"
# (file, competitor list config or None for the shipped list)
SOURCES = [("data/train/competitor_context.csv", None), ("data/eval/competitors_dev.csv", None),
           ("data/eval/competitors_dev2.csv", None), ("data/eval/competitors_dev3.csv", None),
           ("data/eval/competitors_dev4.csv", None), ("data/eval/competitors-helpdesk_dev.csv", HELPDESK),
           ("data/eval/competitors-helpdesk_dev2.csv", HELPDESK), ("data/eval/competitors-helpdesk_dev3.csv", HELPDESK),
           ("data/eval/competitors_test.csv", None), ("data/eval/competitors_test2.csv", None),
           ("data/eval/competitors_test3.csv", None)]
# The folds whose text the rules were not developed on: the score hyper-parameters are chosen by.
SCORED = ("data/train/competitor_context.csv", "data/eval/competitors_dev4.csv", "data/eval/competitors_test.csv",
          "data/eval/competitors_test2.csv", "data/eval/competitors_test3.csv")
# (C, window, cue_scale, rule_scale, balanced, lex_scale). Earlier passes settled the cue flags at 0.5
# (they beat none by 0.04-0.05), the 4-word window (0 and 8 lost 0.01-0.05) and balanced weights;
# the rules' feature cost 0.06-0.11 where the rules are weak. Round 7's pass adds the hashed word
# flags (LEX_DIM buckets of the LEX_WINDOW words either side of the name and the sentence's words):
# in an exploration (C 8, word window 4/6, weight 0.3/0.6) they took the scored folds from 0.865 to
# 0.90, so the grid varies C and their weight around that, the head without them as the reference.
WINDOWS = (4,)
LEX_DIM = 4096
LEX_WINDOW = 4
TRAIN_FILE_PARTS = 3
GRID = ([(8.0, 4, 0.5, 0.0, True, 0.0)] + [(c, 4, 0.5, 0.0, True, lex) for c in (2.0, 8.0) for lex in (0.3, 0.6, 1.0)]
        + [(32.0, 4, 0.5, 0.0, True, 0.6)])


def mentions(path: str, config: str | None) -> list[tuple[Mention, str, bool]]:
    """Every found mention of a gold competitor, with its gold context and whether it is a partner."""
    specs, _ = competitor_specs(load_settings(ROOT / config if config else None))
    partners = {s.name: s.integration_partner for s in specs}
    matcher = CompetitorMatcher(specs)
    rows = []
    for text, label, _ in read_cases(ROOT / path):
        gold = parse_competitor_label(label)
        rows += [(m, gold[m.name], partners[m.name]) for m in matcher.find(text) if m.name in gold]
    return rows


class Data:
    """All mentions with their source, and their vectors per window (encoded once)."""

    def __init__(self, embedder: Embedder) -> None:
        rows = [(src, *row) for src, config in SOURCES for row in mentions(src, config)]
        self.source = np.array([r[0] for r in rows])
        # The cross-validation folds: each file, the training file in TRAIN_FILE_PARTS seeded random parts.
        self.fold = self.source.astype(object)
        own = np.flatnonzero(self.source == SOURCES[0][0])
        parts = np.random.default_rng(0).integers(0, TRAIN_FILE_PARTS, len(own))
        self.fold[own] = [f"{SOURCES[0][0]}#{k}" for k in parts]
        self.mentions = [r[1] for r in rows]
        self.gold = np.array([r[2] for r in rows])
        self.partner = [r[3] for r in rows]
        self.vectors = {w: encode_mentions(embedder, self.mentions, w) for w in WINDOWS}

    def fit(self, keep: np.ndarray, embedding: str, c: float, window: int, cues: float, rules: float,
            balanced: bool, lex_scale: float, card: dict[str, Any] | None = None) -> ContextHead:
        idx = np.flatnonzero(keep)
        return fit_context_head(self.vectors[window][idx], [self.mentions[i] for i in idx],
                                [self.partner[i] for i in idx], self.gold[idx].tolist(), embedding, c, window, cues,
                                rules, card, balanced, LEX_DIM if lex_scale else 0, LEX_WINDOW, lex_scale)

    def predict(self, head: ContextHead, keep: np.ndarray) -> np.ndarray:
        idx = np.flatnonzero(keep)
        return np.array(head.predict(self.vectors[head.window][idx], [self.mentions[i] for i in idx],
                                     [self.partner[i] for i in idx]))


def per_source(predicted: np.ndarray, data: Data) -> dict[str, float]:
    right = predicted == data.gold
    out = {src: round(float(right[data.source == src].mean()), 4) for src, _ in SOURCES}
    scored = np.isin(data.source, SCORED)
    out["scored_folds"] = round(float(right[scored].mean()), 4)
    out["all_folds"] = round(float(right.mean()), 4)
    return out


def main() -> None:
    embedder = configured_embedder(load_settings(None))
    embedding = embedder.name.split("+", 1)[0]
    data = Data(embedder)
    rules = per_source(np.array([m.context for m in data.mentions]), data)
    grid: dict[str, dict[str, float]] = {}
    settings: dict[str, dict[str, Any]] = {}
    for c, window, cues, scale, balanced, lex in GRID:
        predicted = np.empty(len(data.gold), dtype=object)
        for fold in sorted(set(data.fold)):   # leave one fold out
            held = data.fold == fold
            predicted[held] = data.predict(data.fit(~held, embedding, c, window, cues, scale, balanced, lex), held)
        key = f"C={c},window={window},cue_scale={cues},rule_scale={scale},balanced={balanced},lex_scale={lex}"
        settings[key] = {"C": c, "window": window, "cue_scale": cues, "rule_scale": scale, "balanced": balanced,
                         "lex_scale": lex}
        grid[key] = per_source(predicted, data)
        print(f"{key}: {grid[key]}", flush=True)
    key = max(grid, key=lambda k: (grid[k]["scored_folds"], grid[k]["all_folds"]))   # first of equals
    chosen = settings[key]
    counts = {label: int((data.gold == label).sum()) for label in sorted(set(data.gold))}
    card = {"trained_on": [src for src, _ in SOURCES], "mentions": len(data.gold),
            "mentions_per_source": {src: int((data.source == src).sum()) for src, _ in SOURCES},
            "per_label": counts, **chosen, "cross_validation": {"chosen": grid[key], "rules": rules,
                                                                 "scored_on": list(SCORED)},
            "mask": MASK}
    head = data.fit(np.ones(len(data.gold), dtype=bool), embedding, chosen["C"], chosen["window"],
                    chosen["cue_scale"], chosen["rule_scale"], chosen["balanced"], chosen["lex_scale"], card)
    save_context_head(head, SHIPPED)
    head = load_context_head(SHIPPED)
    SHIPPED.with_suffix(".md").write_text(card_text(head), encoding="utf-8")
    result = {"embedder": embedder.name, "mentions_per_source": card["mentions_per_source"],
              "cross_validation": f"leave one file out ({SOURCES[0][0]} in {TRAIN_FILE_PARTS} seeded random parts); chosen by "
                                  "accuracy on " + " and ".join(SCORED),
              "grid": grid, "rules": rules, "chosen": chosen, "per_label": counts, "version": head.version}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({"rules": rules, "chosen": chosen, "cv": grid[key], "version": head.version}, indent=1))


def card_text(head: ContextHead) -> str:
    card = head.card
    cv = card["cross_validation"]
    folds = ", ".join(f"`{s}` {cv['chosen'][s]:.3f} (rules {cv['rules'][s]:.3f})" for s in card["trained_on"])
    return "\n".join([
        "# Competitor context head",
        "",
        f"`{head.version}`: logistic regression (C = {card['C']}"
        + (", class-balanced weights" if card.get("balanced") else "") + f") on the {head.embedding} embedding of the sentence that",
        "names the competitor" + (f" and of the {head.window} words either side of the name" if head.window else "")
        + f", the name replaced by \"{card['mask']}\"; beside it the cue flags of `csintel/classify/competitor_cues.py`",
        "(words next to the name, the clause's cues, the name opening the sentence, a long sentence, partner or not)",
        f"at weight {head.cue_scale}" + (f" and the rules' context one-hot at weight {head.rule_scale}" if head.rule_scale
                                        else " (the rules' context itself is not a feature)")
        + (f"; and {head.lex_dim} hashed flags (CRC-32) of the words and word pairs among the {head.lex_window} words"
           f" either side of the name and of the sentence's words, at weight {head.lex_scale}" if head.lex_dim else "")
        + f". Labels: {', '.join(head.labels)}.",
        "\"integration\" is allowed only for vendors configured as `integration_partner`; a migration of a vendor's",
        "old data is `past_user`; a denied move (\"we are NOT moving to X\", `competitor_cues.NEGATED_MOVE`) is never",
        "`switching` (the head's next best context is taken).",
        "",
        f"**Data** (all hand-written by this project): {card['mentions']} mentions found by the matcher in",
        ", ".join(f"`{s}` ({n})" for s, n in card["mentions_per_source"].items()) + "; per label: "
        + ", ".join(f"{k} {v}" for k, v in card["per_label"].items()) + ". `data/train/competitor_context.csv` was",
        "written for this head from the label definitions, in words unlike the dev sets' (data/README.md).",
        "Rounds 3, 4 and 6 (`competitors_test*.csv` but test4) had been scored several times and are trained on since",
        "round 7.",
        "",
        "**Chosen by leave-one-file-out cross-validation** (each file predicted by a head trained on the others; the",
        f"training file in {TRAIN_FILE_PARTS} seeded random parts, as only it holds neutral `other` mentions),",
        "scored on the folds the rules were not written on (" + ", ".join(f"`{s}`" for s in cv["scored_on"])
        + f"): {cv['chosen']['scored_folds']:.3f} against the rules' {cv['rules']['scored_folds']:.3f}. Per file: "
        + folds + ". Then refitted on all of them.",
        "",
        "**Held out** (never trained or tuned on): `benchmarks/eval_extraction.py` scores",
        "`competitors_test4.csv` (round 7, written before this head and scored once before and once after it);",
        "the figures are in docs/tagging.md.",
        "",
        "Retrain: `.venv/bin/python benchmarks/train_competitor_context.py` (→ `benchmarks/results/competitor_context.json`).",
        "",
    ])


if __name__ == "__main__":
    main()

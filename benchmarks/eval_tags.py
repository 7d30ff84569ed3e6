"""Tag quality on the bundled sample's ground truth (data the taggers were not built from).

Run: .venv/bin/python benchmarks/eval_tags.py [--sample DIR] [--output FILE]; writes
benchmarks/results/eval_tags.json by default and prints the same JSON. For a second held-out
draw: `python -m tools.sample --out /tmp/s11 --seed 11` then `--sample /tmp/s11
--output benchmarks/results/eval_tags_seed11.json`. The taxonomy's prototypes come from
models/taxonomy.yaml's descriptions and examples and the rules from their own modules; neither
reads the sample, so the sample is held-out data for them.
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from pathlib import Path

from sklearn.metrics import accuracy_score, adjusted_rand_score, f1_score, precision_recall_fscore_support

from csintel.file_tagging import read_tickets
from csintel.config import SAMPLE_DIR, load_settings
from csintel.pipeline import make_enricher

RESULTS = Path(__file__).parent / "results" / "eval_tags.json"


def labels_report(truth: list[str], pred: list[str]) -> dict:
    return {"accuracy": round(accuracy_score(truth, pred), 4),
            "macro_f1": round(f1_score(truth, pred, average="macro", zero_division=0), 4),
            "abstained": sum(p == "uncertain" for p in pred), "n": len(truth)}


def prf(tp: int, fp: int, fn: int) -> dict:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(2 * p * r / (p + r) if p + r else 0.0, 4),
            "tp": tp, "fp": fp, "fn": fn}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sample", type=Path, default=SAMPLE_DIR)
    ap.add_argument("--output", type=Path, default=RESULTS)
    args = ap.parse_args()
    truth = json.loads((args.sample / "ground_truth.json").read_text())["tickets"]
    tickets = [t for t in read_tickets(args.sample / "tickets.jsonl", 50_000) if t.text and t.id in truth]
    enricher = make_enricher(load_settings(None))
    start = time.perf_counter()
    vectors = enricher.embedder.encode([t.text or "" for t in tickets])
    encode_s = time.perf_counter() - start
    tags, _ = enricher.tag([t.id or "" for t in tickets], [t.text or "" for t in tickets], vectors)
    tag_s = time.perf_counter() - start - encode_s
    gold = [truth[t.id or ""] for t in tickets]

    result: dict = {"tickets": len(tickets), "encode_seconds": round(encode_s, 1), "tag_seconds": round(tag_s, 1),
                    "model_version": enricher.version, "versions": enricher.versions}
    for task in ("category", "root_cause"):
        result[task] = labels_report([g[task] for g in gold], [getattr(t, task).label for t in tags])
    result["sentiment"] = labels_report([g["sentiment"] for g in gold], [t.sentiment.label for t in tags])

    # Competitors: a (ticket, competitor) pair is right when found; context judged on the pairs found.
    tp = fp = fn = ctx_right = competitive_right = 0
    for g, t in zip(gold, tags):
        want = {m["name"]: m for m in g["competitors"]}
        got = {m.name: m for m in t.competitors}
        tp += len(want.keys() & got.keys())
        fp += len(got.keys() - want.keys())
        fn += len(want.keys() - got.keys())
        for name in want.keys() & got.keys():
            ctx_right += want[name]["context"] == got[name].context
            competitive_right += want[name]["competitive"] == got[name].competitive
    result["competitors"] = {**prf(tp, fp, fn), "context_accuracy": round(ctx_right / tp, 4) if tp else None,
                             "competitive_accuracy": round(competitive_right / tp, 4) if tp else None,
                             "false_friend_tickets_flagged": sum(
                                 1 for g, t in zip(gold, tags) if g["false_friends"] and not g["competitors"]
                                 and t.competitors)}

    is_req = [g["request_group"] is not None for g in gold]
    said = [t.is_request for t in tags]
    p, r, f, _ = precision_recall_fscore_support(is_req, said, average="binary", zero_division=0)
    pairs = [(g["request_group"], t.group) for g, t in zip(gold, tags) if g["request_group"] and t.group]
    # Purity: the share of grouped requests whose predicted group's majority true group is theirs.
    members: dict[str, Counter] = {}
    for true_group, predicted in pairs:
        members.setdefault(predicted, Counter())[true_group] += 1
    purity = sum(c.most_common(1)[0][1] for c in members.values()) / len(pairs) if pairs else 0.0
    result["feature_requests"] = {
        "precision": round(p, 4), "recall": round(r, 4), "f1": round(f, 4),
        "groups_found": len({t.group for t in tags if t.group}), "groups_true": len({g for g, _ in pairs}),
        "grouping_ari": round(adjusted_rand_score([g for g, _ in pairs], [pg for _, pg in pairs]), 4) if pairs else None,
        "grouping_purity": round(purity, 4),
    }
    tp = fp = fn = 0
    for g, t in zip(gold, tags):
        want, got = set(g["errors"]), set(t.errors)
        tp, fp, fn = tp + len(want & got), fp + len(got - want), fn + len(want - got)
    result["errors"] = prf(tp, fp, fn)

    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()

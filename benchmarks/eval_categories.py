"""Category heads on public data: the hybrid head (embedding + TF-IDF n-grams, recipe, temperature and
abstention chosen on validation) against TF-IDF + logistic regression trained on the same rows.

Run: .venv/bin/python benchmarks/eval_categories.py [--sets banking77_8,banking77,clinc150,it_tickets]
Writes benchmarks/results/eval_categories.json. Every head and baseline is fitted on `train`,
tuned on `val` (recipe, temperature, abstention threshold), and scored once on `test`; the data,
their sources and splits are in data/README.md (none of them written by this project).

- banking77_8: 8 examples per label drawn from Banking77's train (seed 0); val = Banking77's val.
- banking77_8_draws: the same for draws (seeds) 0-4, each scored on the test; the mean is reported.
- banking77_8_unlabelled_draws: the same draws, plus the rest of Banking77's train (8,384 queries,
  labels hidden) as unlabelled tickets (semi-supervised: csintel.classify.semi_supervised). Not
  comparable 1:1 with supervised few-shot figures; the TF-IDF + LR baseline sees only the labelled rows.
- banking77_8_tuned_draws: the same draws through the few-shot path (csintel.classify.fewshot with
  the given val split): the plain head, and the same head on MiniLM fine-tuned on the 616 rows (plus
  the label names), the fine-tuned one kept where it wins on val beyond chance. Minutes of CPU a draw.
- banking77: all 9,003 training rows.
- clinc150: trained on the 15,000 in-scope rows; the default abstention (rule: the top label's
  confidence or the head's energy, and its threshold) comes from held-out classes on the in-scope
  val rows (no out-of-scope row is seen before the test). The test has 4,500 in-scope and 1,000
  out-of-scope rows: in-scope accuracy counts an abstention as wrong, out-of-scope recall counts it
  as right (the CLINC150 paper's measures). A second variant re-chooses the rule and threshold of
  the same head with val's 100 out-of-scope rows instead (no refit).
Every head's figures also give each abstention rule the card recorded (at its own threshold, chosen
on val) on the same test rows: the top-probability rule is the comparison for energy.
- it_tickets: IT helpdesk tickets in 8 topic groups (jargon, codes, system names).
- banking77_oos: out of scope on a second set. A seeded quarter of Banking77's labels (19 of 77) is
  left out: train and val keep only the other labels' rows (so the default abstention again comes
  from held-out classes within them), and the test's rows of the left-out labels are out of scope.

Accuracy and macro F1 are top-label (no abstention) on the in-scope test rows, for head and
baseline alike; ECE is the calibrated confidence of the top label on the same rows.
Embeddings: the packaged all-MiniLM-L6-v2 run as ONNX int8 (the shipped default backend),
through public_data.embed's shared cache.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
import warnings
from pathlib import Path
from typing import Any, Sequence

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
import public_data  # noqa: E402

from csintel.classify.evaluation import score, tfidf_baseline  # noqa: E402
from csintel.classify.fewshot import train_few_shot  # noqa: E402
from csintel.classify.head_selection import choose_abstention  # noqa: E402
from csintel.classify.heads import Head, energy, expected_calibration_error, train_head  # noqa: E402

RESULTS = Path(__file__).parent / "results" / "eval_categories.json"
SETS = ("banking77_8", "banking77", "clinc150", "it_tickets", "banking77_8_draws", "banking77_oos",
        "banking77_8_unlabelled_draws", "banking77_8_tuned_draws")
DRAWS = 5
OOS = "oos"


class CachedEmbedder:
    """The embedder interface over public_data.embed (cached vectors, the int8 ONNX backend)."""

    name = "all-MiniLM-L6-v2+onnx-int8"
    dim = 384

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        return public_data.embed(list(texts)) if texts else np.zeros((0, self.dim), dtype=np.float32)


def per_label(split: public_data.Split, k: int, seed: int) -> public_data.Split:
    rng = np.random.default_rng(seed)
    rows: dict[str, list[int]] = {}
    for i, label in enumerate(split.labels):
        rows.setdefault(label, []).append(i)
    pick = sorted(j for label in sorted(rows) for j in rng.choice(rows[label], k, replace=False))
    return public_data.Split([split.texts[i] for i in pick], [split.labels[i] for i in pick])


def data(name: str, seed: int = 0) -> dict[str, public_data.Split]:
    if name in ("banking77_8", "banking77_8_draws", "banking77_8_unlabelled_draws", "banking77_8_tuned_draws"):
        d = public_data.banking77()
        drawn = per_label(d["train"], 8, seed=seed)
        if name != "banking77_8_unlabelled_draws":
            return {**d, "train": drawn}
        taken = set(drawn.texts)
        rest = [t for t in d["train"].texts if t not in taken]
        return {**d, "train": drawn, "unlabelled": public_data.Split(rest, [""] * len(rest))}
    if name == "banking77":
        return public_data.banking77()
    if name == "clinc150":
        full = public_data.clinc150(with_oos=True)
        inscope = {k: public_data.Split([t for t, lab in zip(v.texts, v.labels) if lab != OOS],
                                        [lab for lab in v.labels if lab != OOS]) for k, v in full.items()}
        return {"train": inscope["train"], "val": inscope["val"], "val_oos": full["val"], "test": full["test"]}
    if name == "banking77_oos":
        d = public_data.banking77()
        labels = sorted(set(d["train"].labels))
        left_out = set(np.random.default_rng(seed).permutation(labels)[:len(labels) // 4].tolist())
        kept = {k: public_data.Split([t for t, lab in zip(v.texts, v.labels) if lab not in left_out],
                                     [lab for lab in v.labels if lab not in left_out]) for k, v in d.items()}
        test = public_data.Split(d["test"].texts, [OOS if lab in left_out else lab for lab in d["test"].labels])
        return {"train": kept["train"], "val": kept["val"], "test": test}
    if name == "it_tickets":
        return public_data.it_tickets()
    raise SystemExit(f"unknown set {name}: one of {', '.join(SETS)}")


def head_figures(head: Head, test: public_data.Split, vectors: np.ndarray) -> dict[str, Any]:
    """Top-label accuracy/macro F1/ECE on in-scope rows; with abstention, in-scope accuracy and OOS recall."""
    started = time.perf_counter()
    probs, answered = head.answers(vectors, test.texts, head.min_confidence)
    predict_s = time.perf_counter() - started
    top = np.array([head.labels[i] for i in probs.argmax(axis=1)])
    confidence = probs.max(axis=1)
    truth = np.array(test.labels)
    inscope = truth != OOS
    scored = score(list(truth[inscope]), list(top[inscope]))
    out = {"accuracy": scored["accuracy"], "macro_f1": scored["macro_f1"],
           "ece": expected_calibration_error(confidence[inscope], top[inscope] == truth[inscope]),
           "rule": "energy" if head.min_energy is not None else "confidence",
           "threshold": head.min_energy if head.min_energy is not None else head.min_confidence,
           "predict_s": round(predict_s, 2), **_abstention_figures(answered, top == truth, inscope)}
    # Every rule the card tried, each at the threshold chosen for it on val, on the same test rows.
    logits = head.logits(vectors, test.texts)
    rule_scores = {"confidence": confidence, "energy": energy(logits, head.temperature)}
    for rule, chosen in (head.card.get("abstention", {}).get("candidates") or {}).items():
        if chosen["threshold"] is not None:
            out.setdefault("rules", {})[rule] = {"threshold": chosen["threshold"], **_abstention_figures(
                rule_scores[rule] >= chosen["threshold"], top == truth, inscope)}
    return out


def _abstention_figures(answered: np.ndarray, right: np.ndarray, inscope: np.ndarray) -> dict[str, float]:
    out = {"coverage_inscope": round(float(answered[inscope].mean()), 4),
           "inscope_accuracy_with_abstention": round(float((right & answered)[inscope].mean()), 4)}
    if (~inscope).any():
        out["oos_recall"] = round(float((~answered[~inscope]).mean()), 4)
    return out


def rechosen_with_oos(head: Head, val: public_data.Split, vectors: np.ndarray) -> Head:
    """The same head, its abstention rule and threshold chosen again on val rows with real
    out-of-scope labels (CLINC150's val oos rows) instead of held-out classes."""
    logits = head.logits(vectors, val.texts)
    truth = np.array([head.labels.index(lab) if lab in head.labels else -1 for lab in val.labels])
    inscope = truth >= 0
    rule, threshold, abstention = choose_abstention(logits[inscope], logits[inscope].argmax(axis=1) == truth[inscope],
                                                    logits[~inscope], head.temperature)
    abstention["oos_source"] = "val rows labelled oos"
    return dataclasses.replace(head, min_confidence=threshold if rule == "confidence" else 0.0,
                               min_energy=threshold if rule == "energy" else None,
                               card={**head.card, "abstention": abstention})


def run_draws(name: str, embedder: CachedEmbedder, seeds: Sequence[int] = range(DRAWS)) -> dict[str, Any]:
    """run_set over draws of the training rows (seeds 0 to DRAWS - 1); the mean of each test figure beside them."""
    draws = [run_set(name, embedder, seed) for seed in seeds]
    mean = {model: {k: round(float(np.mean([r[model][k] for r in draws])), 4)
                    for k in ("accuracy", "macro_f1", "ece", "inscope_accuracy_with_abstention") if k in draws[0][model]}
            for model in ("head", "tfidf_lr")}
    return {"draws": draws, "mean": mean}


def run_set(name: str, embedder: CachedEmbedder, seed: int = 0) -> dict[str, Any]:
    d = data(name, seed)
    train, val, test = d["train"], d["val"], d["test"]
    result: dict[str, Any] = {"seed": seed, "train": len(train), "val": len(val), "test": len(test),
                              "labels": len(set(train.labels))}
    vectors = {k: embedder.encode(v.texts) for k, v in d.items() if k != "unlabelled"}
    unlabelled = None
    if "unlabelled" in d:   # rows of the full train split, whose vectors are cached once for every draw
        full = public_data.banking77()["train"]
        row = {t: i for i, t in enumerate(full.texts)}
        unlabelled = (d["unlabelled"].texts, embedder.encode(full.texts)[[row[t] for t in d["unlabelled"].texts]])
        result["unlabelled"] = len(d["unlabelled"])

    started = time.perf_counter()
    if name == "banking77_8_tuned_draws":
        cpu = time.process_time()
        head = train_few_shot("category", train.texts, train.labels, embedder, vectors=vectors["train"],
                              trained_on=name, validation=(val.texts, val.labels, vectors["val"]),
                              progress=lambda m: print(m, flush=True))
        result["few_shot"] = {**head.card["few_shot"], "fit_cpu_s": round(time.process_time() - cpu, 1)}
        if head.encoder is not None:   # its test vectors once (head_figures reads the vectors it is given)
            vectors["test"] = head.encoder.encode(test.texts)
            head = dataclasses.replace(head, encoder=None)
    else:
        head = train_head("category", train.texts, train.labels, embedder, vectors=vectors["train"],
                          trained_on=name, validation=(val.texts, val.labels, vectors["val"]), unlabelled=unlabelled)
    result["head"] = {"fit_s": round(time.perf_counter() - started, 1), "recipe": head.card["recipe"],
                      "selection": head.card["selection"]["trials"], "abstention": head.card["abstention"],
                      "lexicon": head.card.get("lexicon"),
                      **({"unlabelled": {k: v for k, v in head.card["unlabelled"].items() if k != "pseudo_labels"}}
                         if head.card.get("unlabelled") else {}),
                      **head_figures(head, test, vectors["test"])}
    print(name, "head", {k: v for k, v in result["head"].items() if k != "selection"}, flush=True)

    if "val_oos" in d:   # the same head, its abstention chosen with val's out-of-scope rows
        with_oos = rechosen_with_oos(head, d["val_oos"], vectors["val_oos"])
        result["head_val_oos_threshold"] = {"abstention": with_oos.card["abstention"],
                                            **head_figures(with_oos, test, vectors["test"])}
        print(name, "head (val oos)", result["head_val_oos_threshold"], flush=True)

    started = time.perf_counter()
    baseline = tfidf_baseline(train.texts, train.labels)
    fit_s = time.perf_counter() - started
    truth = np.array(test.labels)
    inscope = truth != OOS
    guessed = baseline([t for t, keep in zip(test.texts, inscope) if keep])
    scored = score(list(truth[inscope]), guessed)
    result["tfidf_lr"] = {"fit_s": round(fit_s, 1), "accuracy": scored["accuracy"], "macro_f1": scored["macro_f1"]}
    print(name, "tfidf+lr", result["tfidf_lr"], flush=True)
    return result


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sets", default=",".join(SETS))
    ap.add_argument("--output", type=Path, default=RESULTS)
    ap.add_argument("--seeds", default=",".join(map(str, range(DRAWS))),
                    help="the draws of a *_draws set (to run them in separate processes and merge)")
    args = ap.parse_args()
    warnings.filterwarnings("ignore")
    embedder = CachedEmbedder()
    out: dict[str, Any] = json.loads(args.output.read_text()) if args.output.exists() else {}
    out["note"] = ("fit on train, recipe/temperature/threshold chosen on val, test reported once; accuracy and "
                   "macro F1 are top-label on in-scope test rows; data not written by this project (data/README.md)")
    out["embedding"] = embedder.name
    for name in args.sets.split(","):
        out.setdefault("sets", {})[name] = run_draws(name, embedder, [int(x) for x in args.seeds.split(",")]) if name.endswith("_draws") else run_set(name, embedder)
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()

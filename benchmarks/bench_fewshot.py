"""Few-shot categories: the hybrid head on the packaged MiniLM's frozen embeddings against the same head
on a MiniLM fine-tuned on the few labelled examples (today a cosine-classifier loss; the committed JSON is
the run of the earlier SetFit pair recipe; csintel.classify.tuned_encoder), with TF-IDF + logistic regression in the same run.

Run: nice -n 10 .venv/bin/python benchmarks/bench_fewshot.py [--variants given_val,csintel_train]
Writes benchmarks/results/bench_fewshot.json. Data: Banking77, 8 examples per label drawn from its
train split (seed 0, the draw of eval_categories.py's banking77_8); its test split (3,080) is
scored once and never trained or tuned on.

- plain: the hybrid head on frozen embeddings (ONNX int8, the shipped default backend), recipe,
  temperature and threshold chosen on Banking77's val split: eval_categories.py's protocol.
- given_val: the encoder fine-tuned on the 616 examples, then the same head and selection on its
  embeddings (torch): what fine-tuning adds under the same protocol.
- csintel_train: what `csintel train` does with only the 616-row file (csintel.classify.fewshot):
  a seeded validation slice carved from the file, both candidates fitted on the rest, the better
  on that slice kept (fine-tuning only when it wins beyond chance).
- plain_cv: what `csintel train` fits when the frozen embedding is kept: the hybrid head on all
  616 rows, its choices made by 5-fold cross-validation (no val split).
The fine-tuned encoder's embeddings cannot come from the shared cache: every test and val text
is encoded again, and that time is reported. Wall times depend on the machine's load (recorded).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings
from pathlib import Path
from typing import Any, Callable

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
import public_data  # noqa: E402
from eval_categories import CachedEmbedder, head_figures, per_label  # noqa: E402

from csintel.classify.evaluation import score, tfidf_baseline  # noqa: E402
from csintel.classify.heads import train_head  # noqa: E402
from csintel.classify.tuned_encoder import MAX_PASSES, fine_tune  # noqa: E402
from csintel.embed import DEFAULT_MODEL_NAME, packaged_model_path  # noqa: E402

RESULTS = Path(__file__).parent / "results" / "bench_fewshot.json"
VARIANTS = ("plain", "given_val", "csintel_train", "plain_cv")


def machine() -> dict[str, Any]:
    return {"cpus": os.cpu_count(), "load_average": [round(x, 2) for x in os.getloadavg()], "nice": os.nice(0)}


def timed_figures(head: Any, test: public_data.Split, encode: Callable[[list[str]], np.ndarray]) -> dict[str, Any]:
    """Test figures, with the time `encode` took over the test texts (the cache's, or a fine-tuned encoder's)."""
    started = time.perf_counter()
    vectors = encode(test.texts)
    encode_s = time.perf_counter() - started
    return {"encode_test_s": round(encode_s, 1), **head_figures(head, test, vectors)}


def run(variant: str, d: dict[str, public_data.Split], cached: CachedEmbedder, max_passes: int) -> dict[str, Any]:
    train, val, test = d["train"], d["val"], d["test"]
    out: dict[str, Any] = {"machine_before": machine()}
    started = time.perf_counter()
    if variant == "plain":
        head = train_head("category", train.texts, train.labels, cached, vectors=cached.encode(train.texts),
                          trained_on="banking77_8", validation=(val.texts, val.labels, cached.encode(val.texts)))
        out |= {"fit_s": round(time.perf_counter() - started, 1), "recipe": head.card["recipe"],
                **timed_figures(head, test, cached.encode)}
    elif variant == "plain_cv":
        head = train_head("category", train.texts, train.labels, cached, vectors=cached.encode(train.texts),
                          trained_on="banking77_8")
        out |= {"fit_s": round(time.perf_counter() - started, 1), "recipe": head.card["recipe"],
                **timed_figures(head, test, cached.encode)}
    elif variant == "given_val":
        encoder, cost = fine_tune(train.texts, train.labels, packaged_model_path(), DEFAULT_MODEL_NAME,
                                  max_passes=max_passes, progress=lambda m: print(m, flush=True))
        t = time.perf_counter()
        vectors = {"train": encoder.encode(train.texts), "val": encoder.encode(val.texts)}
        encode_s = time.perf_counter() - t
        t = time.perf_counter()
        head = train_head("category", train.texts, train.labels, encoder, vectors=vectors["train"],
                          trained_on="banking77_8 (fine-tuned)", validation=(val.texts, val.labels, vectors["val"]))
        out |= {"fine_tune": cost, "encode_train_val_s": round(encode_s, 1),
                "head_fit_s": round(time.perf_counter() - t, 1), "fit_s": round(time.perf_counter() - started, 1),
                "recipe": head.card["recipe"], **timed_figures(head, test, encoder.encode)}
    else:
        from csintel.classify.fewshot import train_few_shot

        head = train_few_shot("category", train.texts, train.labels, cached, trained_on="banking77_8",
                              max_passes=max_passes, progress=lambda m: print(m, flush=True))
        out |= {"fit_s": round(time.perf_counter() - started, 1), "few_shot": head.card.get("few_shot"),
                **timed_figures(head, test, (head.encoder or cached).encode)}
    out["machine_after"] = machine()
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--variants", default=",".join(VARIANTS))
    ap.add_argument("--max-passes", type=int, default=MAX_PASSES)
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    ap.add_argument("--output", type=Path, default=RESULTS)
    ap.add_argument("--smoke", action="store_true", help="a tiny subset, to check the code")
    args = ap.parse_args()
    warnings.filterwarnings("ignore")
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    d = public_data.banking77()
    d = {**d, "train": per_label(d["train"], 8, seed=0)}
    if args.smoke:   # a tiny run to check the code: 5 labels, 4 examples each, 40 val and test rows
        keep = sorted(set(d["train"].labels))[:5]
        d = {k: public_data.Split(*map(list, zip(*[(t, lab) for t, lab in zip(v.texts, v.labels) if lab in keep][
            :20 if k == "train" else 40]))) for k, v in {**d, "train": per_label(d["train"], 4, seed=0)}.items()}
        args.max_passes, args.output = 32, args.output.with_name("bench_fewshot_smoke.json")
    out: dict[str, Any] = json.loads(args.output.read_text()) if args.output.exists() else {}
    out["note"] = ("Banking77, 8 per label (seed 0), test 3,080 scored once; accuracy and macro F1 top-label; "
                   "times are wall seconds on this machine under the recorded load")
    started = time.perf_counter()
    baseline = tfidf_baseline(d["train"].texts, d["train"].labels)
    scored = score(d["test"].labels, baseline(d["test"].texts))
    out["tfidf_lr"] = {"fit_s": round(time.perf_counter() - started, 1), "accuracy": scored["accuracy"],
                       "macro_f1": scored["macro_f1"]}
    print("tfidf+lr", out["tfidf_lr"], flush=True)
    for variant in args.variants.split(","):
        if variant not in VARIANTS:
            raise SystemExit(f"unknown variant {variant}: one of {', '.join(VARIANTS)}")
        out.setdefault("variants", {})[variant] = result = run(variant, d, CachedEmbedder(), args.max_passes)
        print(variant, json.dumps(result), flush=True)
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()

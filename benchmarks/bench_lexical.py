"""What the hybrid head's lexical view adds to full tagging time: TF-IDF extraction (word 1-2-grams,
character 4-grams) plus its product with a head's coefficients, against full tagging of the same
tickets (encoding with the configured backend, then `Enricher.tag`).

Run: .venv/bin/python benchmarks/bench_lexical.py [--rounds 3] [--n 600]; writes
benchmarks/results/bench_lexical.json.
Tickets: IT helpdesk tickets from the held-out draw of data/README.md's IT service set (public, not
written by this project), the lexicon fitted on its training draw. CPU time (time.process_time)
with one thread everywhere, the three measurements interleaved per round, medians reported: the
machine is shared (2 cores), so wall time is recorded beside but is not the figure. The backend is
the one full tagging uses: on a CPU without VNNI the configured `onnx-int8` runs as fp32 `onnx`
(recorded as `runs_as`).
"""

from __future__ import annotations

import os
import sys

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):   # one thread, before numpy loads
    os.environ[_var] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))
import public_data  # noqa: E402
from bench_tagging import single_threaded  # noqa: E402

from csintel.classify.enricher import Enricher  # noqa: E402
from csintel.classify.lexical import fit_lexicon  # noqa: E402
from csintel.config import load_settings  # noqa: E402
from csintel.embed import configured_embedder  # noqa: E402

RESULTS = Path(__file__).parent / "results" / "bench_lexical.json"
CLASSES = 35   # the IT set's assignment groups: a head's coefficient rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--n", type=int, default=600)
    args = ap.parse_args()
    load_start = os.getloadavg()
    d = public_data.it_tickets()
    lexicon = fit_lexicon(d["train"].texts)
    texts = d["test"].texts[:args.n]
    settings = load_settings(None)
    embedder = configured_embedder(settings)
    single_threaded(embedder)
    enricher = Enricher(settings, embedder)
    ids = [f"L-{i}" for i in range(len(texts))]
    enricher.tag(ids[:32], texts[:32], embedder.encode(texts[:32]))   # warm lazy imports
    _ = lexicon.transform(texts[:32])
    coef = np.random.default_rng(0).random((CLASSES, len(lexicon)))
    rounds = []
    for r in range(args.rounds):
        row = {}
        wall, cpu = time.perf_counter(), time.process_time()
        vectors = embedder.encode(texts)
        row["encode_cpu_s"], row["encode_wall_s"] = time.process_time() - cpu, time.perf_counter() - wall
        wall, cpu = time.perf_counter(), time.process_time()
        enricher.tag(ids, texts, vectors)
        row["rest_cpu_s"], row["rest_wall_s"] = time.process_time() - cpu, time.perf_counter() - wall
        wall, cpu = time.perf_counter(), time.process_time()
        _ = lexicon.transform(texts) @ coef.T
        row["lexical_cpu_s"], row["lexical_wall_s"] = time.process_time() - cpu, time.perf_counter() - wall
        row["load_1min"] = os.getloadavg()[0]
        rounds.append({k: round(v, 3) for k, v in row.items()})
        print(f"round {r + 1}: {rounds[-1]}", file=sys.stderr, flush=True)

    def median(key: str) -> float:
        return statistics.median(r[key] for r in rounds)

    full = median("encode_cpu_s") + median("rest_cpu_s")
    per = 1000 / len(texts)
    result = {
        "what": "CPU time (one thread) of the lexical view against full tagging of the same tickets; medians",
        "command": "python benchmarks/bench_lexical.py " + " ".join(sys.argv[1:]),
        "tickets": len(texts), "mean_words": round(float(np.mean([len(t.split()) for t in texts])), 1),
        "lexicon": {"words": len(lexicon.words), "chars": len(lexicon.chars)}, "classes": CLASSES,
        "backend": {"configured": settings.models.backend, "runs_as": getattr(embedder, "backend", "torch"),
                    "threads": 1},
        "cpu_ms_per_ticket": {"encode": round(median("encode_cpu_s") * per, 3),
                              "rest_of_tagging": round(median("rest_cpu_s") * per, 3),
                              "lexical": round(median("lexical_cpu_s") * per, 3)},
        "lexical_share_of_full_tagging": round(median("lexical_cpu_s") / full, 4),
        "lexical_share_of_encoding": round(median("lexical_cpu_s") / median("encode_cpu_s"), 4),
        "load_average_start": [round(x, 1) for x in load_start],
        "load_average_end": [round(x, 1) for x in os.getloadavg()],
        "rounds": rounds,
        "note": "2 shared cores under load: CPU time is the figure, wall time is beside it",
    }
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k != "rounds"}, indent=2))


if __name__ == "__main__":
    main()

"""Tagging speed: tickets per second through the Enricher, per embedding backend and ticket length.

Run: .venv/bin/python benchmarks/bench_tagging.py [--n 300] [--lengths 50 150 300] [--repeats 3]
     [--output FILE] [--profile]; writes benchmarks/results/bench_tagging.json and prints it.

Tickets come from the sample generator (a fresh draw, seed 21), cleaned as ingest cleans them,
and are concatenated (ticket after ticket) and cut to exactly 50, 150 or 300 words. For each
backend (torch, onnx fp32, onnx int8) and length, one measurement is what the enrich stage does
with a batch: encode the texts, then `Enricher.tag` them. Encoding is the ceiling, so we report:
- `encode_per_s`: bare encoding, tickets/s (the ceiling);
- `full_per_s`: encoding + tagging, tickets/s;
- `encode_s` / `rest_s`: seconds in the model vs everything else (rules, matchers, zero-shot
  scoring and request grouping; `rest_s` includes `phrase_encode_s`, the model time that grouping
  spends encoding the short request phrases);
- `overhead_pct`: rest_s / encode_s, the cost of everything but encoding on top of it (target <= 15%);
- `cosine_vs_torch`: min and mean cosine between the backend's ticket vectors and torch's.
Each measurement runs `--repeats` times (backends interleaved) and keeps the best, because the
machine is shared: absolute numbers move with the load; the JSON records the load average.

`--profile` instead profiles `Enricher.tag` (everything but encoding) on 1000 tickets with
cProfile and prints the functions where the time goes.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import platform
import pstats
import sys
import tempfile
import time
from pathlib import Path
from typing import Sequence

import numpy as np

from csintel.file_tagging import read_tickets
from csintel.classify.enricher import Enricher
from csintel.config import EMBEDDING_BACKENDS, load_settings
from csintel.embed import Embedder, load_embedder
from csintel.embed_onnx import int8_supported

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))   # the sample generator (tools/) is not installed
from tools.sample import generate  # noqa: E402

RESULTS = Path(__file__).parent / "results" / "bench_tagging.json"
SEED = 21   # not the bundled sample's seed: a draw nothing was tuned on


class TimedEmbedder:
    """Passes through to an embedder and adds up the seconds spent in `encode`."""

    def __init__(self, inner: Embedder) -> None:
        self.inner, self.name, self.dim, self.seconds = inner, inner.name, inner.dim, 0.0

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        start = time.perf_counter()
        try:
            return self.inner.encode(texts)
        finally:
            self.seconds += time.perf_counter() - start


def sample_texts(n_tickets: int) -> list[str]:
    with tempfile.TemporaryDirectory() as tmp:
        generate(Path(tmp), n_tickets=n_tickets, n_accounts=max(60, n_tickets // 18), seed=SEED)
        return [t.text for t in read_tickets(Path(tmp) / "tickets.jsonl", 50_000) if t.text]


def at_length(texts: list[str], words: int, n: int) -> list[str]:
    """n texts of exactly `words` words: each starts at its own ticket and runs on into the next ones."""
    out = []
    for i in range(n):
        collected: list[str] = []
        j = i
        while len(collected) < words:
            collected += texts[j % len(texts)].split()
            j += 1
        out.append(" ".join(collected[:words]))
    return out


def measure(enricher: Enricher, timed: TimedEmbedder, texts: list[str]) -> dict[str, float]:
    ids = [f"B-{i}" for i in range(len(texts))]
    timed.seconds = 0.0
    start = time.perf_counter()
    vectors = timed.encode(texts)
    encode_s = time.perf_counter() - start
    enricher.tag(ids, texts, vectors)
    total_s = time.perf_counter() - start
    return {"encode_s": encode_s, "rest_s": total_s - encode_s, "phrase_encode_s": timed.seconds - encode_s,
            "total_s": total_s}


def run(args: argparse.Namespace) -> dict:
    load_start = os.getloadavg()
    base = sample_texts(max(args.n, 600))
    settings = load_settings(None)
    cache = str(settings.resolve(settings.models.model_dir) / "onnx")
    texts = {w: at_length(base, w, args.n) for w in args.lengths}

    backends: dict[str, tuple[Enricher, TimedEmbedder]] = {}
    loads: dict[str, dict] = {}
    for backend in EMBEDDING_BACKENDS:
        start = time.perf_counter()
        embedder = load_embedder(settings.models.embedding, "cpu", settings.models.batch_size, backend, cache)
        loads[backend] = {"load_s": round(time.perf_counter() - start, 2),
                          "runs_as": getattr(embedder, "backend", "torch"), "name": embedder.name}
        timed = TimedEmbedder(embedder)
        backends[backend] = (Enricher(settings, timed), timed)   # type: ignore[arg-type]

    results: dict[str, dict] = {}
    for words, batch in texts.items():
        best: dict[str, dict[str, float]] = {}
        reference = backends["torch"][1].inner.encode(batch)
        agreement = {}
        for backend, (_, timed) in backends.items():
            vectors = timed.inner.encode(batch)   # also warms the backend for this length
            cos = (vectors * reference).sum(axis=1)
            agreement[backend] = {"min": round(float(cos.min()), 5), "mean": round(float(cos.mean()), 5)}
        for _ in range(args.repeats):
            for backend, (enricher, timed) in backends.items():
                m = measure(enricher, timed, batch)
                prev = best.get(backend)
                best[backend] = {k: min(v, prev[k]) if prev else v for k, v in m.items()}
        results[str(words)] = {}
        for backend, m in best.items():
            results[str(words)][backend] = {
                "encode_per_s": round(args.n / m["encode_s"], 1),
                "full_per_s": round(args.n / (m["encode_s"] + m["rest_s"]), 1),
                "encode_s": round(m["encode_s"], 3), "rest_s": round(m["rest_s"], 3),
                "phrase_encode_s": round(m["phrase_encode_s"], 3),
                "overhead_pct": round(100 * m["rest_s"] / m["encode_s"], 1),
                "speedup_vs_torch": round(best["torch"]["encode_s"] / m["encode_s"], 2),
                "cosine_vs_torch": agreement[backend],
            }
        print(f"{words} words: " + ", ".join(f"{b} {r['encode_per_s']}/s encode, {r['full_per_s']}/s full "
                                               f"(+{r['overhead_pct']}%)" for b, r in results[str(words)].items()),
              file=sys.stderr)
    return {
        "what": "tickets/s for encoding alone and for encoding + Enricher.tag, per backend and ticket length",
        "command": "python benchmarks/bench_tagging.py " + " ".join(sys.argv[1:]),
        "n_per_length": args.n, "repeats_best_of": args.repeats,
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "int8_supported": int8_supported(),
                    "load_average_start": [round(x, 1) for x in load_start],
                    "load_average_end": [round(x, 1) for x in os.getloadavg()],
                    "note": "taken on a 2-core machine shared with other engineers' jobs (load average above): "
                            "best of the repeats; compare backends within this run, not across runs"},
        "backends": loads,
        "results": results,
    }


def profile(n: int) -> None:
    """Where `Enricher.tag` (everything but encoding) spends its time on n tickets."""
    texts = sample_texts(n)[:n]
    settings = load_settings(None)
    enricher = Enricher(settings, load_embedder(settings.models.embedding, "cpu", settings.models.batch_size))
    vectors = enricher.embedder.encode(texts)
    enricher.tag([f"P-{i}" for i in range(len(texts))], texts[:50], vectors[:50])   # warm lazy imports
    profiler = cProfile.Profile()
    start = time.perf_counter()
    profiler.enable()
    enricher.tag([f"P-{i}" for i in range(len(texts))], texts, vectors)
    profiler.disable()
    print(f"Enricher.tag on {len(texts)} tickets: {time.perf_counter() - start:.2f} s (profiled)")
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(25)
    print(out.getvalue())


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=300, help="tickets per length")
    ap.add_argument("--lengths", type=int, nargs="+", default=[50, 150, 300])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--output", type=Path, default=RESULTS)
    ap.add_argument("--profile", action="store_true", help="profile Enricher.tag on 1000 tickets instead")
    args = ap.parse_args()
    if args.profile:
        profile(1000)
        return
    result = run(args)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()

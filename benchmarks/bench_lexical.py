"""What the hybrid head's lexical view adds to tagging time: TF-IDF extraction (word 1-2-grams,
character 4-grams) plus its matrix product, against encoding the same tickets with the default
ONNX int8 embedder (the ceiling of the tagging stage).

Run: .venv/bin/python benchmarks/bench_lexical.py; writes benchmarks/results/bench_lexical.json.
Tickets: 600 IT helpdesk tickets from the held-out draw of data/README.md's IT service set, the
lexicon fitted on its training draw. Two repeats; 2 shared cores, so absolute times are noisy:
compare within a repeat.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
import public_data  # noqa: E402

from csintel.classify.lexical import fit_lexicon  # noqa: E402
from csintel.embed import load_embedder  # noqa: E402

RESULTS = Path(__file__).parent / "results" / "bench_lexical.json"


def main() -> None:
    d = public_data.it_tickets()
    lexicon = fit_lexicon(d["train"].texts)
    texts = d["test"].texts[:600]
    embedder = load_embedder("", "cpu", 32, "onnx-int8", str(public_data.CACHE_DIR / "onnx"))
    embedder.encode(texts[:32])
    coef = np.random.default_rng(0).random((8, len(lexicon)))
    repeats = []
    for _ in range(2):
        started = time.perf_counter()
        embedder.encode(texts)
        encode_s = time.perf_counter() - started
        started = time.perf_counter()
        _ = lexicon.transform(texts) @ coef.T
        lexical_s = time.perf_counter() - started
        repeats.append({"encode_s": round(encode_s, 2), "lexical_s": round(lexical_s, 2),
                        "lexical_share_of_encoding": round(lexical_s / encode_s, 4)})
        print(repeats[-1], flush=True)
    RESULTS.write_text(json.dumps({"tickets": len(texts), "lexicon": {"words": len(lexicon.words),
                                   "chars": len(lexicon.chars)}, "repeats": repeats,
                                   "note": "2 shared cores under load; encoding is int8 ONNX"}, indent=2) + "\n")


if __name__ == "__main__":
    main()

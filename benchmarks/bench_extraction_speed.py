"""CPU milliseconds per ticket (time.process_time, one thread) of the competitor and error taggers
over the bundled sample, this checkout against an earlier commit, run alternately in fresh
processes (the machine is shared: CPU time, not wall time, and the load average is recorded).

Run: .venv/bin/python benchmarks/bench_extraction_speed.py [--base c05b32c] [--passes 3]
Writes benchmarks/results/bench_extraction_speed.json. The base commit is checked out into a
temporary git worktree (removed afterwards); each process times its own checkout's modules.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "bench_extraction_speed.json"
TIMER = """
import json, os, time
os.environ["OMP_NUM_THREADS"] = "1"
from csintel.file_tagging import read_tickets
from csintel.config import SAMPLE_DIR, load_settings
from csintel.classify.competitors import CompetitorMatcher
from csintel.classify.enricher import competitor_specs
from csintel.classify.errors import extract_errors
texts = [t.text for t in read_tickets(SAMPLE_DIR / "tickets.jsonl", 50_000) if t.text]
matcher = CompetitorMatcher(competitor_specs(load_settings(None))[0])
for text in texts[:200]:
    matcher.find(text), extract_errors(text)
out = {}
for name, tagger in (("competitors", matcher.find), ("errors", extract_errors)):
    start = time.process_time()
    for text in texts:
        tagger(text)
    out[name] = round(1000 * (time.process_time() - start) / len(texts), 3)
print(json.dumps(out))
"""


def timed(checkout: Path) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": str(checkout)}
    done = subprocess.run([sys.executable, "-c", TIMER], cwd=checkout, env=env, capture_output=True, text=True,
                          check=True, timeout=600)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", default="c05b32c", help="the commit to compare with")
    ap.add_argument("--passes", type=int, default=3)
    args = ap.parse_args()
    runs: dict[str, list[dict[str, float]]] = {"base": [], "now": []}
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp) / "base"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "-q", "--detach", str(base), args.base], check=True)
        try:
            for _ in range(args.passes):
                runs["base"].append(timed(base))
                runs["now"].append(timed(ROOT))
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(base)], check=False)
    result = {"base": args.base, "tickets": "data/sample/tickets.jsonl", "cpu_ms_per_ticket": runs,
              "command": "python benchmarks/bench_extraction_speed.py " + " ".join(sys.argv[1:]),
              "load_average": os.getloadavg()}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()

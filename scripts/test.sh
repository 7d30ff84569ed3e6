#!/usr/bin/env bash
# Set up (if needed), then lint, type-check, run the whole test suite and check the wheel (CI runs
# exactly this: .ci/run). With arguments, only pytest runs, with them: scripts/test.sh tests/test_cli.py -x
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if [ $# -gt 0 ]; then
  exec .venv/bin/python -m pytest -q "$@"
fi
step() { local t=$(date +%s); "$@"; echo "csintel checks: '$*' took $(( $(date +%s) - t )) s" >&2; }
step .venv/bin/ruff check .
step .venv/bin/mypy
step .venv/bin/python -m pytest -q
step bash scripts/check-wheel.sh

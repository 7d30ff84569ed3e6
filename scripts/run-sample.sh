#!/usr/bin/env bash
# Set up (if needed) and run the weekly pipeline on the bundled sample for its last week.
# Digests land in ./outbox/2026-W47/ unless SLACK_BOT_TOKEN is set.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/csintel run --config examples/sample.toml --week "${WEEK:-2026-W47}" "$@"

#!/usr/bin/env bash
# Create .venv and install csintel with its test tools. Safe to rerun: it reinstalls only when
# pyproject.toml or setup.py changed. torch goes first, pinned to the local CPU build: an unpinned torch
# (pulled in by sentence-transformers) would download gigabytes of CUDA packages.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}

# The report's browser test needs Debian's Chromium (headless). Root on Debian installs it; elsewhere
# install it by hand (the test says so) -- it is only needed for that one test.
if ! command -v chromium >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  echo "csintel setup: installing chromium for the report's browser test" >&2
  (apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null) \
    || echo "csintel setup: could not install chromium; the report's browser test will say so" >&2
fi

stamp=.venv/.csintel-installed
want=$(cat pyproject.toml setup.py | sha256sum | cut -c1-16)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && .venv/bin/python -c "import csintel" 2>/dev/null; then
  exit 0
fi
quiet() { "$@" 2> >(grep -v "is ignored: it is neither" >&2); }
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
echo "csintel setup: installing into .venv (about a minute on a fresh machine)" >&2
quiet .venv/bin/python -m pip install -q -U pip
quiet .venv/bin/python -m pip install -q "torch==2.13.0"
quiet .venv/bin/python -m pip install -q -e ".[test]"
echo "$want" > "$stamp"

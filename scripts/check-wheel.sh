#!/usr/bin/env bash
# The install a user gets: build the wheel, install it into a fresh virtualenv, and run the bundled
# sample from a folder with no checkout in sight:
#     csintel init --sample && csintel run --week 2026-W47   ->  four digests in ./outbox/2026-W47/
# The fresh venv sees the main .venv's packages through a .pth line (torch, the model and the rest
# are not downloaded again), but not its editable csintel: only the wheel's csintel is importable.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PY=${PY:-$ROOT/.venv/bin/python}
work=$(mktemp -d "${TMPDIR:-/tmp}/csintel-wheel.XXXXXX")
trap 'rm -rf "$work"' EXIT
t0=$(date +%s)

"$PY" -m pip wheel --no-deps --no-build-isolation -q -w "$work/dist" . 2> >(grep -v "is ignored" >&2)
rm -rf build csintel.egg-info
"$PY" -m venv "$work/venv"
site=$("$work/venv/bin/python" -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")
"$PY" -c "import sysconfig; print(sysconfig.get_paths()['purelib'])" > "$site/main-venv.pth"
# --no-deps: the dependencies are the main venv's (pip's resolver trips over the local torch build).
"$work/venv/bin/python" -m pip install -q --no-index --no-deps "$work"/dist/csintel-*.whl 2> >(grep -v "is ignored" >&2)
t1=$(date +%s)

mkdir "$work/project" && cd "$work/project"
"$work/venv/bin/python" - <<'PY'
import importlib.util, pathlib, sys
import csintel
where = pathlib.Path(csintel.__file__).resolve()
assert "site-packages" in str(where) and "/venv/" in str(where), f"csintel imported from {where}, not the wheel"
assert importlib.util.find_spec("flows") is None, "the wheel installed a top-level 'flows' package"
# The sample generator is a development tool (tools/sample); the wheel ships only what it wrote.
assert importlib.util.find_spec("tools") is None, "the wheel installed the top-level 'tools' package"
assert not (where.parent / "sample").exists(), "the wheel ships the old csintel.sample generator"
from csintel.resources import shipped
assert (shipped("history") / "tickets.jsonl.xz").is_file(), "the wheel lacks the backtest's renewal history"
PY
"$work/venv/bin/csintel" --version
"$work/venv/bin/csintel" init --sample
"$work/venv/bin/csintel" run --week 2026-W47 > run.log || { cat run.log; exit 1; }
for audience in product cs sales support_ops; do
  [ -s "outbox/2026-W47/$audience.md" ] || { echo "check-wheel: no $audience digest" >&2; ls -R outbox >&2; exit 1; }
done
echo "check-wheel: wheel built and installed in $((t1 - t0)) s; init --sample + run wrote four digests in $(( $(date +%s) - t1 )) s" >&2

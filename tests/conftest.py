"""Shared fixtures: the expensive things (embedding model, Prefect harness, a small generated
sample and its pipeline run) are built once per session."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

# Prefect reads these at import: keep its state in a temp folder and its telemetry off.
_PREFECT_HOME = tempfile.mkdtemp(prefix="csintel-prefect-")
os.environ.setdefault("PREFECT_HOME", _PREFECT_HOME)
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.pop("SLACK_BOT_TOKEN", None)

import pytest  # noqa: E402


@pytest.fixture(scope="session")
def embedder():
    from csintel.embed import load_embedder

    return load_embedder()


@pytest.fixture(scope="session")
def prefect_harness():
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


# One ONNX export of the embedding model for every pipeline a test runs (in this process or in a
# `csintel` subprocess): each config folder would otherwise export it again into its own
# `.csintel/models/onnx` (5-8 s each). Exporting itself is tested in test_embed_onnx.py.
_ONNX_EXPORTS = Path(tempfile.mkdtemp(prefix="csintel-onnx-"))
atexit.register(shutil.rmtree, _ONNX_EXPORTS, ignore_errors=True)


def share_onnx_exports(folder: Path) -> None:
    """Point the ONNX export cache of a config in `folder` (the default `[models] model_dir`,
    .csintel/models, plus /onnx) at the session's: the first run exports, the rest reuse it."""
    cache = folder / ".csintel" / "models" / "onnx"
    cache.parent.mkdir(parents=True, exist_ok=True)
    if not cache.exists():
        cache.symlink_to(_ONNX_EXPORTS, target_is_directory=True)


def write_sample_config(folder: Path, sample: Path, extra: str = "") -> Path:
    """A csintel.toml in `folder` over a generated sample, warehouse and outbox beside it;
    `extra` adds TOML (sections must not repeat [warehouse] or [sources])."""
    share_onnx_exports(folder)
    path = folder / "csintel.toml"
    path.write_text(f"""
[warehouse]
path = "warehouse.duckdb"
[sources]
tickets = ["{sample / 'tickets.jsonl'}"]
accounts = ["{sample / 'accounts.csv'}"]
{extra}""", encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def small_sample(tmp_path_factory) -> Path:
    """A small generated sample with every planted pattern (the bundled one is ~10x larger)."""
    from tools.sample import generate

    out = tmp_path_factory.mktemp("sample")
    generate(out, n_tickets=600, n_accounts=60)
    return out

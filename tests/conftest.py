"""Shared fixtures: the expensive things (embedding model, Prefect harness, a small generated
sample and its pipeline run) are built once per session."""

from __future__ import annotations

import os
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


def write_sample_config(folder: Path, sample: Path, extra: str = "") -> Path:
    """A csintel.toml in `folder` over a generated sample, warehouse and outbox beside it;
    `extra` adds TOML (sections must not repeat [warehouse] or [sources])."""
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

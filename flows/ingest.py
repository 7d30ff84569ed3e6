from __future__ import annotations

from typing import Any

from prefect import flow

from csintel.config import load_settings
from csintel.runs.tracked import tracked_run
from . import tasks


@flow(name="csintel-ingest")
def ingest_flow(config: str | None = None, sources: list[str] | None = None) -> dict[str, Any]:
    """Load the configured files and sync the configured helpdesks; `sources` picks some by name
    ("file", "zendesk", ...)."""
    settings = load_settings(config)
    with tracked_run(settings, "ingest", None) as run:
        run.counts["ingest"] = tasks.ingest(settings, run.run_id, sources)
    return run.counts

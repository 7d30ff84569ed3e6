from __future__ import annotations

from typing import Any

from prefect import flow

from csintel.pipeline import tracked_run, window
from flows import tasks
from flows.params import resolve


@flow(name="csintel-enrich")
def enrich_flow(week: str | None = None, config: str | None = None, progress: bool = False) -> dict[str, Any]:
    """Tag the tickets of the clustering window ending with `week` that lack current tags."""
    settings, wk = resolve(config, week)
    with tracked_run(settings, "enrich", wk) as run:
        run.counts["enrich"] = tasks.enrich(settings, *window(settings, wk), progress=progress)
    return run.counts

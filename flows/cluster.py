from __future__ import annotations

from typing import Any

from prefect import flow

from csintel.pipeline import tracked_run
from flows import tasks
from flows.params import resolve


@flow(name="csintel-cluster")
def cluster_flow(week: str | None = None, config: str | None = None) -> dict[str, Any]:
    """Recluster the window ending with `week`, refresh trends, and rescore renewal risk."""
    settings, wk = resolve(config, week)
    with tracked_run(settings, "cluster", wk) as run:
        run.counts["themes"] = tasks.cluster(settings, wk)
        run.counts["risk"] = tasks.risk(settings, wk)
    return run.counts

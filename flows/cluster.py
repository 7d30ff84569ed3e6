from __future__ import annotations

from typing import Any

from prefect import flow

from csintel.runs.tracked import tracked_run
from . import tasks
from .params import resolve


@flow(name="csintel-cluster")
def cluster_flow(week: str | None = None, config: str | None = None, refit: bool = False) -> dict[str, Any]:
    """Update the themes of the window ending with `week` (a full reclustering when due, or when
    `refit` forces it; else new tickets join the current themes), refresh trends, rescore risk."""
    settings, wk = resolve(config, week)
    with tracked_run(settings, "cluster", wk) as run:
        run.counts["themes"] = tasks.cluster(settings, wk, refit)
        run.counts["risk"] = tasks.risk(settings, wk)
    return run.counts

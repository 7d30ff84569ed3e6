"""The Prefect deployments: the weekly pipeline on its schedule, every other flow on demand.

`csintel serve` serves these from one long-lived process; `prefect.yaml` declares the same
deployments for work pools (a test keeps the two in step).
"""

from __future__ import annotations

from typing import Any

from prefect.deployments.runner import RunnerDeployment
from prefect.schedules import Cron

from csintel.config import Settings
from .backfill import backfill_flow
from .cluster import cluster_flow
from .digest import digest_flow
from .enrich import enrich_flow
from .ingest import ingest_flow
from .weekly import weekly_flow

ON_DEMAND = {"ingest": ingest_flow, "enrich": enrich_flow, "cluster": cluster_flow,
             "digest": digest_flow, "backfill": backfill_flow}


def deployments(settings: Settings, config: str | None) -> list[RunnerDeployment]:
    """One deployment per flow, each run against `config` (an absolute path, or None for defaults).

    Only the weekly pipeline is scheduled; a data team triggers the others (and backfills) with
    parameters from the UI, the API or `prefect deployment run`.
    """
    params: dict[str, Any] = {"config": config} if config else {}
    weekly = weekly_flow.to_deployment(
        name="weekly",
        schedules=[Cron(settings.schedule.weekly_cron, timezone=settings.schedule.timezone)],
        parameters=params,
        description="The weekly pipeline for the last complete week: ingest, enrich, cluster, risk, digests.",
        tags=["csintel"],
    )
    return [weekly] + [fl.to_deployment(name=name, parameters=params, tags=["csintel"])
                       for name, fl in ON_DEMAND.items()]

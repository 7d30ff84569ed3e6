"""Prefect tasks: each opens the warehouse, calls one stage function from csintel, and returns counts.

The stages that write refresh the warehouse's read-only snapshot once they have closed it, so
`csintel status`, `report` and `export` can watch a run (csintel/snapshot.py).

Caching is off on purpose: every stage is idempotent and cheap to rerun when nothing changed, and
the warehouse (not Prefect's result store) is the record of what was done.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from prefect import get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NONE

from csintel import pipeline
from csintel.config import Settings
from csintel.digests.content import Digest
from csintel.pipeline import figures_table
from csintel.runs.record import RunRecord
from csintel.routing.deliver import DeliveryResult
from csintel.routing.render import to_markdown
from csintel.snapshot import stage_connection
from csintel.warehouse import connect
from csintel.weeks import Week


@task(name="ingest", cache_policy=NONE)
def ingest(settings: Settings, run_id: str | None = None, sources: list[str] | None = None) -> dict[str, Any]:
    with stage_connection(settings, "ingest") as con:
        return pipeline.ingest_stage(con, settings, run_id, sources)


@task(name="enrich", cache_policy=NONE)
def enrich(settings: Settings, since: datetime, until: datetime, progress: bool = False) -> dict[str, Any]:
    with stage_connection(settings, "enrich") as con:
        return pipeline.enrich_stage(con, settings, since, until, progress=progress)


@task(name="cluster", cache_policy=NONE)
def cluster(settings: Settings, week: Week, refit: bool = False) -> dict[str, Any]:
    with stage_connection(settings, "cluster") as con:
        return pipeline.cluster_stage(con, settings, week, refit=refit)


@task(name="risk", cache_policy=NONE)
def risk(settings: Settings, week: Week) -> dict[str, Any]:
    with stage_connection(settings, "risk") as con:
        return pipeline.risk_stage(con, settings, week)


@task(name="digests", cache_policy=NONE)
def digests(settings: Settings, week: Week) -> list[Digest]:
    with connect(settings.warehouse_path) as con:
        return pipeline.build_digests(con, settings, week)


@task(name="activity", cache_policy=NONE)
def activity(settings: Settings, week: Week) -> dict[str, Any]:
    with connect(settings.warehouse_path) as con:
        return pipeline.week_activity(con, week)


@task(name="deliver", cache_policy=NONE)
def deliver(settings: Settings, digests: list[Digest], run_id: str | None = None) -> list[DeliveryResult]:
    with stage_connection(settings, "deliver") as con:
        return pipeline.deliver_stage(con, settings, digests, run_id)


def publish(settings: Settings, week: Week, run: RunRecord, deliver_them: bool) -> list[Digest]:
    """Build the week's digests and (unless a dry run) deliver them, counting both on the run.

    Each digest and the run's figures are also kept as Prefect artifacts, so the Prefect UI shows
    what a run said without opening Slack or the warehouse.
    """
    built = digests(settings, week)
    run.counts["digests"] = {d.audience: {"quiet": d.quiet, **d.stats} for d in built}
    fit = pipeline.taxonomy_fit_note(built, settings)
    if fit:
        run.counts["taxonomy_fit"] = fit
        get_run_logger().warning("%s", fit)
    seen = activity(settings, week)
    run.counts["week"] = week.label
    run.counts["week_tickets"] = seen["tickets"]
    if deliver_them:
        # A week without tickets is no news to post: most often the wrong week (an export that
        # ends earlier than the default week); the note says which week has data.
        if seen["tickets"]:
            run.counts["deliveries"] = [vars(r) for r in deliver(settings, built, run.run_id)]
        else:
            run.counts["deliveries"] = []
            run.counts["not_delivered"] = pipeline.empty_week_note(week, seen)
            get_run_logger().warning("%s", run.counts["not_delivered"])
    for d in built:
        create_markdown_artifact(key=f"{d.audience.replace('_', '-')}-digest", markdown=to_markdown(d),
                                 description=f"The {d.audience} digest for {week.label}")
    create_table_artifact(key="run-figures", table=figures_table(run.counts),
                          description=f"What the run for {week.label} did, stage by stage")
    return built

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any, Iterable, Iterator

from prefect import flow, task
from prefect.cache_policies import NONE
from prefect.context import FlowRunContext

from csintel import enrich as enrich_lib
from csintel.config import Settings
from csintel.dask_runner import dask_task_runner, in_order
from csintel.pipeline import make_enricher, window
from csintel.runs.tracked import tracked_run
from csintel.warehouse import connect
from . import tasks
from .params import resolve


def enrich(settings: Settings, since: datetime, until: datetime, progress: bool = False) -> dict[str, Any]:
    """The enrich stage: in this process, or with its batches on Dask when `[dask] address` is set."""
    runner = dask_task_runner(settings.dask)
    if runner is None:
        return tasks.enrich(settings, since, until, progress=progress)
    return enrich_on_dask.with_options(task_runner=runner)(settings, since, until, progress)


@task(name="tag-batch", cache_policy=NONE, retries=1)
def tag_batch(settings: Settings, job: enrich_lib.TagJob) -> enrich_lib.TaggedBatch:
    """Runs on a Dask worker: each worker process builds its Enricher once (make_enricher caches)."""
    return enrich_lib.tag_batch(make_enricher(settings), job)


# Batches in flight per worker thread: one tagging while the next is on its way.
AHEAD_PER_THREAD = 2


@flow(name="csintel-enrich-dask", validate_parameters=False)
def enrich_on_dask(settings: Settings, since: datetime, until: datetime, progress: bool = False) -> dict[str, Any]:
    """Tag batches on the flow's Dask cluster; read and write the warehouse only here.

    DuckDB has one writer: workers get texts (and cached vectors) and return tags and new vectors,
    and this process writes each batch in order as it comes back.
    """
    runner = FlowRunContext.get().task_runner

    def tagger(jobs: Iterable[enrich_lib.TagJob]) -> Iterator[enrich_lib.TaggedBatch]:
        # Runs from the first batch on: a rerun with nothing to tag never starts a cluster.
        ahead = AHEAD_PER_THREAD * max(1, sum(runner.client.nthreads().values()))
        for future in in_order(lambda job: tag_batch.submit(settings, job), jobs, ahead):
            yield future.result()

    with connect(settings.warehouse_path) as con:
        report = enrich_lib.enrich(con, make_enricher(settings), since, until, progress=progress, tagger=tagger)
    return asdict(report)


@flow(name="csintel-enrich")
def enrich_flow(week: str | None = None, config: str | None = None, progress: bool = False) -> dict[str, Any]:
    """Tag the tickets of the clustering window ending with `week` that lack current tags."""
    settings, wk = resolve(config, week)
    with tracked_run(settings, "enrich", wk) as run:
        run.counts["enrich"] = enrich(settings, *window(settings, wk), progress=progress)
    return run.counts

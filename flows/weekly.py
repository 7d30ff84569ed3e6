from __future__ import annotations

from typing import Any

from prefect import flow

from csintel.pipeline import tracked_run, window
from flows import tasks
from flows.params import previews, resolve


@flow(name="csintel-weekly")
def weekly_flow(week: str | None = None, config: str | None = None, deliver: bool = True,
                ingest: bool = True, progress: bool = False) -> dict[str, Any]:
    """The whole weekly pipeline: ingest, enrich, cluster, trends, risk, digests, delivery.

    With `deliver=False` (a dry run) nothing is sent or recorded as sent; the result carries each
    digest as Markdown under "previews" instead.
    """
    settings, wk = resolve(config, week)
    with tracked_run(settings, "weekly", wk) as run:
        if ingest:
            run.counts["ingest"] = tasks.ingest(settings, run.run_id)
        run.counts["enrich"] = tasks.enrich(settings, *window(settings, wk), progress=progress)
        run.counts["themes"] = tasks.cluster(settings, wk)
        run.counts["risk"] = tasks.risk(settings, wk)
        digests = tasks.publish(settings, wk, run, deliver)
    return run.counts if deliver else {**run.counts, "previews": previews(digests)}

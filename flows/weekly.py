from __future__ import annotations

from typing import Any

from prefect import flow

from csintel.pipeline import window
from csintel.runs.tracked import tracked_run
from . import tasks
from .enrich import enrich
from .params import previews, resolve, say


@flow(name="csintel-weekly")
def weekly_flow(week: str | None = None, config: str | None = None, dry_run: bool = False,
                ingest: bool = True, sources: list[str] | None = None, model: str | None = None,
                progress: bool = False) -> dict[str, Any]:
    """The whole weekly pipeline: ingest, enrich, cluster, trends, risk, digests, delivery.

    With `dry_run` nothing is sent or recorded as sent; the result carries each digest as Markdown
    under "previews" instead. `sources` limits ingest to some sources by name ("file", "zendesk",
    ...); `model` overrides the configured embedding model for this run.
    """
    settings, wk = resolve(config, week, model)
    with tracked_run(settings, "weekly", wk) as run:
        if week is None:
            run.counts["week_default"] = True   # the summary says how the week was chosen
        if ingest:
            say(progress, "ingesting")
            run.counts["ingest"] = tasks.ingest(settings, run.run_id, sources)
        say(progress, "tagging the window's new tickets (loads the embedding model)")
        run.counts["enrich"] = enrich(settings, *window(settings, wk), progress=progress)
        say(progress, f"themes and trends for {wk.label}")
        run.counts["themes"] = tasks.cluster(settings, wk)
        say(progress, "renewal risk")
        run.counts["risk"] = tasks.risk(settings, wk)
        say(progress, "digests" + ("" if dry_run else " and delivery"))
        digests = tasks.publish(settings, wk, run, deliver_them=not dry_run)
    return {**run.counts, "previews": previews(digests)} if dry_run else run.counts

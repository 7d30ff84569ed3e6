from __future__ import annotations

from datetime import date
from typing import Any

from prefect import flow

from csintel.config import load_settings
from csintel.pipeline import tracked_run, window
from csintel.weeks import weeks_between
from flows import tasks


@flow(name="csintel-backfill")
def backfill_flow(since: str, until: str, config: str | None = None, deliver: bool = False,
                  ingest: bool = True) -> dict[str, Any]:
    """Rerun every week touching [since, until], oldest first; idempotent, so safe to repeat.

    Digests are built for each week (and land in the warehouse's trends) but are delivered only
    when `deliver` is set: a backfill should not flood Slack with old news.
    """
    settings = load_settings(config)
    weeks = weeks_between(date.fromisoformat(since), date.fromisoformat(until))
    with tracked_run(settings, "backfill", None) as run:
        if ingest:
            run.counts["ingest"] = tasks.ingest(settings, run.run_id)
        run.counts["enrich"] = tasks.enrich(settings, window(settings, weeks[0])[0], weeks[-1].end_ts)
        for wk in weeks:
            themes = tasks.cluster(settings, wk)
            risk = tasks.risk(settings, wk)
            digests = tasks.digests(settings, wk)
            if deliver:
                tasks.deliver(settings, digests, run.run_id)
            run.counts[wk.label] = {"themes": themes, "risk": risk}
    return run.counts

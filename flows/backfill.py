from __future__ import annotations

from datetime import date
from typing import Any

from prefect import flow

from prefect import get_run_logger
from tqdm import tqdm

from csintel.pipeline import window
from csintel.runs.tracked import tracked_run
from csintel.weeks import weeks_between
from . import tasks
from .enrich import enrich
from .params import settings_for


@flow(name="csintel-backfill")
def backfill_flow(since: str, until: str, config: str | None = None, deliver: bool = False,
                  ingest: bool = True, model: str | None = None, progress: bool = False) -> dict[str, Any]:
    """Rerun every week touching [since, until], oldest first; idempotent, so safe to repeat.

    Digests are built for each week (and land in the warehouse's trends) but are delivered only
    when `deliver` is set: a backfill should not flood Slack with old news. Tagging covers the
    whole range once up front and redoes only tickets whose tags are missing or stale for the
    current model version, so a backfill after a model change reprocesses just what changed.
    """
    settings = settings_for(config, model)
    log = get_run_logger()
    weeks = weeks_between(date.fromisoformat(since), date.fromisoformat(until))
    with tracked_run(settings, "backfill", None) as run:
        if ingest:
            run.counts["ingest"] = tasks.ingest(settings, run.run_id)
        run.counts["enrich"] = enrich(settings, window(settings, weeks[0])[0], weeks[-1].end_ts, progress=progress)
        for i, wk in enumerate(tqdm(weeks, desc="backfill", unit="week", disable=not progress), 1):
            themes = tasks.cluster(settings, wk)
            risk = tasks.risk(settings, wk)
            digests = tasks.digests(settings, wk)
            run.counts[wk.label] = {"themes": themes, "risk": risk}
            # Weeks without tickets are not posted (see tasks.publish); failures mark the run partial.
            if deliver and tasks.activity(settings, wk)["tickets"]:
                run.counts[wk.label]["deliveries"] = [vars(r) for r in tasks.deliver(settings, digests, run.run_id)]
            log.info("backfill %s (%d/%d): %s themes, %s accounts at risk", wk.label, i, len(weeks),
                     themes.get("themes"), risk.get("at_risk"))
    return run.counts

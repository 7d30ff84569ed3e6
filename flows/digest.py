from __future__ import annotations

from typing import Any

from prefect import flow

from csintel.runs.tracked import tracked_run
from . import tasks
from .params import previews, resolve


@flow(name="csintel-digest")
def digest_flow(week: str | None = None, config: str | None = None, dry_run: bool = False,
                model: str | None = None) -> dict[str, Any]:
    """Build the week's digests from the warehouse and deliver them (a rerun posts nothing twice)."""
    settings, wk = resolve(config, week, model)
    with tracked_run(settings, "digest", wk) as run:
        if week is None:
            run.counts["week_default"] = True   # the summary says how the week was chosen
        digests = tasks.publish(settings, wk, run, deliver_them=not dry_run)
    return {**run.counts, "previews": previews(digests)} if dry_run else run.counts

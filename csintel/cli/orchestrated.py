"""The commands that run the pipeline's Prefect flows (`run`, `ingest`, `enrich`, `cluster`,
`digest`, `backfill`, `serve`), and the summaries and exit codes they report."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from csintel.cli.common import DEFAULT_CONFIG, _note, _print_json, _settings
from csintel.config import ConfigError, Settings


def _flows(name: str) -> Any:
    """A flow module, after saying that Prefect's temporary server is starting when none is configured."""
    from csintel.resources import flows_module

    if not os.environ.get("PREFECT_API_URL"):
        _note("starting Prefect's temporary local server (set PREFECT_API_URL to use a running one)")
    return flows_module(name)


def _require_sources(settings: Settings, config: str | None) -> None:
    # Running on defaults alone would quietly "succeed" with empty digests: say what is missing.
    from csintel.sources.helpdesks import HELPDESKS

    if not settings.sources.tickets and not any(h.enabled(settings) for h in HELPDESKS.values()):
        where = f"{config} has no [sources] tickets" if config else f"no --config given and no ./{DEFAULT_CONFIG} here"
        raise ConfigError(f"{where}: run `csintel init` for a starter config, or pass --config FILE "
                          f"(the bundled sample: `csintel init --sample`)")
    # Missing files are reported now, not after Prefect and the model have started.
    from csintel.sources.files import expand

    expand([settings.resolve(p) for p in [*settings.sources.tickets, *settings.sources.accounts]])


def cmd_run(args: argparse.Namespace) -> int:
    settings, config = _settings(args)
    _require_sources(settings, config)
    weekly_flow = _flows("weekly").weekly_flow
    counts = weekly_flow(week=args.week, config=config, dry_run=args.dry_run, progress=True)
    _print_summary(counts, settings)
    return _exit_code(counts)


def cmd_ingest(args: argparse.Namespace) -> int:
    settings, config = _settings(args)
    if args.source is None or "file" in args.source:
        _require_sources(settings, config)
    counts = _flows("ingest").ingest_flow(config=config, sources=args.source)
    _print_ingest(counts.get("ingest", {}))
    return _rejected_files_exit(counts.get("ingest", {}))


def cmd_enrich(args: argparse.Namespace) -> int:
    _, config = _settings(args)
    _print_json(_flows("enrich").enrich_flow(week=args.week, config=config, progress=True))
    return 0


def cmd_cluster(args: argparse.Namespace) -> int:
    _, config = _settings(args)
    _print_json(_flows("cluster").cluster_flow(week=args.week, config=config, refit=args.refit))
    return 0


def cmd_digest(args: argparse.Namespace) -> int:
    settings, config = _settings(args)
    counts = _flows("digest").digest_flow(week=args.week, config=config, dry_run=args.dry_run)
    _print_summary(counts, settings)
    return _exit_code(counts)


def cmd_backfill(args: argparse.Namespace) -> int:
    _, config = _settings(args)
    counts = _flows("backfill").backfill_flow(since=args.since, until=args.until, config=config,
                                              deliver=args.deliver, progress=True)
    _print_json(counts)
    return _exit_code(counts)


def cmd_serve(args: argparse.Namespace) -> int:
    from prefect import serve
    from prefect.settings import PREFECT_API_URL

    from csintel.resources import flows_module

    settings, config = _settings(args)
    deps = flows_module("deployments").deployments(settings, config)
    if args.list:
        for d in deps:
            when = ", ".join(f"{s.schedule.cron} ({s.schedule.timezone})" for s in d.schedules) or "on demand"
            print(f"{d.flow_name}/{d.name}: {when}")
        return 0
    if not PREFECT_API_URL.value():
        # Without a server the schedule would live in a throwaway database and nobody could
        # trigger a run: say how to get one rather than serving into the void.
        raise RuntimeError("csintel serve needs a Prefect server: start one with `prefect server start` "
                           "and set PREFECT_API_URL (e.g. http://127.0.0.1:4200/api), or use Prefect Cloud")
    _require_sources(settings, config)
    serve(*deps)
    return 0


def _print_ingest(ingest: dict[str, Any]) -> None:
    for kind, r in ingest.items():   # accounts, tickets (files), then each helpdesk by name
        reasons = ", ".join(f"{k}: {v}" for k, v in sorted(r["reasons"].items()))
        pages = f", {r['pages']} pages" if "pages" in r else ""
        undated = f", {r['undated']} without a timestamp counted in the ingest week" if r.get("undated") else ""
        print(f"  {kind:<9} {r['loaded']:>6} loaded, {r['quarantined']} quarantined{pages}"
              + (f" ({reasons})" if reasons else "") + undated)
        for note in r.get("notes", []):   # whole-file findings: a sniffed delimiter, an empty or rejected file
            print(f"            {note}")


def _rejected_files_exit(ingest: dict[str, Any]) -> int:
    """1 when a whole file was rejected (its rows are quarantined, nothing of it loaded), else 0:
    a scheduler must notice an export that changed its format."""
    rejected = sum(n for r in ingest.values() for reason, n in r["reasons"].items()
                   if reason.startswith("file rejected"))
    if rejected:
        files, pronoun = ("1 file", "it") if rejected == 1 else (f"{rejected} files", "them")
        print(f"csintel: {files} rejected as a whole (see above); nothing of {pronoun} was loaded", file=sys.stderr)
    return 1 if rejected else 0


def _exit_code(counts: dict[str, Any]) -> int:
    """1 when the run finished but a delivery failed (the run is marked 'partial'), else 0."""
    from csintel.runs.record import delivery_failures

    failures = delivery_failures(counts)
    if failures:
        print(f"csintel: {len(failures)} deliver{'y' if len(failures) == 1 else 'ies'} failed, so the run is "
              f"marked partial; rerun to send only what is missing:\n  " + "\n  ".join(failures), file=sys.stderr)
    return 1 if failures else 0


def _print_summary(counts: dict[str, Any], settings: Settings) -> None:
    for markdown in counts.get("previews", {}).values():
        print(markdown + "\n")
    week = counts.get("week", "")
    chosen = " (the last complete week, the default; --week picks another)" if counts.get("week_default") else ""
    print(f"\ncsintel · week {week}{chosen}" + (" (dry run: nothing sent)" if "previews" in counts else ""))
    if counts.get("not_delivered"):
        print(f"  {counts['not_delivered']}")
    if "ingest" in counts:
        _print_ingest(counts["ingest"])
    if "enrich" in counts:
        e = counts["enrich"]
        print(f"  tagged    {e['tagged']:>6} tickets ({e['already_current']} already current, {e['model_version']})")
    if "themes" in counts:
        t = counts["themes"]
        print(f"  themes    {t['themes']:>6} over {t['tickets']} tickets ({t['born']} new ids, {t['kept']} kept, "
              f"{t['outlier_share']:.0%} unclustered, {t['emerging']} emerging this week)")
    if "risk" in counts:
        r = counts["risk"]
        print(f"  risk      {r['at_risk']:>6} of {r['renewing']} renewing accounts at risk ({r['high']} high)")
    if counts.get("taxonomy_fit"):
        print(f"  taxonomy  {counts['taxonomy_fit']}")
    for d in counts.get("deliveries", []):
        where = ", ".join(d["locations"]) or "-"
        print(f"  {d['audience']:<9} {d['status']:>6} -> {d['channel']} via {d['transport']}: {where}"
              + (f" ({d['error']})" if d.get("error") else ""))
    print(f"  warehouse {settings.warehouse_path}")

"""The `csintel` command. Thin: parse arguments, call flows or library functions, print a summary."""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import asdict
from pathlib import Path
from contextlib import contextmanager
from typing import Any, Callable, Iterator, TextIO

from csintel.config import SAMPLE_DIR, STARTER_CONFIG, ConfigError, Settings, load_settings

DEFAULT_CONFIG = "csintel.toml"


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    _prefect_defaults()
    try:
        return int(args.handler(args) or 0)
    except (ConfigError, FileNotFoundError, ValueError, RuntimeError) as exc:
        print(f"csintel: error: {exc}", file=sys.stderr)
        return 2


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="csintel", description="Support-ticket intelligence: tag, cluster, digest.")
    sub = p.add_subparsers(dest="command", required=True)

    def command(name: str, handler: Callable[[argparse.Namespace], int], help: str,
                week: bool = False) -> argparse.ArgumentParser:
        sp = sub.add_parser(name, help=help, description=help)
        sp.add_argument("--config", help=f"config file (default: ./{DEFAULT_CONFIG} if present, else defaults)")
        if week:
            sp.add_argument("--week", help="ISO week (2026-W47) or a date in it; default: the last complete week")
        sp.set_defaults(handler=handler)
        return sp

    init = command("init", cmd_init, "write a commented starter config and create an empty warehouse")
    init.add_argument("--force", action="store_true", help="overwrite an existing config file")
    run = command("run", cmd_run, "the whole weekly pipeline: ingest, enrich, cluster, risk, digests, delivery",
                  week=True)
    run.add_argument("--dry-run", action="store_true",
                     help="run every stage but send nothing: print the digests as Markdown instead")
    ingest = command("ingest", cmd_ingest,
                     "load the configured ticket and account files and sync the configured helpdesks")
    ingest.add_argument("--source", action="append", metavar="NAME",
                        help="load only this source: 'file' (the [sources] files), a helpdesk ('zendesk', "
                             "'freshdesk', 'intercom') or the CRM's accounts ('hubspot', alias 'crm'); "
                             "repeatable (default: the files, the CRM and every configured helpdesk)")
    command("enrich", cmd_enrich, "tag the tickets of the week's window that lack current tags", week=True)
    cluster = command("cluster", cmd_cluster, "update themes (recluster when due), refresh trends and renewal "
                                              "risk for a week", week=True)
    cluster.add_argument("--refit", action="store_true",
                         help="recluster the window now instead of placing new tickets on the current themes")
    digest = command("digest", cmd_digest, "build and deliver the week's digests", week=True)
    digest.add_argument("--dry-run", action="store_true", help="print the digests as Markdown, send nothing")
    report = command("report", cmd_report, "write the week's self-contained HTML report with charts", week=True)
    report.add_argument("--output", type=Path, help="HTML file (default: <outbox>/<week>/report.html)")
    backfill = command("backfill", cmd_backfill, "rerun every week in a date range (idempotent)")
    backfill.add_argument("--since", required=True, help="first date (YYYY-MM-DD)")
    backfill.add_argument("--until", required=True, help="last date (YYYY-MM-DD)")
    backfill.add_argument("--deliver", action="store_true", help="also deliver each week's digests")
    status = command("status", cmd_status, "show the last runs and what is pending (untagged tickets, "
                                           "weeks not digested, digests not delivered)")
    status.add_argument("--limit", type=int, default=10, help="runs to show (10)")
    status.add_argument("--json", action="store_true", help="print it as JSON")
    export = command("export", cmd_export, "write the documented views as Parquet, partitioned by week")
    export.add_argument("--to", required=True, type=Path, help="folder (one subfolder per view)")
    export.add_argument("--view", action="append", help="only this view (repeatable)")
    serve = command("serve", cmd_serve, "register the Prefect deployments (the weekly pipeline on its "
                                        "[schedule]) and run their flows from this process until stopped")
    serve.add_argument("--list", action="store_true", help="print the deployments and their schedules, serve nothing")
    risk = sub.add_parser("risk", help="renewal-risk tools", description="renewal-risk tools")
    risk_sub = risk.add_subparsers(dest="risk_command", required=True)
    bt = risk_sub.add_parser("backtest", help="score past renewals with known outcomes and report how well "
                                              "the risk model would have warned",
                             description="Backtest the risk model on past renewals (AUC, precision at k, "
                                         "calibration, lead time); fit a learned model and compare.")
    bt.add_argument("--config", help="config file")
    bt.add_argument("--history", type=Path,
                    help="folder with tickets.jsonl (or .csv/.parquet) and renewals.csv "
                         "(account_id, renewal_date, outcome: renewed|churned|downgraded); "
                         "default: the generated sample history")
    bt.add_argument("--lead-days", type=int, default=90, help="score each renewal this many days ahead (90)")
    bt.add_argument("--save", action="store_true",
                    help="save the learned model to [models] model_dir when it backtests better than the default")
    bt.add_argument("--json", action="store_true", help="print the full report as JSON")
    bt.set_defaults(handler=cmd_risk_backtest)
    for name, handler, text in (("tag", cmd_tag, "tag a ticket file without a warehouse (JSON lines out)"),
                                ("themes", cmd_themes, "cluster a ticket file without a warehouse (JSON lines out)")):
        sp = command(name, handler, text)
        sp.add_argument("--input", required=True, type=Path, help="CSV, JSONL or Parquet ticket file")
        sp.add_argument("--output", required=True, help="JSON-lines file to write ('-' for stdout)")
    train = command("train", cmd_train, "learn a classifier head from labelled tickets into [models] model_dir")
    train.add_argument("--task", required=True, choices=("category", "root_cause", "sentiment"))
    train.add_argument("--labeled", required=True, type=Path,
                       help="CSV/JSONL with text,label (or a column named after the task)")
    train.add_argument("--test", type=Path, help="also score this held-out file and record it in the head's card")
    evaluate = command("eval", cmd_eval, "score a classifier on labelled tickets (accuracy, macro P/R/F1, "
                                         "per label, confusion)")
    evaluate.add_argument("--task", required=True, choices=("category", "root_cause", "sentiment", "competitors",
                                                            "feature_request", "errors"))
    evaluate.add_argument("--train", type=Path, help="train a head on this file first (in memory, not saved); "
                                                     "default: what is installed")
    evaluate.add_argument("--test", required=True, type=Path, help="CSV/JSONL with text,label")
    evaluate.add_argument("--json", action="store_true", help="print one JSON object")
    return p


def _prefect_defaults() -> None:
    # Keep Prefect's state beside the project rather than in ~/.prefect, and quiet: the analytics
    # heartbeat makes SQLite "database is locked" noise on small machines.
    os.environ.setdefault("PREFECT_HOME", str(Path.cwd() / ".csintel" / "prefect"))
    Path(os.environ["PREFECT_HOME"]).mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def _settings(args: argparse.Namespace) -> tuple[Settings, str | None]:
    path = args.config or os.environ.get("CSINTEL_CONFIG") or (DEFAULT_CONFIG if Path(DEFAULT_CONFIG).is_file() else None)
    return load_settings(path), str(Path(path).resolve()) if path else None


def cmd_init(args: argparse.Namespace) -> int:
    from csintel.warehouse import connect

    path = Path(args.config or DEFAULT_CONFIG)
    if path.exists() and not args.force:
        print(f"csintel: {path} exists; use --force to overwrite", file=sys.stderr)
        return 1
    path.write_text(STARTER_CONFIG.format(tickets=SAMPLE_DIR / "tickets.jsonl", accounts=SAMPLE_DIR / "accounts.csv"),
                    encoding="utf-8")
    settings = load_settings(path)
    connect(settings.warehouse_path).close()
    print(f"wrote {path} (starts on the bundled sample data) and created the warehouse {settings.warehouse_path}")
    return 0


def _require_sources(settings: Settings, config: str | None) -> None:
    # Running on defaults alone would quietly "succeed" with empty digests: say what is missing.
    from csintel.sources.helpdesks import HELPDESKS

    if not settings.sources.tickets and not any(h.enabled(settings) for h in HELPDESKS.values()):
        where = f"{config} has no [sources] tickets" if config else f"no --config given and no ./{DEFAULT_CONFIG} here"
        raise ConfigError(f"{where}: run `csintel init` for a starter config, or pass --config FILE "
                          f"(the bundled sample: --config examples/sample.toml)")


def cmd_run(args: argparse.Namespace) -> int:
    from flows.weekly import weekly_flow

    settings, config = _settings(args)
    _require_sources(settings, config)
    counts = weekly_flow(week=args.week, config=config, dry_run=args.dry_run, progress=True)
    _print_summary(counts, settings)
    return 0


def cmd_ingest(args: argparse.Namespace) -> int:
    from flows.ingest import ingest_flow

    settings, config = _settings(args)
    if args.source is None or "file" in args.source:
        _require_sources(settings, config)
    counts = ingest_flow(config=config, sources=args.source)
    _print_ingest(counts.get("ingest", {}))
    return 0


def cmd_enrich(args: argparse.Namespace) -> int:
    from flows.enrich import enrich_flow

    _, config = _settings(args)
    _print_json(enrich_flow(week=args.week, config=config, progress=True))
    return 0


def cmd_cluster(args: argparse.Namespace) -> int:
    from flows.cluster import cluster_flow

    _, config = _settings(args)
    _print_json(cluster_flow(week=args.week, config=config, refit=args.refit))
    return 0


def cmd_digest(args: argparse.Namespace) -> int:
    from flows.digest import digest_flow

    settings, config = _settings(args)
    _print_summary(digest_flow(week=args.week, config=config, dry_run=args.dry_run), settings)
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from csintel.report import write_report
    from csintel.warehouse import connect
    from csintel.weeks import last_complete_week, parse_week

    settings, _ = _settings(args)
    week = parse_week(args.week) if args.week else last_complete_week()
    with connect(settings.warehouse_path) as con:
        path = write_report(con, settings, week, args.output)
    print(f"wrote {path}")
    return 0


def cmd_backfill(args: argparse.Namespace) -> int:
    from flows.backfill import backfill_flow

    _, config = _settings(args)
    _print_json(backfill_flow(since=args.since, until=args.until, config=config, deliver=args.deliver,
                             progress=True))
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    from csintel.status import format_status, read_status
    from csintel.warehouse import connect

    settings, _ = _settings(args)
    if not settings.warehouse_path.exists():
        raise FileNotFoundError(f"no warehouse at {settings.warehouse_path}: run `csintel init` or `csintel run` first")
    with connect(settings.warehouse_path, read_only=True) as con:
        status = read_status(con, settings, limit=args.limit)
    if args.json:
        _print_json(asdict(status) | {"pending": status.pending})
    else:
        print(format_status(status))
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from csintel.export import export_views
    from csintel.warehouse import connect

    settings, _ = _settings(args)
    with connect(settings.warehouse_path, read_only=True) as con:
        for e in export_views(con, args.to, args.view):
            print(f"{e.view:<22} {e.rows:>8} rows  {'by week' if e.partitioned else 'one file'}  {e.path}")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from prefect import serve
    from prefect.settings import PREFECT_API_URL

    from flows.deployments import deployments

    settings, config = _settings(args)
    deps = deployments(settings, config)
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


@contextmanager
def _open_output(name: str) -> Iterator[TextIO]:
    """The output file, or stdout for '-' (left open)."""
    if name == "-":
        yield sys.stdout
        return
    with open(name, "w", encoding="utf-8") as fh:
        yield fh


def cmd_tag(args: argparse.Namespace) -> int:
    from csintel.adhoc import tag_file
    from csintel.pipeline import make_enricher

    settings, _ = _settings(args)
    with _open_output(args.output) as out:
        tagged, rejected = tag_file(args.input, out, make_enricher(settings), settings.sources.max_text_chars)
    print(f"tagged {tagged} tickets, {rejected} rows rejected (their lines carry an \"error\")", file=sys.stderr)
    return 0


def cmd_themes(args: argparse.Namespace) -> int:
    from csintel.adhoc import theme_file
    from csintel.pipeline import make_enricher
    from csintel.themes.stage import cluster_params

    settings, _ = _settings(args)
    with _open_output(args.output) as out:
        stats = theme_file(args.input, out, make_enricher(settings), cluster_params(settings.themes),
                           settings.sources.max_text_chars)
    print(f"{stats['tickets']} tickets in {stats['themes']} themes, {stats['unclustered_share']:.0%} unclustered, "
          f"{stats['rejected']} rows rejected", file=sys.stderr)
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    from csintel.classify.evaluation import train
    from csintel.classify.heads import save_head

    settings, _ = _settings(args)
    head = train(args.task, args.labeled, settings, test=args.test)
    path = save_head(head, settings.resolve(settings.models.model_dir))
    cv = head.card.get("cross_validation")
    if cv:
        print(f"{args.task}: {cv['folds']}-fold cross-validated accuracy {cv['accuracy']}, macro F1 {cv['macro_f1']}, "
              f"ECE {cv['ece']} (temperature {cv['temperature']}) on {head.card['examples']} examples")
    held = head.card.get("held_out")
    if held:
        print(f"{args.task}: held-out {held['file']} (n={held['n']}): accuracy {held['accuracy']}, "
              f"macro recall {held['macro_recall']}, macro F1 {held['macro_f1']}")
    print(f"saved {head.task} head to {path} (the tagger uses it from now on; retag with `csintel enrich`)")
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from csintel.classify.evaluation import evaluate, format_report

    settings, _ = _settings(args)
    result = evaluate(args.task, args.test, settings, train_file=args.train)
    if args.json:
        print(json.dumps(result, default=str))
    else:
        print(format_report(result))
    return 0


def cmd_risk_backtest(args: argparse.Namespace) -> int:
    from csintel.risk.backtest import backtest, load_history, load_renewals
    from csintel.risk.model import save_model

    settings, _ = _settings(args)
    folder = args.history or _sample_history()
    tickets = sorted(p for p in folder.iterdir() if p.stem == "tickets" and p.suffix in {".jsonl", ".csv", ".parquet"})
    if not tickets or not (folder / "renewals.csv").is_file():
        raise FileNotFoundError(f"{folder} needs tickets.jsonl (or .csv/.parquet) and renewals.csv")
    accounts = folder / "accounts.csv"
    history = load_history(settings, tickets, accounts if accounts.is_file() else None)
    report = backtest(settings, history, load_renewals(folder / "renewals.csv"), lead_days=args.lead_days)
    if args.json:
        _print_json(report.to_json())
    else:
        print(report.summary)
    if args.save:
        if report.learned_is_better and report.learned:
            path = save_model(report.learned, settings.resolve(settings.models.model_dir))
            print(f"saved the learned model to {path}; weekly scoring now uses it", file=sys.stderr)
        else:
            print("the learned model did not backtest better: nothing saved, the default stays", file=sys.stderr)
    return 0


def _sample_history() -> Path:
    """The sample's renewal history, generated once (deterministic) under ./.csintel."""
    from csintel.sample.history import generate_history

    folder = Path(".csintel") / "sample-history"
    if not (folder / "renewals.csv").is_file():
        folder.mkdir(parents=True, exist_ok=True)
        generate_history(folder)
    return folder


def _print_json(data: Any) -> None:
    print(json.dumps(data, indent=2, default=str))


def _print_ingest(ingest: dict[str, Any]) -> None:
    for kind, r in ingest.items():   # accounts, tickets (files), then each helpdesk by name
        reasons = ", ".join(f"{k}: {v}" for k, v in sorted(r["reasons"].items()))
        pages = f", {r['pages']} pages" if "pages" in r else ""
        undated = f", {r['undated']} without a timestamp counted in the ingest week" if r.get("undated") else ""
        print(f"  {kind:<9} {r['loaded']:>6} loaded, {r['quarantined']} quarantined{pages}"
              + (f" ({reasons})" if reasons else "") + undated)
        for note in r.get("notes", []):   # whole-file findings: a sniffed delimiter, an empty or rejected file
            print(f"            {note}")


def _print_summary(counts: dict[str, Any], settings: Settings) -> None:
    for markdown in counts.get("previews", {}).values():
        print(markdown + "\n")
    print(f"\ncsintel · week {counts.get('week', '')}" + (" (dry run: nothing sent)" if "previews" in counts else ""))
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
    for d in counts.get("deliveries", []):
        where = ", ".join(d["locations"]) or "-"
        print(f"  {d['audience']:<9} {d['status']:>6} -> {d['channel']} via {d['transport']}: {where}"
              + (f" ({d['error']})" if d.get("error") else ""))
    print(f"  warehouse {settings.warehouse_path}")


if __name__ == "__main__":
    sys.exit(main())

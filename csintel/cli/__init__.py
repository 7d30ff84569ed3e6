"""The `csintel` command. Thin: parse arguments, call flows or library functions, print a summary.

Fast answers first: arguments, the configuration and input files are checked before anything
heavy is imported (the embedding model, spaCy, Prefect), so a mistake is reported in about a
second. Only the commands that run the pipeline's flows (`run`, `ingest`, `enrich`, `cluster`,
`digest`, `backfill`, `serve`) touch Prefect; `tag`, `themes`, `train`, `eval`, `status`,
`export`, `report`, `init` and `risk` call the library directly. An error is one line on stderr;
`--debug` (or CSINTEL_DEBUG=1) shows its traceback instead, once.

This module holds the entry point and the argument parser; the commands live by concern in
`orchestrated` (the flows), `warehouse` (init and the readers), `files` (a ticket file without a
warehouse) and `models` (train, eval, risk backtest), with what they share in `common`.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Callable

from csintel import __version__
from csintel.cli.common import DEFAULT_CONFIG, SAMPLE_WEEK
from csintel.cli.files import cmd_tag, cmd_taxonomy, cmd_themes
from csintel.cli.models import cmd_eval, cmd_risk_backtest, cmd_train
from csintel.cli.orchestrated import (cmd_backfill, cmd_cluster, cmd_digest, cmd_enrich, cmd_ingest, cmd_run,
                                      cmd_serve)
from csintel.cli.warehouse import cmd_export, cmd_init, cmd_report, cmd_status
from csintel.config import ConfigError

# Commands that run Prefect flows; every other command never imports Prefect.
ORCHESTRATED = {"run", "ingest", "enrich", "cluster", "digest", "backfill", "serve"}
# How long a command waits for Prefect's temporary local server. Prefect's own default (20 s) is
# shorter than a start on a loaded 2-core machine takes (seen: 15 s idle, failures at load 6.5),
# and it counts only its sleeps, so this bounds a hung start, not a slow one.
PREFECT_STARTUP_TIMEOUT_S = 300
# Errors whose message is the whole story: no hint to rerun with --debug.
EXPECTED = (ConfigError, FileNotFoundError, ValueError, RuntimeError, PermissionError, IsADirectoryError)


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    debug = bool(getattr(args, "debug", False) or os.environ.get("CSINTEL_DEBUG"))
    _quiet_defaults(debug)
    if args.command in ORCHESTRATED:
        _prefect_defaults(debug)
    try:
        return int(args.handler(args) or 0)
    except KeyboardInterrupt:
        if debug:
            raise
        print("csintel: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:   # noqa: BLE001  one line, not a traceback, unless --debug
        if debug:
            raise
        expected = isinstance(exc, EXPECTED)
        what = str(exc) if expected else f"{type(exc).__name__}: {exc}"
        print(f"csintel: error: {what}", file=sys.stderr)
        if not expected:
            print("csintel: run it again with --debug to see where it failed", file=sys.stderr)
        return 2 if expected else 1


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="csintel", description="Support-ticket intelligence: tag, cluster, digest.")
    p.add_argument("--version", action="version", version=f"csintel {__version__}")
    p.add_argument("--debug", action="store_true", help="show the traceback of an error (also CSINTEL_DEBUG=1)")
    sub = p.add_subparsers(dest="command", required=True)

    def debug_flag(sp: argparse.ArgumentParser) -> None:
        # Also accepted after the command; SUPPRESS keeps it from resetting `csintel --debug run`.
        sp.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)

    def command(name: str, handler: Callable[[argparse.Namespace], int], help: str,
                week: bool = False) -> argparse.ArgumentParser:
        sp = sub.add_parser(name, help=help, description=help)
        sp.add_argument("--config", help=f"config file (default: ./{DEFAULT_CONFIG} if present, else defaults)")
        debug_flag(sp)
        if week:
            sp.add_argument("--week", help="ISO week (2026-W47) or a date in it; default: the last complete week")
        sp.set_defaults(handler=handler)
        return sp

    init = command("init", cmd_init, "write a commented starter config and create an empty warehouse")
    init.add_argument("--force", action="store_true", help="overwrite an existing config file")
    init.add_argument("--sample", action="store_true",
                      help=f"a config for the bundled sample (then `csintel run --week {SAMPLE_WEEK}`)")
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
    debug_flag(bt)
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
    train.add_argument("--unlabelled", type=Path,
                       help="CSV/JSONL with a text column of tickets nobody labelled (category, root cause): tried "
                            "as pseudo-labelled rows with the --labeled file's unlabelled rows, kept where that "
                            "wins on validation")
    train.add_argument("--no-fine-tune", dest="fine_tune", action="store_false",
                       help="with few examples per label, skip trying a fine-tuned encoder (minutes of CPU; it is "
                            "kept only when it wins on validation beyond chance)")
    evaluate = command("eval", cmd_eval, "score a classifier on labelled tickets (accuracy, macro P/R/F1, "
                                         "per label, confusion)")
    evaluate.add_argument("--task", required=True, choices=("category", "root_cause", "sentiment", "competitors",
                                                            "feature_request", "errors"))
    evaluate.add_argument("--train", type=Path, help="train a head on this file first (in memory, not saved); "
                                                     "default: what is installed")
    evaluate.add_argument("--test", required=True, type=Path, help="CSV/JSONL with text,label")
    evaluate.add_argument("--json", action="store_true", help="print one JSON object")
    taxonomy = command("taxonomy", cmd_taxonomy, "draft a taxonomy from your own tickets (`taxonomy suggest`)")
    taxonomy.add_argument("action", choices=("suggest",), help="suggest: draft categories from the tickets' themes")
    taxonomy.add_argument("--input", required=True, type=Path, help="CSV, JSONL or Parquet ticket file")
    taxonomy.add_argument("--output", type=Path, default=Path("taxonomy.draft.yaml"),
                          help="the draft to edit (default: taxonomy.draft.yaml)")
    return p


def _quiet_defaults(debug: bool) -> None:
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")


def _prefect_defaults(debug: bool) -> None:
    # Keep Prefect's state beside the project rather than in ~/.prefect, and quiet: the analytics
    # heartbeat makes SQLite "database is locked" noise on small machines. Prefect logs a failed
    # flow's traceback once per task and flow; the command reports the error itself (once, and the
    # traceback only with --debug), so Prefect's own log shows only what is worse than an error.
    os.environ.setdefault("PREFECT_HOME", str(Path.cwd() / ".csintel" / "prefect"))
    Path(os.environ["PREFECT_HOME"]).mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING" if debug else "CRITICAL")
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", str(PREFECT_STARTUP_TIMEOUT_S))

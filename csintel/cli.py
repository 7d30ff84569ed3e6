"""The `csintel` command. Thin: parse arguments, call flows or library functions, print a summary.

Fast answers first: arguments, the configuration and input files are checked before anything
heavy is imported (the embedding model, spaCy, Prefect), so a mistake is reported in about a
second. Only the commands that run the pipeline's flows (`run`, `ingest`, `enrich`, `cluster`,
`digest`, `backfill`, `serve`) touch Prefect; `tag`, `themes`, `train`, `eval`, `status`,
`export`, `report`, `init` and `risk` call the library directly. An error is one line on stderr;
`--debug` (or CSINTEL_DEBUG=1) shows its traceback instead, once.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import asdict
from pathlib import Path
from contextlib import contextmanager
from typing import Any, Callable, Iterator, TextIO

from csintel import __version__
from csintel.config import SAMPLE_DIR, STARTER_CONFIG, ConfigError, Settings, load_settings

DEFAULT_CONFIG = "csintel.toml"
SAMPLE_WEEK = "2026-W47"   # the bundled sample's last week
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


def _note(message: str) -> None:
    """A progress line on stderr (stdout stays the command's output)."""
    print(f"csintel: {message}", file=sys.stderr, flush=True)


def _flows(name: str) -> Any:
    """A flow module, after saying that Prefect's temporary server is starting when none is configured."""
    from csintel.resources import flows_module

    if not os.environ.get("PREFECT_API_URL"):
        _note("starting Prefect's temporary local server (set PREFECT_API_URL to use a running one)")
    return flows_module(name)


def _check_file(path: Path, flag: str) -> Path:
    """An input file that exists and is a file, checked before any model loads."""
    if not path.exists():
        raise FileNotFoundError(f"{flag} {path}: no such file")
    if not path.is_file():
        raise IsADirectoryError(f"{flag} {path}: not a file")
    return path


def _check_ticket_file(path: Path) -> Path:
    """A ticket file the readers reject as a whole (no header, no `id` column, not Parquet) fails
    here, from its first row, before any model loads; an empty file too, as it tags nothing."""
    from csintel.sources.files import SourceFileError, read_rows

    _check_file(path, "--input")
    notes: list[str] = []
    first = next(read_rows(path, kind="ticket", notes=notes), None)
    if first is None:
        raise SourceFileError(f"--input {path}: no rows to read ({'; '.join(notes) or 'empty file'})")
    if first.error and first.error.startswith("file rejected"):
        raise SourceFileError(f"--input {path}: {first.error}")
    return path


def _check_output(name: str) -> None:
    if name != "-" and not Path(name).resolve().parent.is_dir():
        raise FileNotFoundError(f"--output {name}: the folder {Path(name).parent} does not exist")


def _settings(args: argparse.Namespace) -> tuple[Settings, str | None]:
    path = args.config or os.environ.get("CSINTEL_CONFIG") or (DEFAULT_CONFIG if Path(DEFAULT_CONFIG).is_file() else None)
    return load_settings(path), str(Path(path).resolve()) if path else None


def cmd_init(args: argparse.Namespace) -> int:
    from csintel.warehouse import connect

    path = Path(args.config or DEFAULT_CONFIG)
    if path.exists() and not args.force:
        print(f"csintel: {path} exists; use --force to overwrite", file=sys.stderr)
        return 1
    template = SAMPLE_CONFIG if args.sample else STARTER_CONFIG
    path.write_text(template.format(tickets=SAMPLE_DIR / "tickets.jsonl", accounts=SAMPLE_DIR / "accounts.csv"),
                    encoding="utf-8")
    settings = load_settings(path)
    connect(settings.warehouse_path).close()
    if args.sample:
        print(f"wrote {path} for the bundled sample (13 weeks of a fictional SaaS's tickets, shipped with csintel) "
              f"and created the warehouse {settings.warehouse_path}; next: csintel run --week {SAMPLE_WEEK}")
    else:
        print(f"wrote {path} (starts on the bundled sample data) and created the warehouse {settings.warehouse_path}")
    return 0


# `csintel init --sample`: the bundled sample, shipped inside the package, with its week and links.
SAMPLE_CONFIG = """\
# csintel on its bundled sample: a fictional B2B SaaS ("Tidewater") with 13 weeks of closed
# tickets, shipped with csintel. Run its last week with: csintel run --week 2026-W47
# Digests go to ./outbox/2026-W47/ (no Slack token is read from this file; SLACK_BOT_TOKEN posts).

[warehouse]
path = ".csintel/sample.duckdb"

[sources]
tickets = ["{tickets}"]
accounts = ["{accounts}"]

[digest]
ticket_url = "https://tidewater.zendesk.com/agent/tickets/{{id}}"

[slack]
outbox = "outbox"
"""


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


def cmd_report(args: argparse.Namespace) -> int:
    from csintel.report import write_report
    from csintel.snapshot import open_for_reading
    from csintel.weeks import last_complete_week, parse_week

    settings, _ = _settings(args)
    week = parse_week(args.week) if args.week else last_complete_week()
    with open_for_reading(settings) as (con, source):
        path = write_report(con, settings, week, args.output)
    print(f"wrote {path}" + ("" if source.live else f" (from the {source.describe()})"))
    return 0


def cmd_backfill(args: argparse.Namespace) -> int:
    _, config = _settings(args)
    counts = _flows("backfill").backfill_flow(since=args.since, until=args.until, config=config,
                                              deliver=args.deliver, progress=True)
    _print_json(counts)
    return _exit_code(counts)


def cmd_status(args: argparse.Namespace) -> int:
    from csintel.snapshot import open_for_reading
    from csintel.status import format_status, read_status

    settings, _ = _settings(args)
    with open_for_reading(settings) as (con, source):
        status = read_status(con, settings, limit=args.limit)
    status.source = source.describe()
    if args.json:
        _print_json(asdict(status) | {"pending": status.pending})
    else:
        print(format_status(status))
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from csintel.export import export_views
    from csintel.snapshot import open_for_reading

    settings, _ = _settings(args)
    with open_for_reading(settings) as (con, source):
        if not source.live:
            print(f"reading the {source.describe()}", file=sys.stderr)
        for e in export_views(con, args.to, args.view):
            print(f"{e.view:<22} {e.rows:>8} rows  {'by week' if e.partitioned else 'one file'}  {e.path}")
    return 0


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


@contextmanager
def _open_output(name: str) -> Iterator[TextIO]:
    """The output file, or stdout for '-' (left open)."""
    if name == "-":
        yield sys.stdout
        return
    with open(name, "w", encoding="utf-8") as fh:
        yield fh


def _spacy_without_torch(settings: Settings) -> None:
    """Import spaCy without letting thinc import torch, when the embedding model runs on ONNX.

    thinc (spaCy's layer library) imports torch if it can, only to offer torch layers, which a
    blank pipeline with rules never uses; that import is ~1.2 s of the ~4.5 s of CPU a cold
    `csintel tag` takes, and with an ONNX backend nothing else needs torch. Tags are byte-identical
    either way (checked on the sample). With the torch backend, or once torch or spaCy is loaded,
    this does nothing.
    """
    from csintel.embed import planned_backend

    if "spacy" in sys.modules or "torch" in sys.modules or planned_backend(settings.models) == "torch":
        return
    sys.modules["torch"] = None  # type: ignore[assignment]  # makes `import torch` fail inside thinc
    try:
        import spacy  # noqa: F401
    finally:
        del sys.modules["torch"]


def _adhoc_enricher(settings: Settings) -> Any:
    """The tagger for `tag` and `themes`, without the pipeline's imports (digests, Prefect)."""
    _note("loading the embedding model and the taggers")
    from csintel.classify.enricher import Enricher
    from csintel.embed import configured_embedder

    return Enricher(settings, configured_embedder(settings))


class _Progress:
    """Counts on stderr at most every few seconds, so a long file never looks hung."""

    EVERY_S = 5.0

    def __init__(self, what: str) -> None:
        self.what, self.start, self.last = what, time.monotonic(), time.monotonic()

    def __call__(self, done: int) -> None:
        now = time.monotonic()
        if now - self.last >= self.EVERY_S:
            self.last = now
            _note(f"{self.what}: {done:,} rows ({now - self.start:.0f} s)")


def cmd_tag(args: argparse.Namespace) -> int:
    settings, _ = _settings(args)
    _check_ticket_file(args.input)
    _check_output(args.output)
    _spacy_without_torch(settings)
    from csintel.adhoc import tag_file

    enricher = _adhoc_enricher(settings)
    with _open_output(args.output) as out:
        tagged, rejected = tag_file(args.input, out, enricher, settings.sources.max_text_chars,
                                    progress=_Progress("tagged"))
    print(f"tagged {tagged} tickets, {rejected} rows rejected (their lines carry an \"error\")", file=sys.stderr)
    return 0


def cmd_themes(args: argparse.Namespace) -> int:
    settings, _ = _settings(args)
    _check_ticket_file(args.input)
    _check_output(args.output)
    _spacy_without_torch(settings)
    from csintel.adhoc import theme_file
    from csintel.themes.stage import cluster_params

    enricher = _adhoc_enricher(settings)
    with _open_output(args.output) as out:
        stats = theme_file(args.input, out, enricher, cluster_params(settings.themes),
                           settings.sources.max_text_chars, progress=_Progress("encoded"), note=_note)
    print(f"{stats['tickets']} tickets in {stats['themes']} themes, {stats['unclustered_share']:.0%} unclustered, "
          f"{stats['rejected']} rows rejected", file=sys.stderr)
    return 0


def cmd_taxonomy(args: argparse.Namespace) -> int:
    _check_file(args.input, "--input")   # before the model loads
    from csintel.adhoc import read_tickets
    from csintel.classify.suggest import suggest_taxonomy, write_draft
    from csintel.classify.taxonomy import load_taxonomy
    from csintel.pipeline import make_enricher
    from csintel.themes.stage import cluster_params

    settings, _ = _settings(args)
    texts = [t.text for t in read_tickets(args.input, settings.sources.max_text_chars) if t.text]
    if len(texts) < 50:
        print(f"{args.input}: {len(texts)} readable tickets; a draft needs at least 50", file=sys.stderr)
        return 2
    current = load_taxonomy(settings.resolve(settings.models.taxonomy))
    draft, stats = suggest_taxonomy(texts, make_enricher(settings), current, cluster_params(settings.themes))
    write_draft(draft, stats, str(args.input), args.output)
    print(f"{args.output}: {stats['categories']} draft categories from {stats['tickets']} tickets "
          f"({stats['unclustered_share']:.0%} in no theme); with the current taxonomy "
          f"{stats['uncertain_share']:.0%} got no category. Edit it, then set [models] taxonomy to it.")
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    settings, _ = _settings(args)
    _check_file(args.labeled, "--labeled")
    if args.test:
        _check_file(args.test, "--test")
    from csintel.classify.evaluation import train
    from csintel.classify.heads import save_head

    _note(f"training the {args.task} head (loads the embedding model, then cross-validates)")
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
    settings, _ = _settings(args)
    _check_file(args.test, "--test")
    if args.train:
        _check_file(args.train, "--train")
    from csintel.classify.evaluation import evaluate, format_report

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
    """The sample's renewal history, shipped with csintel, unpacked once under ./.csintel."""
    from csintel.risk.backtest import unpack_sample_history

    return unpack_sample_history(Path(".csintel") / "sample-history")


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
    from csintel.pipeline import delivery_failures

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


if __name__ == "__main__":
    sys.exit(main())

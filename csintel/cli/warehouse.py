"""The commands that set up or read the warehouse without Prefect: `init`, `status`, `export`
and `report` (the readers use the run's snapshot while a run holds the warehouse)."""

from __future__ import annotations

import argparse
import sys
from dataclasses import asdict
from pathlib import Path

from csintel.cli.common import DEFAULT_CONFIG, SAMPLE_WEEK, _print_json, _settings
from csintel.config import SAMPLE_DIR, STARTER_CONFIG, load_settings


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

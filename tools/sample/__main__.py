"""`python -m tools.sample --out data/sample [--tickets N --accounts N --seed S]`.

With `--history`, a renewal history with outcomes for backtesting the risk score instead:
`python -m tools.sample --history --out data/history [--accounts N --months M --seed S]`.
The copy csintel ships for `csintel risk backtest` is `python -m tools.sample --history --xz`.
Options left out take the generator's own defaults.
"""

from __future__ import annotations

import argparse
import json
from datetime import date
from pathlib import Path

from tools.sample.generate import generate
from tools.sample.history import generate_history


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, generate the sample (or the history) and print its summary as JSON."""
    parser = argparse.ArgumentParser(prog="python -m tools.sample", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--history", action="store_true",
                        help="write a renewal history (tickets.jsonl, accounts.csv, renewals.csv)")
    parser.add_argument("--out", type=Path, default=None, help="output folder (data/sample or data/history)")
    parser.add_argument("--tickets", type=int, help="number of valid tickets (weekly sample)")
    parser.add_argument("--accounts", type=int, help="number of accounts")
    parser.add_argument("--weeks", type=int, help="weeks of solved tickets (weekly sample)")
    parser.add_argument("--months", type=int, help="months of tickets (history)")
    parser.add_argument("--last-week-end", type=date.fromisoformat,
                        help="a day in the last week (ISO date); with --history, the last day")
    parser.add_argument("--seed", type=int, help="random seed")
    parser.add_argument("--xz", action="store_true", help="with --history, write tickets.jsonl.xz (the shipped copy)")
    args = parser.parse_args(argv)
    common = {"n_accounts": args.accounts, "seed": args.seed}
    try:
        if args.history:
            given = _given(common, months=args.months, end=args.last_week_end, compress=args.xz or None)
            summary = generate_history(args.out or Path("data/history"), **given)
        else:
            given = _given(common, n_tickets=args.tickets, weeks=args.weeks, last_week_end=args.last_week_end)
            summary = generate(args.out or Path("data/sample"), **given)
    except ValueError as exc:
        parser.error(str(exc))
    print(json.dumps(summary, indent=1))
    return 0


def _given(common: dict, **specific: object) -> dict:
    """The options set on the command line; the rest keep the generator's defaults."""
    return {k: v for k, v in {**common, **specific}.items() if v is not None}


if __name__ == "__main__":
    raise SystemExit(main())

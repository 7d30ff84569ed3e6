"""`python -m csintel.sample --out data/sample [--tickets N --accounts N --seed S]`."""

from __future__ import annotations

import argparse
import json
from datetime import date
from pathlib import Path

from csintel.sample.generate import generate


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, generate the sample and print its summary as JSON."""
    parser = argparse.ArgumentParser(prog="python -m csintel.sample", description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("data/sample"), help="output folder")
    parser.add_argument("--tickets", type=int, default=3600, help="number of valid tickets")
    parser.add_argument("--accounts", type=int, default=200, help="number of accounts")
    parser.add_argument("--weeks", type=int, default=13, help="weeks of solved tickets")
    parser.add_argument("--last-week-end", type=date.fromisoformat, default=date(2026, 11, 22),
                        help="a day in the last week (ISO date)")
    parser.add_argument("--seed", type=int, default=7, help="random seed")
    args = parser.parse_args(argv)
    try:
        summary = generate(args.out, n_tickets=args.tickets, n_accounts=args.accounts, weeks=args.weeks,
                           last_week_end=args.last_week_end, seed=args.seed)
    except ValueError as exc:
        parser.error(str(exc))
    print(json.dumps(summary, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Seeded sample data for a fictional B2B SaaS (Tidewater): tickets, accounts and an answer key.

`generate()` writes tickets.jsonl, accounts.csv and ground_truth.json; the bundled copy in
data/sample/ is `generate()` with its defaults. Run `python -m tools.sample --out DIR`.
"""

from tools.sample.generate import generate

__all__ = ["generate"]

"""Build glue that pyproject.toml cannot express: the wheel carries the top-level folders.

The repository keeps `flows/`, `models/`, `sql/` and the sample data at its top level. A wheel
installs them inside the package, so an installed csintel needs no checkout and adds no generic
top-level `flows` package:

    flows/        -> csintel/flows/          (import csintel.flows.weekly)
    models/       -> csintel/_data/models/   (taxonomy, competitors, rules, shipped heads)
    sql/          -> csintel/_data/sql/      (migrations and named queries)
    data/sample/  -> csintel/_data/sample/   (the bundled sample: `csintel init --sample`)
    data/history/ -> csintel/_data/history/  (the renewal history `csintel risk backtest` runs on)

The sample generator (tools/sample/) is a development tool: it wrote those two data folders and
is not in the wheel.

csintel/resources.py finds them in either layout. Everything else is in pyproject.toml.
"""

from pathlib import Path

from setuptools import find_packages, setup

MAPPED = {
    "csintel.flows": "flows",
    "csintel._data.models": "models",
    "csintel._data.sql": "sql",
    "csintel._data.sample": "data/sample",
    "csintel._data.history": "data/history",
}
# What of each mapped folder ships (the sample's ground truth is for benchmarks only).
DATA = {
    "csintel._data.models": ["*.yaml", "*.yml", "*.json", "*.jsonl", "*.npz", "*.md"],
    "csintel._data.sql": ["*.sql"],
    "csintel._data.sample": ["tickets.jsonl", "accounts.csv", "README.md", "*.csv", "*.jsonl"],
    "csintel._data.history": ["README.md", "*.csv", "*.jsonl.xz"],
}


def mapped_packages() -> tuple[list[str], dict[str, list[str]]]:
    """Every folder under a mapped root as a package of its own (setuptools ships data per package)."""
    packages, data = [], {}
    for package, folder in MAPPED.items():
        for sub in sorted([Path(folder)] + [p for p in Path(folder).rglob("*") if p.is_dir()]):
            if sub.name == "__pycache__":
                continue
            name = ".".join([package, *sub.relative_to(folder).parts])
            packages.append(name)
            data[name] = DATA.get(package, [])
    return packages, data


extra_packages, extra_data = mapped_packages()
setup(
    packages=find_packages(include=["csintel", "csintel.*"]) + extra_packages,
    package_dir=MAPPED,
    package_data={"csintel": ["py.typed"], **extra_data},
)

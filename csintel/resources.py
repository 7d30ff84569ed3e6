"""Where the files csintel ships live: inside the installed package, or at the top of a checkout.

The repository keeps `models/`, `sql/`, `flows/` and the sample data (`data/sample`, and the
renewal history in `data/history`) at its top level, where a reader looks for them. A wheel
carries the same files inside the package (setup.py's `package_dir` maps them):
`csintel/_data/models`, `csintel/_data/sql`, `csintel/_data/sample`, `csintel/_data/history`, and
the flows as `csintel.flows`. Every module that reads a shipped file asks here, so both layouts
work and nothing reaches for the repository root.
"""

from __future__ import annotations

import importlib
import sys
from importlib.resources import files
from pathlib import Path
from types import ModuleType

# Shipped folder -> where it sits in a checkout (relative to the repository root).
CHECKOUT_LAYOUT = {"models": "models", "sql": "sql", "sample": "data/sample", "history": "data/history"}


def _package_data() -> Path | None:
    data = files("csintel") / "_data"
    # Installed from a wheel: a real folder. Zipped installs are not supported (DuckDB, ONNX and
    # the heads read plain paths).
    return Path(str(data)) if data.is_dir() else None


def shipped(kind: str) -> Path:
    """The folder of one kind of shipped file: "models", "sql", "sample" or "history".

    Raises:
        FileNotFoundError: neither an installed copy nor a checkout holds it (a broken install).
    """
    if kind not in CHECKOUT_LAYOUT:
        raise KeyError(f"unknown shipped folder {kind!r}; one of {sorted(CHECKOUT_LAYOUT)}")
    packaged = _package_data()
    folder = packaged / kind if packaged is not None else checkout_root() / CHECKOUT_LAYOUT[kind]
    if not folder.is_dir():
        raise FileNotFoundError(f"csintel's shipped {kind} folder is missing ({folder}): reinstall csintel")
    return folder


def checkout_root() -> Path:
    """The repository root when csintel runs from a checkout (editable install or PYTHONPATH)."""
    return Path(__file__).resolve().parent.parent


def flows_module(name: str) -> ModuleType:
    """One of the Prefect flow modules: `csintel.flows.<name>` from a wheel, `flows.<name>` in a checkout.

    The flows keep the top-level `flows/` folder in the repository (prefect.yaml's entrypoints
    point there, and tests patch `flows.*`); a wheel ships the same files as `csintel.flows`, so
    installing csintel never adds a generic top-level package named `flows`.
    """
    if _package_data() is not None:
        return importlib.import_module(f"csintel.flows.{name}")
    root = str(checkout_root())
    if root not in sys.path:   # a console script run from elsewhere: the checkout is not on the path
        sys.path.append(root)
    return importlib.import_module(f"flows.{name}")

"""The generator's phrase tables: YAML files beside this module (phrases.yaml, themes.yaml).

Text lives in data so a reader edits sentences without touching code; the modules that read
them (`phrases.py`, `themes.py`) give each table a name and a type.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

# libyaml's loader when PyYAML was built with it: the tables are ~1,400 lines, read on every run.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_table(name: str) -> dict[str, Any]:
    """One YAML table beside this module, with its lists as tuples (the tables are constants)."""
    data = yaml.load(Path(__file__).with_name(name).read_text(encoding="utf-8"), Loader=_LOADER)
    return _frozen(data)


def _frozen(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_frozen(v) for v in value)
    if isinstance(value, dict):
        return {k: _frozen(v) for k, v in value.items()}
    return value

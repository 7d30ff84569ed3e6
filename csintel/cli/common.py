"""What every `csintel` command shares: the config it reads, the checks made before anything
heavy loads, and its progress lines and JSON output."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from csintel.config import Settings, load_settings

DEFAULT_CONFIG = "csintel.toml"
SAMPLE_WEEK = "2026-W47"   # the bundled sample's last week


def _settings(args: argparse.Namespace) -> tuple[Settings, str | None]:
    path = args.config or os.environ.get("CSINTEL_CONFIG") or (DEFAULT_CONFIG if Path(DEFAULT_CONFIG).is_file() else None)
    return load_settings(path), str(Path(path).resolve()) if path else None


def _note(message: str) -> None:
    """A progress line on stderr (stdout stays the command's output)."""
    print(f"csintel: {message}", file=sys.stderr, flush=True)


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


def _print_json(data: Any) -> None:
    print(json.dumps(data, indent=2, default=str))

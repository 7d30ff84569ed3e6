"""Export the documented views as Parquet, partitioned by week, for teams whose data lives in a lake.

Every view in the warehouse's `main` schema is exported (the documented contract, including
views added later), so a new view needs no change here. A view with a week is written as Hive
partitions (`ticket_tags/week=2026-11-16/data_0.parquet`), which Spark, Trino, Athena, BigQuery
and DuckDB read with partition pruning; the others as one file.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import duckdb

# How a view's rows map to a week when the view has no `week` column of its own. The column is
# added to the export only, so the view's shape in the warehouse is unchanged.
WEEK_OF = {
    "tickets": "activity_at",
    "ticket_themes": "run_week",
    "feature_requests": "solved_at",
}


@dataclass
class Exported:
    view: str
    rows: int
    path: Path
    partitioned: bool


def export_views(con: duckdb.DuckDBPyConnection, out: Path, views: list[str] | None = None) -> list[Exported]:
    """Write each view (default: all documented views) under `out/<view>/`, replacing earlier exports.

    Raises:
        ValueError: a requested view does not exist.
    """
    available = _views(con)
    unknown = sorted(set(views or []) - set(available))
    if unknown:
        raise ValueError(f"no such view: {', '.join(unknown)} (views: {', '.join(available)})")
    out.mkdir(parents=True, exist_ok=True)
    done = []
    for view in views or available:
        columns = [c for (c,) in con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = 'main' AND table_name = ?",
            [view]).fetchall()]
        week = "week" if "week" in columns else WEEK_OF.get(view)
        target, staging = out / view, out / f".{view}.partial"
        shutil.rmtree(staging, ignore_errors=True)
        select = f'SELECT * FROM main."{view}"'
        if week and week != "week":
            select = f'SELECT *, CAST(date_trunc(\'week\', "{week}") AS DATE) AS week FROM main."{view}"'
        rows = con.execute(f"SELECT count(*) FROM ({select})").fetchone()[0]
        if week:
            con.execute(f"COPY ({select}) TO '{_quote(staging)}' "
                        "(FORMAT parquet, PARTITION_BY (week), FILENAME_PATTERN 'data_{i}')")
        else:
            staging.mkdir(parents=True)
            con.execute(f"COPY ({select}) TO '{_quote(staging / 'data_0.parquet')}' (FORMAT parquet)")
        # Swap in whole: a reader never sees half an export, and weeks that vanished do not linger.
        shutil.rmtree(target, ignore_errors=True)
        staging.rename(target)
        done.append(Exported(view, int(rows), target, bool(week)))
    return done


def _views(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [v for (v,) in con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' AND table_type = 'VIEW' "
        "ORDER BY table_name").fetchall()]


def _quote(path: Path) -> str:
    return str(path).replace("'", "''")

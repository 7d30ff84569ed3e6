"""The DuckDB warehouse: connection, migrations from sql/, named queries, small write helpers.

Tables live in schema `store`; the documented views in `main` are what the data team reads. A
run's own row in `runs` is written by `csintel.runs.record`.
"""

from __future__ import annotations

import uuid
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

import duckdb
import pandas as pd

from csintel.resources import shipped

SQL_DIR = shipped("sql")   # sql/ in a checkout, csintel/_data/sql when installed


class WarehouseBusyError(RuntimeError):
    """Another process holds the warehouse file."""


def connect(path: str | Path | None = None, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open (creating if needed) the warehouse and bring its schema up to date.

    `path` None or ":memory:" gives an in-memory warehouse (tests, `csintel tag`).
    """
    if path is None or str(path) == ":memory:":
        con = duckdb.connect(":memory:")
    else:
        p = Path(path)
        p.parent.mkdir(parents=True, exist_ok=True)
        try:
            con = duckdb.connect(str(p), read_only=read_only)
        except duckdb.IOException as exc:
            if "lock" in str(exc).lower():
                raise WarehouseBusyError(
                    f"the warehouse {p} is in use by another csintel run; wait for it to finish "
                    f"or point [warehouse] path elsewhere"
                ) from exc
            raise
    con.execute("SET TimeZone = 'UTC'")
    if not read_only:
        migrate(con)
    return con


def migrate(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Apply the migrations in sql/migrations that this warehouse has not seen, each once, in order."""
    con.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (name VARCHAR PRIMARY KEY, applied_at TIMESTAMP)"
    )
    done = {r[0] for r in con.execute("SELECT name FROM schema_migrations").fetchall()}
    applied = []
    migrations = sorted((SQL_DIR / "migrations").glob("*.sql"))
    if not migrations:   # a broken install would otherwise leave the schema silently empty
        raise FileNotFoundError(f"no migrations in {SQL_DIR / 'migrations'}: reinstall csintel")
    for file in migrations:
        if file.name in done:
            continue
        with transaction(con):
            con.execute(file.read_text(encoding="utf-8"))
            con.execute("INSERT INTO schema_migrations VALUES (?, ?)", [file.name, utcnow()])
        applied.append(file.name)
    return applied


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    con.execute("BEGIN TRANSACTION")
    try:
        yield con
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


def query(name: str) -> str:
    """The text of sql/queries/<name>.sql."""
    return (SQL_DIR / "queries" / f"{name}.sql").read_text(encoding="utf-8")


def fetch_df(con: duckdb.DuckDBPyConnection, name: str, params: dict[str, Any] | None = None) -> pd.DataFrame:
    """Run a named query with bound parameters and return a DataFrame."""
    return con.execute(query(name), params or {}).df()


def upsert(con: duckdb.DuckDBPyConnection, table: str, df: pd.DataFrame) -> int:
    """Insert or replace rows by the table's primary key; returns the number of rows written."""
    if df.empty:
        return 0
    view = f"_upsert_{uuid.uuid4().hex[:8]}"
    con.register(view, df)
    try:
        con.execute(f"INSERT OR REPLACE INTO {table} BY NAME SELECT * FROM {view}")
    finally:
        con.unregister(view)
    return len(df)


def utcnow() -> datetime:
    """Naive UTC now: the warehouse stores naive UTC timestamps."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


"""Parquet files as raw rows, read in record batches; the schema is checked as a CSV header is."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pyarrow.parquet as pq

from csintel.sources import RawRow
from csintel.sources.files.header import column_name, header_problem
from csintel.sources.files.text import cut, too_long

PARQUET_BATCH = 256


def parquet_rows(path: Path, kind: str | None, limit: int, notes: list[str]) -> Iterator[RawRow]:
    origin = str(path)
    try:
        pf = pq.ParquetFile(path)
    except Exception as exc:   # pyarrow raises several types for a file that is not Parquet
        reason = f"file rejected: not a readable Parquet file ({str(exc)[:200]})"
        notes.append(f"{path.name}: {reason}")
        yield RawRow(origin, 0, None, reason)
        return
    names = [column_name(n) for n in pf.schema_arrow.names]
    problem = header_problem(names, ",".join(pf.schema_arrow.names), ",", kind) if kind else None
    if problem:
        notes.append(f"{path.name}: file rejected: {problem}")
        yield RawRow(origin, 0, {"_header": pf.schema_arrow.names}, f"file rejected: {problem}")
        return
    if pf.metadata.num_rows == 0:
        notes.append(f"{path.name}: no rows")
    i = 0
    for batch in pf.iter_batches(batch_size=PARQUET_BATCH):
        for item in batch.to_pylist():
            i += 1
            item = {column_name(k): v for k, v in item.items()}
            size = sum(len(v) for v in item.values() if isinstance(v, (str, bytes)))
            if size > limit:
                yield RawRow(origin, i, cut({k: v for k, v in item.items() if isinstance(v, str)}), too_long(limit))
                continue
            yield RawRow(origin, i, item)

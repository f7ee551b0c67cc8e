"""Results tables: rows of plain values written as CSV and Parquet, and read back.

Both files are replaced atomically (written beside, then renamed), so an interrupted run leaves
the last complete table. Parquet keeps the types exactly (floats round-trip bit for bit), so it is
the file a rerun reads back; CSV is for people and spreadsheets.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from rehabbot.errors import StorageError
from rehabbot.sweeps.point import Row


def columns_of(rows: Sequence[Row]) -> list[str]:
    """Every column of ``rows``, in the order they first appear."""
    return list(dict.fromkeys(column for row in rows for column in row))


def to_arrow(rows: Sequence[Row]) -> pa.Table:
    """``rows`` as an Arrow table; a column a row lacks is null there."""
    columns = columns_of(rows)
    return pa.Table.from_pylist([{c: row.get(c) for c in columns} for row in rows])


def write_table(rows: Sequence[Row], stem: Path) -> tuple[Path, Path]:
    """Write ``rows`` to ``stem``.csv and ``stem``.parquet; return both paths.

    Raises:
        StorageError: a file cannot be written.
    """
    table = to_arrow(rows)
    csv_path, parquet_path = stem.with_suffix(".csv"), stem.with_suffix(".parquet")
    try:
        stem.parent.mkdir(parents=True, exist_ok=True)
        for path, write in ((csv_path, pa_csv.write_csv), (parquet_path, pq.write_table)):
            partial = path.with_name(f".{path.name}.partial")
            write(table, str(partial))
            os.replace(partial, path)
    except OSError as exc:
        raise StorageError(f"cannot write the results table {stem}: {exc}") from None
    return csv_path, parquet_path


def read_rows(parquet_path: Path) -> list[Row]:
    """The rows of a Parquet table written by :func:`write_table`; none if there is no file.

    Raises:
        StorageError: the file exists but is not a readable Parquet table.
    """
    if not parquet_path.exists():
        return []
    try:
        rows: list[Row] = pq.read_table(str(parquet_path)).to_pylist()
    except (OSError, pa.ArrowException) as exc:
        raise StorageError(f"cannot read the previous results {parquet_path}: {exc}; move it "
                           "away to start the sweep afresh") from None
    return rows

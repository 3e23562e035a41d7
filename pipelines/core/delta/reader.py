"""Reading Delta tables without a JVM, through delta-rs (the ``deltalake`` package): the
ledger, table previews and versions, for the commands that only read. Answers in well under
a second where starting Spark takes tens of seconds."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pyarrow as pa
from deltalake import DeltaTable, QueryBuilder
from deltalake.exceptions import TableNotFoundError

from pipelines.core.errors import UsageError

__all__ = ["latest_version", "table_identity", "file_count", "partition_columns", "properties",
           "table_schema_json", "read_rows",
           "read_where", "ReaderError"]


class ReaderError(Exception):
    """delta-rs cannot read this table (a table feature it lacks); read it with Spark."""


def _open(path: str, version: int | None = None) -> DeltaTable | None:
    try:
        return DeltaTable(path, version=version)
    except TableNotFoundError:
        return None
    except Exception as exc:  # noqa: BLE001 - delta-rs raises several kinds for one "cannot"
        raise ReaderError(f"{type(exc).__name__}: {exc}") from exc


def latest_version(path: str) -> int | None:
    """The table's latest version, None when there is no Delta table at ``path``."""
    table = _open(path)
    return None if table is None else table.version()


def table_identity(path: str) -> tuple[str | None, int | None]:
    """(table id, latest version) from the table's log; (None, None) when there is no table.
    The id is given when a table is created: a table dropped and created again has another."""
    table = _open(path)
    if table is None:
        return None, None
    return str(table.metadata().id), table.version()


def file_count(path: str) -> int | None:
    """How many data files the table's latest version has (its log only), None when no table."""
    table = _open(path)
    return None if table is None else len(table.file_uris())


def partition_columns(path: str) -> list[str] | None:
    """The table's partition columns from its log (no Spark job), None when no table."""
    table = _open(path)
    return None if table is None else list(table.metadata().partition_columns)


def table_schema_json(path: str) -> str | None:
    """The table's schema as Delta's JSON (Spark's ``StructType`` JSON), None when no table."""
    table = _open(path)
    return None if table is None else str(table.schema().to_json())


def properties(path: str) -> dict[str, str] | None:
    """The table's properties (``delta.*`` settings) from its log, None when no table."""
    table = _open(path)
    return None if table is None else dict(table.metadata().configuration)


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value.astimezone(dt.UTC).replace(tzinfo=None)  # as Spark returns them
    return value


def _rows(table: pa.Table) -> list[dict[str, Any]]:
    return [{k: _plain(v) for k, v in row.items()} for row in table.to_pylist()]


def read_where(path: str, **equal: str) -> list[dict[str, Any]]:
    """The rows whose columns equal the given values (pushed into the scan)."""
    table = _open(path)
    if table is None:
        return []
    filters = [(column, "=", value) for column, value in equal.items()] or None
    try:
        return _rows(table.to_pyarrow_table(filters=filters))
    except Exception as exc:  # noqa: BLE001
        raise ReaderError(f"{type(exc).__name__}: {exc}") from exc


def read_rows(path: str, *, version: int | None = None, where: str | None = None,
              limit: int = 20) -> list[dict[str, Any]]:
    """At most ``limit`` rows of the table (at ``version``), filtered by a SQL ``where``."""
    table = _open(path, version)
    if table is None:
        return []
    try:
        dataset = table.to_pyarrow_dataset()
    except Exception as exc:  # noqa: BLE001
        raise ReaderError(f"{type(exc).__name__}: {exc}") from exc
    if not where:
        return _rows(dataset.head(int(limit)))
    try:
        reader = QueryBuilder().register("t", table).execute(
            f"SELECT * FROM t WHERE {where} LIMIT {int(limit)}")
    except Exception as exc:  # noqa: BLE001 - the SQL engine's own errors
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UsageError(f"--where {where!r}: {first}", key="where") from None
    return _rows(pa.table(reader.read_all()))

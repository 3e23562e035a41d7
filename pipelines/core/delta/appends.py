"""Appending a few rows to a small bookkeeping table (the ledger's) without a Spark job.

delta-rs (the ``deltalake`` package) writes the rows as one Parquet file and commits it in a
few tens of milliseconds, where a Spark append plans, runs a job and computes a snapshot.
The commit is an ordinary Delta commit: Spark and delta-rs read the table alike. A table
delta-rs cannot write (a table feature it lacks, a file system it has no driver for) is
appended to with Spark instead.
"""

from __future__ import annotations

import logging
from typing import Any

import pyarrow as pa
from pyspark.sql import SparkSession
from pyspark.sql.types import (
    BooleanType,
    DataType,
    DoubleType,
    IntegerType,
    LongType,
    StringType,
    StructType,
    TimestampType,
)

__all__ = ["append_rows", "arrow_schema"]

log = logging.getLogger(__name__)

_ARROW_TYPES: dict[type[DataType], pa.DataType] = {
    StringType: pa.string(),
    IntegerType: pa.int32(),
    LongType: pa.int64(),
    DoubleType: pa.float64(),
    BooleanType: pa.bool_(),
    TimestampType: pa.timestamp("us", tz="UTC"),  # Delta's `timestamp`: UTC microseconds
}


def arrow_schema(schema: StructType) -> pa.Schema:
    """``schema`` as Arrow types, nullability kept (delta-rs refuses a mismatch)."""
    fields = []
    for field in schema.fields:
        arrow = _ARROW_TYPES.get(type(field.dataType))
        if arrow is None:
            raise TypeError(f"column {field.name}: no Arrow type for {field.dataType}")
        fields.append(pa.field(field.name, arrow, nullable=field.nullable))
    return pa.schema(fields)


def append_rows(path: str, rows: list[dict[str, Any]], schema: StructType, *,
                spark: SparkSession | None = None) -> None:
    """Append ``rows`` (dicts with ``schema``'s columns) to the Delta table at ``path`` in
    one commit, creating the table with ``schema`` when there is none."""
    if not rows:
        return
    from deltalake import write_deltalake

    from pipelines.core.delta.reader import ReaderError, latest_version

    data = pa.Table.from_pylist(rows, schema=arrow_schema(schema))
    try:
        before = latest_version(path)
        write_deltalake(path, data, mode="append")
        return
    except ReaderError as exc:
        reason: Exception = exc
    except Exception as exc:  # noqa: BLE001 - delta-rs raises several kinds for one "cannot"
        try:
            if latest_version(path) != before:
                return  # committed; what failed came after the commit (its checkpoint)
        except ReaderError:
            pass
        reason = exc
    if spark is None:
        raise reason
    log.info("appending to %s with Spark: delta-rs cannot (%s)", path, reason)
    _append_with_spark(spark, path, rows, schema)


def _append_with_spark(spark: SparkSession, path: str, rows: list[dict[str, Any]],
                       schema: StructType) -> None:
    from delta.tables import DeltaTable

    from pipelines.core.delta.tables import is_delta

    if not is_delta(spark, path):
        DeltaTable.createIfNotExists(spark).location(path).addColumns(schema).execute()
    spark.createDataFrame(rows, schema).write.format("delta").mode("append").save(path)

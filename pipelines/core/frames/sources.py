"""Reading a pipeline's sources with their declared schemas, Delta inputs pinned to a version."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from pyspark.sql import Column, DataFrame, SparkSession

from pipelines.core.declare.spec import Source
from pipelines.core.delta.reader import ReaderError, table_identity
from pipelines.core.delta.tables import (
    current_version,
    landing_path,
    path_exists,
    read_delta,
    table_path,
)
from pipelines.core.delta.tables import table_id as spark_table_id
from pipelines.core.errors import InputDataError

__all__ = ["SourceRead", "open_source", "empty_source", "declared_view"]


@dataclass(frozen=True)
class SourceRead:
    name: str
    location: str
    version: int | None  # Delta version read, None for files
    frame: DataFrame
    table_id: str | None = None  # the Delta table's id (another when created again)


def open_source(spark: SparkSession, source: Source, warehouse: str, *, pipeline: str,
                version: int | None = None,
                keep_files: Callable[[DataFrame, Source], Column | None] | None = None,
                ) -> SourceRead:
    """Open ``source`` lazily. Missing input raises :class:`InputDataError` (exit code 5).
    ``keep_files(raw, source)``: a condition on a file source's ``_metadata`` choosing the
    files read (a canary's sample), applied before the declared view."""
    if source.format == "delta":
        path = table_path(warehouse, source.table)
        latest = current_version(spark, path)
        if latest is None:
            raise InputDataError(f"Delta table not found at {path}", pipeline=pipeline,
                                 source=source.name, file=path)
        pinned = latest if version is None else version
        df = read_delta(spark, path, pinned)
        if source.schema is not None:
            missing = [f.name for f in source.schema.fields if f.name not in df.columns]
            if missing:
                raise InputDataError(f"table lacks declared column '{missing[0]}'",
                                     pipeline=pipeline, source=source.name, column=missing[0],
                                     file=path)
        return SourceRead(source.name, path, pinned, declared_view(df, source),
                          table_id=delta_table_id(spark, path))
    path = landing_path(warehouse, source.path)
    if not path_exists(spark, path):
        raise InputDataError(f"input not found: {path}", pipeline=pipeline, source=source.name,
                             file=path)
    reader = spark.read.option("mode", "FAILFAST")
    if source.schema is not None:  # always, once planned: a file source declares its schema
        reader = reader.schema(source.schema)
    options = {"header": "true"} if source.format == "csv" else {}
    options.update(source.options)
    for key, value in options.items():
        reader = reader.option(key, value)
    frame = reader.format(source.format).load(path)
    chosen = keep_files(frame, source) if keep_files is not None else None
    if chosen is not None:
        frame = frame.where(chosen)
    return SourceRead(source.name, path, None, declared_view(frame, source))


def delta_table_id(spark: SparkSession, path: str) -> str | None:
    """The Delta table's id from its log (delta-rs), through Spark when delta-rs cannot."""
    try:
        return table_identity(path)[0]
    except ReaderError:
        return spark_table_id(spark, path)


def declared_view(df: DataFrame, source: Source) -> DataFrame:
    """What the source declares on top of the raw read, for every format: its ``where``
    filter (Spark pushes it into the file or Delta scan) and its columns, in declared order."""
    if source.where:
        df = df.where(source.where)
    if source.schema is not None:
        df = df.select(*[f.name for f in source.schema.fields])
    return df


def empty_source(spark: SparkSession, source: Source) -> DataFrame:
    """An empty DataFrame with the source's schema and declared view (for planning without
    reading data: a bad ``where`` fails here, naming the source)."""
    return declared_view(spark.createDataFrame([], source.schema), source)

"""A plan against the data already stored: the types a source declares against its Parquet
footers or Delta schema, and each sink's output against its existing table.

Read from file footers and Delta logs only (pyarrow and delta-rs): no Spark job and no row
of data. A mismatch the run would fail on later (or publish wrongly) is refused here, before
any stage runs; a difference Spark reads through (an integer widened, a decimal given more
places) is a note the plan shows.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pyspark.sql.types import (
    BinaryType,
    ByteType,
    DataType,
    DateType,
    DecimalType,
    DoubleType,
    FloatType,
    IntegerType,
    LongType,
    ShortType,
    StringType,
    StructField,
    StructType,
    TimestampNTZType,
    TimestampType,
)

from pipelines.core.declare.spec import Sink, Source
from pipelines.core.delta.modes import mode_of
from pipelines.core.delta.tables import landing_path, table_path
from pipelines.core.errors import DefinitionError, InputDataError
from pipelines.core.planning.plan import Plan
from pipelines.core.records.fingerprint import local_path

__all__ = ["check_stored_sources", "check_sink_tables", "stored_schema_notes", "MAX_FOOTERS"]

# footers read per source at most (a folder of many small files is sampled at both ends)
MAX_FOOTERS = 400
_INTEGERS = (ByteType, ShortType, IntegerType, LongType)
_DIGITS = {ByteType: 3, ShortType: 5, IntegerType: 10, LongType: 20}


@dataclass(frozen=True)
class _Found:
    file: str  # the footer or table the type was read from
    schema: StructType
    partition_keys: frozenset[str] = frozenset()  # ``key=value`` folders above the file


def _widened(found: DataType, declared: DataType) -> bool:
    """Whether Spark reads ``found`` stored values as ``declared`` without loss."""
    f, d = type(found), type(declared)
    if f in _INTEGERS and d in _INTEGERS:
        return _INTEGERS.index(f) < _INTEGERS.index(d)
    if f in _INTEGERS[:3] and d is DoubleType:
        return True
    if f in _INTEGERS[:3] and isinstance(declared, DecimalType):
        return declared.precision - declared.scale >= _DIGITS[f]
    if f is FloatType and d is DoubleType:
        return True
    if isinstance(found, DecimalType) and isinstance(declared, DecimalType):
        return (declared.scale >= found.scale
                and declared.precision - declared.scale >= found.precision - found.scale)
    if f is DateType and d is TimestampNTZType:
        return True
    return {f, d} == {TimestampType, TimestampNTZType}


def _parquet_files(root: str) -> list[Path]:
    path = Path(root)
    if path.is_file():
        return [path]
    files = sorted(Path(folder) / name for folder, dirs, names in os.walk(path)
                   if not any(p.startswith(("_", ".")) for p in
                              Path(folder).relative_to(path).parts)
                   for name in names if not name.startswith(("_", ".")))
    if len(files) > MAX_FOOTERS:  # both ends: the oldest and the newest files
        half = MAX_FOOTERS // 2
        files = files[:half] + files[-half:]
    return files


@functools.lru_cache(maxsize=4096)
def _footer_schema(path: str, size: int, mtime_ns: int) -> StructType:
    """A Parquet file's columns as the Spark types of their logical types (a column of a type
    Spark has no name for is left out: nothing to compare)."""
    del size, mtime_ns  # the cache key
    import pyarrow.parquet as pq

    fields = []
    for field in pq.read_schema(path):
        kind = _spark_type(field.type)
        if kind is not None:
            fields.append(StructField(field.name, kind))
    return StructType(fields)


def _spark_type(arrow: Any) -> DataType | None:
    import pyarrow as pa
    from pyspark.sql.pandas.types import from_arrow_type

    if pa.types.is_string(arrow) or pa.types.is_large_string(arrow) or str(arrow) == \
            "string_view":
        return StringType()
    if pa.types.is_binary(arrow) or pa.types.is_large_binary(arrow) or str(arrow) == \
            "binary_view":
        return BinaryType()
    try:
        return from_arrow_type(arrow, prefer_timestamp_ntz=True)
    except Exception:  # noqa: BLE001 - a type PySpark cannot name (views inside a list, ...)
        return None


def _parquet_found(source: Source, root: str, *, pipeline: str) -> Iterator[_Found]:
    for file in _parquet_files(root):
        stat = file.stat()
        try:
            schema = _footer_schema(str(file), stat.st_size, stat.st_mtime_ns)
        except Exception as exc:  # noqa: BLE001 - pyarrow raises several kinds for "not Parquet"
            raise InputDataError(f"not a Parquet file: {file} ({type(exc).__name__}: "
                                 f"{str(exc).splitlines()[0] if str(exc) else ''})",
                                 pipeline=pipeline, source=source.name, file=str(file),
                                 key="not_parquet") from None
        parts = file.relative_to(root).parts[:-1] if file != Path(root) else ()
        keys = frozenset(p.split("=", 1)[0] for p in parts if "=" in p)
        yield _Found(str(file), schema, keys)


def _delta_schema(path: str) -> StructType | None:
    """A Delta table's schema from its log, None when there is no table (or delta-rs cannot
    read it: the run finds out with Spark)."""
    from pipelines.core.delta.reader import ReaderError, table_schema_json

    try:
        text = table_schema_json(path)
    except ReaderError:
        return None
    return None if text is None else StructType.fromJson(json.loads(text))


def _source_found(source: Source, inputs: str, *, pipeline: str) -> Iterator[_Found]:
    if source.format == "delta":
        path = table_path(inputs, source.table)
        local = local_path(path)
        if local is None or not os.path.isdir(local):
            return  # a remote table, or none yet: the run reads it with Spark
        schema = _delta_schema(path)
        if schema is not None:
            yield _Found(path, schema)
    elif source.format == "parquet" and source.schema is not None:
        root = local_path(landing_path(inputs, source.path))
        if root is not None and os.path.exists(root):
            yield from _parquet_found(source, root, pipeline=pipeline)


def check_stored_sources(plan: Plan, inputs: str) -> list[str]:
    """Refuse a source whose declared column types differ from its stored data (exit 5,
    naming source, file, column, declared and found type); returns the notes (a type Spark
    widens, a column a file lacks)."""
    notes: list[str] = []
    for source in plan.sources.values():
        if source.schema is None:
            continue
        for found in _source_found(source, inputs, pipeline=plan.name):
            notes += _compare_source(plan.name, source, found)
    return list(dict.fromkeys(notes))


def _compare_source(pipeline: str, source: Source, found: _Found) -> list[str]:
    assert source.schema is not None
    have = {f.name: f.dataType for f in found.schema.fields}
    delta = source.format == "delta"
    notes = []
    for field in source.schema.fields:
        where = {"pipeline": pipeline, "source": source.name, "file": found.file,
                 "column": field.name}
        stored = have.get(field.name)
        declared = field.dataType.simpleString()
        if stored is None:
            if delta:
                raise InputDataError(f"table {source.table} lacks declared column "
                                     f"'{field.name}'", **where, key="missing_column")
            if field.name not in found.partition_keys:
                notes.append(f"source {source.name}: {found.file} has no column "
                             f"'{field.name}'; its rows read it as null")
            continue
        if stored.simpleString() == declared:
            continue
        if _widened(stored, field.dataType):
            notes.append(f"source {source.name}: column '{field.name}' is "
                         f"{stored.simpleString()} in {found.file}, declared {declared} "
                         "(Spark widens it when reading)")
            continue
        raise InputDataError(
            f"input does not match its declaration: column '{field.name}' is "
            f"{stored.simpleString()} in {found.file}, declared {declared}", **where,
            declared_type=declared, found_type=stored.simpleString(), key="type_mismatch")
    return notes


def check_sink_tables(plan: Plan, schemas: dict[str, StructType], warehouse: str) -> list[str]:
    """Refuse (exit 2, before any stage runs) a sink whose output differs from its existing
    table: a column of another type, one more or one fewer, another partitioning. The message
    says how to go on. Returns notes (a table whose schema the sink replaces)."""
    notes = []
    for sink in plan.sinks.values():
        output = schemas.get(sink.input)
        path = table_path(warehouse, sink.table)
        if output is None or local_path(path) is None:
            continue
        table = _delta_schema(path)
        if table is None:
            continue
        found = _differences(sink, output, table)
        if sink.replace_schema:
            if found:
                notes.append(f"sink {sink.name}: replaces the schema of table {sink.table} "
                             f"({found[0][1]})")
            continue
        if found:
            column, what = found[0]
            raise DefinitionError(f"{what}; {_way_forward(sink, column, table)}",
                                  pipeline=plan.name, sink=sink.name, column=column,
                                  table=sink.table, key="table_schema")
        _check_partitioning(plan.name, sink, path)
    return notes


def _output_columns(sink: Sink, output: StructType) -> dict[str, str]:
    cols = {f.name: f.dataType.simpleString() for f in output.fields}
    cols.update(mode_of(sink).added_columns)
    return cols


def _differences(sink: Sink, output: StructType, table: StructType) -> list[tuple[str, str]]:
    have = {f.name: f.dataType.simpleString() for f in table.fields}
    out = _output_columns(sink, output)
    found = []
    for name, kind in out.items():
        if name not in have:
            found.append((name, f"column '{name}' is not in table {sink.table}"))
        elif have[name] != kind:
            found.append((name, f"column '{name}' is {kind} but table {sink.table} has "
                                f"{have[name]}"))
    found += [(name, f"column '{name}' of table {sink.table} is missing from the sink's data")
              for name in have if name not in out]
    return found


def _way_forward(sink: Sink, column: str, table: StructType) -> str:
    if mode_of(sink).replaces_table:
        return ("to replace the table's schema at the next publish, declare "
                "replace_schema=True on the sink (every row is rewritten anyway)")
    kinds = {f.name: f.dataType.simpleString() for f in table.fields}
    keep = (f"cast '{column}' to {kinds[column]} in the stage that makes it, or "
            if column in kinds else "drop it in the stage that makes it, or ")
    return (f"{keep}migrate the table first: its existing rows stay as they are under "
            f"mode={sink.mode} (ALTER TABLE, or one run of an overwrite sink with "
            "replace_schema=True)")


def _check_partitioning(pipeline: str, sink: Sink, path: str) -> None:
    from pipelines.core.delta.reader import ReaderError, partition_columns

    try:
        have = partition_columns(path)
    except ReaderError:
        return
    if have is not None and have != list(sink.partition_by):
        raise DefinitionError(
            f"table {sink.table} is partitioned by {have or 'nothing'}, the sink declares "
            f"partition_by={list(sink.partition_by)}; "
            + ("declare replace_schema=True to partition it anew at the next publish"
               if mode_of(sink).replaces_table else "migrate the table first"),
            pipeline=pipeline, sink=sink.name, table=sink.table, key="partition_by")


def stored_schema_notes(plan: Plan, schemas: dict[str, StructType], *, inputs: str,
                        warehouse: str) -> list[str]:
    """Both checks: the notes, or the refusal of the first mismatch."""
    return check_stored_sources(plan, inputs) + check_sink_tables(plan, schemas, warehouse)

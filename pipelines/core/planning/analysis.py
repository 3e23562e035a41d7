"""Schema propagation: run the stage code on empty DataFrames with the declared schemas.

Spark analyses every DataFrame operation eagerly, so an unknown column or a type error shows
up here with its stage, and no job runs over any data.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence

from pyspark.errors import AnalysisException
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql.types import StructType

from pipelines.core.declare.expectations import Expectation
from pipelines.core.delta.modes import mode_of
from pipelines.core.errors import DefinitionError
from pipelines.core.frames.sources import empty_source
from pipelines.core.frames.stages import analysis_error, apply_stage
from pipelines.core.planning.plan import Plan

__all__ = ["check_schemas"]


def check_schemas(spark: SparkSession, plan: Plan) -> dict[str, StructType]:
    name = plan.name
    frames: dict[str, DataFrame] = {}
    for source in plan.sources.values():
        try:
            frames[source.name] = empty_source(spark, source)
        except AnalysisException as exc:  # a bad 'where': unknown column, syntax, type
            raise analysis_error(exc, pipeline=name, source=source.name) from None
    schemas: dict[str, StructType] = {k: v.schema for k, v in frames.items()}
    for stage_name in plan.order:
        stage = plan.stage(stage_name)
        try:
            out = apply_stage(stage, {i: frames[i] for i in stage.inputs}, plan.params,
                              pipeline=name)
            schemas[stage_name] = out.schema
        except AnalysisException as exc:
            raise analysis_error(exc, pipeline=name, stage=stage_name) from None
        frames[stage_name] = out
        _check_columns(name, stage_name, schemas[stage_name], stage.checks)
    for sink in plan.sinks.values():
        schema = schemas[sink.input]
        _check_columns(name, sink.name, schema, sink.checks)
        # an scd2 table's own columns (valid_from, ...) may have statistics too
        added = [name for name, _ in mode_of(sink).added_columns]
        stats = [c for c in sink.stats_columns or () if c not in added]
        for option, columns in (("partition_by", sink.partition_by), ("keys", sink.keys),
                                ("stats_columns", stats)):
            for col in columns:
                if col not in schema.fieldNames():
                    raise DefinitionError(f"{option} names column '{col}', which the output "
                                          f"of '{sink.input}' does not have"
                                          f"{_closest(col, schema)}", pipeline=name,
                                          sink=sink.name, column=col, key=option)
        if sink.schema is not None:
            _check_contract(name, sink.name, schema, sink.schema)
        taken = [c for c in added if c in schema.fieldNames()]
        if taken:
            raise DefinitionError(f"column '{taken[0]}' of '{sink.input}' is one the "
                                  f"{sink.mode} table adds itself; rename or drop it",
                                  pipeline=name, sink=sink.name, column=taken[0])
    return schemas


def _check_columns(pipeline: str, where: str, schema: StructType,
                   checks: Sequence[Expectation]) -> None:
    names = schema.fieldNames()
    for check in checks:
        if check.kind == "columns_exist":
            continue
        for col in check.referenced_columns:
            if col not in names:
                raise DefinitionError(f"expectation {check.name} refers to column '{col}', "
                                      f"which the stage does not produce"
                                      f"{_closest(col, schema)}", pipeline=pipeline,
                                      stage=where, column=col, key="checks")


def _closest(column: str, schema: StructType) -> str:
    close = difflib.get_close_matches(column, schema.fieldNames(), n=3)
    return f"; closest: {', '.join(close)}" if close else ""


def _check_contract(pipeline: str, sink: str, actual: StructType, declared: StructType) -> None:
    have = {f.name: f.dataType for f in actual.fields}
    for field in declared.fields:
        if field.name not in have:
            raise DefinitionError(f"output lacks column '{field.name}' of the sink's schema",
                                  pipeline=pipeline, sink=sink, column=field.name)
        if have[field.name].simpleString() != field.dataType.simpleString():
            raise DefinitionError(
                f"column '{field.name}' is {have[field.name].simpleString()}, the sink's schema "
                f"says {field.dataType.simpleString()}", pipeline=pipeline, sink=sink,
                column=field.name)
    extra = [n for n in have if n not in declared.fieldNames()]
    if extra:
        raise DefinitionError(f"output has column '{extra[0]}' that the sink's schema lacks",
                              pipeline=pipeline, sink=sink, column=extra[0])

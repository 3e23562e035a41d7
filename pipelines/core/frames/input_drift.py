"""Why a stage's blocking check failed when the cause lies in its inputs: an input with no
rows, or files that no longer carry a declared column (schema drift: a declared schema reads
a missing column as null, so the drift shows only as checks failing downstream).

Asked only after a blocking check failed, so a run that passes pays nothing for it.
"""

from __future__ import annotations

import logging

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from pipelines.core.declare.spec import Source
from pipelines.core.delta.tables import landing_path
from pipelines.core.errors import InputDataError

__all__ = ["explain_failed_check"]

log = logging.getLogger(__name__)

_ROWS = "__rows"


def _files_columns(spark: SparkSession, source: Source, location: str) -> list[str] | None:
    """The columns the files themselves have (their footers, a CSV header, the JSON keys)."""
    options = {"header": "true"} if source.format == "csv" else {}
    options.update(source.options)
    try:
        return spark.read.format(source.format).options(**options).load(location).columns
    except Exception:  # noqa: BLE001 - no better explanation than the failed check itself
        log.debug("cannot read the columns of %s", location, exc_info=True)
        return None


def explain_failed_check(spark: SparkSession, sources: dict[str, Source],
                         frames: dict[str, DataFrame], warehouse: str, *, pipeline: str,
                         stage: str) -> InputDataError | None:
    """An error naming an empty input or a drifted column among ``sources``, else None."""
    for name, source in sorted(sources.items()):
        frame = frames.get(name)
        if frame is None:
            continue
        location = source.table if source.format == "delta" else landing_path(
            warehouse, source.path)
        declared = [f for f in source.schema.fields] if source.schema else []
        counts = frame.select(F.count(F.lit(1)).alias(_ROWS),
                              *[F.count(F.col(f.name)).alias(f.name) for f in declared]).first()
        if counts is None or counts[_ROWS] == 0:
            filtered = " after its where filter" if source.where else ""
            return InputDataError(
                f"input {name} is empty: no rows in {location}{filtered}, so the checks of "
                f"stage {stage} failed", pipeline=pipeline, stage=stage, source=name,
                file=location, key="EMPTY_INPUT")
        all_null = [f for f in declared if counts[f.name] == 0]
        if not all_null or source.format == "delta":  # a Delta source's columns are checked
            continue                                  # when it is opened
        found = _files_columns(spark, source, location)
        if found is None:
            continue
        lowered = {c.lower() for c in found}
        for field in all_null:
            if field.name.lower() not in lowered:
                shown = ", ".join(found[:12]) + (", ..." if len(found) > 12 else "")
                return InputDataError(
                    f"schema drift in input {name}: its files in {location} have no column "
                    f"'{field.name}' (declared {field.dataType.simpleString()}), so it read "
                    f"as null in all {counts[_ROWS]} rows; the files have: {shown}",
                    pipeline=pipeline, stage=stage, source=name, column=field.name,
                    declared_type=field.dataType.simpleString(), file=location,
                    key="SCHEMA_DRIFT")
    return None

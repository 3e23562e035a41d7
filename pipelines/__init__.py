"""Declarative MapReduce-style pipelines over Spark DataFrames, published to Delta Lake.

Declare a pipeline in ``pipelines/<name>.py``::

    from pipelines import Pipeline, Source, Map, Reduce, Join, Sink, expect
    pipeline = Pipeline(name="<name>", sources=[...], stages=[...], sinks=[...])

then ``pipelines plan <name> --date D`` and ``pipelines run <name> --date D``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pipelines.core.declare import aggregations as agg
from pipelines.core.declare import expectations as expect
from pipelines.core.declare.spec import (
    Filter,
    Join,
    Latest,
    Map,
    Pipeline,
    Reduce,
    Select,
    Sink,
    Source,
    Sql,
    Top,
    Union,
    WithColumns,
)

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from pipelines.core.interfaces.explore import Explorer
from pipelines.core.errors import (
    ConfigError,
    DefinitionError,
    ExitCode,
    InputDataError,
    LockHeldError,
    PipelineError,
    QualityError,
    UsageError,
)

__all__ = [
    "Pipeline",
    "Source",
    "Map",
    "Reduce",
    "Join",
    "Filter",
    "Select",
    "WithColumns",
    "Top",
    "Latest",
    "Union",
    "Sql",
    "Sink",
    "expect",
    "agg",
    "ExitCode",
    "PipelineError",
    "ConfigError",
    "DefinitionError",
    "UsageError",
    "QualityError",
    "LockHeldError",
    "InputDataError",
    "load",
]


def load(name: str, *, date: str | None = None, env: str = "local",
         conf: list[str] | None = None, spark: SparkSession | None = None) -> Explorer:
    """Open a pipeline for exploration (notebooks).

    See :class:`pipelines.core.interfaces.explore.Explorer`.
    """
    from pipelines.core.interfaces.explore import Explorer

    return Explorer.open(name, date=date, env=env, conf=conf or [], spark=spark)

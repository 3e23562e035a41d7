"""Declarative MapReduce-style pipelines over Spark DataFrames, published to Delta Lake.

Declare a pipeline in ``pipelines/<name>.py``::

    from pipelines import Pipeline, Source, Map, Reduce, Join, Sink, expect
    pipeline = Pipeline(name="<name>", sources=[...], stages=[...], sinks=[...])

then ``pipelines plan <name> --date D`` and ``pipelines run <name> --date D``.
"""

from __future__ import annotations

from pipelines.core import expectations as expect
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
from pipelines.core.spec import Join, Map, Pipeline, Reduce, Sink, Source
from transforms import aggregations as agg

__all__ = [
    "Pipeline",
    "Source",
    "Map",
    "Reduce",
    "Join",
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
         conf: list[str] | None = None, spark=None):  # noqa: ANN001, ANN201
    """Open a pipeline for exploration (notebooks): see :class:`pipelines.core.explore.Explorer`."""
    from pipelines.core.explore import Explorer

    return Explorer.open(name, date=date, env=env, conf=conf or [], spark=spark)

"""The pipeline definition: plain, frozen data.

A pipeline module declares one :class:`Pipeline` built from sources, stages (:class:`Map`,
:class:`Reduce`, :class:`Join`) and sinks. Nothing here runs Spark;
:mod:`pipelines.core.planning.plan` validates the definition and propagates schemas before
any job runs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import KW_ONLY, dataclass, field
from typing import Any

from pyspark.sql.types import StructType

from pipelines.core.declare.aggregations import Agg

__all__ = [
    "Source",
    "Map",
    "Reduce",
    "Join",
    "Sink",
    "Pipeline",
    "Stage",
    "SOURCE_FORMATS",
    "SINK_MODES",
    "JOIN_TYPES",
]

SOURCE_FORMATS = ("delta", "json", "csv", "parquet")
SINK_MODES = ("overwrite_partitions", "append", "merge")
JOIN_TYPES = ("inner", "left", "right", "full", "left_semi", "left_anti")


def _tuple(value: Any) -> tuple[Any, ...]:
    if value is None:
        return ()
    if isinstance(value, (str, bytes)):
        return (value,)
    return tuple(value)


def _frozen(obj: Any, **values: Any) -> None:
    for key, value in values.items():
        object.__setattr__(obj, key, value)


@dataclass(frozen=True)
class Source:
    """An input of the pipeline.

    ``format="delta"`` reads ``table`` (a name under the warehouse's ``tables/`` folder, or a
    path), pinned to the version current when the run starts, optionally filtered by ``where``.
    File formats read ``path`` (relative to the warehouse, or absolute) with the declared
    ``schema``; malformed records fail the run (exit code 5). ``path``/``where`` may use
    ``{date}`` and the pipeline's params.
    """

    name: str
    format: str
    _: KW_ONLY  # options are keyword-only
    schema: StructType | None = None
    table: str = ""
    path: str = ""
    where: str = ""
    options: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _frozen(self, options=dict(self.options))

    @property
    def checks(self) -> tuple[Any, ...]:
        return ()  # attach checks to the first stage that reads a source


@dataclass(frozen=True)
class Map:
    """A narrow stage: ``fn(df, **args) -> DataFrame`` over one input."""

    name: str
    input: str
    fn: Callable[..., Any]
    _: KW_ONLY  # options are keyword-only
    args: Mapping[str, Any] = field(default_factory=dict)
    checks: Sequence[Any] = ()
    checkpoint: bool = False

    def __post_init__(self) -> None:
        _frozen(self, args=dict(self.args), checks=_tuple(self.checks))

    @property
    def inputs(self) -> tuple[str, ...]:
        return (self.input,)


@dataclass(frozen=True)
class Reduce:
    """A keyed stage: group ``input`` by ``keys`` and compute ``aggs``.

    ``salt``: ``"auto"`` finds hot keys and salts them when an aggregation is not combinable;
    ``"off"`` never salts; an integer salts every ``hot_keys`` entry (or every detected hot key)
    that many ways.
    """

    name: str
    input: str
    keys: Sequence[str]
    aggs: Sequence[Agg]
    _: KW_ONLY  # options are keyword-only
    salt: str | int = "auto"
    hot_keys: Sequence[Any] = ()
    checks: Sequence[Any] = ()
    checkpoint: bool = False

    def __post_init__(self) -> None:
        _frozen(self, keys=_tuple(self.keys), aggs=_tuple(self.aggs),
                hot_keys=tuple(_tuple(k) if isinstance(k, (list, tuple)) else (k,)
                               for k in self.hot_keys),
                checks=_tuple(self.checks))

    @property
    def inputs(self) -> tuple[str, ...]:
        return (self.input,)


@dataclass(frozen=True)
class Join:
    """An equi-join of ``left`` and ``right`` on the columns ``on`` (same names both sides).

    ``salt="auto"``, for inner, left, semi and anti joins: with AQE on (and
    ``salting.auto_join: aqe``) Spark's skew-join split, sized by the salting settings, cuts a
    skewed partition; declared ``hot_keys`` (or ``auto_join: sample``) take the left side's hot
    keys out of the skewed shuffle: their rows join a broadcast of their right rows when those
    are few, else they are split over salts and the matching right rows replicated.
    ``broadcast="auto"`` broadcasts a small right side whole ("none": never the whole side).
    """

    name: str
    left: str
    right: str
    on: Sequence[str]
    _: KW_ONLY  # options are keyword-only
    how: str = "inner"
    salt: str | int = "auto"
    hot_keys: Sequence[Any] = ()
    broadcast: str = "auto"  # "auto" | "right" | "none"
    checks: Sequence[Any] = ()
    checkpoint: bool = False

    def __post_init__(self) -> None:
        _frozen(self, on=_tuple(self.on),
                hot_keys=tuple(_tuple(k) if isinstance(k, (list, tuple)) else (k,)
                               for k in self.hot_keys),
                checks=_tuple(self.checks))

    @property
    def inputs(self) -> tuple[str, ...]:
        return (self.left, self.right)


Stage = Map | Reduce | Join


@dataclass(frozen=True)
class Sink:
    """A Delta table the pipeline publishes.

    ``mode``:
      * ``overwrite_partitions``: replace exactly the rows matching ``replace_where`` (a
        predicate on ``partition_by`` columns, e.g. ``"order_date = '{date}'"``); rows outside
        it are refused.
      * ``append``: idempotent append; a retried or resumed run never appends twice.
      * ``merge``: upsert on ``keys``; duplicate keys in the new data are refused first.
    """

    name: str
    input: str
    table: str
    mode: str
    _: KW_ONLY  # options are keyword-only
    partition_by: Sequence[str] = ()
    replace_where: str = ""
    keys: Sequence[str] = ()
    schema: StructType | None = None
    checks: Sequence[Any] = ()
    salt_partitions: str | int = "auto"

    def __post_init__(self) -> None:
        _frozen(self, partition_by=_tuple(self.partition_by), keys=_tuple(self.keys),
                checks=_tuple(self.checks))

    @property
    def inputs(self) -> tuple[str, ...]:
        return (self.input,)


@dataclass(frozen=True)
class Pipeline:
    """A whole pipeline. ``params`` are extra run parameters with their defaults (strings);
    ``date`` (the logical date, ``YYYY-MM-DD``) is always present."""

    name: str
    sources: Sequence[Source]
    stages: Sequence[Stage]
    sinks: Sequence[Sink]
    _: KW_ONLY  # options are keyword-only
    params: Mapping[str, str] = field(default_factory=dict)
    description: str = ""
    module: str = ""

    def __post_init__(self) -> None:
        _frozen(self, sources=_tuple(self.sources), stages=_tuple(self.stages),
                sinks=_tuple(self.sinks), params=dict(self.params))

    def node(self, name: str) -> Source | Stage | Sink:
        for node in (*self.sources, *self.stages, *self.sinks):
            if node.name == name:
                return node
        raise KeyError(name)

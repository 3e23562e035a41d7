"""The pipeline definition: plain, frozen data.

A pipeline module declares one :class:`Pipeline` built from sources, stages (the MapReduce
ones of :mod:`~pipelines.core.declare.stages`, the relational ones of
:mod:`~pipelines.core.declare.relational`) and sinks. Nothing here runs Spark;
:mod:`pipelines.core.planning.plan` validates the definition and propagates schemas before
any job runs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import KW_ONLY, dataclass, field
from typing import Any, Literal, get_args

from pyspark.sql.types import StructType

from pipelines.core.declare._data import as_tuple, freeze
from pipelines.core.declare.objectives import Objectives
from pipelines.core.declare.relational import Filter, Latest, Select, Sql, Top, Union, WithColumns
from pipelines.core.declare.stages import JOIN_TYPES, Join, Map, Reduce

__all__ = [
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
    "Pipeline",
    "Stage",
    "SOURCE_FORMATS",
    "SINK_MODES",
    "SinkModeName",
    "JOIN_TYPES",
]

SOURCE_FORMATS = ("delta", "json", "csv", "parquet")
# the sink modes; what each one does is in pipelines.core.delta.modes
SinkModeName = Literal["overwrite_partitions", "overwrite", "append", "merge", "scd2"]
SINK_MODES: tuple[str, ...] = get_args(SinkModeName)


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
        freeze(self, options=dict(self.options))

    @property
    def checks(self) -> tuple[Any, ...]:
        return ()  # attach checks to the first stage that reads a source


Stage = Map | Reduce | Join | Filter | Select | WithColumns | Top | Latest | Union | Sql


@dataclass(frozen=True)
class Sink:
    """A Delta table the pipeline publishes.

    ``mode``:
      * ``overwrite_partitions``: replace exactly the rows matching ``replace_where`` (a
        predicate on ``partition_by`` columns, e.g. ``"order_date = '{date}'"``); rows outside
        it are refused.
      * ``overwrite``: replace the whole table in one commit (a rerun of the same generation
        is a no-op, as for every mode).
      * ``append``: idempotent append; a retried or resumed run never appends twice.
      * ``merge``: upsert on ``keys``; duplicate keys in the new data are refused first.
      * ``scd2``: a dimension with history (slowly changing, type 2) on ``keys``: the table
        adds ``valid_from``/``valid_to`` (dates) and ``is_current``. A key whose other columns
        changed gets its current row closed (``valid_to`` = the run's date) and a new current
        row valid from the run's date; a new key gets its first row; an unchanged or absent
        key is left alone. One MERGE commit, idempotent like the others; a date earlier than
        the table's newest ``valid_from`` is refused (history is loaded in date order).

    ``stats_columns``: the columns whose min/max/null counts Delta records per file (its
    data skipping), as the table property ``delta.dataSkippingStatsColumns``. By default
    Delta records them for the first 32 columns, which costs a write about as much again as
    the Parquet itself on a wide table; naming the columns readers filter and merge on (the
    keys, the date columns; not the partition columns, which Delta skips by their values)
    keeps the skipping that matters and the write cheap. A declaration taken away later
    leaves the table's property as it was (``ALTER TABLE ... UNSET TBLPROPERTIES`` resets it).

    ``replace_schema`` (``overwrite`` only): the publish gives the table the data's columns,
    types and partitioning; without it a sink whose output differs from its existing table is
    refused at plan time.
    """

    name: str
    input: str
    table: str
    mode: SinkModeName
    _: KW_ONLY  # options are keyword-only
    partition_by: Sequence[str] = ()
    replace_where: str = ""
    keys: Sequence[str] = ()
    schema: StructType | None = None
    checks: Sequence[Any] = ()
    salt_partitions: str | int = "auto"
    stats_columns: Sequence[str] | None = None
    replace_schema: bool = False

    def __post_init__(self) -> None:
        freeze(self, partition_by=as_tuple(self.partition_by), keys=as_tuple(self.keys),
                checks=as_tuple(self.checks))
        if self.stats_columns is not None:
            freeze(self, stats_columns=as_tuple(self.stats_columns))

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
    objectives: Objectives | None = None  # checked by `pipelines slo`

    def __post_init__(self) -> None:
        freeze(self, sources=as_tuple(self.sources), stages=as_tuple(self.stages),
                sinks=as_tuple(self.sinks), params=dict(self.params))

    def node(self, name: str) -> Source | Stage | Sink:
        for node in (*self.sources, *self.stages, *self.sinks):
            if node.name == name:
                return node
        raise KeyError(name)

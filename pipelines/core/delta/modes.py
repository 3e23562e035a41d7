"""The sink modes, as one table the code asks: what each needs declared, the columns it adds,
whether later dates depend on earlier ones, how its footprint reads and how Spark writes it.

Plan checks, declared options, analysis, stored-schema checks, rendering, publishing, canaries
and backfills read a mode's attributes here; none compares mode names. A new mode is a row
here, its writer in :mod:`pipelines.core.delta.sinks` when it is not a plain save, and the
``SinkModeName`` literal in :mod:`pipelines.core.declare.spec`.
"""

from __future__ import annotations

import typing
from dataclasses import dataclass

from pipelines.core.declare.spec import Sink, SinkModeName

__all__ = ["SinkMode", "MODES", "mode_of", "HISTORY_COLUMNS", "HISTORY_COLUMN_NAMES"]

# the columns a history (type 2) table adds to the data, with their types
HISTORY_COLUMNS = (("valid_from", "date"), ("valid_to", "date"), ("is_current", "boolean"))
HISTORY_COLUMN_NAMES = tuple(name for name, _ in HISTORY_COLUMNS)


@dataclass(frozen=True)
class SinkMode:
    """One sink mode and everything the framework does differently for it."""

    name: SinkModeName
    # how the plan and ``pipelines plan`` say what a commit replaces or adds
    footprint: str
    # Spark's save mode for a plain ``DataFrameWriter.save``; None: a Delta MERGE
    save_mode: str | None
    needs_keys: bool = False  # upserts on ``keys``: declared, unique in the new data
    needs_replace_where: bool = False  # replaces the rows of ``replace_where`` only
    replaces_table: bool = False  # every commit replaces the whole table (may change schema)
    keeps_history: bool = False  # versions of each key with valid_from/valid_to/is_current
    # whether the table depends on the order of commits (the last one decides what it holds):
    # a parallel backfill commits these in date order
    order_dependent: bool = False

    @property
    def added_columns(self) -> tuple[tuple[str, str], ...]:
        """The columns (name, type) the table has on top of the sink's data."""
        return HISTORY_COLUMNS if self.keeps_history else ()

    @property
    def rows_stay(self) -> bool:
        """Whether a commit keeps rows of earlier commits (a schema change needs a migration)."""
        return not self.replaces_table

    def describe(self, *, predicate: str = "", keys: tuple[str, ...] = ()) -> str:
        return self.footprint.format(predicate=predicate, keys=", ".join(keys))


MODES: dict[str, SinkMode] = {m.name: m for m in (
    SinkMode("overwrite_partitions", "replace where {predicate}", "overwrite",
             needs_replace_where=True),
    SinkMode("overwrite", "replace the whole table", "overwrite", replaces_table=True,
             order_dependent=True),
    SinkMode("append", "append (idempotent per run)", "append"),
    SinkMode("merge", "merge on {keys}", None, needs_keys=True, order_dependent=True),
    SinkMode("scd2", "history (type 2) on {keys}: valid_from, valid_to, is_current", None,
             needs_keys=True, keeps_history=True, order_dependent=True),
)}
assert set(MODES) == set(typing.get_args(SinkModeName)), "every declared mode has a row"


def mode_of(sink: Sink) -> SinkMode:
    """The mode a sink declares (planned sinks only: ``plan`` refuses an unknown name)."""
    return MODES[sink.mode]

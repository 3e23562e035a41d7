"""Every sink mode walked through every place that treats modes differently: the plan's
checks, the declared options, analysis, the rendered footprint, the stored-schema check and a
real publish to Delta, so that a new mode cannot ship half-handled."""

from __future__ import annotations

import typing
from dataclasses import replace

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pyspark.sql.types import LongType, StringType, StructField, StructType

from pipelines import Pipeline, Select, Sink, Source
from pipelines.core.declare.spec import SinkModeName
from pipelines.core.delta.modes import MODES
from pipelines.core.errors import DefinitionError
from pipelines.core.execution.runner import run_pipeline
from pipelines.core.planning.analysis import check_schemas
from pipelines.core.planning.plan import make_plan
from pipelines.core.planning.render import render_plan
from pipelines.core.planning.stored_schemas import check_sink_tables
from tests.helpers import DATE, delta_rows

ROWS = StructType([StructField("id", StringType()), StructField("day", StringType()),
                   StructField("amount", LongType())])
EVERY_MODE = sorted(typing.get_args(SinkModeName))


def _sink(mode: str) -> Sink:
    """A sink of ``mode`` with what the mode needs declared."""
    spec = MODES[mode]
    options: dict[str, typing.Any] = {}
    if spec.needs_keys:
        options["keys"] = ["id"]
    if spec.needs_replace_where:
        options.update(partition_by=["day"], replace_where="day = '{date}'")
    return Sink("out", input="rows", table=f"t_{mode}", mode=mode, **options)


def _pipeline(sink: Sink) -> Pipeline:
    return Pipeline(name=f"modes_{sink.mode}", sources=[
        Source("raw", format="parquet", path="landing/rows", schema=ROWS)],
        stages=[Select("rows", input="raw", columns=["id", "day", "amount"])], sinks=[sink])


def describe_every_sink_mode():
    def it_has_one_row_in_the_mode_table_per_declared_name():
        assert set(MODES) == set(EVERY_MODE)

    @pytest.mark.parametrize("mode", EVERY_MODE)
    def it_plans_renders_and_publishes_to_delta(mode, spark, settings_for, tmp_path):
        warehouse = str(tmp_path / "wh")
        (tmp_path / "wh" / "landing" / "rows").mkdir(parents=True)
        pq.write_table(pa.table({"id": ["a", "b"], "day": [DATE, DATE],
                                 "amount": pa.array([1, 2], pa.int64())}),
                       tmp_path / "wh" / "landing" / "rows" / "part-0.parquet")
        plan = make_plan(_pipeline(_sink(mode)), DATE)
        schemas = check_schemas(spark, plan)
        text = render_plan(plan, warehouse)
        footprint = MODES[mode].describe(predicate=f"day = '{DATE}'", keys=("id",))
        assert f"    {mode}: {footprint}" in text
        result = run_pipeline(spark, settings_for(warehouse), plan)
        assert result.status == "succeeded"
        added = [name for name, _ in MODES[mode].added_columns]
        rows = delta_rows(warehouse, f"t_{mode}", "id", "amount", *added[:1])
        assert [r[:2] for r in rows] == [("a", 1), ("b", 2)]
        assert check_sink_tables(plan, schemas, warehouse) == []  # the table it made fits

    @pytest.mark.parametrize("mode", EVERY_MODE)
    def it_refuses_options_the_mode_does_not_use(mode):
        spec = MODES[mode]
        if not spec.needs_keys:
            with pytest.raises(DefinitionError) as refused:
                make_plan(_pipeline(replace(_sink(mode), keys=("id",))), DATE)
            assert refused.value.key == "keys"
        if not spec.needs_replace_where:
            with pytest.raises(DefinitionError) as refused:
                make_plan(_pipeline(replace(_sink(mode), replace_where="day = 'x'")), DATE)
            assert refused.value.key == "replace_where"
        if not spec.replaces_table:
            with pytest.raises(DefinitionError) as refused:
                make_plan(_pipeline(replace(_sink(mode), replace_schema=True)), DATE)
            assert refused.value.key == "replace_schema"

    @pytest.mark.parametrize("mode", [m for m in EVERY_MODE
                                      if MODES[m].needs_keys or MODES[m].needs_replace_where])
    def it_refuses_a_sink_lacking_what_the_mode_needs(mode):
        bare = Sink("out", input="rows", table="t", mode=mode)
        with pytest.raises(DefinitionError) as refused:
            make_plan(_pipeline(bare), DATE)
        assert refused.value.sink == "out"

    def it_refuses_an_unknown_mode_listing_the_known_ones():
        with pytest.raises(DefinitionError) as refused:
            make_plan(_pipeline(Sink("out", input="rows", table="t", mode="upsert")), DATE)
        assert refused.value.key == "mode"
        assert all(m in refused.value.message for m in EVERY_MODE)

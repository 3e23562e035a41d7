"""A dimension with history (sink mode scd2): each version of a row kept with when it held."""

from __future__ import annotations

import datetime as dt

import pytest
from chispa import assert_df_equality

from pipelines.core.declare.spec import Sink
from pipelines.core.delta.sinks import TxnId, check_contract, publish
from pipelines.core.delta.tables import current_version
from pipelines.core.errors import DefinitionError

SINK = Sink("dim", input="x", table="dim", mode="scd2", keys=["id"])
SCHEMA = "id int, tier string"
HISTORY = "id int, tier string, valid_from date, valid_to date, is_current boolean"


def _load(spark, path, rows, date, generation=1):
    txn = TxnId.for_sink("p", "dim", date, generation, f"run-{date}-{generation}")
    return publish(spark, spark.createDataFrame(rows, SCHEMA), SINK, path, txn, pipeline="p",
                   date=date)


def _d(text):
    return dt.date.fromisoformat(text) if text else None


def _history(spark, rows):
    return spark.createDataFrame(
        [(i, t, _d(f), _d(to), cur) for i, t, f, to, cur in rows], HISTORY)


def _table(spark, path):
    return spark.read.format("delta").load(path)


def describe_an_scd2_sink():
    def it_starts_every_key_current_from_the_first_date(spark, warehouse):
        path = f"{warehouse}/tables/dim"
        _load(spark, path, [(1, "gold"), (2, "silver")], "2026-01-01")
        assert_df_equality(_table(spark, path), _history(spark, [
            (1, "gold", "2026-01-01", None, True),
            (2, "silver", "2026-01-01", None, True)]), ignore_row_order=True,
            ignore_nullable=True)

    def it_closes_a_changed_version_and_opens_the_next_in_one_commit(spark, warehouse):
        path = f"{warehouse}/tables/dim"
        _load(spark, path, [(1, "gold"), (2, "silver"), (3, "bronze")], "2026-01-01")
        before = current_version(spark, path)
        # 1 changes, 2 unchanged, 3 absent (kept), 4 new
        out = _load(spark, path, [(1, "platinum"), (2, "silver"), (4, "bronze")], "2026-01-02")
        assert out.version == before + 1 and out.rows_written == 3  # 1 closed, 1 + 4 inserted
        assert_df_equality(_table(spark, path), _history(spark, [
            (1, "gold", "2026-01-01", "2026-01-02", False),
            (1, "platinum", "2026-01-02", None, True),
            (2, "silver", "2026-01-01", None, True),
            (3, "bronze", "2026-01-01", None, True),
            (4, "bronze", "2026-01-02", None, True)]), ignore_row_order=True,
            ignore_nullable=True)

    @pytest.mark.slow  # three more MERGEs: make test-slow
    def it_treats_a_null_becoming_a_value_as_a_change(spark, warehouse):
        path = f"{warehouse}/tables/dim"
        _load(spark, path, [(1, None)], "2026-01-01")
        _load(spark, path, [(1, "gold")], "2026-01-02")
        _load(spark, path, [(1, "gold")], "2026-01-03")  # unchanged: no new version
        assert_df_equality(_table(spark, path), _history(spark, [
            (1, None, "2026-01-01", "2026-01-02", False),
            (1, "gold", "2026-01-02", None, True)]), ignore_row_order=True,
            ignore_nullable=True)

    @pytest.mark.slow  # make test-slow
    def it_commits_nothing_when_the_same_generation_is_published_again(spark, warehouse):
        path = f"{warehouse}/tables/dim"
        _load(spark, path, [(1, "gold")], "2026-01-01")
        first = _load(spark, path, [(1, "platinum")], "2026-01-02")
        again = _load(spark, path, [(1, "platinum")], "2026-01-02")
        assert (again.skipped, again.version) == (True, first.version)
        assert _table(spark, path).count() == 2

    def it_replaces_a_dates_versions_in_place_for_a_new_generation(spark, warehouse):
        path = f"{warehouse}/tables/dim"
        _load(spark, path, [(1, "gold")], "2026-01-01")
        _load(spark, path, [(1, "platinum")], "2026-01-02", generation=1)
        _load(spark, path, [(1, "diamond")], "2026-01-02", generation=2)
        assert_df_equality(_table(spark, path), _history(spark, [
            (1, "gold", "2026-01-01", "2026-01-02", False),
            (1, "diamond", "2026-01-02", None, True)]), ignore_row_order=True,
            ignore_nullable=True)

    def it_refuses_a_date_before_the_history_it_holds(spark, warehouse):
        path = f"{warehouse}/tables/dim"
        _load(spark, path, [(1, "gold")], "2026-01-05")
        before = current_version(spark, path)
        late = spark.createDataFrame([(1, "silver")], SCHEMA)
        with pytest.raises(DefinitionError) as err:
            check_contract(spark, late, SINK, path, pipeline="p", date="2026-01-03")
        assert (err.value.sink, err.value.key) == ("dim", "2026-01-03")
        with pytest.raises(DefinitionError):
            _load(spark, path, [(1, "silver")], "2026-01-03")
        assert current_version(spark, path) == before


def describe_planning_an_scd2_sink():
    def _pipeline(sink, columns="id int, tier string"):
        from pyspark.sql.types import _parse_datatype_string

        from pipelines import Pipeline, Select, Source

        schema = _parse_datatype_string(columns)
        return Pipeline(name="p", sources=[Source("raw", format="parquet", path="raw",
                                                  schema=schema)],
                        stages=[Select("rows", input="raw", columns=schema.fieldNames())],
                        sinks=[sink])

    def it_refuses_an_scd2_sink_without_keys(spark):
        from pipelines.core.planning.plan import make_plan

        with pytest.raises(DefinitionError) as err:
            make_plan(_pipeline(Sink("dim", input="rows", table="dim", mode="scd2")),
                      "2026-01-01")
        assert (err.value.sink, err.value.key) == ("dim", "keys")

    def it_refuses_data_with_a_column_the_history_adds(spark):
        from pipelines.core.planning.analysis import check_schemas
        from pipelines.core.planning.plan import make_plan

        plan = make_plan(_pipeline(Sink("dim", input="rows", table="dim", mode="scd2",
                                        keys=["id"]), "id int, is_current boolean"),
                         "2026-01-01")
        with pytest.raises(DefinitionError) as err:
            check_schemas(spark, plan)
        assert (err.value.sink, err.value.column) == ("dim", "is_current")

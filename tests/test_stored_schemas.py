"""Plan checks against the data already stored, before any stage runs: a source's declared
types against its Parquet footers (logical types) or its Delta table's schema, and a sink's
output against its existing table, with the way forward in the refusal."""

from __future__ import annotations

import decimal
import os

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from deltalake import write_deltalake

from tests.helpers import DATE, cli, delta_version


def _items(warehouse: str, *, qty: pa.DataType = pa.int64(), name: str = "part-0.parquet",
           price: pa.DataType = pa.decimal128(15, 2)) -> str:
    folder = f"{warehouse}/landing/items"
    os.makedirs(folder, exist_ok=True)
    data = pa.table({"id": pa.array(["a", "b"]), "qty": pa.array([1, 2], pa.int32()).cast(qty),
                     "price": pa.array([decimal.Decimal("1.50"), decimal.Decimal("2.25")],
                                       price)})
    pq.write_table(data, f"{folder}/{name}")
    return f"{folder}/{name}"


def _labels(warehouse: str, label: pa.Array | None = None) -> str:
    path = f"{warehouse}/tables/item_labels"
    columns = {"id": pa.array(["a", "b"])}
    if label is not None:
        columns["label"] = label
    write_deltalake(path, pa.table(columns), mode="overwrite", schema_mode="overwrite")
    return path


@pytest.fixture
def stored(tmp_path):
    warehouse = str(tmp_path / "wh")
    _items(warehouse)
    _labels(warehouse, pa.array(["apple", "bean"]))
    return warehouse


def describe_a_parquet_source():
    def it_refuses_a_declared_type_the_footers_contradict_naming_the_logical_type(
            spark, stored, capsys):
        file = _items(stored, qty=pa.decimal128(15, 2), name="part-1.parquet")
        code, out, err = cli(capsys, "plan", "stored_types", "--date", DATE, warehouse=stored)
        assert code == 5, err
        assert (out["kind"], out["key"]) == ("input", "type_mismatch")
        assert (out["source"], out["file"], out["column"]) == ("items", file, "qty")
        assert (out["declared_type"], out["found_type"]) == ("bigint", "decimal(15,2)")
        assert "column 'qty' is decimal(15,2) in" in out["message"]

    def it_shows_an_integer_widening_spark_reads_through_as_a_note(spark, stored, capsys):
        file = _items(stored, qty=pa.int32(), name="part-1.parquet")
        code, out, err = cli(capsys, "plan", "stored_types", "--date", DATE, warehouse=stored)
        assert code == 0, err
        assert out["notes"] == [f"source items: column 'qty' is int in {file}, declared bigint "
                                "(Spark widens it when reading)"]

    def it_refuses_a_narrower_declaration_spark_would_truncate(spark, stored, capsys):
        _items(stored, price=pa.decimal128(18, 4), name="part-1.parquet")
        code, out, err = cli(capsys, "plan", "stored_types", "--date", DATE, warehouse=stored)
        assert code == 5, err
        assert (out["column"], out["found_type"], out["declared_type"]) == (
            "price", "decimal(18,4)", "decimal(15,2)")

    def it_refuses_a_file_that_is_not_parquet_naming_it(spark, stored, capsys):
        file = f"{stored}/landing/items/part-1.parquet"
        with open(file, "w") as fh:
            fh.write("id,qty\n")
        code, out, err = cli(capsys, "plan", "stored_types", "--date", DATE, warehouse=stored)
        assert code == 5, err
        assert (out["key"], out["source"], out["file"]) == ("not_parquet", "items", file)

    def it_refuses_a_run_before_any_stage_with_the_same_fields(spark, stored, capsys):
        _items(stored, qty=pa.string(), name="part-1.parquet")
        code, out, err = cli(capsys, "run", "stored_types", "--date", DATE, warehouse=stored)
        assert code == 5, err
        assert (out["column"], out["found_type"]) == ("qty", "string")
        assert delta_version(stored, "stored_items") is None


def describe_a_delta_source():
    def it_refuses_a_column_of_another_type(spark, stored, capsys):
        path = _labels(stored, pa.array([1, 2], pa.int64()))
        code, out, err = cli(capsys, "plan", "stored_types", "--date", DATE, warehouse=stored)
        assert code == 5, err
        assert (out["source"], out["file"], out["column"]) == ("labels", path, "label")
        assert (out["declared_type"], out["found_type"]) == ("string", "bigint")

    def it_refuses_a_declared_column_the_table_lacks(spark, stored, capsys):
        _labels(stored)
        code, out, err = cli(capsys, "plan", "stored_types", "--date", DATE, warehouse=stored)
        assert code == 5, err
        assert (out["key"], out["source"], out["column"]) == ("missing_column", "labels",
                                                               "label")


def describe_a_sink_whose_table_exists():
    def it_refuses_a_type_change_at_plan_and_run_saying_how_to_go_on(spark, stored, capsys):
        assert cli(capsys, "run", "stored_types", "--date", DATE, warehouse=stored)[0] == 0
        before = delta_version(stored, "stored_items")
        for command in (["plan"], ["run", "--force"]):
            code, out, err = cli(capsys, *command, "stored_types", "--date", DATE, "--param",
                                 "qty_type=int", warehouse=stored)
            assert code == 2, err
            assert (out["kind"], out["key"]) == ("definition", "table_schema")
            assert (out["sink"], out["table"], out["column"]) == ("out", "stored_items", "qty")
            assert out["message"].startswith("column 'qty' is int but table stored_items has "
                                             "bigint; ")
            assert "declare replace_schema=True on the sink" in out["message"]
        assert delta_version(stored, "stored_items") == before

    def it_replaces_the_schema_when_the_sink_declares_it(spark, stored, capsys):
        assert cli(capsys, "run", "stored_types", "--date", DATE, warehouse=stored)[0] == 0
        code, out, err = cli(capsys, "plan", "stored_types_replaced", "--date", DATE,
                             "--param", "qty_type=int", warehouse=stored)
        assert code == 0, err
        assert out["notes"] == ["sink out: replaces the schema of table stored_items (column "
                                "'qty' is int but table stored_items has bigint)"]
        code, out, err = cli(capsys, "run", "stored_types_replaced", "--date", DATE,
                             "--param", "qty_type=int", warehouse=stored)
        assert code == 0, err
        table = spark.read.format("delta").load(f"{stored}/tables/stored_items")
        assert table.schema["qty"].dataType.simpleString() == "int"
        assert sorted(r.qty for r in table.collect()) == [1, 2]

    def it_refuses_replace_schema_on_a_mode_whose_rows_stay(spark, stored, capsys):
        from dataclasses import replace

        from testpipes.stored_types import pipeline

        from pipelines import Sink
        from pipelines.core.errors import DefinitionError
        from pipelines.core.planning.plan import make_plan

        sink = Sink("out", input="typed", table="stored_items", mode="append",
                    replace_schema=True)
        with pytest.raises(DefinitionError) as refused:
            make_plan(replace(pipeline, sinks=[sink]), DATE)
        assert (refused.value.sink, refused.value.key) == ("out", "replace_schema")

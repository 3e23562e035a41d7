"""Every declared option is honored for every format it accepts, or refused by the plan.

The matrix: a source's ``where`` and reader ``options`` for each format (honored on real files
and tables, or refused naming the option), and the stage, sink and expectation options that
mean nothing in the combination declared.
"""

from __future__ import annotations

import dataclasses
import os

import pytest
from chispa import assert_df_equality
from pyspark.sql.types import LongType, StringType, StructField, StructType

from pipelines import Join, Map, Pipeline, Reduce, Sink, Source, agg
from pipelines import expect as e
from pipelines.core.errors import DefinitionError
from pipelines.core.frames.sources import open_source
from pipelines.core.planning.analysis import check_schemas
from pipelines.core.planning.declared_options import NOT_FOR_READING, READ_OPTIONS
from pipelines.core.planning.plan import make_plan
from tests.helpers import DATE, cli, table

ROWS = StructType([StructField("region", StringType()), StructField("amount", LongType())])
DATA = [("eu", 5), ("us", 7), ("eu", 11)]


def ident(df):
    return df


def _pipeline(source: Source, **changes) -> Pipeline:
    base = Pipeline(name="p", sources=[source],
                    stages=[Map("copied", input=source.name, fn=ident)],
                    sinks=[Sink("out", input="copied", table="out", mode="append")])
    return dataclasses.replace(base, **changes)


def _refused(source: Source | None = None, **changes) -> DefinitionError:
    source = source or Source("rows", format="json", path="in", schema=ROWS)
    with pytest.raises(DefinitionError) as err:
        make_plan(_pipeline(source, **changes), DATE)
    return err.value


def _written(spark, warehouse: str, fmt: str) -> str:
    """DATA written in ``fmt`` under the warehouse; returns the source's path or table."""
    df = spark.createDataFrame(DATA, ROWS)
    if fmt == "delta":
        df.write.format("delta").save(f"{warehouse}/tables/rows")
        return "rows"
    writer = df.coalesce(1).write.format(fmt)
    if fmt == "csv":
        writer = writer.option("header", "true")
    writer.save(f"{warehouse}/in/rows")
    return "in/rows"


def _source(fmt: str, where_to: str, **fields) -> Source:
    place = {"table": where_to} if fmt == "delta" else {"path": where_to}
    return Source("rows", format=fmt, schema=ROWS, **place, **fields)


def describe_a_sources_where():
    @pytest.mark.parametrize("fmt", ["json", "csv", "parquet", "delta"])
    def it_filters_every_format(spark, warehouse, fmt):
        source = _source(fmt, _written(spark, warehouse, fmt), where="region = 'eu'")
        read = open_source(spark, source, warehouse, pipeline="p")
        expected = spark.createDataFrame([("eu", 5), ("eu", 11)], ROWS)
        assert_df_equality(read.frame, expected, ignore_row_order=True)

    @pytest.mark.parametrize("fmt", ["json", "csv", "parquet"])
    def it_is_pushed_into_the_file_scan(spark, warehouse, fmt):
        source = _source(fmt, _written(spark, warehouse, fmt), where="amount > 6")
        frame = open_source(spark, source, warehouse, pipeline="p").frame
        physical = frame._jdf.queryExecution().executedPlan().toString()
        assert "PushedFilters: [IsNotNull(amount), GreaterThan(amount,6)]" in physical

    def it_is_checked_by_the_plan_naming_the_source_and_column(spark):
        source = Source("rows", format="parquet", path="in", schema=ROWS, where="amont > 6")
        plan = make_plan(_pipeline(source), DATE)
        with pytest.raises(DefinitionError) as err:
            check_schemas(spark, plan)
        assert (err.value.source, err.value.column) == ("rows", "amont")

    def it_changes_the_published_answer_of_a_run(spark, warehouse, capsys):
        spark.createDataFrame(DATA, ROWS).write.parquet(f"{warehouse}/landing/sales/{DATE}")
        code, out, _ = cli(capsys, "run", "filtered_sales", "--date", DATE, warehouse=warehouse)
        assert (code, out["status"]) == (0, "succeeded")
        totals = table(spark, warehouse, "region_totals")
        expected = spark.createDataFrame([("eu", 16)], ["region", "total"])
        assert_df_equality(totals, expected, ignore_nullable=True)


def describe_reader_options():
    @pytest.mark.parametrize("fmt,options,rows", [
        ("csv", {"sep": ";", "header": "true"}, "region;amount\neu;5\n"),
        ("json", {"allowSingleQuotes": "true"}, "{'region': 'eu', 'amount': 5}\n"),
    ])
    def it_honors_a_text_formats_options(spark, warehouse, fmt, options, rows):
        folder = f"{warehouse}/in/rows"
        os.makedirs(folder)
        with open(f"{folder}/part-0.{fmt}", "w") as fh:
            fh.write(rows)
        source = Source("rows", format=fmt, path="in/rows", schema=ROWS, options=options)
        make_plan(_pipeline(source), DATE)  # accepted
        frame = open_source(spark, source, warehouse, pipeline="p").frame
        assert_df_equality(frame, spark.createDataFrame([("eu", 5)], ROWS))

    @pytest.mark.parametrize("fmt", ["json", "csv", "parquet"])
    def it_honors_the_file_index_options_of_every_file_format(spark, warehouse, fmt):
        where_to = _written(spark, warehouse, fmt)
        with open(f"{warehouse}/{where_to}/notes.txt", "w") as fh:
            fh.write("not data\n")
        source = _source(fmt, where_to, options={"pathGlobFilter": f"*.{fmt}"})
        make_plan(_pipeline(source), DATE)
        frame = open_source(spark, source, warehouse, pipeline="p").frame
        assert frame.count() == len(DATA)

    @pytest.mark.parametrize("fmt", ["json", "csv", "parquet"])
    def it_refuses_an_unknown_option_suggesting_the_closest(fmt):
        err = _refused(Source("rows", format=fmt, path="in", schema=ROWS,
                              options={"pathGlobFiltr": "*.x"}))
        assert (err.pipeline, err.source, err.key) == ("p", "rows", "pathGlobFiltr")
        assert "did you mean 'pathGlobFilter'" in err.message

    @pytest.mark.parametrize("fmt,option", [("csv", "inferSchema"), ("json", "samplingRatio"),
                                            ("parquet", "mergeSchema"), ("csv", "compression"),
                                            ("json", "pretty")])
    def it_refuses_options_that_a_read_with_a_declared_schema_ignores(fmt, option):
        err = _refused(Source("rows", format=fmt, path="in", schema=ROWS,
                              options={option: "true"}))
        assert (err.source, err.key) == ("rows", option)

    def it_refuses_an_option_of_another_format():
        err = _refused(Source("rows", format="parquet", path="in", schema=ROWS,
                              options={"sep": ";"}))
        assert (err.source, err.key) == ("rows", "sep")

    def it_matches_option_names_as_spark_does_whatever_their_case():
        source = Source("rows", format="csv", path="in", schema=ROWS, options={"SEP": ";"})
        make_plan(_pipeline(source), DATE)

    def it_refuses_reader_options_and_a_path_on_a_delta_source():
        err = _refused(Source("rows", format="delta", table="t", schema=ROWS,
                              options={"versionAsOf": "3"}))
        assert (err.source, err.key) == ("rows", "versionAsOf")
        err = _refused(Source("rows", format="delta", table="t", path="x", schema=ROWS))
        assert (err.source, err.key) == ("rows", "path")

    def it_refuses_a_table_on_a_file_source():
        err = _refused(Source("rows", format="json", path="in", table="t", schema=ROWS))
        assert (err.source, err.key) == ("rows", "table")

    @pytest.mark.parametrize("fmt,spark_object", [
        ("csv", "org.apache.spark.sql.catalyst.csv.CSVOptions"),
        ("json", "org.apache.spark.sql.catalyst.json.JSONOptions"),
        ("parquet", "org.apache.spark.sql.execution.datasources.parquet.ParquetOptions"),
    ])
    def it_classifies_every_option_the_running_spark_knows(spark, fmt, spark_object):
        jvm = spark.sparkContext._jvm
        names = set()
        for obj in (spark_object, "org.apache.spark.sql.execution.datasources.FileIndexOptions"):
            found = getattr(jvm, obj).getAllOptions().toList().mkString("\n")
            names |= {n.lower() for n in found.split("\n")}
        ours = {n.lower() for n in READ_OPTIONS[fmt]} | {n.lower() for n in NOT_FOR_READING}
        assert names - ours == set()


def describe_stage_options():
    events = Source("rows", format="json", path="in", schema=ROWS)
    other = Source("other", format="json", path="other", schema=ROWS)

    def _stage_refused(stage) -> DefinitionError:
        return _refused(events, sources=[events, other], stages=[stage],
                        sinks=[Sink("out", input=stage.name, table="out", mode="append")])

    def it_refuses_hot_keys_that_salt_off_would_never_salt():
        err = _stage_refused(Reduce("r", input="rows", keys=["region"],
                                    aggs=[agg.collect_set("amount", "s")], salt="off",
                                    hot_keys=["eu"]))
        assert (err.stage, err.key) == ("r", "hot_keys")

    def it_refuses_hot_keys_of_a_reduce_that_auto_never_salts():
        err = _stage_refused(Reduce("r", input="rows", keys=["region"],
                                    aggs=[agg.sum_("amount", "s")], hot_keys=["eu"]))
        assert (err.stage, err.key) == ("r", "hot_keys")
        make_plan(_pipeline(events, stages=[Reduce("r", input="rows", keys=["region"],
                                                   aggs=[agg.sum_("amount", "s")], salt=4,
                                                   hot_keys=["eu"])],
                            sinks=[Sink("out", input="r", table="out", mode="append")]), DATE)

    @pytest.mark.parametrize("how", ["right", "full"])
    def it_refuses_salting_and_broadcasting_what_an_outer_join_cannot(how):
        for option, value in (("salt", 4), ("hot_keys", ["eu"]), ("broadcast", "right")):
            join = Join("j", left="rows", right="other", on=["region"], how=how,
                        **{option: value})
            err = _stage_refused(join)
            assert (err.stage, err.key) == ("j", option)

    def it_refuses_salting_a_join_that_broadcasts_its_right_side():
        err = _stage_refused(Join("j", left="rows", right="other", on=["region"],
                                  broadcast="right", hot_keys=["eu"]))
        assert (err.stage, err.key) == ("j", "hot_keys")


def describe_sink_and_expectation_options():
    events = Source("rows", format="json", path="in", schema=ROWS)

    @pytest.mark.parametrize("mode,option,value", [
        ("append", "replace_where", "region = 'eu'"),
        ("merge", "replace_where", "region = 'eu'"),
        ("append", "keys", ["region"]),
        ("overwrite_partitions", "keys", ["region"]),
        ("append", "salt_partitions", 4),
    ])
    def it_refuses_an_option_the_sinks_mode_does_not_use(mode, option, value):
        fields = {"keys": ["region"]} if mode == "merge" else {}
        if mode == "overwrite_partitions":
            fields = {"partition_by": ["region"], "replace_where": "region = 'eu'"}
        sink = Sink("out", input="copied", table="out", mode=mode, **{**fields, option: value})
        err = _refused(events, sinks=[sink])
        assert (err.sink, err.key) == ("out", option)

    def it_refuses_a_drop_share_on_a_check_that_drops_nothing():
        err = _refused(events, stages=[Map("copied", input="rows", fn=ident, checks=[
            e.not_null("region", severity="warn", max_drop_share=0.1)])])
        assert (err.stage, err.key) == ("copied", "max_drop_share")

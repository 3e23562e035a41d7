"""Publishing: one idempotent commit per sink, scoped to the run's footprint."""

from __future__ import annotations

import pytest
from chispa import assert_df_equality

from pipelines.core.declare.spec import Sink
from pipelines.core.delta.conflicts import RETRYABLE_CONFLICTS, is_retryable_conflict
from pipelines.core.delta.sinks import TxnId, find_commit, publish
from pipelines.core.delta.tables import current_version
from pipelines.core.errors import DefinitionError, PublishError, QualityError
from pipelines.core.execution.concurrency import run_concurrently


def _txn(generation=1):
    return TxnId.for_sink("p", "s", "2026-11-26", generation, "run-1")


def describe_append():
    def it_never_appends_twice_for_the_same_run(spark, warehouse):
        path = f"{warehouse}/tables/t"
        df = spark.createDataFrame([(1, "a"), (2, "b")], "id int, v string")
        sink = Sink("s", input="x", table="t", mode="append")
        first = publish(spark, df, sink, path, _txn(), pipeline="p")
        again = publish(spark, df, sink, path, _txn(), pipeline="p")
        assert (first.skipped, again.skipped) == (False, True)
        assert again.version == first.version == current_version(spark, path)
        assert again.rows_written == 2
        assert spark.read.format("delta").load(path).count() == 2

    def it_appends_again_for_a_new_generation(spark, warehouse):
        path = f"{warehouse}/tables/t"
        df = spark.createDataFrame([(1, "a")], "id int, v string")
        sink = Sink("s", input="x", table="t", mode="append")
        publish(spark, df, sink, path, _txn(1), pipeline="p")
        publish(spark, df, sink, path, _txn(2), pipeline="p")
        assert spark.read.format("delta").load(path).count() == 2

    def it_never_reports_a_skipped_write_the_table_no_longer_holds(spark, warehouse):
        from delta.tables import DeltaTable

        path = f"{warehouse}/tables/t"
        df = spark.createDataFrame([(1, "a")], "id int, v string")
        sink = Sink("s", input="x", table="t", mode="append")
        first = publish(spark, df, sink, path, _txn(1), pipeline="p")
        DeltaTable.forPath(spark, path).restoreToVersion(first.version - 1)
        with pytest.raises(PublishError) as err:
            publish(spark, df, sink, path, _txn(1), pipeline="p")  # Delta skips it
        assert (err.value.sink, err.value.key) == ("s", f"v{first.version + 1}")
        assert spark.read.format("delta").load(path).count() == 0


def describe_overwrite_partitions():
    def it_refuses_rows_outside_the_partition_predicate(spark, warehouse):
        path = f"{warehouse}/tables/t"
        sink = Sink("s", input="x", table="t", mode="overwrite_partitions",
                    partition_by=["d"], replace_where="d = '2026-11-26'")
        df = spark.createDataFrame([("2026-11-26", 1), ("2026-11-25", 2)], "d string, n int")
        with pytest.raises(DefinitionError) as err:
            publish(spark, df, sink, path, _txn(), pipeline="p")
        assert err.value.sink == "s"
        assert current_version(spark, path) == 0  # only the empty table created up front


def describe_the_contract_check():
    def it_refuses_another_partitioning_than_the_tables(spark, warehouse):
        from pipelines.core.delta.sinks import check_contract

        path = f"{warehouse}/tables/t"
        df = spark.createDataFrame([(1, "a")], "id int, v string")
        df.write.format("delta").partitionBy("id").save(path)
        sink = Sink("s", input="x", table="t", mode="append", partition_by=["v"])
        with pytest.raises(DefinitionError) as err:
            check_contract(spark, df, sink, path, pipeline="p")
        assert (err.value.sink, err.value.key) == ("s", "partition_by")
        check_contract(spark, df, Sink("s", input="x", table="t", mode="append",
                                       partition_by=["id"]), path, pipeline="p")


def describe_overwrite():
    def it_replaces_the_whole_table_once_per_generation(spark, warehouse):
        path = f"{warehouse}/tables/t"
        sink = Sink("s", input="x", table="t", mode="overwrite")
        publish(spark, spark.createDataFrame([(1, "a"), (2, "b")], "id int, v string"), sink,
                path, _txn(1), pipeline="p")
        new = spark.createDataFrame([(3, "c")], "id int, v string")
        second = publish(spark, new, sink, path, _txn(2), pipeline="p")
        again = publish(spark, new, sink, path, _txn(2), pipeline="p")
        assert (second.skipped, again.skipped, again.version) == (False, True, second.version)
        assert_df_equality(spark.read.format("delta").load(path), new)


def describe_statistics_columns():
    def it_records_statistics_for_the_declared_columns_only(spark, warehouse):
        from pipelines.core.delta.sinks import STATS_COLUMNS, table_properties

        path = f"{warehouse}/tables/t"
        df = spark.createDataFrame([(1, "a", 2.5), (2, "b", 4.0)], "id int, v string, x double")
        sink = Sink("s", input="x", table="t", mode="overwrite", stats_columns=["id", "v"])
        publish(spark, df, sink, path, _txn(1), pipeline="p")
        assert table_properties(spark, path)[STATS_COLUMNS] == "id,v"
        stats = spark.read.json(f"{path}/_delta_log/00000000000000000001.json").where(
            "add is not null").select("add.stats").first()[0]
        assert '"minValues":{"id":1,"v":"a"}' in stats
        # declared differently later: the table's property follows, before the data commit
        narrower = Sink("s", input="x", table="t", mode="overwrite", stats_columns=["id"])
        publish(spark, df, narrower, path, _txn(2), pipeline="p")
        assert table_properties(spark, path)[STATS_COLUMNS] == "id"
        assert_df_equality(spark.read.format("delta").load(path), df, ignore_row_order=True)


def describe_merge():
    def it_reports_duplicate_keys_before_merging(spark, warehouse):
        path = f"{warehouse}/tables/t"
        sink = Sink("s", input="x", table="t", mode="merge", keys=["id"])
        df = spark.createDataFrame([(1, "a"), (1, "b"), (2, "c")], "id int, v string")
        with pytest.raises(QualityError) as err:
            publish(spark, df, sink, path, _txn(), pipeline="p")
        assert err.value.samples == [(1,)]
        assert err.value.column == "id"

    def it_upserts_once_per_run(spark, warehouse):
        path = f"{warehouse}/tables/t"
        sink = Sink("s", input="x", table="t", mode="merge", keys=["id"])
        publish(spark, spark.createDataFrame([(1, "a")], "id int, v string"), sink, path,
                _txn(1), pipeline="p")
        update = spark.createDataFrame([(1, "b"), (2, "c")], "id int, v string")
        out = publish(spark, update, sink, path, _txn(2), pipeline="p")
        retry = publish(spark, update, sink, path, _txn(2), pipeline="p")
        assert retry.skipped and retry.version == out.version
        assert out.key_check == "query"  # nothing proved the keys unique: they were queried
        rows = sorted(tuple(r) for r in spark.read.format("delta").load(path).collect())
        assert rows == [(1, "b"), (2, "c")]

    def it_keeps_its_idempotent_write_pair_off_the_callers_session(spark, warehouse):
        path = f"{warehouse}/tables/t"
        sink = Sink("s", input="x", table="t", mode="merge", keys=["id"])
        publish(spark, spark.createDataFrame([(1, "a")], "id int, v string"), sink, path,
                _txn(), pipeline="p")
        assert spark.conf.get("spark.databricks.delta.write.txnAppId", None) is None
        assert spark.conf.get("spark.databricks.delta.commitInfo.userMetadata", None) is None


def describe_publishing_at_once():
    def it_gives_each_table_its_own_commit_when_a_merge_runs_alongside(spark, warehouse):
        merged = Sink("m", input="x", table="m", mode="merge", keys=["id"])
        appended = Sink("a", input="x", table="a", mode="append")
        df = spark.createDataFrame([(1, "a"), (2, "b")], "id int, v string")
        txns = {s.name: TxnId.for_sink("p", s.name, "2026-11-26", 1, "r") for s in (merged,
                                                                                  appended)}

        def both():
            return run_concurrently(
                [lambda s=s: publish(spark, df, s, f"{warehouse}/tables/{s.table}",
                                     txns[s.name], pipeline="p") for s in (merged, appended)],
                workers=2)

        first, again = both(), both()
        assert [o.skipped for o in first] == [False, False]
        assert [o.skipped for o in again] == [True, True]
        for sink in (merged, appended):
            found = find_commit(spark, f"{warehouse}/tables/{sink.table}", txns[sink.name].tag)
            assert found is not None and found[1] == 2


def describe_conflicts():
    def it_names_every_retryable_delta_conflict_explicitly():
        import delta.exceptions as dx

        for name in RETRYABLE_CONFLICTS:
            cls = getattr(dx, name)
            assert is_retryable_conflict(cls.__new__(cls))
        assert not is_retryable_conflict(ValueError("x"))


def describe_small_appends():
    def it_commits_rows_spark_reads_with_the_declared_schema_and_no_spark_job(spark, warehouse):
        import datetime as dt

        from pyspark.sql.types import (
            IntegerType,
            StringType,
            StructField,
            StructType,
            TimestampType,
        )

        from pipelines.core.delta.appends import append_rows

        schema = StructType([StructField("run_id", StringType(), False),
                             StructField("attempt", IntegerType(), True),
                             StructField("ts", TimestampType(), False)])
        path = f"{warehouse}/_pipelines/events"
        at = dt.datetime(2026, 11, 26, 3, 0, tzinfo=dt.UTC)
        append_rows(path, [{"run_id": "r1", "attempt": 1, "ts": at}], schema)  # no session
        append_rows(path, [{"run_id": "r2", "attempt": None, "ts": at}], schema)
        table = spark.read.format("delta").load(path)
        assert table.schema == schema
        expected = spark.createDataFrame(
            [("r1", 1, at.replace(tzinfo=None)), ("r2", None, at.replace(tzinfo=None))], schema)
        assert_df_equality(table, expected, ignore_row_order=True)
        assert current_version(spark, path) == 1

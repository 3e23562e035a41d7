"""Salting is tested once, here: salted reduce and join equal their plain forms."""

from __future__ import annotations

from dataclasses import replace

from chispa import assert_df_equality
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyspark.sql import functions as F

from pipelines.core.config.settings import SaltSettings
from pipelines.core.declare import aggregations as agg
from pipelines.core.declare.spec import Join, Reduce
from pipelines.core.execution.session import scoped_conf
from pipelines.core.salting import (
    SALT,
    decide_salting,
    declared_hot_keys,
    detect_hot_keys,
    hot_rows_fit_broadcast,
    place_salts,
    plain_reduce,
    salt_column,
    salted_join,
    salted_reduce,
    skew_conf,
)

AGGS = [agg.count("n"), agg.sum_("v", "total"), agg.min_("v", "lo"), agg.max_("v", "hi"),
        agg.count_distinct("v", "distinct"), agg.collect_set("v", "values"),
        agg.sorted_list("v", "all_values"), agg.top_k("v", 2, "top2"),
        agg.avg("v", "mean")]

rows_strategy = st.lists(
    st.tuples(st.sampled_from(["hot", "a", "b", "c", None]), st.integers(-5, 5)),
    min_size=1, max_size=60)


def _frame(spark, rows):
    return spark.createDataFrame(rows, "k string, v int")


def describe_salted_reduce():
    @settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))
    @given(rows=rows_strategy, salts=st.integers(2, 5))
    def it_equals_the_plain_reduce_for_any_data_and_skew(spark, rows, salts):
        df = _frame(spark, rows)
        hot = declared_hot_keys(["k"], [("hot",), (None,)], salts)
        salted = salted_reduce(df, ["k"], AGGS, hot)
        plain = plain_reduce(df, ["k"], AGGS)
        assert_df_equality(salted, plain, ignore_row_order=True, ignore_nullable=True,
                           allow_nan_equality=True)

    @settings(max_examples=6, deadline=None, suppress_health_check=list(HealthCheck))
    @given(rows=rows_strategy, salts=st.integers(2, 5))
    def it_salts_by_row_content_when_distinct_aggregations_read_different_columns(
            spark, rows, salts):
        df = _frame(spark, rows).withColumn("w", (F.col("v") * 7) % 3)
        aggs = [agg.count_distinct("v", "distinct_v"), agg.collect_set("w", "set_w"),
                agg.top_k("v", 2, "top2")]
        hot = declared_hot_keys(["k"], [("hot",)], salts)
        assert_df_equality(salted_reduce(df, ["k"], aggs, hot), plain_reduce(df, ["k"], aggs),
                           ignore_row_order=True, ignore_nullable=True)

    def it_splits_a_hot_key_by_the_value_of_its_distinct_column(spark):
        """Each value lands in one piece, so the pieces' distinct counts simply add up."""
        df = _frame(spark, [("hot", i % 10) for i in range(200)])
        hot = declared_hot_keys(["k"], [("hot",)], 4)
        pieces = (df.withColumn("s", salt_column(df, hot, ["v"])).groupBy("v")
                  .agg(F.count_distinct("s").alias("n")))
        assert pieces.where("n > 1").count() == 0
        assert_df_equality(salted_reduce(df, ["k"], [agg.count_distinct("v", "d")], hot),
                           spark.createDataFrame([("hot", 10)], "k string, d long"),
                           ignore_nullable=True)

    def it_places_each_piece_of_a_hot_key_in_its_own_shuffle_partition(spark):
        df = _frame(spark, [("hot", i) for i in range(400)] + [("a", 1)])
        hot = place_salts(df, declared_hot_keys(["k"], [("hot",)], 8), partitions=16)
        assert len(set(hot.keys[0].values)) == 8
        salted = df.withColumn(SALT, salt_column(df, hot))
        pieces = (salted.where("k = 'hot'").repartition(16, "k", SALT)
                  .groupBy(F.spark_partition_id().alias("p"))
                  .agg(F.count_distinct(SALT).alias("pieces")))
        assert pieces.agg(F.max("pieces")).head()[0] == 1
        assert pieces.count() == 8
        assert_df_equality(salted_reduce(df, ["k"], AGGS, hot), plain_reduce(df, ["k"], AGGS),
                           ignore_row_order=True, ignore_nullable=True, allow_nan_equality=True)
        right = spark.createDataFrame([("hot", "H"), ("a", "A")], "k string, w string")
        assert_df_equality(salted_join(df, right, ["k"], "inner", hot),
                           df.join(right, ["k"], "inner"), ignore_row_order=True,
                           ignore_nullable=True)

    def it_places_pieces_of_several_hot_keys_of_any_types_without_a_spark_job(spark):
        import datetime as dt

        df = spark.createDataFrame([("x", 1, dt.date(2026, 11, 26))], "k string, n bigint, d date")
        hot = declared_hot_keys(["k", "n", "d"], [("x", 1, dt.date(2026, 11, 26)),
                                                  ("y", 2, dt.date(2026, 11, 27))], 8)
        tracker = spark.sparkContext.statusTracker()
        spark.sparkContext.setJobGroup("place-salts", "placing salts")
        try:
            placed = place_salts(df, hot, partitions=32)
        finally:
            spark.sparkContext.setLocalProperty("spark.jobGroup.id", None)
        assert list(tracker.getJobIdsForGroup("place-salts")) == []
        pieces = spark.createDataFrame(
            [(*key.value, salt) for key in placed.keys for salt in key.values],
            "k string, n bigint, d date, salt int")
        partition = F.pmod(F.hash("k", "n", "d", "salt"), F.lit(32))
        assert pieces.select(partition).distinct().count() == 16  # all 16 pieces apart

    def it_keeps_the_types_of_the_plain_reduce(spark):
        from decimal import Decimal

        df = spark.createDataFrame([("hot", Decimal("1.50"))], "k string, v decimal(18,2)")
        hot = declared_hot_keys(["k"], [("hot",)], 2)
        aggs = [agg.sum_("v", "total"), agg.top_k("v", 2, "top")]
        assert (salted_reduce(df, ["k"], aggs, hot).schema.simpleString()
                == plain_reduce(df, ["k"], aggs).schema.simpleString())

    def it_gives_every_row_the_same_salt_on_every_run(spark):
        df = _frame(spark, [("hot", i) for i in range(50)])
        hot = declared_hot_keys(["k"], [("hot",)], 4)
        first = df.withColumn("s", salt_column(df, hot)).collect()
        second = df.withColumn("s", salt_column(df, hot)).collect()
        assert first == second
        assert {r["s"] for r in first} == {0, 1, 2, 3}

    def it_supports_mergeable_custom_and_sketch_aggregations(spark):
        bitor = agg.custom("any_bits", partial=lambda: F.bit_or("v"),
                           merge=lambda c: F.bit_or(c))
        sketch = agg.approx_distinct("v", "approx")
        df = _frame(spark, [("hot", i % 7) for i in range(40)] + [("a", 1)])
        hot = declared_hot_keys(["k"], [("hot",)], 3)
        assert_df_equality(salted_reduce(df, ["k"], [bitor, sketch], hot),
                           plain_reduce(df, ["k"], [bitor, sketch]),
                           ignore_row_order=True, ignore_nullable=True)


def describe_salted_join():
    @settings(max_examples=6, deadline=None, suppress_health_check=list(HealthCheck))
    @given(rows=rows_strategy, how=st.sampled_from(["inner", "left", "left_semi", "left_anti"]),
           strategy=st.sampled_from(["salt", "broadcast_hot"]))
    def it_equals_the_plain_join_and_keeps_row_counts(spark, rows, how, strategy):
        left = _frame(spark, rows)
        right = spark.createDataFrame([("hot", "H"), ("hot", "H2"), ("a", "A"), ("z", "Z"),
                                       (None, "N")], "k string, w string")
        hot = replace(declared_hot_keys(["k"], [("hot",), (None,)], 3), strategy=strategy)
        salted = salted_join(left, right, ["k"], how, hot)
        plain = left.join(right, ["k"], how)
        assert salted.count() == plain.count()
        assert_df_equality(salted, plain, ignore_row_order=True, ignore_nullable=True)

    def it_broadcasts_the_hot_keys_right_rows_only_when_they_are_few(spark):
        right = spark.createDataFrame([("hot", str(i)) for i in range(50)] + [("a", "A")],
                                      "k string, w string")
        hot = declared_hot_keys(["k"], [("hot",)], 3)
        assert hot_rows_fit_broadcast(right, hot, max_bytes=10_000)
        assert not hot_rows_fit_broadcast(right, hot, max_bytes=500)

    def it_refuses_outer_joins_which_would_duplicate_rows(spark):
        import pytest

        left = _frame(spark, [("hot", 1)])
        right = spark.createDataFrame([("x", "X")], "k string, w string")
        with pytest.raises(ValueError, match="not valid for full"):
            salted_join(left, right, ["k"], "full", declared_hot_keys(["k"], [("hot",)], 2))


def describe_skew_conf():
    AQE = "spark.sql.adaptive."

    def it_cuts_pieces_to_the_target_size_and_splits_at_the_hot_key_threshold():
        conf = skew_conf(SaltSettings(min_hot_bytes=4 << 20, target_bytes_per_salt=12 << 20,
                                      skew_factor=2.0))
        assert conf[AQE + "skewJoin.skewedPartitionThresholdInBytes"] == str(4 << 20)
        assert conf[AQE + "skewJoin.skewedPartitionFactor"] == "2.0"
        assert conf[AQE + "advisoryPartitionSizeInBytes"] == str(12 << 20)
        assert conf[AQE + "maxShuffledHashJoinLocalMapThreshold"] == str(12 << 20)
        assert conf[AQE + "coalescePartitions.parallelismFirst"] == "false"

    def it_never_cuts_pieces_under_one_mebibyte():
        conf = skew_conf(SaltSettings(min_hot_bytes=0, target_bytes_per_salt=1000))
        assert conf[AQE + "advisoryPartitionSizeInBytes"] == str(1 << 20)

    def it_sets_nothing_when_salting_is_off_or_joins_sample_their_hot_keys():
        assert skew_conf(SaltSettings(auto_join="sample")) == {}
        assert skew_conf(SaltSettings(enabled=False)) == {}


def describe_auto_joins():
    def _sides(spark):
        left = spark.createDataFrame([("hot", i) for i in range(3000)]
                                     + [(f"k{i}", i) for i in range(300)], "k string, v int")
        right = spark.createDataFrame([("hot", "H")] + [(f"k{i}", "c") for i in range(300)],
                                      "k string, w string")
        return left, right

    STAGE = Join("j", "l", "r", ["k"], broadcast="none")
    CONF = SaltSettings(min_hot_bytes=0, skew_factor=2.0, sample_fraction=1.0)

    def it_leaves_a_skewed_partition_to_aqes_split_with_no_detection_job(spark):
        left, right = _sides(spark)
        decision = decide_salting(STAGE, {"l": left, "r": right}, CONF, shuffle_partitions=4,
                                  pipeline="t")
        assert decision.hot is None
        assert decision.record["decision"] == "aqe_skew_join"
        # the framework's thresholds, with a piece size scaled down to this tiny data
        sized = {**skew_conf(CONF), "spark.sql.adaptive.advisoryPartitionSizeInBytes": "1k",
                 "spark.sql.autoBroadcastJoinThreshold": "-1"}
        with scoped_conf(spark, sized):
            joined = left.join(right, ["k"])
            rows = joined.collect()
            plan = joined._jdf.queryExecution().executedPlan().toString()
        # split, and the small side's partitions hashed instead of both sides sorted
        assert "ShuffledHashJoin(skew=true)" in plan and "BuildRight" in plan
        assert len(rows) == 3300

    def it_keeps_sorting_both_sides_when_the_small_sides_partitions_are_over_one_piece(spark):
        left, right = _sides(spark)
        # the framework allows a hash table of at most one piece, the advisory size ...
        session = skew_conf(CONF)
        assert session["spark.sql.adaptive.maxShuffledHashJoinLocalMapThreshold"] == \
            session["spark.sql.adaptive.advisoryPartitionSizeInBytes"]
        # ... here scaled down to 1k, under each partition of this right side
        wide = right.crossJoin(spark.range(40).withColumnRenamed("id", "n"))  # 12,040 rows
        sized = {**session, "spark.sql.adaptive.advisoryPartitionSizeInBytes": "1k",
                 "spark.sql.adaptive.maxShuffledHashJoinLocalMapThreshold": "1k",
                 "spark.sql.autoBroadcastJoinThreshold": "-1"}
        with scoped_conf(spark, sized):
            joined = left.join(wide, ["k"])
            count = len(joined.collect())
            plan = joined._jdf.queryExecution().executedPlan().toString()
        assert "SortMergeJoin(skew=true)" in plan  # no hash table over one piece's size
        assert count == 3300 * 40

    def it_detects_and_salts_hot_keys_when_asked_to_sample(spark):
        left, right = _sides(spark)
        decision = decide_salting(STAGE, {"l": left, "r": right},
                                  replace(CONF, auto_join="sample"), shuffle_partitions=4,
                                  pipeline="t")
        assert [k.value for k in decision.hot.keys] == [("hot",)]
        assert decision.hot.strategy == "broadcast_hot"

    def it_detects_and_salts_hot_keys_when_aqe_is_off(spark):
        left, right = _sides(spark)
        with scoped_conf(spark, {"spark.sql.adaptive.enabled": "false"}):
            decision = decide_salting(STAGE, {"l": left, "r": right}, CONF,
                                      shuffle_partitions=4, pipeline="t")
        assert [k.value for k in decision.hot.keys] == [("hot",)]


def describe_broadcast_decision():
    def it_broadcasts_a_filtered_delta_side_whose_kept_files_fit(spark, tmp_path):
        path = str(tmp_path / "dim")
        (spark.range(20_000).select((F.col("id") % 2).alias("day"),
                                    F.format_string("name-%d", "id").alias("name"))
         .write.format("delta").partitionBy("day").save(path))
        whole = spark.sql(f"DESCRIBE DETAIL delta.`{path}`").head()["sizeInBytes"]
        table = spark.read.format("delta").load(path)
        stage = Join("j", "l", "r", ["day"])  # broadcast="auto"
        limit = SaltSettings(broadcast_max_bytes=int(whole * 0.75))

        def decided(right):
            return decide_salting(stage, {"l": table, "r": right}, limit,
                                  shuffle_partitions=4, pipeline="t").broadcast

        # the whole table is over the limit; Delta's data skipping keeps one day's files
        assert decided(table) is False
        assert decided(table.where(F.col("day") == 1)) is True


def describe_detect_hot_keys():
    def it_finds_the_key_holding_most_rows_and_sizes_its_salt(spark):
        rows = [("hot", i) for i in range(900)] + [(f"k{i}", i) for i in range(100)]
        conf = SaltSettings(sample_fraction=1.0, min_hot_bytes=0, skew_factor=3.0, max_salt=16)
        found = detect_hot_keys(_frame(spark, rows), ["k"], conf, shuffle_partitions=4)
        assert [k.value for k in found.keys] == [("hot",)]
        assert found.keys[0].salts == 4  # 90% of the bytes over a fair share of 25%
        assert found.source == "sample"

    def it_never_sizes_a_piece_under_the_partition_aqe_coalesces_to(spark):
        rows = [("hot", i) for i in range(900)] + [(f"k{i}", i) for i in range(100)]
        conf = SaltSettings(sample_fraction=1.0, min_hot_bytes=0, skew_factor=1.0, max_salt=16)
        # row_bytes 24 (string 20 + int 4): the hot key is ~21,600 bytes, 2 pieces of 10,800
        found = detect_hot_keys(_frame(spark, rows), ["k"], conf, shuffle_partitions=4,
                                partition_bytes=10_800)
        assert found.keys[0].salts == 2

    def it_finds_nothing_in_uniform_data(spark):
        rows = [(f"k{i % 50}", i) for i in range(1000)]
        conf = SaltSettings(sample_fraction=1.0, min_hot_bytes=0)
        assert not detect_hot_keys(_frame(spark, rows), ["k"], conf, shuffle_partitions=4)


def describe_salted_reduce_partitions():
    """A session that coalesces partitions by size (the framework's join sizing) runs a salted
    reduce's query parallelism-first, from finer partitions, and cuts its hot keys to half of
    that partition's size."""

    PF = "spark.sql.adaptive.coalescePartitions.parallelismFirst"
    INITIAL = "spark.sql.adaptive.coalescePartitions.initialPartitionNum"
    MIN_SIZE = "spark.sql.adaptive.coalescePartitions.minPartitionSize"
    CONF = SaltSettings(sample_fraction=1.0, min_hot_bytes=0, skew_factor=1.0, max_salt=16)
    STAGE = Reduce("r", "t", ["k"], [agg.top_k("v", 2, "top")])
    BY_BYTES = {**skew_conf(CONF), PF: "false",
                "spark.sql.adaptive.advisoryPartitionSizeInBytes": "6000",
                "spark.sql.adaptive.coalescePartitions.minPartitionSize": "1",
                "spark.sql.leafNodeDefaultParallelism": "8"}

    def _events(spark):  # a payload column that the reduce never reads, so never shuffles
        rows = ([("hot", i, "x" * 40) for i in range(900)]
                + [(f"k{i}", i, "y") for i in range(100)])
        return spark.createDataFrame(rows, "k string, v int, payload string")

    def it_cuts_hot_keys_to_half_a_partition_per_task_slot(spark):
        with scoped_conf(spark, BY_BYTES):
            decision = decide_salting(STAGE, {"t": _events(spark)}, CONF,
                                      shuffle_partitions=16, pipeline="t")
        # shuffled row: k (20) + v (4) = 24 bytes, 24,000 in all; over 8 slots a partition is
        # 3,000 bytes, and the hot key's 21,600 bytes make 15 pieces of at most 1,500; AQE
        # merges a leftover into its neighbour only under a 32nd of a partition
        assert decision.hot.keys[0].salts == 15
        assert decision.conf == {PF: "true", INITIAL: "64", MIN_SIZE: "93"}
        assert decision.record["spark_conf"] == decision.conf

    def it_starts_from_eight_partitions_per_slot_and_places_pieces_among_them(spark):
        with scoped_conf(spark, BY_BYTES):
            decision = decide_salting(STAGE, {"t": _events(spark)}, CONF,
                                      shuffle_partitions=16, pipeline="t")
        salts = ", ".join(str(v) for v in decision.hot.keys[0].values)
        landed = spark.sql(f"SELECT pmod(hash('hot', s), 64) AS p FROM VALUES {salts} AS t(s)")
        assert landed.distinct().count() == 15  # each piece its own partition of 64

    def it_keeps_the_sessions_floor_when_a_partition_is_at_it(spark):
        at_floor = {**BY_BYTES, "spark.sql.adaptive.coalescePartitions.minPartitionSize": "3000"}
        with scoped_conf(spark, at_floor):
            decision = decide_salting(STAGE, {"t": _events(spark)}, CONF,
                                      shuffle_partitions=16, pipeline="t")
        assert decision.conf == {PF: "true", INITIAL: "64"}

    def it_keeps_the_sessions_sizing_when_told_to(spark):
        with scoped_conf(spark, BY_BYTES):
            decision = decide_salting(STAGE, {"t": _events(spark)},
                                      replace(CONF, reduce_coalesce="size"),
                                      shuffle_partitions=16, pipeline="t")
        assert decision.hot.keys[0].salts == 4  # 21,600 bytes over the advisory 6,000
        assert decision.conf == {}

    def it_runs_the_stage_with_that_setting_and_restores_the_session(spark, tmp_path, capsys):
        from tests.helpers import DATE, cli

        warehouse = str(tmp_path / "wh")
        _events(spark).toDF("user", "n", "payload").write.json(f"{warehouse}/landing/hot/{DATE}")
        run_conf = [f"spark.conf.{key}={value}" for key, value in BY_BYTES.items()]
        with scoped_conf(spark, BY_BYTES):
            code, out, err = cli(capsys, "run", "hot_reduce", "--date", DATE,
                                 *[a for c in run_conf for a in ("--conf", c)],
                                 warehouse=warehouse)
            after = (spark.conf.get(PF), spark.conf.get(INITIAL, None),
                     spark.conf.get(MIN_SIZE))
        assert code == 0, err
        stage = next(s for s in out["stages"] if s["name"] == "per_user")
        assert stage["salting"]["decision"] == "salted"
        assert stage["salting"]["spark_conf"][PF] == "true"
        assert stage["salting"]["spark_conf"][INITIAL] == "64"
        # only the stage's own query ran with them
        assert after == ("false", None, "1")


def describe_spread_for_write():
    def it_writes_a_hot_partition_with_several_tasks(spark, tmp_path):
        from pipelines.core.salting import spread_for_write

        rows = [("hot", i) for i in range(400)] + [("cold", i) for i in range(10)]
        df = spark.createDataFrame(rows, "day string, v int")
        hot = declared_hot_keys(["day"], [("hot",)], 4)
        spread = spread_for_write(df, ["day"], hot, partitions=4)
        spread.write.partitionBy("day").parquet(str(tmp_path / "t"))
        files = list((tmp_path / "t" / "day=hot").glob("*.parquet"))
        assert len(files) >= 2
        assert len(list((tmp_path / "t" / "day=cold").glob("*.parquet"))) == 1

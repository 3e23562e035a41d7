"""Declared relational stages vs the same query by hand in PySpark vs Map stages.

One filter/project/join query over Parquet files (``--rows`` orders, default 3,000,000; a
customer table of a fiftieth of that), published to a Delta table replaced whole, three
ways, taking turns in one process: (a) declared stages (Source ``where``, Filter,
WithColumns, Join on differently named keys, an ``overwrite`` sink) run by the framework with
every guarantee (ledger, staging, idempotent commit), (b) the query written by hand with
pyspark and delta-spark, (c) the same pipeline with its filtering, computing and renaming in
Map stages. Prints the median wall time of each, the ratios declared / hand-written (target
<= 1.05) and declared / Map, and the Spark jobs each side ran (a figure noise does not move).
Usage: benchmarks/bench_declared.py [--rows N] [--repeats K]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile

from _common import Cost, cost_of, in_turn, median, plain_spark

DATE = "2026-11-26"
WHERE = "o_date BETWEEN DATE'2026-03-01' AND DATE'2026-03-31'"


def generate(spark, root: str, rows: int) -> None:
    from pyspark.sql import functions as F

    h = F.xxhash64(F.col("id"), F.lit("o"))
    (spark.range(rows).select(
        F.col("id").alias("o_id"),
        F.pmod(h, F.lit(max(1, rows // 50))).alias("o_cust"),
        F.element_at(F.array(F.lit("F"), F.lit("O"), F.lit("P")),
                     (F.pmod(h, F.lit(3)) + 1).cast("int")).alias("o_status"),
        F.date_add(F.lit("2026-01-01").cast("date"), F.pmod(h, F.lit(365)).cast("int"))
        .alias("o_date"),
        (F.pmod(h, F.lit(100_000)) / 100).cast("decimal(12,2)").alias("o_price"),
        F.sha2(F.col("id").cast("string"), 256).alias("o_comment"))
     .sort("o_date").write.mode("overwrite").parquet(f"{root}/landing/orders"))
    (spark.range(max(1, rows // 50)).select(
        F.col("id").alias("c_key"), F.format_string("Customer %d", "id").alias("c_name"),
        F.element_at(F.array(*[F.lit(n) for n in ("DE", "FR", "US", "JP")]),
                     (F.col("id") % 4 + 1).cast("int")).alias("c_nation"))
     .write.mode("overwrite").parquet(f"{root}/landing/customers"))


def _sources(where: str):
    from pyspark.sql.types import (
        DateType,
        DecimalType,
        LongType,
        StringType,
        StructField,
        StructType,
    )

    from pipelines import Source

    orders = StructType([StructField("o_id", LongType()), StructField("o_cust", LongType()),
                         StructField("o_status", StringType()),
                         StructField("o_date", DateType()),
                         StructField("o_price", DecimalType(12, 2)),
                         StructField("o_comment", StringType())])
    customers = StructType([StructField("c_key", LongType()),
                            StructField("c_name", StringType()),
                            StructField("c_nation", StringType())])
    return [Source("orders", format="parquet", path="landing/orders", schema=orders,
                   where=where),
            Source("customers", format="parquet", path="landing/customers", schema=customers)]


def declared():
    from pipelines import Filter, Join, Pipeline, Select, Sink, WithColumns

    return Pipeline(name="declared_query", sources=_sources(WHERE), stages=[
        Filter("finished", input="orders", where="o_status = 'F'"),
        WithColumns("netted", input="finished", columns={"o_net": "o_price * 0.9"}),
        Join("with_customer", left="netted", right="customers", left_on=["o_cust"],
             right_on=["c_key"]),
        Select("answer", input="with_customer",
               columns=["o_id", "o_date", "o_net", "c_name", "c_nation"]),
    ], sinks=[Sink("out", input="answer", table="answer", mode="overwrite")])


def _map_filter(df):
    return (df.where(WHERE).where("o_status = 'F'")
            .withColumn("o_net", df["o_price"] * 0.9))


def _map_rename(df):
    return df.withColumnRenamed("c_key", "o_cust")


def _map_project(df):
    return df.select("o_id", "o_date", "o_net", "c_name", "c_nation")


def with_maps():
    from pipelines import Join, Map, Pipeline, Sink

    return Pipeline(name="map_query", sources=_sources(""), stages=[
        Map("netted", input="orders", fn=_map_filter),
        Map("keyed", input="customers", fn=_map_rename),
        Join("with_customer", left="netted", right="keyed", on=["o_cust"]),
        Map("answer", input="with_customer", fn=_map_project),
    ], sinks=[Sink("out", input="answer", table="answer", mode="overwrite")])


def hand_written(spark, root: str) -> None:
    from pyspark.sql import functions as F

    orders = spark.read.parquet(f"{root}/landing/orders").where(WHERE).where(
        "o_status = 'F'")
    customers = spark.read.parquet(f"{root}/landing/customers")
    (orders.withColumn("o_net", F.col("o_price") * 0.9)
     .join(customers, orders["o_cust"] == customers["c_key"])
     .select("o_id", "o_date", "o_net", "c_name", "c_nation")
     .write.format("delta").mode("overwrite").save(f"{root}/tables/answer"))


def through_framework(spark, settings, pipeline) -> None:
    from pipelines.core.execution.runner import run_pipeline
    from pipelines.core.planning.plan import make_plan

    result = run_pipeline(spark, settings, make_plan(pipeline, DATE), force=True)
    if result.status != "succeeded":
        raise RuntimeError(f"{pipeline.name}: {result.status}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=3_000_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    spark = plain_spark(spark__ui__retainedJobs="100000")
    from pipelines.core.config.settings import load_settings

    root = tempfile.mkdtemp(prefix="bench-declared-")
    generate(spark, f"{root}/hand", args.rows)
    for side in ("declared", "maps"):
        shutil.copytree(f"{root}/hand/landing", f"{root}/{side}/landing")
    settings = {side: load_settings("local", [f"warehouse={root}/{side}"])
                for side in ("declared", "maps")}
    runs = {
        "declared": lambda: through_framework(spark, settings["declared"], declared()),
        "hand-written": lambda: hand_written(spark, f"{root}/hand"),
        "Map stages": lambda: through_framework(spark, settings["maps"], with_maps()),
    }
    for run in runs.values():  # warm every path once (JIT, Delta classes); not counted
        run()
    results: dict[str, list[Cost]] = {side: [] for side in runs}
    for i in range(args.repeats):
        for side, run in in_turn(i, list(runs.items())):
            results[side].append(cost_of(spark, run))
        print(f"repeat {i + 1}: " + ", ".join(
            f"{side} {r[-1].wall_s:.1f}s ({r[-1].jobs} Spark jobs)"
            for side, r in results.items()), flush=True)
    wall = {side: median([c.wall_s for c in r]) for side, r in results.items()}
    jobs = {side: median([c.jobs for c in r]) for side, r in results.items()}
    print(f"rows={args.rows} declared_median_s={wall['declared']:.1f} "
          f"hand_median_s={wall['hand-written']:.1f} maps_median_s={wall['Map stages']:.1f} "
          f"ratio_declared_over_hand={wall['declared'] / wall['hand-written']:.3f} "
          f"ratio_declared_over_maps={wall['declared'] / wall['Map stages']:.3f} "
          f"spark_jobs_declared={jobs['declared']:g} spark_jobs_hand={jobs['hand-written']:g} "
          f"spark_jobs_maps={jobs['Map stages']:g}")
    shutil.rmtree(root, ignore_errors=True)
    sys.stdout.flush()


if __name__ == "__main__":
    main()

"""The framework's Delta publish against a plain Parquet write of the same rows.

``--rows`` rows (default 5,000,000; a date, a key, an amount, a label and a few more
columns, as a fact table has) are staged once as Parquet, then written from there, taking
turns, ``--repeats`` times after a warm-up:
  (a) plain Parquet: ``df.write.mode("overwrite").parquet(path)``, what a job without a
      table format writes;
  (b) the framework's publish of an ``overwrite`` sink (``pipelines.core.delta.sinks``: the
      table's contract checked, one idempotent Delta commit tagged with the run, the commit
      found again in the log);
  (c) the same sink declaring ``stats_columns=["order_date", "customer_id"]``: Delta's
      per-file statistics for the columns readers filter and merge on, not for the first 32;
  (d) an ``overwrite_partitions`` sink replacing one date (statistics declared for
      ``customer_id``: the date is its partition column),
      against Parquet's dynamic partition overwrite of that date.
Prints the medians and the ratios Delta / Parquet (target: at most 1.2).
Usage: benchmarks/bench_publish.py [--rows N] [--repeats K]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile

from _common import in_turn, median, plain_spark, timed

DATE = "2026-11-26"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    spark = plain_spark()
    from pyspark.sql import functions as F

    from pipelines.core.declare.spec import Sink
    from pipelines.core.delta.sinks import TxnId, publish

    root = tempfile.mkdtemp(prefix="bench-publish-")
    (spark.range(args.rows)
     .select(F.lit(DATE).cast("date").alias("order_date"),
             (F.col("id") % 20_000).cast("string").alias("customer_id"),
             (F.col("id") % 97 * 1.25).cast("decimal(18,2)").alias("amount"),
             F.concat(F.lit("product-"), (F.col("id") % 500).cast("string")).alias("product"),
             (F.col("id") % 7).cast("int").alias("channel"),
             F.col("id").alias("order_seq"))
     .write.parquet(f"{root}/staged"))
    df = spark.read.parquet(f"{root}/staged")
    spark.conf.set("spark.sql.sources.partitionOverwriteMode", "dynamic")
    stats = ("order_date", "customer_id")
    whole = Sink("facts", "facts", f"{root}/delta_whole", "overwrite")
    declared = Sink("facts_declared", "facts", f"{root}/delta_declared", "overwrite",
                    stats_columns=stats)
    dated = Sink("facts_by_date", "facts", f"{root}/delta_dated", "overwrite_partitions",
                 partition_by=("order_date",), replace_where=f"order_date = '{DATE}'",
                 stats_columns=("customer_id",))  # a partition column has no statistics
    generation = iter(range(1, 10_000))

    def delta(sink: Sink) -> None:
        n = next(generation)  # every write a new generation: none is skipped as done
        publish(spark, df, sink, sink.table, TxnId.for_sink("bench", sink.name, DATE, n,
                                                            f"run-{n}"), pipeline="bench")

    sides = {
        "parquet": lambda: df.write.mode("overwrite").parquet(f"{root}/parquet_whole"),
        "delta": lambda: delta(whole),
        "delta_declared_stats": lambda: delta(declared),
        "parquet_partition": lambda: (df.write.mode("overwrite").partitionBy("order_date")
                                      .parquet(f"{root}/parquet_dated")),
        "delta_partition": lambda: delta(dated),
    }
    for run in sides.values():  # warm-up, not counted; creates the tables
        run()
    times: dict[str, list[float]] = {name: [] for name in sides}
    for i in range(args.repeats):
        for name, run in in_turn(i, list(sides.items())):
            times[name].append(timed(run))
        print(f"repeat {i + 1}: " + ", ".join(f"{n} {t[-1]:.2f}s" for n, t in times.items()),
              flush=True)
    m = {name: median(t) for name, t in times.items()}
    print(f"rows={args.rows} parquet_s={m['parquet']:.2f} delta_publish_s={m['delta']:.2f} "
          f"ratio_delta_over_parquet={m['delta'] / m['parquet']:.3f} "
          f"delta_declared_stats_s={m['delta_declared_stats']:.2f} "
          f"ratio_declared_stats_over_parquet={m['delta_declared_stats'] / m['parquet']:.3f} "
          f"parquet_partition_s={m['parquet_partition']:.2f} "
          f"delta_partition_publish_s={m['delta_partition']:.2f} "
          f"ratio_partition_delta_over_parquet="
          f"{m['delta_partition'] / m['parquet_partition']:.3f}")
    shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()

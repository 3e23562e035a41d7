"""Framework vs hand-written PySpark + delta-spark on the reference pipeline.

Generates ``--rows`` orders (default 3,000,000) for one date, then runs, alternating in one
process: (a) ``daily_revenue`` through the framework (import, planning, checks, staging, ledger
and reports included), and (b) the same logic written by hand. Prints each wall time and the
ratio of medians framework / hand-written (target: at most 1.05). Spark's own start-up is not
counted. Also prints the Spark jobs each side launched per run (a figure the machine's noise
does not move), the classes Spark generated and compiled for it (whole-stage code and
expressions, ``CodegenMetrics``) and the time the JVM's JIT compilers spent compiling during it.
Spark keeps generated classes in a cache of ``spark.sql.codegen.cache.maxEntries`` (100 by
default) shared by every query of the JVM. Both sides run in one session, started with the
value the framework's own sessions get (``conf/base.yaml``, 1000); ``--codegen-cache 100``
gives Spark's default. The two sides take turns going first (hand-written first in odd
repeats), because the JVM's JIT work keeps falling run after run and favours whichever runs
later.
With ``--fresh``, each run is a process of its own, as cron starts it: ``pipelines run`` against
a Python process running the hand-written job, each starting its interpreter and JVM; the
wall time of the whole process is compared.
Usage: benchmarks/bench_pipeline.py [--rows N] [--repeats K] [--codegen-cache N] [--fresh]
"""

from __future__ import annotations

import argparse
import importlib
import shutil
import subprocess
import sys
import tempfile
import time

from _common import ROOT, Cost, cost_of, framework_codegen_cache, in_turn, median, plain_spark

DATE = "2026-11-26"


def hand_written(spark, wh: str) -> None:
    """daily_revenue as a data engineer would write it without the framework."""
    from delta.tables import DeltaTable
    from pyspark.sql import functions as F

    from schemas.sales import CUSTOMERS, RAW_ORDERS

    raw = spark.read.schema(RAW_ORDERS).option("mode", "FAILFAST").json(
        f"{wh}/landing/orders/date={DATE}")
    clean = (raw.withColumn("order_id", F.trim("order_id"))
             .withColumn("customer_id", F.trim("customer_id"))
             .withColumn("currency", F.upper(F.trim("currency")))
             .withColumn("order_date", F.to_date("order_ts"))
             .where(F.col("order_date") == F.lit(DATE).cast("date")))
    bad = (F.col("customer_id").isNull() | (F.col("amount") < 0) | (F.col("amount") > 1_000_000)
           | ~F.col("currency").isin("USD", "EUR", "GBP", "JPY", "CHF"))
    flagged = clean.withColumn("bad", bad).persist()
    stats = flagged.agg(F.count(F.lit(1)).alias("n"),
                        F.sum(F.col("order_id").isNull().cast("int")).alias("null_ids"),
                        F.sum(F.col("bad").cast("int")).alias("bad")).head()
    dupes = (flagged.where(F.col("order_id").isNotNull()).groupBy("order_id").count()
             .where("count > 1").count())
    if stats["null_ids"] or dupes or stats["bad"] > 0.05 * stats["n"]:
        raise RuntimeError("quality failure")
    if stats["bad"]:
        flagged.where("bad").write.format("delta").mode("append").save(f"{wh}/tables/quarantine")
    fx = spark.read.format("delta").load(f"{wh}/tables/fx_rates").where(
        F.col("rate_date") == DATE)
    customers = spark.read.format("delta").load(f"{wh}/tables/customers").select(
        *CUSTOMERS.fieldNames())
    enriched = (flagged.where(~F.col("bad")).drop("bad").join(F.broadcast(fx), "currency")
                .withColumn("amount_usd", (F.col("amount") * F.col("usd_rate")).cast(
                    "decimal(18,2)")).drop("usd_rate", "rate_date")
                .join(F.broadcast(customers), "customer_id"))
    fact = enriched.groupBy("order_date", "customer_id", "country").agg(
        F.count(F.lit(1)).alias("orders"), F.sum("amount_usd").alias("revenue_usd"),
        F.count_distinct("product").alias("distinct_products"),
        F.slice(F.sort_array(F.collect_list("amount_usd"), False), 1, 3).alias(
            "top_amounts_usd"))
    (fact.write.format("delta").mode("overwrite").option("replaceWhere",
                                                         f"order_date = '{DATE}'")
     .partitionBy("order_date").save(f"{wh}/tables/fact_daily_revenue"))
    latest = enriched.groupBy("customer_id", "name", "country", "segment").agg(
        F.max("order_date").alias("last_order_date"), F.count(F.lit(1)).alias("last_day_orders"),
        F.sum("amount_usd").alias("last_day_revenue_usd"))
    path = f"{wh}/tables/customer_totals"
    if DeltaTable.isDeltaTable(spark, path):
        (DeltaTable.forPath(spark, path).alias("t").merge(latest.alias("s"),
                                                          "t.customer_id = s.customer_id")
         .whenMatchedUpdateAll().whenNotMatchedInsertAll().execute())
    else:
        latest.write.format("delta").save(path)
    flagged.unpersist()


def framework(wh: str, first: bool) -> None:
    """Import, plan and run through the framework, as ``pipelines run --force`` would."""
    cli = importlib.import_module("pipelines.core.interfaces.cli")
    code = cli.main(["run", "daily_revenue", "--date", DATE, "--conf", f"warehouse={wh}",
                     "--force"])
    if code != 0:
        raise RuntimeError(f"framework run failed with exit code {code}")


def fresh_process(wh: str, side: str) -> float:
    """Seconds one run takes as a process of its own (interpreter, JVM and run)."""
    if side == "framework":
        cmd = [str(ROOT / ".venv/bin/pipelines"), "run", "daily_revenue", "--date", DATE,
               "--conf", f"warehouse={wh}", "--force"]
    else:
        cmd = [sys.executable, str(ROOT / "benchmarks/bench_pipeline.py"), "--hand-only", wh]
    start = time.perf_counter()
    subprocess.run(cmd, check=True, cwd=ROOT, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def fresh(rows: int, repeats: int) -> None:
    spark = plain_spark()
    root = tempfile.mkdtemp(prefix="bench-pipeline-fresh-")
    wh_fw, wh_hand = f"{root}/framework", f"{root}/hand"
    from pipelines.demo.orders_data import generate

    generate(spark, wh_fw, DATE, rows=rows, customers=20_000, hot_share=0.5, seed=11,
             bad_share=0.001, files=8)
    spark.stop()
    shutil.copytree(wh_fw, wh_hand)
    fresh_process(wh_fw, "framework")  # warm the file cache and the ivy resolution alike
    fresh_process(wh_hand, "hand")
    times: dict[str, list[float]] = {"framework": [], "hand": []}
    for i in range(repeats):
        for side in in_turn(i, ["framework", "hand"]):
            times[side].append(fresh_process(wh_fw if side == "framework" else wh_hand, side))
        print(f"repeat {i + 1}: framework {times['framework'][-1]:.1f}s, "
              f"hand-written {times['hand'][-1]:.1f}s", flush=True)
    fw, hand = median(times["framework"]), median(times["hand"])
    print(f"rows={rows} fresh_jvm framework_median_s={fw:.1f} hand_median_s={hand:.1f} "
          f"ratio_framework_over_hand={fw / hand:.3f}")
    shutil.rmtree(root, ignore_errors=True)


def import_cost(modules: list[str]) -> float:
    """Seconds a fresh interpreter spends importing ``modules`` (every framework, pipeline and
    Great Expectations module the framework runs had loaded), beyond pyspark and delta."""
    def run(code: str) -> float:
        best = float("inf")
        for _ in range(3):
            start = time.perf_counter()
            subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)
            best = min(best, time.perf_counter() - start)
        return best

    base = run("import pyspark.sql, delta.tables")
    ours = run("import pyspark.sql, delta.tables" + "".join(f", {m}" for m in modules))
    return max(0.0, ours - base)


def loaded_framework_modules() -> list[str]:
    ours = ("pipelines", "transforms", "schemas", "great_expectations")
    return sorted(m for m in list(sys.modules) if m.split(".")[0] in ours
                  and not m.startswith("pipelines.__"))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=3_000_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--codegen-cache", type=int, default=framework_codegen_cache(),
                        help="spark.sql.codegen.cache.maxEntries (default: the framework's "
                             "setting; Spark's own default is 100)")
    parser.add_argument("--fresh", action="store_true",
                        help="each run a process of its own (interpreter and JVM started)")
    parser.add_argument("--hand-only", metavar="WAREHOUSE",
                        help="run the hand-written job once on WAREHOUSE (for --fresh)")
    args = parser.parse_args()
    if args.hand_only:
        hand_written(plain_spark(), args.hand_only)
        return
    if args.fresh:
        fresh(args.rows, args.repeats)
        return
    spark = plain_spark(spark__ui__retainedJobs="100000",  # every job counted
                        spark__sql__codegen__cache__maxEntries=str(args.codegen_cache))
    root = tempfile.mkdtemp(prefix="bench-pipeline-")
    wh_fw, wh_hand = f"{root}/framework", f"{root}/hand"
    t0 = time.perf_counter()
    from pipelines.demo.orders_data import generate

    generate(spark, wh_fw, DATE, rows=args.rows, customers=20_000, hot_share=0.5, seed=11,
             bad_share=0.001, files=8)
    shutil.copytree(wh_fw, wh_hand)
    print(f"generated {args.rows} orders in {time.perf_counter() - t0:.1f}s", flush=True)
    # warm both paths once (JIT, Delta classes); not counted
    hand_written(spark, wh_hand)
    framework(wh_fw, True)
    hand: list[Cost] = []
    fw: list[Cost] = []
    for i in range(args.repeats):
        sides = [(hand, lambda: hand_written(spark, wh_hand)),
                 (fw, lambda: framework(wh_fw, False))]
        for times, run in in_turn(i, sides):
            times.append(cost_of(spark, run))
        print(f"repeat {i + 1}: " + ", ".join(
            f"{side} {r.wall_s:.1f}s ({r.jobs} Spark jobs, {r.classes} classes compiled, "
            f"JIT compiling {r.jit_s:.1f}s)" for side, r in (("framework", fw[-1]),
                                                              ("hand-written", hand[-1]))),
              flush=True)
    fw_times, hand_times = [r.wall_s for r in fw], [r.wall_s for r in hand]
    modules = loaded_framework_modules()
    ge = any(m.startswith("great_expectations") for m in modules)
    print(f"a framework run imported {len(modules)} modules of ours"
          f"{' and Great Expectations' if ge else ' (not Great Expectations)'}", flush=True)
    imports = import_cost([m for m in modules if m.count(".") <= 2])
    ratio = (median(fw_times) + imports) / median(hand_times)

    def med(side: list[Cost], field: str) -> float:
        return median([getattr(r, field) for r in side])

    print(f"rows={args.rows} codegen_cache={args.codegen_cache} "
          f"framework_median_s={median(fw_times):.1f} "
          f"+ framework_import_s={imports:.1f} hand_median_s={median(hand_times):.1f} "
          f"ratio_framework_over_hand={ratio:.3f} spark_jobs_framework={med(fw, 'jobs'):g} "
          f"spark_jobs_hand={med(hand, 'jobs'):g} "
          f"classes_compiled_framework={med(fw, 'classes'):g} "
          f"classes_compiled_hand={med(hand, 'classes'):g} "
          f"jit_s_framework={med(fw, 'jit_s'):.1f} jit_s_hand={med(hand, 'jit_s'):.1f}")
    shutil.rmtree(root, ignore_errors=True)
    sys.stdout.flush()


if __name__ == "__main__":
    main()

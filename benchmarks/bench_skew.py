"""Hot keys: framework salting vs Spark defaults (AQE on) vs AQE off, measured in one run.

Data: ``--rows`` rows (default 6,000,000) whose hottest key holds ``--hot-share`` (0.57) of
them, the rest spread over 100,000 keys. Two workloads:

* a non-combinable reduce (top 5 values and exact distinct count per key), and
* a sort-merge join with a 100,000-row dimension (broadcast disabled).

Modes: ``salted`` (the framework with ``salt="auto"``: for the reduce, hot keys detected from
a sample; for the join, Spark's AQE skew-join split with the thresholds the framework sets on
its session, which also let AQE hash the dimension's small partitions instead of sorting both
sides: a shuffled hash join), ``declared`` (the framework with the hot key
declared, no detection), ``aqe_on`` (Spark's defaults) and ``aqe_off``; interleaved, after
``--warmups`` rounds. For each
workload and mode it prints the median over the repeats of: the wall time (hot-key detection
included), the max/median task duration, shuffle bytes read and CPU time of the critical
keyed stage (of the stages reading a shuffle, the one with the longest task; a task that
waits for a busy core lasts longer without using more CPU), and the makespan projected for
64 task slots from its measured task durations (longest-first scheduling; also summed over
every stage of the workload, detection included), and the time the JVM's JIT compilers spent
compiling during the run (on 2 cores a compiler thread takes turns with the task threads, so
tasks running meanwhile last longer). Files are split
and AQE coalesces as Spark does for 64 slots (``spark.default.parallelism=64``); the tasks run
on this machine's 2 cores.
Targets (docs/benchmarks.md): salted wall time <= 0.6x Spark defaults for the reduce and
<= 0.9x for the join, task CPU-time max/median <= 1.5, shuffle-bytes max/median <= 1.15,
projected 64-slot makespan >= 5x shorter.
The session keeps as many generated classes as the framework's own sessions
(``spark.sql.codegen.cache.maxEntries``, 1000 in ``conf/base.yaml``; Spark's default is 100):
``--codegen-cache N`` sets another number. The driver, where the tasks run, has Spark's default
heap (``spark.driver.memory``, 1g), as the framework's sessions do: ``--driver-memory 4g``
measures with another; ``--driver-java-options "..."`` passes JVM flags to that driver
(``spark.driver.extraJavaOptions``), for instance to run the JIT's compiler threads at the
lowest CPU priority. The time the garbage collectors report for each measured run is
printed.
``--warmups W`` runs every mode W times before the measured repeats (default 8): the JIT
keeps compiling Spark's code for many runs of a query, on the two cores the tasks run on,
and a task that shares its core with a compiler thread lasts longer than its CPU time (after
4 rounds the salted reduce still compiled about 1.3 s per run). The JIT time of each
measured run is printed.
``--workload reduce|join`` runs one workload only.
Usage: benchmarks/bench_skew.py [--rows N] [--hot-share F] [--repeats K] [--warmups W]
[--workload reduce|join] [--codegen-cache N] [--driver-memory SIZE]
[--driver-java-options FLAGS] [--conf KEY=VALUE ...]
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile

from _common import cost_of, framework_codegen_cache, median, plain_spark
from pyspark.sql import functions as F

KEYS = 100_000


def make_data(spark, folder: str, rows: int, hot_share: float) -> tuple[str, str]:
    u = (F.pmod(F.xxhash64(F.col("id"), F.lit("u")), F.lit(1_000_003)) / 1_000_003.0)
    cold = F.format_string("k%06d", F.pmod(F.xxhash64(F.col("id"), F.lit("k")), F.lit(KEYS)))
    facts = spark.range(rows).select(
        F.when(u < hot_share, F.lit("HOT")).otherwise(cold).alias("key"),
        F.pmod(F.xxhash64(F.col("id"), F.lit("v")), F.lit(1_000_000)).alias("v"),
        F.format_string("payload-%d", F.col("id")).alias("payload"))
    facts.repartition(64).write.mode("overwrite").parquet(f"{folder}/facts")
    dim = spark.range(KEYS).select(F.format_string("k%06d", F.col("id")).alias("key"),
                                   F.format_string("name-%d", F.col("id")).alias("name"))
    dim = dim.unionByName(spark.createDataFrame([("HOT", "the hot one")],
                                                "key string, name string"))
    dim.repartition(4).write.mode("overwrite").parquet(f"{folder}/dim")
    return f"{folder}/facts", f"{folder}/dim"


def _median_report(reports: list[dict]) -> dict:
    """Each figure's median over the repeats (one slow task in one repeat is noise here)."""
    keys = ("tasks", "task_max_over_median", "task_cpu_max_over_median", "makespan_64_slots_ms",
            "all_stages_makespan_64_slots_ms", "jit_ms", "gc_ms", "classes")
    out = {}
    for key in keys:
        values = [r[key] for r in reports if r.get(key) is not None]
        out[key] = round(median(values), 2) if values else None
    ratios = [r["shuffle_bytes_max"] / r["shuffle_bytes_median"] for r in reports
              if r.get("shuffle_bytes_median")]
    out["bytes_max_over_median"] = round(median(ratios), 2) if ratios else None
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=6_000_000)
    parser.add_argument("--hot-share", type=float, default=0.57)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--warmups", type=int, default=8)
    parser.add_argument("--workload", choices=("reduce", "join", "both"), default="both")
    parser.add_argument("--codegen-cache", type=int, default=framework_codegen_cache(),
                        help="spark.sql.codegen.cache.maxEntries (default: the framework's "
                             "setting; Spark's own default is 100)")
    parser.add_argument("--driver-memory", default="1g",
                        help="spark.driver.memory (default: Spark's, 1g, as the framework's "
                             "sessions have)")
    parser.add_argument("--driver-java-options", default="",
                        help="spark.driver.extraJavaOptions for the benchmark's JVM")
    parser.add_argument("--conf", action="append", default=[],
                        help="a framework setting KEY=VALUE (as pipelines run --conf)")
    args = parser.parse_args()
    # Spark's default partition count, and partitions sized as Spark sizes them for 64 task
    # slots (file splits, AQE's coalescing), so that task durations project to 64 slots
    spark = plain_spark(shuffle_partitions=200, spark__default__parallelism="64",
                        spark__sql__codegen__cache__maxEntries=str(args.codegen_cache),
                        spark__driver__memory=args.driver_memory,
                        **({"spark__driver__extraJavaOptions": args.driver_java_options}
                           if args.driver_java_options else {}))
    spark.conf.set("spark.sql.autoBroadcastJoinThreshold", "-1")
    from pipelines.core.config.settings import load_settings
    from pipelines.core.declare import aggregations as agg
    from pipelines.core.declare.spec import Join, Reduce
    from pipelines.core.execution.session import scoped_conf
    from pipelines.core.execution.skew_probe import SkewProbe
    from pipelines.core.salting import (
        decide_salting,
        plain_reduce,
        salted_join,
        salted_reduce,
        skew_conf,
    )

    salt_conf = load_settings("local", args.conf).salting
    framework_conf = skew_conf(salt_conf)
    folder = tempfile.mkdtemp(prefix="bench-skew-")
    facts_path, dim_path = make_data(spark, folder, args.rows, args.hot_share)
    facts, dim = spark.read.parquet(facts_path), spark.read.parquet(dim_path)
    aggs = [agg.top_k("v", 5, "top5"), agg.count_distinct("v", "distinct_v")]
    probe = SkewProbe(spark)
    last_hot: dict = {}

    def parts() -> int:
        return int(spark.conf.get("spark.sql.shuffle.partitions"))

    def reduce_job(mode: str):
        def job():
            df, conf = facts, {}
            if mode in ("salted", "declared"):
                declared = ["HOT"] if mode == "declared" else []
                stage = Reduce("per_key", "facts", ["key"], aggs, hot_keys=declared)
                decision = decide_salting(stage, {"facts": df}, salt_conf,
                                          shuffle_partitions=parts(), pipeline="bench")
                hot, conf = decision.hot, decision.conf
                last_hot[("reduce", mode)] = hot
                out = salted_reduce(df, ["key"], aggs, hot)
            else:
                out = plain_reduce(df, ["key"], aggs)
            with scoped_conf(spark, conf):  # the stage's settings, as the runner applies them
                out.write.format("noop").mode("overwrite").save()
        return job

    def join_job(mode: str):
        def job():
            if mode in ("salted", "declared"):  # what the framework decides for such a stage
                declared = ["HOT"] if mode == "declared" else []
                stage = Join("enrich", "facts", "dim", ["key"], broadcast="none",
                             hot_keys=declared)
                decision = decide_salting(stage, {"facts": facts, "dim": dim}, salt_conf,
                                          shuffle_partitions=parts(), pipeline="bench")
                hot = decision.hot
                last_hot[("join", mode)] = hot or decision.record.get("decision")
                out = salted_join(facts, dim, ["key"], "inner", hot)
            else:
                out = facts.join(dim, ["key"], "inner")
            out.write.format("noop").mode("overwrite").save()
        return job

    modes = ("salted", "declared", "aqe_on", "aqe_off")
    results = {}
    workloads = [(w, make) for w, make in (("reduce", reduce_job), ("join", join_job))
                 if args.workload in (w, "both")]
    for workload, make in workloads:
        walls: dict[str, list[float]] = {m: [] for m in modes}
        skews: dict[str, list[dict]] = {m: [] for m in modes}

        def aqe(mode: str) -> None:
            spark.conf.set("spark.sql.adaptive.enabled", "false" if mode == "aqe_off" else "true")
            for key, value in framework_conf.items():  # what the framework's session has
                if mode in ("salted", "declared"):
                    spark.conf.set(key, value)
                else:
                    spark.conf.unset(key)

        for _ in range(args.warmups):  # not counted
            for mode in modes:
                aqe(mode)
                make(mode)()
        for repeat in range(args.repeats):  # modes interleaved, so drift hits them alike
            for mode in modes:
                aqe(mode)
                name = f"{workload}-{mode}-{repeat}"
                with probe.watch(name):
                    cost = cost_of(spark, make(mode))
                walls[mode].append(cost.wall_s)
                skews[mode].append({**(probe.report(name) or {}), "jit_ms": cost.jit_s * 1000,
                                    "gc_ms": cost.gc_s * 1000, "classes": cost.classes})
        for mode in modes:
            s = _median_report(skews[mode])
            results[(workload, mode)] = (median(walls[mode]), s)
            strategy = ""
            if mode in ("salted", "declared"):
                hot = last_hot.get((workload, mode))
                if isinstance(hot, str):
                    strategy = f" ({hot})"
                else:
                    strategy = f" ({hot.strategy}, {hot.salt_count} salts)" if hot else " (none)"
            print(f"{workload:<6} {mode:<8}{strategy} wall={median(walls[mode]):6.1f}s "
                  f"tasks={s.get('tasks')} max/median={s.get('task_max_over_median')} "
                  f"(bytes {s.get('bytes_max_over_median')}, "
                  f"CPU time {s.get('task_cpu_max_over_median')}) "
                  f"makespan64={s.get('makespan_64_slots_ms', 0) / 1000:.2f}s "
                  f"(all stages {s.get('all_stages_makespan_64_slots_ms', 0) / 1000:.2f}s) "
                  f"JIT compiling {(s.get('jit_ms') or 0) / 1000:.1f}s, "
                  f"GC {(s.get('gc_ms') or 0) / 1000:.2f}s, "
                  f"classes compiled {s.get('classes')}; max/median per repeat "
                  f"{[r.get('task_max_over_median') for r in skews[mode]]}",
                  flush=True)
    spark.conf.set("spark.sql.adaptive.enabled", "true")
    summary = {}
    for workload, _ in workloads:
        salted, default = results[(workload, "salted")], results[(workload, "aqe_on")]
        summary[workload] = {
            "salted_wall_over_default": round(salted[0] / default[0], 3),
            "salted_wall_over_aqe_off": round(salted[0] / results[(workload, "aqe_off")][0], 3),
            "declared_hot_keys_wall_over_default": round(
                results[(workload, "declared")][0] / default[0], 3),
            "salted_task_max_over_median": salted[1].get("task_max_over_median"),
            "salted_shuffle_bytes_max_over_median": salted[1].get("bytes_max_over_median"),
            "salted_task_cpu_max_over_median": salted[1].get("task_cpu_max_over_median"),
            "salted_jit_compile_s": round((salted[1].get("jit_ms") or 0) / 1000, 2),
            "salted_gc_s": round((salted[1].get("gc_ms") or 0) / 1000, 2),
            "default_task_max_over_median": default[1].get("task_max_over_median"),
            "makespan64_default_over_salted": round(
                default[1].get("makespan_64_slots_ms", 0)
                / max(1.0, salted[1].get("makespan_64_slots_ms", 1)), 2),
            "all_stages_makespan64_default_over_salted": round(
                default[1].get("all_stages_makespan_64_slots_ms", 0)
                / max(1.0, salted[1].get("all_stages_makespan_64_slots_ms", 1)), 2),
        }
    print("SUMMARY " + json.dumps({"rows": args.rows, "hot_share": args.hot_share,
                                   "warmups": args.warmups, "repeats": args.repeats,
                                   "codegen_cache": args.codegen_cache,
                                   "driver_memory": args.driver_memory,
                                   "driver_java_options": args.driver_java_options,
                                   **summary}))
    shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()

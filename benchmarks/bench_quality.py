"""The cost of ten typical expectations on a multi-million-row stage output.

A map stage over ``--rows`` rows x 10 columns (default 5,000,000) is materialized to Delta, as
the framework materializes audited stages: (a) without checks, (b) with the ten checks' gate,
whose nine scan-type checks are observed during the write, then (c) the verdicts, which need one
query for the exact uniqueness check over the staged table. Opening the staged table (Delta's
log replay, which publishing needs anyway) is timed and counted apart.
It prints, measured in one run: the time the scan checks and the uniqueness check add, divided
by the stage's own time; the Spark jobs validation launched; and, for reference, GE's own engine
on the same ten expectations. Targets: scan checks <= 0.25, uniqueness <= 0.50, at most 3 jobs.
Usage: benchmarks/bench_quality.py [--rows N] [--repeats K]
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile

from _common import median, plain_spark, timed
from pyspark.sql import functions as F

from pipelines.core.config.settings import QualitySettings
from pipelines.core.declare import expectations as e
from pipelines.core.quality.gate import QualityGate

SCAN = [
    e.not_null("id"), e.not_null("customer"), e.between("amount", 0, 10_000),
    e.between("quantity", 1, 100), e.in_set("currency", ["USD", "EUR", "GBP", "JPY", "CHF"]),
    e.regex("sku", r"^SKU-\d+$"), e.mean_between("amount", 0, 10_000),
    e.row_count_between(1, None), e.max_between("score", None, 1.0),
]
UNIQUE = e.unique("id")


def stage(spark, path: str):
    """The stage: a narrow map over the input (what the framework would materialize)."""
    src = spark.read.parquet(path)
    return (src.withColumn("amount", F.round(F.col("amount") * 1.1, 2))
            .withColumn("customer", F.upper("customer")))


def make_input(spark, folder: str, rows: int) -> str:
    h = lambda tag: F.xxhash64(F.col("id"), F.lit(tag))  # noqa: E731
    df = spark.range(rows).select(
        F.col("id").cast("string").alias("id"),
        F.format_string("c%05d", F.pmod(h("c"), F.lit(50_000))).alias("customer"),
        (F.pmod(h("a"), F.lit(100_000)) / 100.0).alias("amount"),
        (F.pmod(h("q"), F.lit(20)) + 1).cast("int").alias("quantity"),
        F.element_at(F.array(*[F.lit(c) for c in ["USD", "EUR", "GBP", "JPY", "CHF"]]),
                     (F.pmod(h("u"), F.lit(5)) + 1).cast("int")).alias("currency"),
        F.format_string("SKU-%d", F.pmod(h("s"), F.lit(9999))).alias("sku"),
        (F.pmod(h("r"), F.lit(1000)) / 1000.0).alias("score"),
        F.to_date(F.lit("2026-11-26")).alias("day"),
        F.pmod(h("x"), F.lit(7)).alias("store"),
        F.format_string("note %d", F.pmod(h("n"), F.lit(100))).alias("note"),
    )
    df.write.mode("overwrite").parquet(f"{folder}/input")
    return f"{folder}/input"


def jobs_in(spark, group: str) -> int:
    return len(spark.sparkContext.statusTracker().getJobIdsForGroup(group))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument("--repeats", type=int, default=4)
    args = parser.parse_args()
    spark = plain_spark()
    sc = spark.sparkContext
    folder = tempfile.mkdtemp(prefix="bench-quality-")
    path = make_input(spark, folder, args.rows)
    counter = {"n": 0}

    def out() -> str:  # a fresh table per write: every write launches the same Delta jobs
        return f"{folder}/staged-{counter['n']}"

    def in_group(name: str, fn) -> float:
        counter["n"] += 1
        group = f"{name}-{counter['n']}"
        sc.setJobGroup(group, name)
        elapsed = timed(fn)
        sc.setLocalProperty("spark.jobGroup.id", None)
        in_group.jobs = jobs_in(spark, group)  # type: ignore[attr-defined]
        return elapsed

    def plain() -> None:
        stage(spark, path).write.format("delta").mode("overwrite").save(out())

    held: dict = {}

    def with_checks() -> None:
        """The stage materialized as the framework does it: the ten checks' gate prepared,
        the nine scan checks observed while the rows are written."""
        held["gate"] = QualityGate("bench", [*SCAN, UNIQUE], QualitySettings())
        held["path"] = out()
        held["gate"].prepare(stage(spark, path)).write.format("delta").mode("overwrite").save(
            held["path"])

    def read_back() -> None:
        """Open the staged table as publishing does (Delta replays its log: 2 small jobs).
        Publishing needs this anyway, so it is timed and counted apart from validation."""
        held["staged"] = spark.read.format("delta").load(held["path"])
        held["staged"].inputFiles()

    def verdicts() -> None:
        """All ten verdicts: the scan checks' from the observed metrics, plus one query for
        the uniqueness check over the staged table."""
        staged = held["staged"]
        held["quality"] = held["gate"].evaluate(staged, columns=staged.columns)

    plain()
    with_checks()  # warm-up
    read_back()
    verdicts()
    t_plain, t_scan, t_unique, jobs = [], [], [], {}
    for _ in range(args.repeats):
        t_plain.append(in_group("plain", plain))
        jobs["plain"] = in_group.jobs  # type: ignore[attr-defined]
        t_scan.append(in_group("checked", with_checks))
        jobs["checked_write"] = in_group.jobs  # type: ignore[attr-defined]
        t_read = in_group("read_back", read_back)
        jobs["read_back"] = in_group.jobs  # type: ignore[attr-defined]
        t_unique.append(in_group("verdicts", verdicts))
        jobs["verdicts"] = in_group.jobs  # type: ignore[attr-defined]
        print(f"plain write {t_plain[-1]:.1f}s ({jobs['plain']} jobs) | write with checks "
              f"observed {t_scan[-1]:.1f}s ({jobs['checked_write']} jobs) | read-back "
              f"{t_read:.1f}s ({jobs['read_back']} Delta log jobs) | verdicts incl. "
              f"uniqueness {t_unique[-1]:.1f}s ({jobs['verdicts']} jobs)", flush=True)
    stage_s = median(t_plain)
    scan_extra = max(0.0, median(t_scan) - stage_s)
    validation_jobs = max(0, jobs["checked_write"] - jobs["plain"]) + jobs["verdicts"]

    from pipelines.core.quality.ge_adapter import validate_with_ge

    staged = spark.read.format("delta").load(held["path"])
    validate_with_ge(staged.limit(1000), [*SCAN, UNIQUE])  # warm GE up
    ge_s = in_group("ge", lambda: validate_with_ge(staged, [*SCAN, UNIQUE]))
    ge_jobs = in_group.jobs  # type: ignore[attr-defined]
    summary = {
        "rows": args.rows, "stage_s": round(stage_s, 2),
        "scan_checks_over_stage": round(scan_extra / stage_s, 3),
        "unique_check_over_stage": round(median(t_unique) / stage_s, 3),
        "validation_jobs": validation_jobs, "read_back_delta_log_jobs": jobs["read_back"],
        "ge_engine_over_stage": round(ge_s / stage_s, 2), "ge_engine_jobs": ge_jobs,
        "all_checks_passed": all(r.success for r in held["quality"].results),
    }
    print(f"stage {stage_s:.1f}s | scan checks +{scan_extra:.1f}s | unique "
          f"{median(t_unique):.1f}s | GE engine {ge_s:.1f}s ({ge_jobs} jobs)")
    print("SUMMARY " + json.dumps(summary))
    shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()

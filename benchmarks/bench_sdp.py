"""Head to head: ``daily_revenue`` through the framework and through Spark Declarative
Pipelines (``spark-pipelines``, shipped in the pinned PySpark), same data, same machine.

Generates ``--rows`` orders for one date (as ``make bench``), then runs each side as a
process of its own, as cron starts it, taking turns, ``--repeats`` times after a warm-up:
  (a) ``pipelines run daily_revenue --force``: planning, schema checks, quality gates,
      quarantine, hot-key detection, staging, idempotent Delta commits, ledger and report;
  (b) ``spark-pipelines run --full-refresh-all`` on ``sdp_daily_revenue.py``: the same
      sources, map functions and aggregations, the same three Delta tables, through Spark
      Connect. Without a metastore, Spark's catalog lives in the process, so every SDP run
      writes its tables anew into an empty folder; the framework writes into its existing
      tables (new Delta versions, a MERGE into ``customer_totals``).
Both start Spark the same way (``local[2]``, 8 shuffle partitions, delta-spark from the
same ivy cache). Prints the wall time of each process, the ratio framework / SDP (target: at
most 1.0) and the output tables' row counts on both sides (they must match).
Usage: benchmarks/bench_sdp.py [--rows N] [--repeats K]
Needs Spark Connect's Python client: ``make setup-bench`` installs it.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import bench_pipeline as bp
from _common import ROOT, in_turn, median, plain_spark, timed

DATE = bp.DATE  # the date bench_pipeline.fresh_process runs
DELTA = "io.delta:delta-spark_4.1_2.13:4.4.0"
TABLES = ("fact_daily_revenue", "customer_totals", "clean_orders_quarantine")
SPEC = """name: daily_revenue
storage: file://{root}/sdp_storage
configuration:
  spark.sql.shuffle.partitions: "8"
  spark.sql.session.timeZone: UTC
libraries:
  - glob:
      include: transformations/**
"""


def sdp_project(root: str) -> Path:
    """A ``spark-pipelines`` project whose one library is ``sdp_daily_revenue.py``."""
    project = Path(root) / "sdp_project"
    (project / "transformations").mkdir(parents=True)
    shutil.copy(ROOT / "benchmarks/sdp_daily_revenue.py", project / "transformations")
    (project / "spark-pipeline.yml").write_text(SPEC.format(root=root))
    return project


def run_sdp(project: Path, wh: str) -> None:
    # without a metastore, Spark's catalog lives in the process: a new process knows no
    # table and refuses to create one where the last run's files are, so every run starts
    # from an empty folder (a full refresh is what --full-refresh-all asks anyway)
    shutil.rmtree(f"{wh}/sdp_tables", ignore_errors=True)
    delta_conf = ["--conf", "spark.sql.extensions=io.delta.sql.DeltaSparkSessionExtension",
                  "--conf", "spark.sql.catalog.spark_catalog="
                  "org.apache.spark.sql.delta.catalog.DeltaCatalog",
                  "--conf", f"spark.sql.warehouse.dir={wh}/sdp_tables"]
    env = {**os.environ, "PYSPARK_PYTHON": sys.executable, "SDP_BENCH_WAREHOUSE": wh,
           "SDP_BENCH_DATE": DATE, "PYTHONPATH": str(ROOT),
           "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
           # the Spark Connect server the CLI starts is a JVM of its own: delta-spark and its
           # settings reach it through these arguments
           "PYSPARK_SUBMIT_ARGS": " ".join(["--packages", DELTA, *delta_conf, "--conf",
                                            "spark.ui.enabled=false", "pyspark-shell"])}
    subprocess.run(["spark-pipelines", *delta_conf, "run", "--spec",
                    str(project / "spark-pipeline.yml"), "--full-refresh-all"],
                   check=True, cwd=project, env=env, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)


def row_counts(path_of: dict[str, str]) -> dict[str, int]:
    from deltalake import DeltaTable

    return {name: sum(len(b) for b in DeltaTable(path).to_pyarrow_dataset().to_batches())
            for name, path in path_of.items()}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=3_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    root = tempfile.mkdtemp(prefix="bench-sdp-")
    wh_fw, wh_sdp = f"{root}/framework", f"{root}/sdp"
    spark = plain_spark()
    from pipelines.demo.orders_data import generate

    generate(spark, wh_fw, DATE, rows=args.rows, customers=20_000, hot_share=0.5, seed=11,
             bad_share=0.001, files=8)
    spark.stop()
    shutil.copytree(wh_fw, wh_sdp)
    project = sdp_project(root)
    sides = {"framework": lambda: bp.fresh_process(wh_fw, "framework"),
             "sdp": lambda: run_sdp(project, wh_sdp)}
    for run in sides.values():  # warm-up: file cache, ivy resolution; not counted
        run()
    times: dict[str, list[float]] = {name: [] for name in sides}
    for i in range(args.repeats):
        for name, run in in_turn(i, list(sides.items())):
            times[name].append(timed(run))
        print(f"repeat {i + 1}: framework {times['framework'][-1]:.1f}s, "
              f"spark-pipelines {times['sdp'][-1]:.1f}s", flush=True)
    fw = row_counts({t: f"{wh_fw}/tables/{t}" for t in TABLES})
    sdp = row_counts({t: f"{wh_sdp}/sdp_tables/{t}" for t in TABLES})
    print("rows per table, framework / spark-pipelines: "
          + ", ".join(f"{t} {fw[t]}/{sdp[t]}" for t in TABLES))
    if fw != sdp:
        raise SystemExit("the two pipelines wrote different row counts")
    f, s = median(times["framework"]), median(times["sdp"])
    print(f"rows={args.rows} framework_median_s={f:.1f} sdp_median_s={s:.1f} "
          f"ratio_framework_over_sdp={f / s:.3f}")
    shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()

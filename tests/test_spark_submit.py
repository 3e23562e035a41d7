"""The README's spark-submit command, against local[2]."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pipelines.core.execution.session import delta_package
from pipelines.demo.orders_data import generate
from tests.helpers import DATE

ROOT = Path(__file__).resolve().parents[1]


def describe_spark_submit():
    @pytest.mark.slow  # a fresh process or notebook kernel: make test-slow
    def it_runs_the_nightly_pipeline_on_the_submitted_session(spark, warehouse):
        generate(spark, warehouse, DATE, rows=300, customers=40, seed=9)
        bin_dir = Path(sys.executable).parent
        cmd = [
            str(bin_dir / "spark-submit"), "--master", "local[2]",
            "--packages", delta_package(),
            "--conf", "spark.sql.extensions=io.delta.sql.DeltaSparkSessionExtension",
            "--conf", "spark.sql.catalog.spark_catalog="
                      "org.apache.spark.sql.delta.catalog.DeltaCatalog",
            "--conf", "spark.ui.enabled=false",
            str(ROOT / "submit.py"), "run", "daily_revenue", "--date", DATE,
            "--env", "test", "--conf", f"warehouse={warehouse}", "--json",
        ]
        env = {**os.environ, "PYSPARK_PYTHON": sys.executable,
               "PYSPARK_DRIVER_PYTHON": sys.executable}
        done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600,
                              cwd=ROOT)
        assert done.returncode == 0, done.stderr[-3000:]
        out = json.loads(done.stdout)
        assert out["status"] == "succeeded"
        fact = spark.read.format("delta").load(f"{warehouse}/tables/fact_daily_revenue")
        assert fact.count() == {s["name"]: s for s in out["stages"]}["daily_revenue"][
            "rows_out"]

"""Submitting the reference pipeline to a real standalone cluster (``make test-cluster``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pipelines.demo.orders_data import generate
from tests.helpers import DATE

pytestmark = pytest.mark.cluster
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("cluster")
    env = {**os.environ, "CLUSTER_DIR": str(run_dir), "MASTER_PORT": "7077"}
    script = str(ROOT / "scripts" / "cluster.sh")
    try:
        subprocess.run([script, "start"], check=True, env=env, cwd=ROOT, timeout=300)
        yield "spark://127.0.0.1:7077"
    finally:  # stopped on every exit path, even when start failed half way
        subprocess.run([script, "stop"], env=env, cwd=ROOT, timeout=120)


def describe_a_standalone_cluster():
    def it_runs_the_nightly_pipeline_submitted_with_the_bundle(spark, cluster, warehouse,
                                                               tmp_path):
        generate(spark, warehouse, DATE, rows=2000, customers=100, seed=4)
        dist = tmp_path / "dist"
        env = {**os.environ, "PYSPARK_PYTHON": sys.executable,
               "PYSPARK_DRIVER_PYTHON": sys.executable, "SPARK_LOCAL_IP": "127.0.0.1",
               "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
        subprocess.run([sys.executable, "-m", "pipelines", "package", "--out", str(dist)],
                       check=True, cwd=ROOT, env=env, timeout=300)
        done = subprocess.run(
            [str(dist / "submit.sh"), "--master", cluster, "--deploy-mode", "client",
             "--conf", "spark.executor.memory=1g", "--conf", "spark.ui.enabled=false", "--",
             "run", "daily_revenue", "--date", DATE, "--env", "test",
             "--conf", f"warehouse={warehouse}", "--json"],
            capture_output=True, text=True, cwd=tmp_path, env=env, timeout=900)
        assert done.returncode == 0, done.stderr[-3000:]
        out = json.loads(done.stdout)
        assert out["status"] == "succeeded"
        fact = spark.read.format("delta").load(f"{warehouse}/tables/fact_daily_revenue")
        rows = {s["name"]: s for s in out["stages"]}["daily_revenue"]["rows_out"]
        assert fact.count() == rows > 0
        ledger = spark.read.format("delta").load(f"{warehouse}/_pipelines/ledger")
        assert ledger.where(f"run_id = '{out['run_id']}' AND status = 'succeeded'").count() == 1

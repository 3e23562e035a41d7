"""Each run records what it cost, from Spark's own accounting and without a Spark job of its
own: the CPU time its tasks spent on executors, the cores and memory its executors held while
it ran, and their price per core-hour and GB-hour; `slo` holds it to a cost objective."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.core.config.settings import CostSettings
from pipelines.core.execution.cost import CostMeter, memory_gb
from tests.helpers import DATE, cli

PRICES = ("--conf", "cost.core_hour=3.6", "--conf", "cost.gb_hour=0.36",
          "--conf", "cost.currency=EUR")


def _land(warehouse: str) -> None:
    folder = Path(warehouse) / "landing" / "events" / DATE
    folder.mkdir(parents=True)
    (folder / "part-0.json").write_text("".join(f'{{"user": "u{i % 7}", "n": {i}}}\n'
                                                for i in range(500)))


def describe_the_cost_of_a_run():
    def it_records_cpu_time_and_what_was_held_priced_by_the_settings(spark, warehouse, capsys):
        _land(warehouse)
        code, out, err = cli(capsys, "run", "watched", "--date", DATE, *PRICES,
                             warehouse=warehouse)
        assert code == 0, err
        cost = out["cost"]
        assert 0 < cost["executor_cpu_seconds"] <= cost["core_seconds"]
        assert cost["spark_stages"] > 0
        # local[2]: the driver's two cores, from the run's start to its report
        after = out["phases"]["ledger"] + 1.0
        assert 2 * (out["duration_s"] - after) <= cost["core_seconds"] <= 2 * out["duration_s"]
        assert cost["gb_seconds"] == pytest.approx(cost["core_seconds"] / 2, rel=1e-3)  # 1g
        assert cost["cost"] == pytest.approx(cost["core_seconds"] / 1000
                                             + cost["gb_seconds"] / 10_000, abs=1e-6)
        assert cost["currency"] == "EUR"
        _, shown, _ = cli(capsys, "show", out["run_id"], warehouse=warehouse)
        assert shown["cost"] == cost  # in the ledger, read without a JVM

    def it_charges_each_run_of_a_session_only_its_own_stages(spark):
        first = CostMeter(spark)
        spark.range(200_000).selectExpr("sum(id)").collect()
        second = CostMeter(spark)
        spark.range(1000).selectExpr("sum(id)").collect()
        one, two = first.measure(CostSettings()), second.measure(CostSettings())
        assert one["spark_stages"] > two["spark_stages"] >= 1

    def it_runs_no_spark_job(spark):
        meter = CostMeter(spark)
        tracker = spark.sparkContext.statusTracker()
        before = tracker.getJobIdsForGroup(None)
        meter.measure(CostSettings(core_hour=1.0))
        assert tracker.getJobIdsForGroup(None) == before

    def it_reads_jvm_memory_settings():
        assert (memory_gb("4g"), memory_gb("512m"), memory_gb(None)) == (4.0, 0.5, 1.0)


def describe_a_cost_objective():
    def it_is_breached_when_runs_cost_more_than_declared(spark, warehouse, capsys):
        _land(warehouse)
        assert cli(capsys, "run", "watched", "--date", DATE, "--conf", "cost.core_hour=36",
                   warehouse=warehouse)[0] == 0
        code, out, _ = cli(capsys, "slo", "watched", warehouse=warehouse)
        found = out["indicators"]
        assert code == 7 and found["cost_per_run"] > 0.01
        assert (f"cost per run {found['cost_per_run']:.4f} USD > objective 0.0100"
                in out["breaches"])

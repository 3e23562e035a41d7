"""Background work of a run: failures surface at the next check and stop the run's jobs."""

from __future__ import annotations

import time

import pytest
from pyspark.sql import functions as F

from pipelines.core.pending import Pending


def _sleeping(spark, seconds: int = 120):
    """A query whose two tasks sleep: it ends only when its job is cancelled."""
    nap = F.udf(lambda x: time.sleep(seconds) or x, "long")
    return spark.range(2, numPartitions=2).select(nap("id").alias("id"))


def _running_job(spark) -> None:
    tracker = spark.sparkContext.statusTracker()
    while not tracker.getActiveJobsIds():
        time.sleep(0.1)


def describe_pending():
    def it_runs_tasks_in_order_and_raises_nothing_when_they_pass(spark):
        done: list[str] = []
        pending = Pending(spark, on_failure=lambda: done.append("cancelled"))
        pending.submit("first", lambda: done.append("first"))
        pending.submit("second", lambda: done.append(str(spark.range(3).count())))
        pending.wait()
        pending.close()
        assert done == ["first", "3"]

    def it_cancels_the_callers_jobs_and_raises_the_failure_at_the_next_check(spark):
        sc = spark.sparkContext
        calls: list[str] = []

        def cancel() -> None:
            calls.append("on_failure")
            sc.cancelJobGroup("caller")

        def failing_audit() -> None:
            _running_job(spark)
            raise RuntimeError("unique:id failed")

        pending = Pending(spark, on_failure=cancel)
        sc.setJobGroup("caller", "the stage the run is computing")
        try:
            pending.submit("audit", failing_audit)
            with pytest.raises(Exception, match="cancel"):
                _sleeping(spark).collect()
        finally:
            sc.setLocalProperty("spark.jobGroup.id", None)
        with pytest.raises(RuntimeError, match="unique:id failed"):
            pending.check()
        pending.submit("skipped after a failure", lambda: calls.append("ran"))
        with pytest.raises(RuntimeError):
            pending.wait()
        pending.close()
        assert calls == ["on_failure"]

    def it_stops_a_running_tasks_jobs_when_closed(spark):
        calls: list[str] = []
        pending = Pending(spark, on_failure=lambda: calls.append("on_failure"))
        pending.submit("audit", lambda: _sleeping(spark).collect())
        _running_job(spark)
        pending.close()  # returns once the job is cancelled, not after its tasks' 120 s
        pending.check()  # a cancelled task is no failure of the run
        assert calls == []
        assert not spark.sparkContext.statusTracker().getActiveJobsIds()

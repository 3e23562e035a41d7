"""Measuring skew: task durations and shuffle-read sizes of the jobs a stage launched.

Reads Spark's own status store (kept even with the UI off) through the JVM gateway; the
stage's jobs are found by the job group the framework sets around its action.
"""

from __future__ import annotations

import heapq
import logging
import statistics
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, NamedTuple

from pyspark.sql import SparkSession

__all__ = ["SkewProbe", "TaskSample", "projected_makespan", "task_stats"]

log = logging.getLogger(__name__)


class TaskSample(NamedTuple):
    """One finished task: how long it lasted, the shuffle bytes it read, its time on a CPU."""

    ms: float
    shuffle_bytes: int
    cpu_ms: float


def projected_makespan(durations: Sequence[float], slots: int) -> float:
    """Wall time of running ``durations`` on ``slots`` parallel slots, longest task first."""
    loads = [0.0] * max(1, slots)
    heapq.heapify(loads)
    for d in sorted(durations, reverse=True):
        heapq.heappush(loads, heapq.heappop(loads) + d)
    return max(loads) if durations else 0.0


def _ratio(values: Sequence[float]) -> float | None:
    if not values:
        return None
    median = statistics.median(values)
    return round(max(values) / median, 2) if median > 0 else None


def _box(values: Sequence[float]) -> list[float]:
    """min, 25th, 50th, 75th, 90th percentile and max of ``values`` (a box plot's points)."""
    if not values:
        return []
    if len(values) == 1:
        return [float(values[0])] * 6
    cuts = statistics.quantiles(values, n=20, method="inclusive")  # every 5th percentile
    return [round(v, 1) for v in (min(values), cuts[4], cuts[9], cuts[14], cuts[17],
                                  max(values))]


def task_stats(tasks: Sequence[TaskSample]) -> dict[str, Any]:
    durations = [t.ms for t in tasks]
    sizes = [float(t.shuffle_bytes) for t in tasks]
    return {
        "tasks": len(tasks),
        "task_ms_max": max(durations, default=0),
        "task_ms_median": statistics.median(durations) if durations else 0,
        "task_max_over_median": _ratio(durations),
        "task_ms_box": _box(durations),  # min, p25, p50, p75, p90, max
        # the same for the time on a CPU: a task waiting for a busy core lasts longer
        # without doing more work
        "task_cpu_max_over_median": _ratio([t.cpu_ms for t in tasks]),
        "shuffle_bytes_max": int(max(sizes, default=0)),
        "shuffle_bytes_median": int(statistics.median(sizes)) if sizes else 0,
        "partition_max_over_median": _ratio(sizes),
        "makespan_64_slots_ms": round(projected_makespan(durations, 64), 1),
    }


class SkewProbe:
    def __init__(self, spark: SparkSession) -> None:
        self.spark = spark
        self.groups: dict[str, str] = {}

    @contextmanager
    def watch(self, name: str) -> Iterator[str]:
        sc = self.spark.sparkContext
        group = f"pipelines-{name}-{uuid.uuid4().hex[:8]}"
        self.groups[name] = group
        sc.setJobGroup(group, f"stage {name}")
        try:
            yield group
        finally:
            sc.setLocalProperty("spark.jobGroup.id", None)  # type: ignore[arg-type]
            sc.setLocalProperty("spark.job.description", None)  # type: ignore[arg-type]

    def tasks_by_stage(self, name: str) -> dict[int, list[TaskSample]]:
        """Per Spark stage of ``name``'s jobs, its finished tasks."""
        group = self.groups.get(name)
        if group is None:
            return {}
        sc = self.spark.sparkContext
        tracker = sc.statusTracker()
        store: Any = sc._jsc.sc().statusStore()
        out: dict[int, list[TaskSample]] = {}
        for job_id in tracker.getJobIdsForGroup(group):
            info = tracker.getJobInfo(job_id)
            for stage_id in (info.stageIds if info else []):
                stage = tracker.getStageInfo(stage_id)
                if stage is None or stage.numCompletedTasks == 0:
                    continue
                tasks = store.taskList(stage_id, stage.currentAttemptId, 1_000_000)
                rows = []
                for i in range(tasks.size()):
                    task = tasks.apply(i)
                    if task.status() != "SUCCESS" or task.duration().isEmpty():
                        continue
                    read, cpu = 0, 0.0
                    metrics = task.taskMetrics()
                    if not metrics.isEmpty():
                        shuffle = metrics.get().shuffleReadMetrics()
                        read = shuffle.localBytesRead() + shuffle.remoteBytesRead()
                        cpu = metrics.get().executorCpuTime() / 1e6
                    rows.append(TaskSample(float(task.duration().get()), int(read), cpu))
                if rows:
                    out[stage_id] = rows
        return out

    def report(self, name: str) -> dict[str, Any] | None:
        """Task skew of ``name``'s jobs.

        The distribution (max, median, max/median, partition sizes) and the makespan projected
        for 64 slots are those of the critical keyed stage: of the Spark stages that read a
        shuffle, the one whose longest task is longest. ``all_stages_makespan_64_slots_ms``
        adds up the projection for every stage, scans included.
        """
        try:
            stages = self.tasks_by_stage(name)
        except Exception as exc:  # noqa: BLE001 - measuring must never fail a run
            log.debug("no skew report for %s: %s", name, exc)
            return None
        if not stages:
            return None
        keyed = {k: v for k, v in stages.items() if any(t.shuffle_bytes for t in v)} or stages
        parallel = {k: v for k, v in keyed.items() if len(v) > 1} or keyed
        critical = max(parallel, key=lambda k: max(t.ms for t in parallel[k]))
        makespan = sum(projected_makespan([t.ms for t in tasks], 64)
                       for tasks in stages.values())
        return {"spark_stage": critical, "spark_stages": len(stages),
                **task_stats(parallel[critical]),
                "all_stages_makespan_64_slots_ms": round(makespan, 1)}

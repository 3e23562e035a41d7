"""Independent driver-side work run at once: Delta commits to different tables.

A Delta commit is mostly driver work (log listing, JSON and checkpoint writes, conflict
checks) during which the executors idle; publishing independent tables from a few threads
overlaps one table's commit with another's write tasks, and a commit started in the background
overlaps the queries that follow it. Each thread inherits the caller's Spark local properties
(job group, scheduler pool).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import TypeVar

from pyspark import inheritable_thread_target
from pyspark.sql import SparkSession

__all__ = ["in_background", "run_concurrently"]

T = TypeVar("T")


def run_concurrently(tasks: Sequence[Callable[[], T]], workers: int) -> list[T]:
    """Results in task order. Every task runs to its end; then the first failure (in task
    order) is raised, so one failed table never leaves another half-attempted."""
    if workers <= 1 or len(tasks) <= 1:
        return [task() for task in tasks]
    tasks = [_inheriting(task) for task in tasks]
    with ThreadPoolExecutor(max_workers=min(workers, len(tasks))) as pool:
        futures = [pool.submit(task) for task in tasks]
        wait(futures)
    for future in futures:
        error = future.exception()
        if error is not None:
            raise error
    return [future.result() for future in futures]


def in_background(task: Callable[[], T]) -> Future[T]:
    """Start ``task`` on a thread of its own now; ``result()`` waits for it and raises its
    failure."""
    task = _inheriting(task)
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pipelines-background")
    future = pool.submit(task)
    pool.shutdown(wait=False)  # the thread ends with the task
    return future


def _inheriting(task: Callable[[], T]) -> Callable[[], T]:
    """``task``, run on another thread with the caller's Spark local properties and tags."""
    session = SparkSession.getActiveSession()
    return inheritable_thread_target(session)(task) if session is not None else task

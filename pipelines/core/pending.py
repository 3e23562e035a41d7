"""Work a run starts at once but waits for only before it publishes.

Two pieces of a run need not hold up the stages after them:

- the audits: checks that need a Spark query of their own over a stage's materialized output
  (a uniqueness check's shuffle, a full Great Expectations suite). They read the cached or
  staged output while the downstream stages compute, filling the cores those stages leave
  idle (their driver-side planning, their last tasks).
- the ledger's ``started`` event: a Delta commit, mostly driver work, overlapping the first
  stage.

The runner waits for all of it before its first publish: nothing is published unless every
audit passed (write, audit, publish). The first failure is kept, the stages' running Spark
jobs are cancelled at once through ``on_failure`` (a failed audit still stops the run
early), and the runner raises the failure at its next :meth:`Pending.check`.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait

from pyspark import inheritable_thread_target
from pyspark.sql import SparkSession

__all__ = ["Pending"]

log = logging.getLogger(__name__)


class Pending:
    """Background tasks of one run, one at a time on one thread, in submission order."""

    def __init__(self, spark: SparkSession, *, on_failure: Callable[[], None]) -> None:
        self.spark = spark
        self.on_failure = on_failure
        self._pool: ThreadPoolExecutor | None = None
        self._futures: list[Future[None]] = []
        self._groups: list[str] = []
        self._failure: BaseException | None = None
        self._cancelled = False
        self._lock = threading.Lock()

    def submit(self, what: str, task: Callable[[], None]) -> None:
        """Run ``task`` in the background; its Spark jobs get a job group of their own."""
        group = f"pipelines-{what.replace(' ', '-')}-{uuid.uuid4().hex[:8]}"
        self._groups.append(group)
        sc = self.spark.sparkContext

        def run() -> None:
            if self._cancelled or self._failure is not None:
                return
            sc.setJobGroup(group, what)
            try:
                task()
            except BaseException as exc:
                with self._lock:
                    first = self._failure is None and not self._cancelled
                    if first:
                        self._failure = exc
                if first:
                    try:
                        self.on_failure()
                    except Exception:  # noqa: BLE001 - the task's own failure is what counts
                        log.exception("could not cancel the run's Spark jobs")
                raise
            finally:
                sc.setLocalProperty("spark.jobGroup.id", None)  # type: ignore[arg-type]
                sc.setLocalProperty("spark.job.description", None)  # type: ignore[arg-type]

        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pipelines")
        # the thread inherits the caller's local properties (scheduler pool, job tags)
        self._futures.append(self._pool.submit(inheritable_thread_target(self.spark)(run)))

    def check(self) -> None:
        """Raise the first failure of the tasks finished so far, if any."""
        if self._failure is not None:
            raise self._failure

    def wait(self) -> None:
        """Wait for every task, then raise the first failure, if any."""
        wait(self._futures)
        self.check()

    def close(self) -> None:
        """Stop what still runs (the run failed), and release the thread. Idempotent."""
        self._cancelled = True
        if any(not f.done() for f in self._futures):
            for group in self._groups:
                self.spark.sparkContext.cancelJobGroup(group)
        wait(self._futures)
        if self._pool is not None:
            self._pool.shutdown()

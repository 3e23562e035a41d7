"""A run's ``--timeout``: past it, Spark jobs are cancelled as they start, except while a
sink commits (a commit in flight completes), and the run ends at its next check."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from pyspark.sql import SparkSession

from pipelines.core.errors import RunTimeoutError, UsageError

__all__ = ["Deadline"]


class Deadline:
    def __init__(self, timeout_s: float | None, *, pipeline: str) -> None:
        if timeout_s is not None and not timeout_s > 0:  # NaN included
            raise UsageError(f"timeout must be a positive number of seconds, not {timeout_s}",
                             pipeline=pipeline, key="timeout")
        self.timeout_s = timeout_s
        self.pipeline = pipeline
        self.passed = threading.Event()
        self._ended = threading.Event()  # stops the canceller
        self._committing = 0
        self._lock = threading.Lock()
        self._timer: threading.Timer | None = None

    def start(self, spark: SparkSession) -> None:
        if self.timeout_s is None:
            return

        def expire() -> None:
            self.passed.set()
            while not self._ended.is_set():
                if not self._committing:
                    spark.sparkContext.cancelAllJobs()
                self._ended.wait(0.5)

        self._timer = threading.Timer(self.timeout_s, expire)
        self._timer.daemon = True
        self._timer.start()

    def stop(self) -> None:
        self._ended.set()
        if self._timer is not None:
            self._timer.cancel()

    def check(self) -> None:
        """Raise :class:`RunTimeoutError` once the deadline passed."""
        if self.passed.is_set():
            raise RunTimeoutError(f"the run took longer than --timeout {self.timeout_s:g}s",
                                  pipeline=self.pipeline)

    @contextmanager
    def committing(self) -> Iterator[None]:
        """A sink's commit: checked before it starts and after it landed, never cancelled."""
        self.check()
        with self._lock:
            self._committing += 1
        try:
            yield
        finally:
            with self._lock:
                self._committing -= 1

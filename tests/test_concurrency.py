"""Independent work run at once: results in order, every task finishes, first failure raised;
work started in the background hands over its result or its failure when asked."""

from __future__ import annotations

import threading
import time

import pytest

from pipelines.core.execution.concurrency import in_background, run_concurrently


def describe_run_concurrently():
    def it_returns_results_in_task_order():
        def slow(value, delay):
            return lambda: (time.sleep(delay), value)[1]

        assert run_concurrently([slow("a", 0.2), slow("b", 0.0), slow("c", 0.1)], 3) == [
            "a", "b", "c"]

    def it_lets_every_task_finish_then_raises_the_first_failure():
        finished = []

        def fail(name):
            def task():
                raise ValueError(name)
            return task

        def ok():
            time.sleep(0.2)
            finished.append(threading.current_thread().name)

        with pytest.raises(ValueError, match="first"):
            run_concurrently([fail("first"), ok, fail("second")], 3)
        assert len(finished) == 1

    def it_runs_in_the_calling_thread_with_one_worker():
        here = threading.current_thread()
        assert run_concurrently([lambda: threading.current_thread() is here], 1) == [True]


def describe_in_background():
    def it_runs_on_another_thread_and_hands_over_the_result():
        here = threading.current_thread()
        assert in_background(lambda: threading.current_thread() is not here).result() is True

    def it_raises_the_failure_when_the_result_is_asked_for():
        future = in_background(lambda: 1 // 0)
        with pytest.raises(ZeroDivisionError):
            future.result()

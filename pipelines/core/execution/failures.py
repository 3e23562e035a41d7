"""Sorting Spark's exceptions into ours, and retrying only what is worth retrying."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from typing import TypeVar

from pyspark.errors import AnalysisException

from pipelines.core.config.settings import RetrySettings
from pipelines.core.delta.conflicts import is_retryable_conflict
from pipelines.core.errors import DefinitionError, InputDataError, PipelineError

__all__ = ["classify", "is_transient", "with_retries", "TRANSIENT_MARKERS"]

log = logging.getLogger(__name__)
T = TypeVar("T")

_MALFORMED_MARKERS = ("Malformed records are detected", "MALFORMED_RECORD", "CANNOT_PARSE",
                      "FAILFAST", "CAST_INVALID_INPUT", "PARSE_SYNTAX")
_MISSING_MARKERS = ("FileNotFoundException", "PATH_NOT_FOUND")
TRANSIENT_MARKERS = ("ExecutorLostFailure", "FetchFailed", "Connection reset",
                     "Connection refused", "SocketTimeoutException", "Lost executor",
                     "TransientFailure", "SparkOutOfMemory", "Broken pipe")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith(("JVM stacktrace", "at ", "py4j")):
            return line[:300]
    return type(exc).__name__


def classify(exc: BaseException, **where: str | None) -> PipelineError:
    """Our error for any exception raised while running ``where`` (pipeline, stage, ...)."""
    if isinstance(exc, PipelineError):
        return exc
    text = str(exc)
    if any(m in text for m in _MALFORMED_MARKERS):
        return InputDataError(f"input data is malformed or of the wrong type: "
                              f"{_first_line(exc)}", **where)
    if any(m in text for m in _MISSING_MARKERS):
        return InputDataError(f"input data disappeared while reading: {_first_line(exc)}",
                              **where)
    if isinstance(exc, AnalysisException):
        return DefinitionError(f"Spark analysis failed: {_first_line(exc)}", **where)
    return PipelineError(f"{type(exc).__name__}: {_first_line(exc)}", **where)


def is_transient(exc: BaseException) -> bool:
    if isinstance(exc, PipelineError) or isinstance(exc, AnalysisException):
        return False
    text = str(exc)
    if any(m in text for m in _MALFORMED_MARKERS):
        return False
    return is_retryable_conflict(exc) or any(m in text for m in TRANSIENT_MARKERS)


def with_retries(action: Callable[[], T], settings: RetrySettings, *, what: str,
                 on_retry: Callable[[int, BaseException], None] | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> T:
    """Run ``action``; retry transient failures with capped exponential backoff and jitter."""
    attempt = 1
    while True:
        try:
            return action()
        except Exception as exc:
            if attempt >= settings.max_attempts or not is_transient(exc):
                raise
            delay = min(settings.max_delay_s, settings.base_delay_s * 2 ** (attempt - 1))
            delay = delay * (0.5 + random.random() / 2)  # jitter: never retry in lockstep
            log.warning("%s failed (attempt %d/%d, retrying in %.1fs): %s", what, attempt,
                        settings.max_attempts, delay, _first_line(exc))
            if on_retry:
                on_retry(attempt, exc)
            sleep(delay)
            attempt += 1

"""Sorting Spark's exceptions into ours, and retrying only what is worth retrying."""

from __future__ import annotations

import logging
import random
import re
import time
from collections.abc import Callable
from errno import ENOSPC
from typing import TypeVar

from pyspark.errors import AnalysisException

from pipelines.core.config.settings import RetrySettings
from pipelines.core.delta.conflicts import RETRYABLE_CONFLICTS, is_retryable_conflict
from pipelines.core.errors import (
    AccessDeniedError,
    CorruptTableError,
    DefinitionError,
    DiskFullError,
    InputDataError,
    PipelineError,
    UserCodeError,
)
from pipelines.core.execution.causes import Cause, causes, safe_str

__all__ = ["classify", "is_transient", "with_retries", "writing", "naming", "unrecorded",
           "TRANSIENT_CLASSES"]

log = logging.getLogger(__name__)
T = TypeVar("T")

# Spark error conditions of input data that does not match its declaration
_BAD_INPUT = ("MALFORMED_RECORD_IN_PARSING", "CANNOT_PARSE_JSON_FIELD", "CAST_INVALID_INPUT",
              "FAILED_READ_FILE", "CANNOT_PARSE_", "PARSE_SYNTAX_ERROR")
_MISSING = ("java.io.FileNotFoundException", "FAILED_READ_FILE.FILE_NOT_EXIST",
            "PATH_NOT_FOUND")
# what a retry can get past: a peer that did not answer, a shuffle block lost with its host
TRANSIENT_CLASSES = frozenset({
    "java.net.ConnectException", "java.net.SocketTimeoutException", "java.net.SocketException",
    "java.net.NoRouteToHostException", "org.apache.spark.shuffle.FetchFailedException",
    "org.apache.spark.shuffle.MetadataFetchFailedException",
    "builtins.ConnectionResetError", "builtins.ConnectionRefusedError",
    "builtins.BrokenPipeError", "builtins.TimeoutError",
})


def _first_line(exc: BaseException) -> str:
    text = safe_str(exc).strip()
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith(("JVM stacktrace", "at ", "py4j")):
            return line[:300]
    return type(exc).__name__


def _where_in_file(chain: list[Cause]) -> dict[str, str]:
    """The file, column, value and types Spark's conditions name, as error fields."""
    fields: dict[str, str] = {}
    for cause in chain:
        p = cause.params
        if "path" in p:
            fields.setdefault("file", p["path"].removeprefix("file://").removeprefix("file:"))
        for ours, theirs in (("column", "column"), ("column", "fieldName"),
                             ("value", "fieldValue"), ("value", "expression"),
                             ("declared_type", "targetType"), ("declared_type", "expectedType"),
                             ("found_type", "actualType"), ("found_type", "sourceType"),
                             ("record", "badRecord")):
            if theirs in p:
                fields.setdefault(ours, p[theirs].strip("`[]"))
    return fields


def _bad_input(chain: list[Cause], **where: str | None) -> InputDataError:
    innermost = [c for c in chain if c.condition][-1]
    found = _where_in_file(chain)
    parts = []
    if "column" in found:
        parts.append(f"column '{found['column']}'")
    if "value" in found:
        parts.append(f"value {found['value']}")
    if "declared_type" in found:
        has = f"{found['found_type']} in the data, " if "found_type" in found else ""
        parts.append(f"{has}declared {found['declared_type']}")
    said = re.sub(r"^\[[A-Z_.]+\]\s*", "", innermost.message).split(" SQLSTATE")[0]
    detail = ": " + ", ".join(parts) if parts else f": {said}"
    in_file = f" in {found['file']}" if "file" in found else ""
    what = ("malformed input" if any((c.condition or "").startswith("MALFORMED") for c in chain)
            else "input does not match its declaration")
    return InputDataError(f"{what}{in_file}{detail} ({innermost.condition})",
                          **{**where, **found}, key=innermost.condition)


# the JDK's text for the OS error ENOSPC: java.io.IOException carries no error number
_NO_SPACE = "No space left on device"
_PYTHON_EXCEPTIONS = ("org.apache.spark.api.python.PythonException",
                      "pyspark.errors.exceptions.captured.PythonException")


def _disk_full(chain: list[Cause], **where: str | None) -> DiskFullError | None:
    if not any(c.cls == "java.io.IOException" and c.message.startswith(_NO_SPACE)
               or c.cls == "builtins.OSError" and c.message.startswith(f"[Errno {ENOSPC}]")
               for c in chain):
        return None
    found = _where_in_file(chain)
    at = f" writing {found['file']}" if "file" in found else ""
    return DiskFullError(f"disk full{at} ({_NO_SPACE})", **{**where, **found},
                         key="ENOSPC")


# what the storage says when it refuses access: a file's permissions, HDFS's, an object
# store's 403 (S3A raises java.nio.file.AccessDeniedException)
_DENIED = ("builtins.PermissionError", "java.nio.file.AccessDeniedException",
           "org.apache.hadoop.security.AccessControlException")


def _denied(exc: BaseException, chain: list[Cause], **where: str | None,
            ) -> AccessDeniedError | None:
    refused = [c for c in chain if c.cls in _DENIED
               or c.cls == "java.io.IOException" and "Permission denied" in c.message]
    if not refused:
        return None
    found = _where_in_file(chain)
    filename = getattr(exc, "filename", None)
    if filename and "file" not in found:
        found["file"] = str(filename)
    at = f" at {found['file']}" if "file" in found else ""
    return AccessDeniedError(f"permission denied{at} ({refused[-1].simple_name}: "
                             f"{refused[-1].message})", **{**where, **found}, key="EACCES")


def naming(error: PipelineError, **fields: str) -> PipelineError:
    """``error`` with ``fields`` it does not name yet (one of ours raised deeper down)."""
    for key, value in fields.items():
        if error.fields.get(key) is None:
            error.fields[key] = value
            setattr(error, key, value)
    return error


def unrecorded(exc: BaseException, *, pipeline: str, ledger: str,
               committed: list[str]) -> PipelineError:
    """The error of a run that published but whose ledger record failed."""
    error = naming(classify(exc, pipeline=pipeline), table=ledger)
    error.message = (f"published {', '.join(committed) or 'nothing'}, but the ledger could not "
                     f"record the run: {error.message}; a plain rerun records it (Delta skips "
                     "the commits already made)")
    error.fields["committed"] = committed
    return error


def writing(error: DiskFullError, path: str) -> DiskFullError:
    """``error`` naming ``path``, the folder being written, when Spark's error named no file
    (a job commit that ran out of space)."""
    if error.fields.get("file"):
        return error
    return DiskFullError(f"disk full writing {path} ({_NO_SPACE})",
                         **{**error.fields, "file": path})


def _corrupt_log(chain: list[Cause], **where: str | None) -> CorruptTableError | None:
    for cause in chain:
        path = cause.params.get("path", "")
        if "/_delta_log/" in path:
            file = path.removeprefix("file://").removeprefix("file:")
            table = file.split("/_delta_log/")[0]
            innermost = chain[-1]
            return CorruptTableError(
                f"the Delta log of table {table} is damaged: {file} cannot be read "
                f"({innermost.simple_name}: {innermost.message})",
                **{**where, "table": table, "file": file, "key": cause.condition})
    return None


def _python_traceback(exc: BaseException) -> str | None:
    """The Python worker's traceback Spark carries in a ``PythonException``."""
    current: BaseException | None = exc
    while current is not None:
        cls = type(current)
        if f"{cls.__module__}.{cls.__qualname__}" in _PYTHON_EXCEPTIONS:
            return safe_str(current)
        current = current.__cause__ or current.__context__
    return None


def _user_code(exc: BaseException, chain: list[Cause],
               **where: str | None) -> UserCodeError | None:
    if not any(c.cls in _PYTHON_EXCEPTIONS for c in chain):
        return None
    text = _python_traceback(exc) or next(
        (c.message for c in chain if c.cls in _PYTHON_EXCEPTIONS), "")
    frames = [f for f in re.findall(r'File "([^"]+)", line (\d+), in (\S+)', text)
              if "/pyspark/" not in f[0]]
    raised = [line for line in text.splitlines() if re.match(r"^[A-Za-z_][\w.]*(: |$)", line)]
    what = raised[-1].strip() if raised else "an exception"
    fields: dict[str, str | None] = {**where, "key": what.split(":")[0]}
    at = ""
    if frames:
        file, line, function = frames[-1]
        fields.update(file=file, line=line, function=function)
        at = f" at {file}:{line} (in {function})"
    stage = where.get("stage")
    whose = f"the Python code of stage {stage}" if stage else "the pipeline's Python code"
    return UserCodeError(f"{whose} raised {what}{at}", **fields)


def classify(exc: BaseException, **where: str | None) -> PipelineError:
    """Our error for any exception raised while running ``where`` (pipeline, stage, ...),
    from the classes and Spark error conditions of its cause chain."""
    if isinstance(exc, PipelineError):
        return exc
    chain = causes(exc)
    conditions = [c.condition for c in chain if c.condition]
    named = (_disk_full(chain, **where) or _denied(exc, chain, **where)
             or _corrupt_log(chain, **where) or _user_code(exc, chain, **where))
    if named is not None:
        return named
    if any(c.cls in _MISSING or (c.condition or "") in _MISSING for c in chain):
        found = _where_in_file(chain)
        return InputDataError(f"input data disappeared while reading: {_first_line(exc)}",
                              **{**where, **found})
    if any(cond.startswith(_BAD_INPUT) for cond in conditions):
        return _bad_input(chain, **where)
    if isinstance(exc, AnalysisException):
        return DefinitionError(f"Spark analysis failed: {_first_line(exc)}", **where,
                               key=conditions[0] if conditions else None)
    innermost = chain[-1]
    return PipelineError(f"{innermost.simple_name}: {innermost.message or _first_line(exc)}",
                         **where, key=conditions[-1] if conditions else None)


def is_transient(exc: BaseException) -> bool:
    """Worth retrying: a class of the cause chain is a network or shuffle-fetch failure, or a
    Delta conflict a retry resolves. Bad input, analysis errors and everything else: no."""
    if isinstance(exc, (PipelineError, AnalysisException)):
        return False
    chain = causes(exc)
    if any((c.condition or "").startswith(_BAD_INPUT) for c in chain):
        return False
    return (is_retryable_conflict(exc)
            or any(c.cls in TRANSIENT_CLASSES or c.simple_name in RETRYABLE_CONFLICTS
                   for c in chain))


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

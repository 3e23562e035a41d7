"""One exception hierarchy for the whole framework.

Every error carries an ``exit_code`` (the CLI's contract, documented in the README) and
structured fields (``pipeline``, ``stage``, ``column``, ``file``, ...) that tests assert on.
``str(error)`` is always a single line that names where the problem is.
"""

from __future__ import annotations

import json
import re
from enum import IntEnum
from typing import Any

__all__ = [
    "ExitCode",
    "PipelineError",
    "ConfigError",
    "DefinitionError",
    "UsageError",
    "QualityError",
    "LockHeldError",
    "InputDataError",
    "PublishError",
    "ResumeConflictError",
    "RunTimeoutError",
    "UserCodeError",
    "DiskFullError",
    "AccessDeniedError",
    "CorruptTableError",
    "register_secret",
    "redact",
]

# values read from the environment (${env:NAME} in the configuration), never to be printed
_SECRETS: dict[str, str] = {}
# a URI's user information: up to its last "@" (a password may hold "/" or ":")
_URI_CREDENTIALS = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)[^@\s\"']+@")


def register_secret(value: str, variable: str) -> None:
    """Remember a value read from environment variable ``variable``: :func:`redact` replaces
    it by ``${env:variable}`` wherever it would be printed, logged or stored."""
    if value and len(value) >= 4:  # shorter values would be found everywhere
        marker = f"${{env:{variable}}}"
        _SECRETS[value] = marker
        # the forms the value takes inside JSON text (escaped quotes, backslashes, non-ASCII)
        for ensure_ascii in (True, False):
            escaped = json.dumps(value, ensure_ascii=ensure_ascii)[1:-1]
            if escaped != value:
                _SECRETS[escaped] = marker


def redact(text: str) -> str:
    """``text`` without environment values or the credentials of a URI (``s3a://key@bucket``
    becomes ``s3a://***@bucket``)."""
    for value in sorted(_SECRETS, key=len, reverse=True):
        if value in text:
            text = text.replace(value, _SECRETS[value])
    return _URI_CREDENTIALS.sub(lambda m: f"{m.group('scheme')}***@", text)


def _redacted(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, (list, tuple)):
        return type(value)(_redacted(v) for v in value)
    if isinstance(value, dict):
        return {k: _redacted(v) for k, v in value.items()}
    return value


class ExitCode(IntEnum):
    """The CLI's exit codes (the README's table)."""

    OK = 0
    FAILURE = 1
    USAGE = 2
    QUALITY = 3
    LOCKED = 4
    INPUT = 5
    TIMEOUT = 6
    SLO_BREACH = 7
    BUDGET = 8
    DIFF = 9


class PipelineError(Exception):
    """Root of every error the framework raises on purpose."""

    exit_code: ExitCode = ExitCode.FAILURE
    kind: str = "failure"
    # where it happened, from the fields given (None: not given); any other field given is
    # an attribute too, and in ``fields`` and ``to_dict()``
    pipeline: str | None = None
    stage: str | None = None
    sink: str | None = None
    table: str | None = None
    source: str | None = None
    column: str | None = None
    file: str | None = None
    key: str | None = None

    def __init__(self, message: str, **fields: Any) -> None:
        self.message = redact(" ".join(str(message).split()))  # always one line
        fields = {k: _redacted(v) for k, v in fields.items()}
        self.fields: dict[str, Any] = {k: v for k, v in fields.items() if v is not None}
        for key, value in fields.items():
            setattr(self, key, value)
        super().__init__(self.message)

    def __str__(self) -> str:
        where = ", ".join(
            f"{k}={self.fields[k]}"
            for k in ("pipeline", "stage", "sink", "table", "source", "column", "file", "key")
            if k in self.fields
        )
        return f"{self.message} [{where}]" if where else self.message

    def to_dict(self) -> dict[str, Any]:
        return {
            "error": type(self).__name__,
            "kind": self.kind,
            "exit_code": self.exit_code,
            "message": self.message,
            **{k: _jsonable(v) for k, v in self.fields.items()},
        }


def _jsonable(value: Any) -> Any:
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return str(value)


class UsageError(PipelineError):
    """Bad command line: unknown pipeline, invalid date, bad flag value."""

    exit_code = ExitCode.USAGE
    kind = "usage"


class ConfigError(PipelineError):
    """A configuration file or override is invalid."""

    exit_code = ExitCode.USAGE
    kind = "config"


class DefinitionError(PipelineError):
    """A pipeline definition is invalid (found at plan time, before any job runs)."""

    exit_code = ExitCode.USAGE
    kind = "definition"


class ResumeConflictError(PipelineError):
    """A resumed run found that its inputs or code changed since the failed attempt."""

    exit_code = ExitCode.USAGE
    kind = "resume-conflict"


class QualityError(PipelineError):
    """A blocking data-quality expectation failed; nothing was published."""

    exit_code = ExitCode.QUALITY
    kind = "quality"


class LockHeldError(PipelineError):
    """Another run of the same pipeline holds the lock."""

    exit_code = ExitCode.LOCKED
    kind = "locked"


class InputDataError(PipelineError):
    """Input data for the run is missing or unreadable (malformed, wrong type)."""

    exit_code = ExitCode.INPUT
    kind = "input"


class PublishError(PipelineError):
    """Writing a sink failed (the table is left as it was)."""

    exit_code = ExitCode.FAILURE
    kind = "publish"


class RunTimeoutError(PipelineError):
    """The run outlived its ``--timeout``: its Spark jobs were cancelled, nothing more was
    published (what committed before is in the ledger, and a rerun completes it)."""

    exit_code = ExitCode.TIMEOUT
    kind = "timeout"


class UserCodeError(PipelineError):
    """The pipeline's own Python code (a Map function, a UDF) raised while Spark ran it."""

    exit_code = ExitCode.FAILURE
    kind = "user_code"


class DiskFullError(PipelineError):
    """A disk the run writes to (staging, a table, Spark's shuffle files) is full."""

    exit_code = ExitCode.FAILURE
    kind = "disk_full"


class AccessDeniedError(PipelineError):
    """The storage refused the run access to a path (file permissions, an object store's
    403): the run's identity needs the right, no rerun gets past it."""

    exit_code = ExitCode.FAILURE
    kind = "permission"


class CorruptTableError(PipelineError):
    """A Delta table's transaction log cannot be read: a commit file is damaged or missing."""

    exit_code = ExitCode.INPUT
    kind = "corrupt_table"

"""An exception's cause chain as data: the Python exceptions and, behind a PySpark or Py4J
error, the JVM's, each with its class, Spark error condition and message parameters.

Errors are classified and retried from these fields, never from the words of a message.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["Cause", "causes", "safe_str", "one_line"]

_DEPTH = 12


@dataclass(frozen=True)
class Cause:
    cls: str  # fully qualified: "java.net.ConnectException", "builtins.ValueError"
    condition: str | None = None  # Spark's error condition, "CAST_INVALID_INPUT"
    params: dict[str, str] = field(default_factory=dict)
    message: str = ""

    @property
    def simple_name(self) -> str:
        return self.cls.rsplit(".", 1)[-1]


def safe_str(exc: BaseException) -> str:
    """``str(exc)``, also for an exception whose ``__str__`` fails (a half-built one)."""
    try:
        return str(exc)
    except Exception:  # noqa: BLE001
        return type(exc).__name__


def one_line(exc: BaseException) -> str:
    """``Class: first line of its message``, for a warning about a side matter."""
    return f"{type(exc).__name__}: {_first_line(safe_str(exc))}"


def _first_line(text: str) -> str:
    for line in str(text).splitlines():
        if line.strip():
            return line.strip()[:500]
    return ""


def _java(throwable: Any) -> list[Cause]:
    found: list[Cause] = []
    seen = 0
    while throwable is not None and seen < _DEPTH:
        seen += 1
        try:
            name = str(throwable.getClass().getName())
        except Exception:  # noqa: BLE001 - not a Java object after all
            break
        condition, params = None, {}
        try:
            condition = throwable.getCondition()
            params = {str(k): str(v) for k, v in dict(throwable.getMessageParameters()).items()}
        except Exception:  # noqa: BLE001 - not a SparkThrowable
            pass
        found.append(Cause(name, str(condition) if condition else None, params,
                           _first_line(throwable.getMessage() or "")))
        throwable = throwable.getCause()
    return found


def causes(exc: BaseException) -> list[Cause]:
    """Outermost first: each Python exception (its ``__cause__``/``__context__`` chain), and
    after one that wraps a JVM exception, that exception and its causes."""
    found: list[Cause] = []
    current: BaseException | None = exc
    seen = 0
    while current is not None and seen < _DEPTH:
        seen += 1
        cls = type(current)
        condition, params = None, {}
        get, get_params = (getattr(current, "getCondition", None),
                           getattr(current, "getMessageParameters", None))
        if callable(get) and callable(get_params):
            try:
                condition = get()
                params = {str(k): str(v) for k, v in (get_params() or {}).items()}
            except Exception:  # noqa: BLE001
                condition, params = None, {}
        found.append(Cause(f"{cls.__module__}.{cls.__qualname__}", condition, params,
                           _first_line(safe_str(current))))
        origin = getattr(current, "_origin", None) or getattr(current, "java_exception", None)
        if origin is not None:
            found.extend(_java(origin))
        current = current.__cause__ or current.__context__
    return found

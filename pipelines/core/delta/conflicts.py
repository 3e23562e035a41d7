"""Which Delta commit conflicts a retry can resolve: the one home of that classification."""

from __future__ import annotations

__all__ = ["RETRYABLE_CONFLICTS", "is_retryable_conflict"]

# Delta's Python conflict exceptions are siblings: name every retryable one explicitly.
RETRYABLE_CONFLICTS = (
    "ConcurrentAppendException",
    "ConcurrentDeleteReadException",
    "ConcurrentDeleteDeleteException",
    "ConcurrentTransactionException",
    "ConcurrentWriteException",
    "MetadataChangedException",
    "ProtocolChangedException",
)


def is_retryable_conflict(exc: BaseException) -> bool:
    """Whether ``exc`` is (a subclass of) one of Delta's retryable conflict exceptions; the
    JVM's classes behind a Py4J error are checked by the caller's cause chain."""
    return bool({cls.__name__ for cls in type(exc).__mro__} & set(RETRYABLE_CONFLICTS))

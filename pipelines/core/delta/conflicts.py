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
    names = {cls.__name__ for cls in type(exc).__mro__}
    if names & set(RETRYABLE_CONFLICTS):
        return True
    text = str(exc)
    return any(name in text for name in RETRYABLE_CONFLICTS)

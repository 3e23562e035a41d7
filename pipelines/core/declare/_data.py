"""Helpers for the frozen declaration classes: sequences become tuples, mappings dicts."""

from __future__ import annotations

from typing import Any

__all__ = ["as_tuple", "freeze", "hot_key_tuples"]


def as_tuple(value: Any) -> tuple[Any, ...]:
    if value is None:
        return ()
    if isinstance(value, (str, bytes)):
        return (value,)
    return tuple(value)


def freeze(obj: Any, **values: Any) -> None:
    for key, value in values.items():
        object.__setattr__(obj, key, value)




def hot_key_tuples(values: Any) -> tuple[tuple[Any, ...], ...]:
    """Declared hot keys, each as a tuple of key values (a single value for one key column)."""
    return tuple(as_tuple(k) if isinstance(k, (list, tuple)) else (k,) for k in values)

"""A fingerprint per stage: what its output depends on, for reusing a staged result.

A stage's fingerprint hashes its declaration (a Map's function by its source text), the
checks that can drop its rows, the run's parameters and configuration, and the fingerprints
of its inputs; a source's, the declaration with the Delta version or file fingerprint read.
Two runs whose stage fingerprints agree computed the same rows for it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import inspect
from collections.abc import Mapping
from typing import Any

from pipelines.core.planning.plan import Plan

__all__ = ["stage_fingerprints"]


def stage_fingerprints(plan: Plan, inputs: Mapping[str, Mapping[str, Any]], config: str,
                       ) -> dict[str, str]:
    """Each stage's fingerprint, given what the run read of each source (``inputs``, as the
    ledger records them: version and fingerprint) and the configuration hash."""
    params = repr(sorted(plan.params.items()))
    done: dict[str, str] = {}
    for source in plan.sources.values():
        read = inputs.get(source.name) or {}
        done[source.name] = _digest(_declared(source), str(read.get("version")),
                                    str(read.get("fingerprint")))
    stages = {}
    for name in plan.order:
        stage = plan.stage(name)
        drops = [_declared(c) for c in plan.gate_checks(name) if c.severity == "drop"]
        done[name] = stages[name] = _digest(config, params, _declared(stage), *drops,
                                            *(done[i] for i in stage.inputs))
    return stages


def _declared(obj: Any) -> str:
    """A stable text of a declaration: its fields, functions by their module, name and
    source (never by their address)."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        fields = (f"{f.name}={_declared(getattr(obj, f.name))}" for f in dataclasses.fields(obj))
        return f"{type(obj).__name__}({', '.join(fields)})"
    if callable(obj) and hasattr(obj, "__code__"):
        try:
            text = inspect.getsource(obj)
        except (OSError, TypeError):
            text = obj.__code__.co_code.hex()
        return f"{obj.__module__}.{obj.__qualname__}:{_digest(text)}"
    if isinstance(obj, Mapping):
        return "{" + ", ".join(f"{k!r}: {_declared(v)}" for k, v in sorted(obj.items())) + "}"
    if isinstance(obj, (tuple, list)):
        return "[" + ", ".join(_declared(v) for v in obj) + "]"
    return repr(obj)


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:16]

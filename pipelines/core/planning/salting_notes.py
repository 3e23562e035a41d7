"""What salting will do with each stage, as the plan can tell before any data is read."""

from __future__ import annotations

from typing import Any

from pipelines.core.config.settings import SaltSettings
from pipelines.core.declare.spec import Join, Reduce
from pipelines.core.salting import AQE, SALTABLE_JOINS, needs_salting, skew_conf

__all__ = ["salting_note"]


def _size(size: str) -> str:
    """A byte count as the settings files write it: MiB, KiB or bytes."""
    n = int(size)
    for unit, scale in (("MiB", 2**20), ("KiB", 2**10)):
        if n >= scale:
            return f"{n / scale:g} {unit}"
    return f"{n} bytes"


def _aqe_split(salting: SaltSettings | None) -> str:
    """The sizes of AQE's skew split that the framework's session sets, when it sets them."""
    conf = skew_conf(salting) if salting is not None else {}
    if not conf:
        return ""
    return (f": a partition over {_size(conf[AQE + 'skewJoin.skewedPartitionThresholdInBytes'])}"
            f" (salting.min_hot_bytes) and {conf[AQE + 'skewJoin.skewedPartitionFactor']}x the"
            f" median, into pieces of {_size(conf[AQE + 'advisoryPartitionSizeInBytes'])}"
            " (salting.target_bytes_per_salt); a hash join when the right side's partitions"
            " are at most a piece")


def salting_note(stage: Any, salting: SaltSettings | None = None) -> str | None:
    """Where salting will apply, as the plan can tell before any data is read.

    With ``salting`` (the run's settings), a join left to AQE's skew split names its sizes.
    """
    if isinstance(stage, Reduce):
        if not stage.keys:
            return "salting: never (no keys: one group)"
        if stage.salt == "off":
            return "salting: off"
        if salting is not None and not salting.enabled:
            return "salting: off (salting.enabled: false)"
        if stage.salt == "auto" and not needs_salting(stage.aggs):
            return "salting: never (only combinable aggregations, combined map-side)"
        heavy = ", ".join(a.alias for a in stage.aggs if not a.combinable)
        how = f"{stage.salt} salts" if isinstance(stage.salt, int) else "detected at run time"
        return f"salting: hot keys of {', '.join(stage.keys)} ({how}); non-combinable: {heavy}"
    if isinstance(stage, Join):
        if stage.how not in SALTABLE_JOINS:
            return f"salting: never ({stage.how} join)"
        if stage.salt == "off":
            return "salting: off"
        if stage.condition_only:
            return ("salting: never (a nested-loop join broadcasts its right side, or an inner "
                    "join's left, when small; else it is refused)")
        if not stage.by_name:
            return "salting: AQE's skew split only (keys named differently or a condition)"
        pre = "broadcast if the right side is small, else " if stage.broadcast == "auto" else ""
        on = ", ".join(stage.on)
        if salting is not None and not salting.enabled:
            return f"salting: {pre}off (salting.enabled: false)"
        if stage.salt == "auto" and not stage.hot_keys:
            if salting is not None and salting.auto_join != "aqe":
                return (f"salting: {pre}hot keys of the left side on {on}, detected from a "
                        f"sample (salting.auto_join: {salting.auto_join})")
            return (f"salting: {pre}AQE splits skewed partitions (salting.auto_join: aqe)"
                    f"{_aqe_split(salting)}; "
                    f"with 'sample' or AQE off, detected hot keys of the left side on {on}")
        return f"salting: {pre}hot keys of the left side on {on}"
    return None

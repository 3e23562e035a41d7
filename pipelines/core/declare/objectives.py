"""Service-level objectives a pipeline declares, checked by ``pipelines slo`` against the
indicators computed from its run ledger."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

__all__ = ["Objectives"]

_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


@dataclass(frozen=True, kw_only=True)
class Objectives:
    """``success_rate``: the share of runs that succeed (0.99); ``p95_seconds``: the 95th
    percentile of a successful run's duration; ``published_by``: ``"HH:MM"`` (UTC) on the day
    after the logical date, by which the date's successful run has finished; ``cost_per_run``:
the most a run may cost on average, in the currency of the ``cost`` settings."""

    success_rate: float | None = None
    p95_seconds: float | None = None
    published_by: str | None = None
    cost_per_run: float | None = None

    def problems(self) -> list[tuple[str, str]]:
        """(field, what it must be) for each value of the wrong type or out of range."""
        found = []
        if self.success_rate is not None and not (
                _number(self.success_rate) and 0 < self.success_rate <= 1):
            found.append(("success_rate", "a share in (0, 1], as a number"))
        if self.p95_seconds is not None and not (
                _number(self.p95_seconds) and self.p95_seconds > 0):
            found.append(("p95_seconds", "a positive number of seconds"))
        if self.cost_per_run is not None and not (
                _number(self.cost_per_run) and self.cost_per_run >= 0):
            found.append(("cost_per_run", "a price of at least 0, as a number"))
        if self.published_by is not None and not (
                isinstance(self.published_by, str) and _TIME.match(self.published_by)):
            found.append(("published_by", "a time of day as HH:MM"))
        return found


def _number(value: object) -> bool:
    """A finite int or float (not a bool, not a string that looks like one)."""
    return (isinstance(value, (int, float)) and not isinstance(value, bool)
            and math.isfinite(value))

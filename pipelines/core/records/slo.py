"""Service-level indicators of a pipeline, computed from its run ledger (no Spark), and the
declared objectives they breach.

Indicators over the runs that started in the window (skipped runs are not recorded, runs
still running are left out): success rate, completion time P50/P95/P99 of successful runs,
throughput (rows the successful runs' stages produced per second), retries per failed run,
mean time to recover (from a date's first failed run to its next success), and the age of the
last successful run's finish.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any

from pipelines.core.declare.objectives import Objectives
from pipelines.core.records.ledger import RunRecord

__all__ = ["Indicators", "indicators", "breaches"]

FAILED = ("failed", "quality_failed", "partially_published", "died")


@dataclass(frozen=True)
class Indicators:
    pipeline: str
    window_days: int
    runs: int
    succeeded: int
    failed: int
    success_rate: float | None
    p50_seconds: float | None
    p95_seconds: float | None
    p99_seconds: float | None
    rows_per_second: float | None
    retries_per_failure: float | None
    mttr_seconds: float | None
    last_success_age_seconds: float | None
    late_dates: list[str] = field(default_factory=list)  # published after `published_by`
    # per run that recorded its cost (execution/cost.py): the mean of each
    cpu_seconds_per_run: float | None = None
    core_seconds_per_run: float | None = None
    cost_per_run: float | None = None
    currency: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _percentile(values: list[float], q: float) -> float | None:
    """The nearest-rank percentile (``q`` in (0, 1])."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def _rows(run: RunRecord) -> int:
    return sum(int(s.get("rows_out") or 0) for s in run.data.get("stages") or []
               if s.get("materialized"))


def _mttr(runs: list[RunRecord]) -> float | None:
    waits = []
    by_date: dict[str, list[RunRecord]] = {}
    for run in runs:
        by_date.setdefault(run.date, []).append(run)
    for date_runs in by_date.values():
        first_failure: RunRecord | None = None
        for run in sorted(date_runs, key=lambda r: r.started_at):
            if run.status in FAILED and first_failure is None:
                first_failure = run
            elif run.status == "succeeded" and first_failure is not None and run.finished_at:
                waits.append((run.finished_at - first_failure.started_at).total_seconds())
                first_failure = None
    return sum(waits) / len(waits) if waits else None


def _late(runs: list[RunRecord], published_by: str | None) -> list[str]:
    if published_by is None:
        return []
    hour, minute = (int(p) for p in published_by.split(":"))
    late = []
    for run in runs:
        if run.status != "succeeded" or run.finished_at is None:
            continue
        due = dt.datetime.fromisoformat(run.date) + dt.timedelta(days=1, hours=hour,
                                                                   minutes=minute)
        if run.finished_at > due:
            late.append(run.date)
    return sorted(set(late))


def indicators(pipeline: str, runs: list[RunRecord], *, days: int, now: dt.datetime,
               objectives: Objectives | None = None) -> Indicators:
    since = now - dt.timedelta(days=days)
    window = [r for r in runs if r.started_at >= since and r.status != "running"]
    ok = [r for r in window if r.status == "succeeded"]
    bad = [r for r in window if r.status in FAILED]
    durations = [float(r.duration_s) for r in ok if r.duration_s is not None]
    seconds, rows = sum(durations), sum(_rows(r) for r in ok)
    retries = sum(int(s.get("retries") or 0) for r in bad for s in r.data.get("stages") or [])
    last = max((r.finished_at for r in runs if r.status == "succeeded" and r.finished_at),
               default=None)
    decided = len(ok) + len(bad)
    costs = [c for c in ((r.data.get("notes") or {}).get("cost") for r in window) if c]
    return Indicators(
        pipeline=pipeline, window_days=days, runs=len(window), succeeded=len(ok),
        failed=len(bad), success_rate=len(ok) / decided if decided else None,
        p50_seconds=_percentile(durations, 0.50), p95_seconds=_percentile(durations, 0.95),
        p99_seconds=_percentile(durations, 0.99),
        rows_per_second=rows / seconds if seconds else None,
        retries_per_failure=retries / len(bad) if bad else None,
        mttr_seconds=_mttr(window),
        last_success_age_seconds=(now - last).total_seconds() if last else None,
        late_dates=_late(ok, objectives.published_by if objectives else None),
        cpu_seconds_per_run=_mean([c["executor_cpu_seconds"] for c in costs]),
        core_seconds_per_run=_mean([c["core_seconds"] for c in costs]),
        cost_per_run=_mean([c["cost"] for c in costs]),
        currency=costs[-1]["currency"] if costs else None)


def _mean(values: list[float]) -> float | None:
    return round(sum(values) / len(values), 6) if values else None


def breaches(found: Indicators, objectives: Objectives | None) -> list[str]:
    """One line per objective the indicators miss."""
    if objectives is None:
        return []
    out = []
    if (objectives.success_rate is not None and found.success_rate is not None
            and found.success_rate < objectives.success_rate):
        out.append(f"success rate {found.success_rate:.3f} < objective "
                   f"{objectives.success_rate:.3f}")
    if (objectives.p95_seconds is not None and found.p95_seconds is not None
            and found.p95_seconds > objectives.p95_seconds):
        out.append(f"P95 completion {found.p95_seconds:.1f}s > objective "
                   f"{objectives.p95_seconds:.1f}s")
    if (objectives.cost_per_run is not None and found.cost_per_run is not None
            and found.cost_per_run > objectives.cost_per_run):
        out.append(f"cost per run {found.cost_per_run:.4f} {found.currency} > objective "
                   f"{objectives.cost_per_run:.4f}")
    if found.late_dates:
        out.append(f"published after {objectives.published_by} UTC for "
                   f"{', '.join(found.late_dates)}")
    return out

"""A backfill: many dates of one pipeline in one Spark session, each still its own run (one
generation, its own idempotent commits), with bounded parallelism and a budget.

``parallel`` dates run at once on threads of the driver, sharing the session's executors;
they start in date order, the first one alone (it creates the ledger and new tables, whose
first commits concurrent runs would race for). Before each date starts, what the backfill
has used so far (Spark's accounting, as for a run's cost) plus what an average finished date
used is held against the budget: once the next date would go over it, no date starts any
more, the ones running finish, and the rest are reported as not started.

Computing runs in parallel; committing in date order where order matters: a date whose plan
has an order-dependent sink (``overwrite``, ``merge``, ``scd2``: the last commit decides what
the table holds) publishes only once every earlier date has ended, so a parallel backfill
leaves every table as the sequential one would.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass, field
from typing import Any

from pyspark.sql import SparkSession

from pipelines.core import faults
from pipelines.core.config.settings import Settings
from pipelines.core.delta.modes import mode_of
from pipelines.core.errors import ExitCode, PipelineError
from pipelines.core.execution.concurrency import in_background
from pipelines.core.execution.cost import CostMeter
from pipelines.core.planning.plan import Plan
from pipelines.core.records.lock import PipelineLock
from pipelines.core.records.results import RunResult

__all__ = ["Budget", "Backfill", "run_backfill"]


@dataclass(frozen=True)
class Budget:
    """Limits of one backfill: core-hours its executors hold, and their price."""

    core_hours: float | None = None
    cost: float | None = None

    def __bool__(self) -> bool:
        return self.core_hours is not None or self.cost is not None


@dataclass
class Backfill:
    results: list[dict[str, Any]] = field(default_factory=list)
    not_started: list[str] = field(default_factory=list)
    stopped_by: str | None = None  # the budget line that stopped it
    used: dict[str, Any] | None = None
    exit_code: int = ExitCode.OK


def _over(budget: Budget, used: dict[str, Any], per_date: dict[str, float],
          starting: int) -> str | None:
    """Why starting ``starting`` more dates would exceed the budget, else None."""
    if budget.core_hours is not None:
        ahead = (used["core_seconds"] + starting * per_date["core_seconds"]) / 3600
        if ahead > budget.core_hours:
            return (f"core-hour budget {budget.core_hours:g}: {used['core_seconds'] / 3600:.4f} "
                    f"used, about {per_date['core_seconds'] / 3600:.4f} a date")
    if budget.cost is not None:
        ahead = used["cost"] + starting * per_date["cost"]
        if ahead > budget.cost:
            return (f"cost budget {budget.cost:g} {used['currency']}: {used['cost']:.4f} used, "
                    f"about {per_date['cost']:.4f} a date")
    return None


def run_backfill(spark: SparkSession, settings: Settings, plans: dict[str, Plan], *,
                 run: Callable[[Plan, Callable[[], None]], RunResult], lock: PipelineLock,
                 parallel: int = 1,
                 budget: Budget = Budget(),
                 on_result: Callable[[str, RunResult | PipelineError], None] = lambda *_: None,
                 ) -> Backfill:
    """Run ``plans`` (date -> plan, oldest first) with ``run(plan, before_publish)``, where
    ``before_publish()`` returns once the run may commit (see the module's text)."""
    del lock  # held by the caller for the whole backfill; each run shares it
    meter = CostMeter(spark, started=time.time())
    out = Backfill()
    todo = list(plans.items())
    ended = {date: threading.Event() for date in plans}

    def in_date_order(date: str) -> Callable[[], None]:
        def wait_turn() -> None:
            if any(mode_of(s).order_dependent for s in plans[date].sinks.values()):
                for earlier in sorted(d for d in plans if d < date):
                    ended[earlier].wait()
        return wait_turn

    def started(date: str, plan: Plan) -> RunResult:
        try:
            return run(plan, in_date_order(date))
        finally:
            ended[date].set()

    def never_started() -> None:
        out.not_started.extend(d for d, _ in todo)
        for d, _ in todo:
            ended[d].set()
        todo.clear()
    running: dict[Future[RunResult], str] = {}
    finished = 0

    def record(date: str, future: Future[RunResult]) -> None:
        nonlocal finished
        finished += 1
        try:
            result = future.result()
        except PipelineError as exc:
            out.exit_code = out.exit_code or exc.exit_code
            out.results.append({"date": date, "status": "failed", "error": exc.to_dict()})
            on_result(date, exc)
            if exc.exit_code in (ExitCode.USAGE, ExitCode.LOCKED):
                never_started()
            return
        out.results.append(result.to_dict())
        on_result(date, result)

    while todo or running:
        # the first date alone: it creates the ledger and any new table, which concurrent
        # first commits would race for; the others only append to them
        while todo and len(running) < (max(1, parallel) if finished else 1):
            if budget and finished:
                used = meter.measure(settings.cost) or {}
                per_date = {k: used.get(k, 0.0) / finished for k in ("core_seconds", "cost")}
                why = _over(budget, used, per_date, len(running) + 1) if used else None
                if why:
                    out.stopped_by = why
                    never_started()
                    break
            date, plan = todo.pop(0)
            faults.point(f"backfill_date:{date}")
            running[in_background(lambda d=date, p=plan: started(d, p))] = date  # type: ignore[misc]
        if not running:
            break
        done, _ = wait(list(running), return_when=FIRST_COMPLETED)
        for future in sorted(done, key=lambda f: running[f]):
            record(running.pop(future), future)
    out.results.sort(key=lambda r: str(r.get("date")))
    out.used = meter.measure(settings.cost)
    if out.stopped_by and out.exit_code == ExitCode.OK:
        out.exit_code = ExitCode.BUDGET
    return out

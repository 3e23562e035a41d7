"""Table maintenance of a pipeline: OPTIMIZE and VACUUM of its sink and quarantine tables and
of the run ledger, refused when the retention would delete files that something still needs.

What needs old files: rollback and time travel within ``maintenance.time_travel_hours``
(checked when the settings load), and every resumable run (failed, partially published,
died or still running, with no later success of its date), which reads its Delta inputs at
the versions it pinned and restores or completes its tables. VACUUM deletes a file only once
the table stopped referencing it more than ``retain_hours`` ago, so the files of every version
committed since then are kept: a resumable run that started less than ``retain_hours`` ago
is safe.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pyspark.sql import SparkSession

from pipelines.core.config.settings import Settings
from pipelines.core.delta.maintenance import compact, vacuum, vacuum_conf
from pipelines.core.delta.tables import is_delta, table_path
from pipelines.core.errors import UsageError
from pipelines.core.execution.session import scoped_conf
from pipelines.core.planning.plan import Plan
from pipelines.core.records.ledger import Ledger, RunRecord, with_liveness

__all__ = ["maintain", "resumable_runs"]

UNFINISHED = ("failed", "quality_failed", "partially_published", "died", "running",
              "rolling_back")


def resumable_runs(runs: list[RunRecord]) -> list[RunRecord]:
    """Runs a rerun of their date would resume or complete: not succeeded, and no later
    success of the same date."""
    out = []
    for run in runs:
        later_success = any(r.date == run.date and r.status == "succeeded"
                            and r.started_at > run.started_at for r in runs)
        if run.status in UNFINISHED and not later_success:
            out.append(run)
    return out


def _naive_utc(when: dt.datetime) -> dt.datetime:
    """The ledger's times are UTC, naive or aware depending on the reader."""
    return when.astimezone(dt.UTC).replace(tzinfo=None) if when.tzinfo else when


def _tables(spark: SparkSession, plan: Plan, warehouse: str) -> list[tuple[str, str]]:
    names = [s.table for s in plan.sinks.values()]
    names += [f"{stage}_quarantine" for stage in plan.order]
    found = [(n, table_path(warehouse, n)) for n in dict.fromkeys(names)]
    ledger = Ledger(None, warehouse)
    found += [("_pipelines/ledger", ledger.runs_path),
              ("_pipelines/quality_results", ledger.quality_path)]
    return [(name, path) for name, path in found if is_delta(spark, path)]


def maintain(spark: SparkSession, settings: Settings, plan: Plan, *,
             now: dt.datetime | None = None) -> dict[str, Any]:
    """Compact then vacuum each of the pipeline's tables; refuses (exit 2), before touching
    any, when a resumable run is older than the retention."""
    now = _naive_utc(now or dt.datetime.now(dt.UTC))
    keep = settings.maintenance.retain_hours
    warehouse = settings.warehouse_path
    runs = with_liveness(Ledger(None, warehouse).runs(plan.name), settings.lock_path)
    for run in resumable_runs(runs):
        age = (now - _naive_utc(run.started_at)).total_seconds() / 3600
        if age >= keep:
            raise UsageError(
                f"VACUUM with maintenance.retain_hours={keep:g} would delete files that run "
                f"{run.run_id} ({run.status}, {run.date}) still needs to resume or roll back: "
                f"it started {age:.1f} hours ago; rerun or roll back that date first, or "
                f"retain more than {age:.0f} hours", pipeline=plan.name, key=run.run_id)
    done = []
    for name, path in _tables(spark, plan, warehouse):
        compacted = compact(spark, path)
        with scoped_conf(spark, vacuum_conf(spark)):
            vacuumed = vacuum(spark, path, keep)
        done.append({"table": name, "path": path, **compacted, **vacuumed})
    return {"pipeline": plan.name, "retain_hours": keep,
            "time_travel_hours": settings.maintenance.time_travel_hours, "tables": done}

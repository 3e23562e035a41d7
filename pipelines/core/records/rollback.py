"""Undoing a run: RESTORE every table its generation published to the version before.

A rollback acts on a generation, whichever of its attempts is named: a generation's
attempts publish the same commits (a later attempt's write of a sink an earlier one
committed is Delta's no-op), so rolling back one attempt rolls back what all of them
published, and every attempt is recorded as rolled back; the next run of the date is a new
generation.

The tables are those of the warehouse the command is pointed at, found by name (a copied
warehouse restores its own tables, never the ones whose paths the ledger recorded). The
rollback holds that warehouse's lock for the pipeline, records each restored table in the
ledger as it goes, and can be run again to finish: a table whose restore (marked with the
rollback's tag) already committed is not restored twice.
"""

from __future__ import annotations

import json
from typing import Any

from pyspark.sql import SparkSession

from pipelines.core import faults
from pipelines.core.config.settings import Settings
from pipelines.core.delta.restore import find_restore, restore
from pipelines.core.delta.tables import commit_info, current_version, table_path
from pipelines.core.errors import PipelineError, UsageError
from pipelines.core.records.ledger import Ledger, RunRecord
from pipelines.core.records.lock import PipelineLock

__all__ = ["rollback"]


def rollback(spark: SparkSession, settings: Settings, run_id: str) -> dict[str, Any]:
    ledger = Ledger(spark, settings.warehouse_path)
    record = ledger.run(run_id)
    if record is None:
        raise UsageError(f"no run '{run_id}' in the ledger", key=run_id)
    if record.status == "rolled_back":
        raise UsageError(f"run {run_id} was already rolled back", key=run_id)
    attempts = [r for r in ledger.runs(record.pipeline, record.date)
                if r.generation == record.generation]
    tag = (f"pipelines rollback of {record.pipeline} {record.date} generation "
           f"{record.generation}")
    with PipelineLock(settings.lock_path, record.pipeline, run_id=f"rollback-{run_id}"):
        steps = _steps(spark, settings, record, attempts, tag)
        restored = []
        for step in steps:
            faults.point(f"before_restore:{step['table']}")
            if step["done"] is None:
                step["done"] = restore(spark, step["path"], step["version"] - 1, tag=tag)
                ledger.append(**_event(record, "rollback_step", "rolling_back",
                                       notes={"restored": _public(step)}))
            restored.append(_public(step))
        for attempt in attempts:
            if attempt.status != "rolled_back":
                ledger.append(**_event(attempt, "rolled_back", "rolled_back",
                                       notes={"restored": restored,
                                              "rolled_back_by": run_id}))
    return {"run_id": run_id, "pipeline": record.pipeline, "date": record.date,
            "generation": record.generation, "attempts": [a.run_id for a in attempts],
            "tables": restored}


def _steps(spark: SparkSession, settings: Settings, record: RunRecord,
           attempts: list[RunRecord], tag: str) -> list[dict[str, Any]]:
    """One step per table the generation committed to (by any attempt), each checked before
    any table is restored: done already (by an earlier, interrupted rollback) or still at
    the generation's version."""
    committed: dict[str, int] = {}
    for attempt in sorted(attempts, key=lambda r: r.attempt):
        for out in attempt.data.get("outputs", []) or []:
            if out.get("delta_version") is not None:
                committed.setdefault(out["table"], int(out["delta_version"]))
    steps = []
    for table, version in committed.items():
        path = table_path(settings.warehouse_path, table)
        latest = current_version(spark, path)
        if latest is None:
            raise PipelineError(f"table {table} is not in this warehouse ({path})",
                                key=table, pipeline=record.pipeline, file=path)
        done = find_restore(spark, path, version, tag=tag)
        if done is None and latest != version:
            later = _run_of(commit_info(spark, path, latest).get("userMetadata"))
            raise PipelineError(
                f"table {table} has commits after this run (v{version} -> v{latest}); "
                + (f"roll back run {later} first" if later else "roll back the later runs first"),
                key=table, pipeline=record.pipeline, run_id=later)
        steps.append({"table": table, "path": path, "version": version, "done": done})
    return steps


def _run_of(tag: str | None) -> str | None:
    """The run id a commit's ``userMetadata`` names (a publish's), if any."""
    try:
        data = json.loads(tag or "")
    except ValueError:
        return None
    return data.get("run_id") if isinstance(data, dict) else None


def _public(step: dict[str, Any]) -> dict[str, Any]:
    return {"table": step["table"], "path": step["path"], "restored_to": step["version"] - 1,
            "new_version": step["done"]}


def _event(record: RunRecord, event: str, status: str, **fields: Any) -> dict[str, Any]:
    return {"run_id": record.run_id, "pipeline": record.pipeline, "date": record.date,
            "generation": record.generation, "attempt": record.attempt, "event": event,
            "status": status, **fields}

"""Undoing a run: RESTORE every table it published to the version before its commit.

The tables are those of the warehouse the command is pointed at, found by name (a copied
warehouse restores its own tables, never the ones whose paths the ledger recorded). The
rollback holds that warehouse's lock for the pipeline, records each restored table in the
ledger as it goes, and can be run again to finish: a table whose restore (marked with the
rollback's tag) already committed is not restored twice.
"""

from __future__ import annotations

from typing import Any

from pyspark.sql import SparkSession

from pipelines.core import faults
from pipelines.core.config.settings import Settings
from pipelines.core.delta.restore import find_restore, restore
from pipelines.core.delta.tables import current_version, table_path
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
    tag = f"pipelines rollback of run {run_id}"
    with PipelineLock(settings.lock_path, record.pipeline, run_id=f"rollback-{run_id}"):
        steps = _steps(spark, settings, record, tag)
        restored = []
        for step in steps:
            faults.point(f"before_restore:{step['table']}")
            if step["done"] is None:
                step["done"] = restore(spark, step["path"], step["version"] - 1, tag=tag)
                ledger.append(**_event(record, "rollback_step", "rolling_back",
                                       notes={"restored": _public(step)}))
            restored.append(_public(step))
        ledger.append(**_event(record, "rolled_back", "rolled_back",
                               notes={"restored": restored}))
    return {"run_id": run_id, "pipeline": record.pipeline, "tables": restored}


def _steps(spark: SparkSession, settings: Settings, record: RunRecord,
           tag: str) -> list[dict[str, Any]]:
    """One step per table the run committed to, each checked before any table is restored:
    done already (by an earlier, interrupted rollback) or still at the run's version."""
    steps = []
    for out in record.data.get("outputs", []) or []:
        version = out.get("delta_version")
        if version is None:
            continue
        path = table_path(settings.warehouse_path, out["table"])
        latest = current_version(spark, path)
        if latest is None:
            raise PipelineError(f"table {out['table']} is not in this warehouse ({path})",
                                key=out["table"], pipeline=record.pipeline, file=path)
        done = find_restore(spark, path, version, tag=tag)
        if done is None and latest != version:
            raise PipelineError(
                f"table {out['table']} has commits after this run (v{version} -> v{latest}); "
                "roll back the later runs first", key=out["table"], pipeline=record.pipeline)
        steps.append({"table": out["table"], "path": path, "version": version, "done": done})
    return steps


def _public(step: dict[str, Any]) -> dict[str, Any]:
    return {"table": step["table"], "path": step["path"], "restored_to": step["version"] - 1,
            "new_version": step["done"]}


def _event(record: RunRecord, event: str, status: str, **fields: Any) -> dict[str, Any]:
    return {"run_id": record.run_id, "pipeline": record.pipeline, "date": record.date,
            "generation": record.generation, "attempt": record.attempt, "event": event,
            "status": status, **fields}

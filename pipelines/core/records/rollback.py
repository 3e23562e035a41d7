"""Undoing a run: RESTORE every table it published to the version before its commit."""

from __future__ import annotations

from typing import Any

from pyspark.sql import SparkSession

from pipelines.core.config.settings import Settings
from pipelines.core.delta.tables import current_version
from pipelines.core.errors import PipelineError, UsageError
from pipelines.core.records.ledger import Ledger
from pipelines.core.records.lock import PipelineLock

__all__ = ["rollback"]


def rollback(spark: SparkSession, settings: Settings, run_id: str) -> dict[str, Any]:
    ledger = Ledger(spark, settings.warehouse_path)
    record = ledger.run(run_id)
    if record is None:
        raise UsageError(f"no run '{run_id}' in the ledger", key=run_id)
    if record.status == "rolled_back":
        raise UsageError(f"run {run_id} was already rolled back", key=run_id)
    from delta.tables import DeltaTable

    restored = []
    with PipelineLock(settings.lock_path, record.pipeline, run_id=f"rollback-{run_id}"):
        for out in record.data.get("outputs", []) or []:
            version = out.get("delta_version")
            if version is None:
                continue
            latest = current_version(spark, out["path"])
            if latest != version:
                raise PipelineError(
                    f"table {out['table']} has commits after this run (v{version} -> "
                    f"v{latest}); roll back the later runs first", key=out["table"],
                    pipeline=record.pipeline)
        for out in record.data.get("outputs", []) or []:
            version = out.get("delta_version")
            if version is None:
                continue
            DeltaTable.forPath(spark, out["path"]).restoreToVersion(version - 1)
            restored.append({"table": out["table"], "path": out["path"],
                             "restored_to": version - 1,
                             "new_version": current_version(spark, out["path"])})
        ledger.append(run_id=run_id, pipeline=record.pipeline, date=record.date,
                      generation=record.generation, attempt=record.attempt,
                      event="rolled_back", status="rolled_back", notes={"restored": restored})
    return {"run_id": run_id, "pipeline": record.pipeline, "tables": restored}

"""Reusing the staged results of an earlier generation of the same date.

A stage is reused when an earlier attempt recorded the same stage fingerprint (same
declaration, code, checks that drop rows, configuration, parameters and inputs) and its
staging folder is complete. ``keep_staging: true`` keeps a succeeded run's staged stages
for later reruns (``--select``, a change to one stage) instead of removing them.
"""

from __future__ import annotations

from pyspark.sql import SparkSession

from pipelines.core.config.settings import Settings
from pipelines.core.delta.tables import path_exists
from pipelines.core.layout import staging_root
from pipelines.core.planning.plan import Plan
from pipelines.core.planning.stage_fingerprint import current_inputs, stage_fingerprints
from pipelines.core.records.fingerprint import config_hash
from pipelines.core.records.ledger import RunRecord

__all__ = ["reusable_stages", "reuse_preview", "not_needed", "staged"]


def staged(spark: SparkSession, path: str) -> bool:
    """Whether an earlier attempt finished writing this staging folder (Spark's job commit
    writes ``_SUCCESS`` last; a write killed midway leaves files without it)."""
    return path_exists(spark, f"{path}/_SUCCESS")


def reusable_stages(spark: SparkSession, warehouse: str, plan: Plan,
                    previous: list[RunRecord], fingerprints: dict[str, str],
                    ) -> dict[str, tuple[int, str]]:
    """Stage name -> (generation, staging folder) of a complete staged result of an earlier
    attempt with this run's fingerprint, newest generation first."""
    root = staging_root(warehouse, plan.name, plan.date)
    found: dict[str, tuple[int, str]] = {}
    for run in sorted(previous, key=lambda r: r.generation, reverse=True):
        if run.status in ("rolled_back", "rolling_back"):
            continue  # a rolled-back generation is never reused
        for stage in run.data.get("stages") or []:
            name = stage.get("name")
            if (name in found or name not in fingerprints
                    or stage.get("fingerprint") != fingerprints[name]):
                continue
            path = f"{root}/g{run.generation}/{name}"
            if staged(spark, path):
                found[name] = (run.generation, path)
    return found


def not_needed(plan: Plan, reused: set[str]) -> set[str]:
    """Stages whose rows nothing uses: they feed no sink, carry no check (a stage with checks
    is audited every run, and its dropped rows quarantined), and every stage reading them
    (one at least) is reused or itself not needed."""
    stages = set(plan.order)
    live: set[str] = set()  # stages whose rows this run uses
    for name in reversed(plan.order):
        readers = [c for c in plan.consumers.get(name, ()) if c in stages]
        if (plan.feeds_sink(name) or not readers or plan.gate_checks(name)
                or any(r in live and r not in reused for r in readers)):
            live.add(name)
    return stages - live


def reuse_preview(spark: SparkSession, settings: Settings, plan: Plan,
                  previous: list[RunRecord]) -> dict[str, str]:
    """For ``plan``: what a run now would do with each stage, ``reuse generation N`` or
    ``compute``, from the inputs as they are now (nothing is read but metadata)."""
    inputs = current_inputs(spark, plan, settings.inputs_path)
    fingerprints = stage_fingerprints(plan, inputs, config_hash(settings))
    found = reusable_stages(spark, settings.warehouse_path, plan, previous, fingerprints)
    idle = not_needed(plan, set(found))
    return {name: "skip (only reused stages read it)" if name in idle
            else f"reuse generation {found[name][0]}" if name in found else "compute"
            for name in plan.order}

"""A fingerprint per stage: what its output depends on, for reusing a staged result.

A stage's fingerprint hashes its declaration, the code of the functions in it (their modules
and every user module those reach, the values they read, the framework: see
:mod:`~pipelines.core.records.code_fingerprint`), the checks that can drop its rows, the
run's parameters and configuration, and the fingerprints of its inputs; a source's, its
declaration with what was read (a Delta table's id and version, a file source's change
tokens). Two runs whose stage fingerprints agree computed the same rows for it; a stage whose
code cannot be determined gets a fingerprint that equals no other.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pyspark.sql import SparkSession

from pipelines.core.delta.tables import landing_path, path_exists, table_path
from pipelines.core.planning.plan import Plan
from pipelines.core.records.code_fingerprint import code_fingerprint, declaration_text
from pipelines.core.records.fingerprint import delta_identity, files_fingerprint, local_path

__all__ = ["stage_fingerprints", "current_inputs"]


def stage_fingerprints(plan: Plan, inputs: Mapping[str, Mapping[str, Any]], config: str,
                       ) -> dict[str, str]:
    """Each stage's fingerprint, given what the run read of each source (``inputs``, as the
    ledger records them: table id, version, files' fingerprint) and the configuration hash."""
    params = repr(sorted(plan.params.items()))
    done: dict[str, str] = {}
    for source in plan.sources.values():
        read = inputs.get(source.name) or {}
        done[source.name] = _digest(declaration_text(source), str(read.get("table_id")),
                                    str(read.get("version")), str(read.get("fingerprint")))
    stages = {}
    for name in plan.order:
        stage = plan.stage(name)
        drops = [c for c in plan.gate_checks(name) if c.severity == "drop"]
        code = code_fingerprint([], [stage, drops]).digest
        done[name] = stages[name] = _digest(config, params, code, declaration_text(stage),
                                            *map(declaration_text, drops),
                                            *(done[i] for i in stage.inputs))
    return stages


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:16]


def current_inputs(spark: SparkSession | None, plan: Plan, warehouse: str,
                   ) -> dict[str, dict[str, Any]]:
    """What each source would read now, as the ledger records it: a Delta table's id and
    version, a file source's change token (None when its files are missing). Without
    ``spark``, only what delta-rs and a local listing can tell (else ``ValueError``)."""
    inputs: dict[str, dict[str, Any]] = {}
    for source in plan.sources.values():
        if source.format == "delta":
            table_id, version = delta_identity(spark, table_path(warehouse, source.table))
            inputs[source.name] = {"table_id": table_id, "version": version}
        else:
            path = landing_path(warehouse, source.path)
            inputs[source.name] = {"version": None, "fingerprint": files_fingerprint(
                spark, path) if _exists(spark, path) else None}
    return inputs


def _exists(spark: SparkSession | None, path: str) -> bool:
    local = local_path(path)
    if local is None:
        if spark is None:
            raise ValueError(f"listing {path} needs Spark's file systems")
        return path_exists(spark, path)
    folder = Path(local)
    return folder.is_file() or (folder.is_dir() and any(
        not entry.name.startswith((".", "_")) for entry in folder.iterdir()))

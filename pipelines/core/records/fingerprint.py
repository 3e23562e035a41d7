"""Fingerprints of code, configuration and file inputs: what a resumed run must not mix."""

from __future__ import annotations

import hashlib
import inspect
import json
import sys
from typing import Any

from pyspark.sql import SparkSession

from pipelines.core.config.settings import Settings
from pipelines.core.declare.spec import Map, Pipeline

__all__ = ["code_hash", "config_hash", "files_fingerprint"]

# where the data lives and how a run is operated, not what it computes
_IGNORED_SETTINGS = ("env", "warehouse", "log_level", "retries", "lock_dir", "secrets", "timezone",
                     "pipeline_packages", "materialize")


def _source(module_name: str) -> str:
    """A module's source, also when it was imported from a ``--py-files`` zip."""
    module = sys.modules.get(module_name)
    if module is None:
        return ""
    try:
        return inspect.getsource(module)
    except (OSError, TypeError):
        return ""


def code_hash(pipeline: Pipeline) -> str:
    """Hash of the pipeline module and of every module its stage functions live in."""
    modules = {pipeline.module}
    for stage in pipeline.stages:
        if isinstance(stage, Map):
            modules.add(getattr(stage.fn, "__module__", "") or "")
    digest = hashlib.sha256()
    for name in sorted(m for m in modules if m):
        digest.update(name.encode())
        digest.update(_source(name).encode())
    return digest.hexdigest()[:16]


def config_hash(settings: Settings) -> str:
    data = settings.fingerprint_data()
    for key in _IGNORED_SETTINGS:
        data.pop(key, None)
    data.get("spark", {}).pop("master", None)
    data.get("spark", {}).pop("app_name", None)
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()[:16]


def files_fingerprint(spark: SparkSession, path: str) -> str:
    """Names (relative to ``path``), sizes and modification times of every file under
    ``path`` (driver-side): the same files moved with their warehouse keep their fingerprint."""
    jvm: Any = spark.sparkContext._jvm
    hpath = jvm.org.apache.hadoop.fs.Path(path)
    fs = hpath.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())
    root = fs.makeQualified(hpath).toString().rstrip("/")
    entries = []
    it = fs.listFiles(hpath, True)
    while it.hasNext():
        status = it.next()
        name = status.getPath().toString().removeprefix(root)
        entries.append(f"{name}|{status.getLen()}|{status.getModificationTime()}")
    return hashlib.sha256("\n".join(sorted(entries)).encode()).hexdigest()[:16]

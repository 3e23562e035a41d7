"""Fingerprints of code, configuration and file inputs: what a resumed run must not mix."""

from __future__ import annotations

import hashlib
import inspect
import json
import os
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from pyspark.sql import SparkSession

from pipelines.core.config.settings import Settings
from pipelines.core.declare.spec import Map, Pipeline

__all__ = ["code_hash", "config_hash", "files_fingerprint", "local_path", "local_files"]

# where the data lives and how a run is operated, not what it computes
_IGNORED_SETTINGS = ("env", "warehouse", "log_level", "retries", "lock_dir", "secrets", "timezone",
                     "pipeline_packages", "materialize", "keep_staging")


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


def local_path(path: str) -> str | None:
    """The local folder a path names (plain or ``file:``), None for other file systems."""
    if path.startswith("file:"):
        return urlparse(path).path
    return None if "://" in path else path


def local_files(path: str) -> list[tuple[str, int, int]] | None:
    """(name relative to ``path``, size, modification time in ms) of every file under a
    local ``path``, hidden ones included; None when ``path`` does not exist."""
    root = Path(path)
    if not root.exists():
        return None
    if root.is_file():
        stat = root.stat()
        return [("", stat.st_size, stat.st_mtime_ns // 1_000_000)]
    found = []
    for folder, _dirs, names in os.walk(root):
        for name in names:
            full = Path(folder) / name
            stat = full.stat()
            found.append(("/" + full.relative_to(root).as_posix(), stat.st_size,
                          stat.st_mtime_ns // 1_000_000))
    return found


def files_fingerprint(spark: SparkSession | None, path: str) -> str:
    """Names (relative to ``path``), sizes and modification times of every file under
    ``path`` (driver-side): the same files moved with their warehouse keep their fingerprint.
    A local folder is listed without Spark; other file systems through Hadoop's."""
    local = local_path(path)
    if local is not None:
        files = local_files(local) or []
        return _digest(f"{name}|{size}|{mtime}" for name, size, mtime in files)
    if spark is None:
        raise ValueError(f"listing {path} needs Spark's file systems")
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
    return _digest(entries)


def _digest(entries: Iterable[str]) -> str:
    return hashlib.sha256("\n".join(sorted(entries)).encode()).hexdigest()[:16]

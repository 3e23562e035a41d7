"""Where tables live and small, driver-side facts about them (existence, versions)."""

from __future__ import annotations

import json
import os
from typing import Any

from pyspark.sql import SparkSession

from pipelines.core.layout import tables_root

__all__ = ["table_path", "landing_path", "path_exists", "is_delta", "current_version",
           "read_delta", "tables_root", "commit_info", "table_id"]


def _join(root: str, *parts: str) -> str:
    return "/".join([root.rstrip("/"), *[p.strip("/") for p in parts]])


def _is_path(name: str) -> bool:
    return "/" in name or "://" in name


def table_path(warehouse: str, table: str) -> str:
    """A table name maps to ``<warehouse>/tables/<name>``; a path is used as it is."""
    if _is_path(table):
        return table if "://" in table or os.path.isabs(table) else _join(warehouse, table)
    return _join(tables_root(warehouse), table)


def landing_path(warehouse: str, path: str) -> str:
    return path if "://" in path or os.path.isabs(path) else _join(warehouse, path)


def path_exists(spark: SparkSession, path: str) -> bool:
    jvm: Any = spark.sparkContext._jvm
    hpath = jvm.org.apache.hadoop.fs.Path(path)
    fs = hpath.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())
    if not fs.exists(hpath):
        return False
    if fs.getFileStatus(hpath).isDirectory():
        return any(not s.getPath().getName().startswith((".", "_"))
                   for s in fs.listStatus(hpath))
    return True


def _log_versions(spark: SparkSession, path: str) -> list[int]:
    """Versions of the commit files in ``<path>/_delta_log`` (a driver-side listing, no job)."""
    jvm: Any = spark.sparkContext._jvm
    log_dir = jvm.org.apache.hadoop.fs.Path(_join(path, "_delta_log"))
    fs = log_dir.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())
    if not fs.exists(log_dir):
        return []
    versions = []
    for status in fs.listStatus(log_dir):
        name = status.getPath().getName()
        stem = name[:-5] if name.endswith(".json") else ""
        if stem.isdigit():
            versions.append(int(stem))
    return versions


def commit_info(spark: SparkSession, path: str, version: int) -> dict[str, Any]:
    """The ``commitInfo`` action of one commit (driver-side read of its JSON file)."""
    jvm: Any = spark.sparkContext._jvm
    file = jvm.org.apache.hadoop.fs.Path(_join(path, "_delta_log", f"{version:020d}.json"))
    fs = file.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())
    stream = fs.open(file)
    try:
        text = jvm.org.apache.commons.io.IOUtils.toString(stream, "UTF-8")
    finally:
        stream.close()
    for line in text.splitlines():
        action = json.loads(line) if line.strip() else {}
        if "commitInfo" in action:
            return dict(action["commitInfo"])
    return {}


def is_delta(spark: SparkSession, path: str) -> bool:
    return bool(_log_versions(spark, path))


def current_version(spark: SparkSession, path: str) -> int | None:
    """The latest committed version of the Delta table at ``path`` (None if absent).

    Delta commits are the numbered JSON files of ``_delta_log``; the newest one is the table's
    version. Listing them is a driver-side call, unlike reading the history (a Spark job).
    """
    versions = _log_versions(spark, path)
    return max(versions) if versions else None


def read_delta(spark: SparkSession, path: str, version: int | None = None) -> Any:
    reader = spark.read.format("delta")
    if version is not None:
        reader = reader.option("versionAsOf", version)
    return reader.load(path)


def table_id(spark: SparkSession, path: str, version: int | None = None) -> str | None:
    """The Delta table's id (set when it is created) from its metadata, through Spark."""
    from delta.tables import DeltaTable

    del version  # the id is the same in every version of one table
    row = DeltaTable.forPath(spark, path).detail().select("id").first()
    return None if row is None else str(row["id"])

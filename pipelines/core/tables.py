"""Where tables live and small, driver-side facts about them (existence, versions)."""

from __future__ import annotations

import os
from typing import Any

from pyspark.sql import SparkSession

__all__ = ["table_path", "landing_path", "path_exists", "is_delta", "current_version",
           "read_delta", "tables_root"]


def tables_root(warehouse: str) -> str:
    return _join(warehouse, "tables")


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


def is_delta(spark: SparkSession, path: str) -> bool:
    from delta.tables import DeltaTable

    return bool(DeltaTable.isDeltaTable(spark, path))


def current_version(spark: SparkSession, path: str) -> int | None:
    """The latest committed version of the Delta table at ``path`` (None if absent)."""
    if not is_delta(spark, path):
        return None
    from delta.tables import DeltaTable

    row = DeltaTable.forPath(spark, path).history(1).select("version").head()
    return int(row[0]) if row else None


def read_delta(spark: SparkSession, path: str, version: int | None = None) -> Any:
    reader = spark.read.format("delta")
    if version is not None:
        reader = reader.option("versionAsOf", version)
    return reader.load(path)

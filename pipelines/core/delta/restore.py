"""Restoring a Delta table to an earlier version, with the commit marked as whose it is."""

from __future__ import annotations

from pyspark.sql import SparkSession

from pipelines.core.delta.tables import commit_info, current_version

__all__ = ["restore", "find_restore"]


def restore(spark: SparkSession, path: str, version: int, *, tag: str) -> int | None:
    """RESTORE the table at ``path`` to ``version`` in one commit whose ``userMetadata`` is
    ``tag``; returns the table's new version. The tag is set on a session of its own, so
    commits on other threads never carry it."""
    from delta.tables import DeltaTable

    session = spark.newSession()
    session.conf.set("spark.databricks.delta.commitInfo.userMetadata", tag)
    DeltaTable.forPath(session, path).restoreToVersion(version)
    return current_version(spark, path)


def find_restore(spark: SparkSession, path: str, after: int, *, tag: str) -> int | None:
    """The version of a commit after ``after`` carrying ``tag``, if any (reads the commit
    files, no Spark job)."""
    latest = current_version(spark, path)
    for version in range(after + 1, (latest or after) + 1):
        if commit_info(spark, path, version).get("userMetadata") == tag:
            return version
    return None

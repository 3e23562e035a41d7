"""OPTIMIZE (bin-packing small files) and VACUUM (deleting files no version within the
retention still needs) of one Delta table, with what each did."""

from __future__ import annotations

from typing import Any

from pyspark.sql import SparkSession

__all__ = ["compact", "vacuum", "vacuum_conf"]


def compact(spark: SparkSession, path: str) -> dict[str, Any]:
    """Rewrite the table's small files into fewer larger ones (no data change); the
    files it replaced stay for time travel until a VACUUM past the retention."""
    from delta.tables import DeltaTable

    row = DeltaTable.forPath(spark, path).optimize().executeCompaction().first()
    metrics = row["metrics"] if row is not None else None
    return {"files_removed": int(metrics["numFilesRemoved"]) if metrics else 0,
            "files_added": int(metrics["numFilesAdded"]) if metrics else 0}


def vacuum(spark: SparkSession, path: str, retain_hours: float) -> dict[str, Any]:
    """Delete the files the table stopped referencing more than ``retain_hours`` ago.

    The files are the ones ``VACUUM ... DRY RUN`` lists (Delta's own choice: unreferenced,
    and older than the retention by modification time too), deleted through the table's
    file system from the driver, one by one: Delta's VACUUM would print to the JVM's
    standard output, which a ``--json`` document must own. The caller decides that the
    retention is safe and runs this with :func:`vacuum_conf` (Delta's own refusal of less
    than 7 days lifted, and few tasks for the listing: Spark's default is 10,000)."""
    doomed = [r[0] for r in spark.sql(
        f"VACUUM delta.`{path}` RETAIN {retain_hours:g} HOURS DRY RUN").collect()]
    jvm: Any = spark.sparkContext._jvm
    hadoop = spark.sparkContext._jsc.hadoopConfiguration()
    deleted = 0
    for file in doomed:
        target = jvm.org.apache.hadoop.fs.Path(file)
        if target.getFileSystem(hadoop).delete(target, False):
            deleted += 1
    return {"files_deleted": deleted, "retain_hours": retain_hours}


def vacuum_conf(spark: SparkSession) -> dict[str, str]:
    """The session settings :func:`vacuum` runs with."""
    return {"spark.databricks.delta.retentionDurationCheck.enabled": "false",
            "spark.sql.sources.parallelPartitionDiscovery.parallelism":
                str(spark.sparkContext.defaultParallelism)}

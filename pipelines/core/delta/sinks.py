"""Publishing a sink to Delta: one commit, idempotent, scoped to the run's footprint.

Every write carries Delta's idempotent-write pair (``txnAppId``, ``txnVersion``) derived from
the run, for appends, partition overwrites and MERGE alike, plus ``userMetadata`` naming the
run. A retried or resumed publish whose pair was already committed is skipped by Delta; we then
find the version it committed earlier from the table history.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

from pyspark.errors import AnalysisException
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from pipelines.core.declare.spec import Sink
from pipelines.core.delta.history import check_order, merge_history, with_history_columns
from pipelines.core.delta.modes import mode_of
from pipelines.core.delta.reader import ReaderError, partition_columns, properties
from pipelines.core.delta.tables import commit_info, current_version, is_delta
from pipelines.core.errors import DefinitionError, PublishError, QualityError

__all__ = [
    "PublishResult",
    "TxnId",
    "publish",
    "check_contract",
    "check_merge_keys",
    "check_replace_where",
    "ensure_table",
    "find_commit",
]

log = logging.getLogger(__name__)

@dataclass(frozen=True)
class TxnId:
    app_id: str
    version: int
    tag: str  # userMetadata written with the commit: identifies the run attempt

    @staticmethod
    def for_sink(pipeline: str, sink: str, date: str, generation: int, run_id: str) -> TxnId:
        app = f"pipelines/{pipeline}/{sink}/{date}"
        tag = json.dumps({"pipeline": pipeline, "sink": sink, "date": date,
                          "generation": generation, "run_id": run_id}, sort_keys=True)
        return TxnId(app, generation, tag)


@dataclass(frozen=True)
class PublishResult:
    sink: str
    table: str
    path: str
    mode: str
    version: int | None
    rows_written: int | None
    skipped: bool  # Delta had this commit already (a retry or resume)
    # merge only: how the new data's keys were shown unique ("query", or the expectation)
    key_check: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"sink": self.sink, "table": self.table, "path": self.path, "mode": self.mode,
                "delta_version": self.version, "rows_written": self.rows_written,
                "already_committed": self.skipped, "duplicate_key_check": self.key_check}


STATS_COLUMNS = "delta.dataSkippingStatsColumns"


def ensure_table(spark: SparkSession, path: str, df: DataFrame, partition_by: tuple[str, ...],
                 *, stats_columns: tuple[str, ...] | None = None) -> None:
    """Create the table (empty) before writing, so concurrent first writers cannot collide.
    ``stats_columns``: the columns Delta records statistics for (the table property, set at
    creation or changed on an existing table before its data commit)."""
    wanted = ",".join(stats_columns) if stats_columns else None
    if is_delta(spark, path):
        if wanted is not None and table_properties(spark, path).get(STATS_COLUMNS) != wanted:
            spark.sql(f"ALTER TABLE delta.`{path}` SET TBLPROPERTIES "
                      f"('{STATS_COLUMNS}' = '{wanted}')")
        return
    from delta.tables import DeltaTable

    builder = DeltaTable.createIfNotExists(spark).location(path).addColumns(df.schema)
    if partition_by:
        builder = builder.partitionedBy(*partition_by)
    if wanted is not None:
        builder = builder.property(STATS_COLUMNS, wanted)
    builder.execute()


def table_properties(spark: SparkSession, path: str) -> dict[str, str]:
    """The table's properties, from its log (delta-rs), else from Spark."""
    try:
        return properties(path) or {}
    except ReaderError:
        from delta.tables import DeltaTable

        detail = DeltaTable.forPath(spark, path).detail().select("properties").first()
        return dict(detail["properties"]) if detail is not None else {}


def _check_schema(spark: SparkSession, path: str, df: DataFrame, sink: Sink,
                  pipeline: str) -> list[str]:
    """Refuse data whose columns differ from the table's; returns the table's columns, in
    its order (one load of the table's snapshot)."""
    table_fields = {f.name: f.dataType for f in spark.read.format("delta").load(path).schema}
    for f in df.schema.fields:
        if f.name not in table_fields:
            raise DefinitionError(f"column '{f.name}' is not in table {sink.table}; evolve the "
                                  "table schema explicitly", pipeline=pipeline, sink=sink.name,
                                  column=f.name)
        if table_fields[f.name].simpleString() != f.dataType.simpleString():
            raise DefinitionError(
                f"column '{f.name}' is {f.dataType.simpleString()} but table {sink.table} has "
                f"{table_fields[f.name].simpleString()}", pipeline=pipeline, sink=sink.name,
                column=f.name)
    missing = sorted(set(table_fields) - set(df.columns))
    if missing:
        raise DefinitionError(f"column '{missing[0]}' of table {sink.table} is missing from the "
                              "sink's data", pipeline=pipeline, sink=sink.name, column=missing[0])
    return list(table_fields)


def check_contract(spark: SparkSession, df: DataFrame, sink: Sink, path: str, *,
                   pipeline: str, date: str = "") -> None:
    """Refuse, before any sink of the run commits, data that this sink's existing table would
    refuse: a column missing, extra or of another type, or another partitioning."""
    if not is_delta(spark, path) or sink.replace_schema:
        return  # created (or replaced) with the sink's schema and partitioning at its publish
    if mode_of(sink).keeps_history:
        df = with_history_columns(df, date)
        check_order(spark.read.format("delta").load(path), sink, date=date, pipeline=pipeline)
    _check_schema(spark, path, df, sink, pipeline)
    if not sink.partition_by:
        return
    try:
        have = partition_columns(path) or []  # from the log: no Spark job
    except ReaderError:
        from delta.tables import DeltaTable

        detail = DeltaTable.forPath(spark, path).detail().select("partitionColumns").first()
        have = list(detail["partitionColumns"]) if detail is not None else []
    if have != list(sink.partition_by):
        raise DefinitionError(
            f"table {sink.table} is partitioned by {have or 'nothing'}, the sink declares "
            f"partition_by={list(sink.partition_by)}", pipeline=pipeline, sink=sink.name,
            key="partition_by")


def find_commit(spark: SparkSession, path: str, tag: str, *, depth: int = 50,
                ) -> tuple[int, int | None] | None:
    """The (version, rows written) of the newest commit of the same write as ``tag`` (the
    same pipeline, sink, date and generation, whichever attempt's run id it names) among the
    last ``depth`` commits, if any (reads the commit files, no Spark job)."""
    wanted = _write_of(tag)
    latest = current_version(spark, path)
    if latest is None:
        return None
    for version in range(latest, max(-1, latest - depth), -1):
        try:
            info = commit_info(spark, path, version)
        except Exception:  # noqa: BLE001 - an old commit may have been cleaned up
            break
        if _write_of(info.get("userMetadata")) == wanted:
            return version, _rows_written(info.get("operationMetrics") or {})
    return None


def _write_of(tag: str | None) -> tuple[Any, ...] | None:
    """What a commit's ``userMetadata`` says it wrote: (pipeline, sink, date, generation)."""
    try:
        data = json.loads(tag or "")
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    return tuple(data.get(k) for k in ("pipeline", "sink", "date", "generation"))


def _rows_written(metrics: dict[str, str]) -> int | None:
    if "numTargetRowsInserted" in metrics:  # a MERGE: its numOutputRows counts copied rows too
        return int(metrics["numTargetRowsInserted"]) + int(
            metrics.get("numTargetRowsUpdated", 0))
    if "numOutputRows" in metrics:
        return int(metrics["numOutputRows"])
    return None


def publish(spark: SparkSession, df: DataFrame, sink: Sink, path: str, txn: TxnId, *,
            pipeline: str, keys_proven_by: str | None = None, date: str = "") -> PublishResult:
    """Write ``df`` to the sink's table in one Delta commit (or find the earlier one).

    A merge or scd2 sink first looks for duplicate keys in ``df`` (one query), unless
    ``keys_proven_by`` names the passed expectation that already showed them unique. ``date``
    (the run's) is where an scd2 sink's new versions start.
    """
    mode = mode_of(sink)
    if mode.keeps_history:
        df = with_history_columns(df, date)
    ensure_table(spark, path, df, tuple(sink.partition_by),
                 stats_columns=None if sink.stats_columns is None else tuple(sink.stats_columns))
    if not sink.replace_schema:
        df = df.select(*_check_schema(spark, path, df, sink, pipeline))
    before = current_version(spark, path)
    try:
        if mode.save_mode is None:  # a MERGE on the keys
            if keys_proven_by is None:
                check_merge_keys(df, sink, pipeline)
            _merge(spark, df, sink, path, txn, date=date, pipeline=pipeline)
        else:
            writer = (df.write.format("delta").mode(mode.save_mode)
                      .option("txnAppId", txn.app_id)
                      .option("txnVersion", txn.version)
                      .option("userMetadata", txn.tag))
            if mode.needs_replace_where:
                writer = writer.option("replaceWhere", sink.replace_where)
            if sink.replace_schema:  # declared: the table takes the data's columns
                writer = writer.option("overwriteSchema", "true")
            writer.save(path)
    except AnalysisException as exc:
        text = str(exc)
        if "REPLACE_WHERE" in text or "replaceWhere" in text:
            raise DefinitionError(
                f"rows outside the partition predicate {sink.replace_where!r} were refused",
                pipeline=pipeline, sink=sink.name, key=sink.replace_where) from None
        raise PublishError(f"write to {sink.table} failed: {text.splitlines()[0]}",
                           pipeline=pipeline, sink=sink.name) from exc
    after = current_version(spark, path)
    found = find_commit(spark, path, txn.tag)
    if found is None:
        raise PublishError(f"no commit of this run found in {sink.table} after writing "
                           f"(versions {before}->{after})", pipeline=pipeline, sink=sink.name)
    version, rows = found
    if after == before:
        _check_still_holds(spark, path, version, after, sink=sink, pipeline=pipeline)
    key_check = (keys_proven_by or "query") if sink.keys else None
    return PublishResult(sink.name, sink.table, path, sink.mode, version, rows,
                         skipped=(after == before), key_check=key_check)


def _check_still_holds(spark: SparkSession, path: str, version: int, latest: int | None, *,
                       sink: Sink, pipeline: str) -> None:
    """A write Delta skipped as already committed (in ``version``) is reported as written only
    while the table still holds it: no later commit restored the table to before it."""
    for later in range(version + 1, (latest or version) + 1):
        info = commit_info(spark, path, later)
        restored_to = (info.get("operationParameters") or {}).get("version")
        if info.get("operation") != "RESTORE" or (restored_to is not None
                                                  and int(restored_to) >= version):
            continue
        raise PublishError(
            f"Delta skipped the write to {sink.table} as committed in v{version}, but v{later} "
            "restored the table to an earlier version; rerun with --force to publish a new "
            "generation", pipeline=pipeline, sink=sink.name, key=f"v{later}")


def check_merge_keys(df: DataFrame, sink: Sink, pipeline: str) -> None:
    """Refuse new data with duplicate merge keys, naming a few, before Delta's MERGE would."""
    dupes = (df.groupBy(*sink.keys).count().where(F.col("count") > 1).limit(5).collect())
    if dupes:
        sample = [tuple(r[k] for k in sink.keys) for r in dupes]
        raise QualityError(
            f"duplicate merge keys {list(sink.keys)} in the new data, e.g. {sample}",
            pipeline=pipeline, sink=sink.name, column=",".join(sink.keys),
            failing_rows=len(dupes), samples=sample)


def check_replace_where(df: DataFrame, sink: Sink, pipeline: str) -> None:
    """Refuse rows outside an ``overwrite_partitions`` sink's ``replace_where`` (one query),
    before any sink commits, as Delta would refuse them at the commit."""
    outside = df.where(f"NOT coalesce(({sink.replace_where}), false)").limit(5).collect()
    if outside:
        raise DefinitionError(
            f"rows outside the partition predicate {sink.replace_where!r} were refused, e.g. "
            f"{[tuple(r) for r in outside[:2]]}", pipeline=pipeline, sink=sink.name,
            key=sink.replace_where, failing_rows=len(outside))


def _merge(spark: SparkSession, df: DataFrame, sink: Sink, path: str, txn: TxnId, *,
           date: str, pipeline: str) -> None:
    from delta.tables import DeltaTable

    condition = " AND ".join(f"t.`{k}` <=> s.`{k}`" for k in sink.keys)
    conf = {
        "spark.databricks.delta.write.txnAppId": txn.app_id,
        "spark.databricks.delta.write.txnVersion": str(txn.version),
        "spark.databricks.delta.commitInfo.userMetadata": txn.tag,
    }
    # MERGE takes the idempotent-write pair only from session confs: set them on a session of
    # its own, so that writes running at the same time on other threads never see them
    session = _session_like(spark)
    for key, value in conf.items():
        session.conf.set(key, value)
    if mode_of(sink).keeps_history:
        merge_history(session, df, sink, path, date=date, pipeline=pipeline,
                      write_options={"txnAppId": txn.app_id, "txnVersion": str(txn.version),
                                     "userMetadata": txn.tag})
        return
    (DeltaTable.forPath(session, path).alias("t").merge(df.alias("s"), condition)
     .whenMatchedUpdateAll().whenNotMatchedInsertAll().execute())


def _session_like(spark: SparkSession) -> SparkSession:
    """A new session on the same SparkContext with ``spark``'s runtime SQL settings."""
    session = spark.newSession()
    for key, value in spark.conf.getAll.items():
        if spark.conf.isModifiable(key):
            session.conf.set(key, value)
    return session

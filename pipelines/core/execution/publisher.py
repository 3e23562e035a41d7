"""Publishing a run's sinks and quarantine tables, each in one idempotent Delta commit."""

from __future__ import annotations

import os
import shutil

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from pipelines.core import faults
from pipelines.core.config.settings import Settings
from pipelines.core.declare.spec import Sink
from pipelines.core.delta.modes import mode_of
from pipelines.core.delta.sinks import (
    PublishResult,
    TxnId,
    check_contract,
    check_merge_keys,
    check_replace_where,
    publish,
)
from pipelines.core.delta.tables import table_path
from pipelines.core.execution.failures import classify, naming, with_retries
from pipelines.core.layout import staging_root
from pipelines.core.planning.plan import Plan
from pipelines.core.quality.gate import FLAGS, StageQuality
from pipelines.core.records.results import StageResult
from pipelines.core.salting import declared_hot_keys, detect_hot_keys, spread_for_write

__all__ = ["Publisher"]


class Publisher:
    """Writes the sinks of one run attempt. ``stage_results`` and ``quality`` are the stage
    executor's records: row counts size the spread of hot partitions, and a passed uniqueness
    expectation spares a merge its own duplicate-key query."""

    def __init__(self, spark: SparkSession, settings: Settings, plan: Plan, *,
                 stage_results: dict[str, StageResult], quality: list[StageQuality],
                 run_id: str = "") -> None:
        self.spark = spark
        self.settings = settings
        self.plan = plan
        self.warehouse = settings.warehouse_path
        self.stage_results = stage_results
        self.quality = quality
        self.run_id = run_id  # named in every commit's userMetadata
        self.keys_checked: dict[str, str] = {}  # sink -> how its keys were shown unique

    def check_contracts(self, data: dict[str, DataFrame]) -> None:
        """Everything that can refuse a sink, for every sink, before the first commit: its
        table contract (columns, types, partitioning, an scd2 table's date order) against the
        data it is about to get (``data`` by sink name), a merge or scd2 sink's duplicate keys
        (unless a passed uniqueness check proved them unique), and rows outside an
        ``overwrite_partitions`` sink's ``replace_where``. A sink that would fail fails the
        run while every table is as it was."""
        for sink in self.plan.sinks.values():
            check_contract(self.spark, data[sink.name], sink,
                           table_path(self.warehouse, sink.table), pipeline=self.plan.name,
                           date=self.plan.date)
            mode = mode_of(sink)
            if sink.keys and mode.needs_keys:
                proven = self._keys_proven(sink)
                if proven is None:
                    check_merge_keys(data[sink.name], sink, self.plan.name)
                self.keys_checked[sink.name] = proven or "query"
            if mode.needs_replace_where and sink.replace_where:
                check_replace_where(data[sink.name], sink, self.plan.name)

    def _keys_proven(self, sink: Sink) -> str | None:
        return next((q.unique_keys.get(tuple(sink.keys)) for q in self.quality
                     if q.stage == sink.input), None) if sink.keys else None

    def publish(self, sink: Sink, df: DataFrame, generation: int) -> PublishResult:
        path = table_path(self.warehouse, sink.table)
        if sink.partition_by and sink.salt_partitions != "off":
            df = self._spread_hot_partitions(sink, df)
        txn = TxnId.for_sink(self.plan.name, sink.name, self.plan.date, generation,
                             self.run_id)
        try:
            faults.point(f"before_publish:{sink.name}")
            proven = self.keys_checked.get(sink.name) or self._keys_proven(sink)
            with faults.timer(f"during_publish:{sink.name}"):
                out = with_retries(
                    lambda: publish(self.spark, df, sink, path, txn, pipeline=self.plan.name,
                                    keys_proven_by=proven, date=self.plan.date),
                    self.settings.retries, what=f"publish {sink.name}")
            faults.point(f"after_publish:{sink.name}")
        except Exception as exc:
            error = naming(classify(exc, pipeline=self.plan.name, sink=sink.name,
                                    table=sink.table), sink=sink.name, table=sink.table)
            if error is exc:
                raise
            raise error from exc
        return out

    def _spread_hot_partitions(self, sink: Sink, df: DataFrame) -> DataFrame:
        conf = self.settings.salting
        parts = int(self.spark.conf.get("spark.sql.shuffle.partitions") or 200)
        staged = self.stage_results.get(sink.input)
        rows = staged.rows_out if staged is not None and staged.materialized else None
        if isinstance(sink.salt_partitions, int):
            hot = detect_hot_keys(df, sink.partition_by, conf, shuffle_partitions=1, rows=rows)
            hot = declared_hot_keys(sink.partition_by, [k.value for k in hot.keys],
                                    sink.salt_partitions)
        else:
            hot = detect_hot_keys(df, sink.partition_by, conf, shuffle_partitions=parts,
                                  rows=rows)
        return spread_for_write(df, sink.partition_by, hot, partitions=parts)

    def publish_quarantine(self, stage: str, bad: DataFrame, generation: int, *,
                           run_id: str) -> PublishResult:
        data_cols = [c for c in bad.columns if c != FLAGS]
        rows = bad.select(
            F.lit(self.plan.name).alias("pipeline"), F.lit(self.plan.date).alias("date"),
            F.lit(stage).alias("stage"), F.lit(run_id).alias("run_id"),
            F.col(FLAGS).alias("failed_expectations"),
            F.concat(F.lit("failed "), F.array_join(F.col(FLAGS), ", ")).alias("reason"),
            F.to_json(F.struct(*data_cols)).alias("record"),
        )
        sink = Sink(name=f"{stage}_quarantine", input=stage, table=f"{stage}_quarantine",
                    mode="overwrite_partitions", partition_by=("pipeline", "date"),
                    replace_where=f"date = '{self.plan.date}' AND pipeline = "
                                  f"'{self.plan.name}'", salt_partitions="off")
        return self.publish(sink, rows, generation)

    def drop_staging(self) -> None:
        root = staging_root(self.warehouse, self.plan.name, self.plan.date)
        if "://" not in root and os.path.isdir(root):
            shutil.rmtree(root, ignore_errors=True)

"""The run ledger: an append-only Delta table of run events under ``<warehouse>/_pipelines``.

Each run appends a ``started`` event (parameters, fingerprints, pinned input versions) and a
``finished`` event (status, stages, outputs, quality, error). Appends never conflict with
each other, so runs of different pipelines can share the ledger. A run with a ``started`` but
no ``finished`` event died (killed driver, lost machine).

``generation`` counts deliberate re-executions of one (pipeline, date): a rerun after a
failure keeps the generation (and so Delta's idempotent-write version), ``--force`` after a
success starts the next one.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
from dataclasses import dataclass
from typing import Any

from pyspark.sql import SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import (
    DoubleType,
    IntegerType,
    StringType,
    StructField,
    StructType,
    TimestampType,
)

from pipelines.core.delta.appends import append_rows
from pipelines.core.delta.reader import ReaderError, file_count, read_where
from pipelines.core.errors import redact
from pipelines.core.layout import ledger_path, private_root, quality_results_path
from pipelines.core.records.results import RUN_FORMAT

__all__ = ["Ledger", "RunRecord", "LEDGER_SCHEMA", "QUALITY_SCHEMA", "with_liveness"]

log = logging.getLogger(__name__)

# files a ledger table may gather before a run compacts it (each run adds about two)
COMPACT_AT_FILES = 50

LEDGER_SCHEMA = StructType([
    StructField("run_id", StringType(), False),
    StructField("pipeline", StringType(), False),
    StructField("date", StringType(), False),
    StructField("generation", IntegerType(), False),
    StructField("attempt", IntegerType(), False),
    StructField("event", StringType(), False),
    StructField("status", StringType(), False),
    StructField("ts", TimestampType(), False),
    StructField("duration_s", DoubleType(), True),
    StructField("code_hash", StringType(), True),
    StructField("config_hash", StringType(), True),
    StructField("params", StringType(), True),
    StructField("inputs", StringType(), True),
    StructField("stages", StringType(), True),
    StructField("outputs", StringType(), True),
    StructField("quality", StringType(), True),
    StructField("error", StringType(), True),
    StructField("exit_code", IntegerType(), True),
    StructField("notes", StringType(), True),
])

QUALITY_SCHEMA = StructType([
    StructField("run_id", StringType(), False),
    StructField("pipeline", StringType(), False),
    StructField("date", StringType(), False),
    StructField("stage", StringType(), False),
    StructField("expectation", StringType(), False),
    StructField("ge_type", StringType(), False),
    StructField("severity", StringType(), False),
    StructField("success", StringType(), False),
    StructField("evaluated_rows", IntegerType(), True),
    StructField("failing_rows", IntegerType(), True),
    StructField("observed_value", StringType(), True),
    StructField("ts", TimestampType(), False),
])

JSON_FIELDS = ("params", "inputs", "stages", "outputs", "quality", "error", "notes")


@dataclass(frozen=True)
class RunRecord:
    """One run as the ledger knows it (its latest event)."""

    run_id: str
    pipeline: str
    date: str
    generation: int
    attempt: int
    status: str
    started_at: dt.datetime
    finished_at: dt.datetime | None
    duration_s: float | None
    code_hash: str
    config_hash: str
    data: dict[str, Any]

    @property
    def finished(self) -> bool:
        return self.finished_at is not None

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": RUN_FORMAT,
            "run_id": self.run_id, "pipeline": self.pipeline, "date": self.date,
            "generation": self.generation, "attempt": self.attempt, "status": self.status,
            "started_at": self.started_at.isoformat() if self.started_at else None,
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
            "duration_s": self.duration_s, "code_hash": self.code_hash,
            "config_hash": self.config_hash, **{k: None for k in JSON_FIELDS}, **self.data,
            "cost": (self.data.get("notes") or {}).get("cost"),
        }


class Ledger:
    """The ledger of ``warehouse``. Reading and appending need no Spark (``spark=None``);
    compacting does."""

    def __init__(self, spark: SparkSession | None, warehouse: str) -> None:
        self.spark = spark
        self.root = private_root(warehouse)
        self.runs_path = ledger_path(warehouse)
        self.quality_path = quality_results_path(warehouse)

    # -- writing ------------------------------------------------------------------------
    def _session(self) -> SparkSession:
        if self.spark is None:
            raise RuntimeError("compacting the ledger needs a SparkSession")
        return self.spark

    def append(self, **row: Any) -> None:
        record: dict[str, Any] = {f.name: None for f in LEDGER_SCHEMA.fields}
        record.update(row)
        # an aware UTC time: Spark would read a naive one in the process's time zone (TZ),
        # and every reader of the ledger takes its times as UTC
        record["ts"] = record.get("ts") or dt.datetime.now(dt.UTC)
        for key in JSON_FIELDS:
            if record[key] is not None and not isinstance(record[key], str):
                record[key] = json.dumps(record[key], default=str, sort_keys=True)
            if record[key] is not None:  # environment values and URI credentials never stored
                record[key] = redact(record[key])
        append_rows(self.runs_path, [record], LEDGER_SCHEMA, spark=self.spark)

    def append_quality(self, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        now = dt.datetime.now(dt.UTC)
        append_rows(self.quality_path, [{**r, "ts": now} for r in rows], QUALITY_SCHEMA,
                    spark=self.spark)

    def compact_if_due(self, *, max_files: int = COMPACT_AT_FILES) -> list[str]:
        """Bin-pack each ledger table once it holds ``max_files`` files (every run adds one
        or two), so that reading the ledger stays a read of a few files however many runs it
        holds. Best effort: a failure is logged, and the next run tries again."""
        from pipelines.core.delta.maintenance import compact

        done = []
        for path in (self.runs_path, self.quality_path):
            try:
                if (file_count(path) or 0) >= max_files:
                    compact(self._session(), path)
                    done.append(path)
            except Exception:  # noqa: BLE001 - the run's outcome is already recorded
                log.warning("could not compact the ledger table %s", path, exc_info=True)
        return done

    # -- reading (delta-rs: no Spark job, and no JVM for the commands that only read) ----
    def _events(self, **where: str) -> list[dict[str, Any]]:
        try:
            events = read_where(self.runs_path, **where)
        except ReaderError:
            if self.spark is None:
                raise
            events = self._events_with_spark(self.spark, **where)
        return sorted(events, key=lambda e: e["ts"])  # a few rows: sorted here

    def _events_with_spark(self, spark: SparkSession, **where: str) -> list[dict[str, Any]]:
        """The ledger through Spark, for a table feature delta-rs cannot read."""
        df = spark.read.format("delta").load(self.runs_path)
        for key, value in where.items():
            df = df.where(F.col(key) == value)
        return [r.asDict() for r in df.collect()]

    def runs(self, pipeline: str | None = None, date: str | None = None) -> list[RunRecord]:
        where = {k: v for k, v in (("pipeline", pipeline), ("date", date)) if v}
        by_run: dict[str, list[dict[str, Any]]] = {}
        for event in self._events(**where):
            by_run.setdefault(event["run_id"], []).append(event)
        records = [_record(events) for events in by_run.values()]
        return sorted(records, key=lambda r: r.started_at)

    def run(self, run_id: str) -> RunRecord | None:
        events = self._events(run_id=run_id)
        return _record(events) if events else None

    def quality_history(self, pipeline: str) -> list[dict[str, Any]]:
        return sorted(read_where(self.quality_path, pipeline=pipeline), key=lambda r: r["ts"])


def _record(events: list[dict[str, Any]]) -> RunRecord:
    first, last = events[0], events[-1]
    data: dict[str, Any] = {}
    for event in events:
        for key in JSON_FIELDS:
            if event.get(key):
                value = json.loads(event[key])
                if key == "notes" and isinstance(data.get(key), dict):
                    value = {**data[key], **value}  # each event adds its own notes
                data[key] = value
    finished = last["event"] in ("finished", "rolled_back")
    status = last["status"] if finished or last["event"] != "started" else "running"
    if last["event"] == "rolled_back":
        status = "rolled_back"
    return RunRecord(
        run_id=first["run_id"], pipeline=first["pipeline"], date=first["date"],
        generation=first["generation"], attempt=first["attempt"], status=status,
        started_at=first["ts"], finished_at=last["ts"] if finished else None,
        duration_s=last.get("duration_s"), code_hash=first.get("code_hash") or "",
        config_hash=first.get("config_hash") or "", data=data,
    )


def with_liveness(records: list[RunRecord], lock_dir: str) -> list[RunRecord]:
    """Records whose run is still ``running`` in the ledger but no longer holds its pipeline's
    lock (killed, or its machine lost) as ``died``: the lock dies with its holder."""
    from pipelines.core.records.lock import PipelineLock

    holders: dict[str, dict[str, object] | None] = {}
    out = []
    for record in records:
        if record.status == "running":
            if record.pipeline not in holders:
                holders[record.pipeline] = PipelineLock.holder(lock_dir, record.pipeline)
            holder = holders[record.pipeline]
            if holder is None or holder.get("run_id") != record.run_id:
                record = dataclasses.replace(record, status="died")
        out.append(record)
    return out

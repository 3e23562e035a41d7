"""Running a plan: read pinned inputs, build stages, materialize and audit, then publish.

Write-audit-publish: stages whose output feeds a sink are written to a staging Parquet folder
of this run (the resume point; complete once Spark's job commit wrote ``_SUCCESS``), stages
that only carry checks are cached; their quality metrics are observed on the way. Sinks are
published only after every blocking check passed, each in one idempotent Delta commit. The
staging folders are private to one run and generation, so they need no Delta log: a Parquet
write and read skip the log's commit and replay.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import shutil
import time
import uuid
from concurrent.futures import Future
from functools import partial
from typing import Any

from pyspark import StorageLevel
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from pipelines.core import faults
from pipelines.core.concurrency import in_background, run_concurrently
from pipelines.core.delta_io import PublishResult, TxnId, publish
from pipelines.core.errors import (
    ExitCode,
    QualityError,
    ResumeConflictError,
    UsageError,
)
from pipelines.core.failures import classify, with_retries
from pipelines.core.fingerprint import code_hash, config_hash, files_fingerprint
from pipelines.core.ledger import Ledger, RunRecord
from pipelines.core.lock import PipelineLock
from pipelines.core.plan import Plan
from pipelines.core.quality import FLAGS, CheckResult, QualityGate, StageQuality
from pipelines.core.results import RunResult, StageResult
from pipelines.core.salting import (
    SAMPLE_SEED,
    HotKeys,
    decide_salting,
    declared_hot_keys,
    detect_hot_keys,
    spread_for_write,
)
from pipelines.core.session import scoped_conf
from pipelines.core.settings import Settings
from pipelines.core.skew import SkewProbe
from pipelines.core.sources import open_source
from pipelines.core.spec import Join, Map, Sink
from pipelines.core.stages import apply_stage
from pipelines.core.tables import landing_path, path_exists, table_path

__all__ = ["Runner", "run_pipeline"]

log = logging.getLogger(__name__)

# What DataFrame.cache() uses: Spark's columnar cache batches kept as they are. PySpark's
# MEMORY_AND_DISK is the serialized level, which serializes every batch again when the cache
# fills and deserializes it on each read
CACHE_LEVEL = StorageLevel.MEMORY_AND_DISK_DESER


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class Runner:
    def __init__(self, spark: SparkSession, settings: Settings, plan: Plan, *,
                 force: bool = False, resume: bool = False, validate: bool = True) -> None:
        self.spark = spark
        self.settings = settings
        self.plan = plan
        self.force = force
        self.resume = resume
        self.validate = validate  # propagate schemas first (skipped for a no-op rerun)
        self.warehouse = settings.warehouse_path
        self.ledger = Ledger(spark, self.warehouse)
        self.run_id = f"{_now():%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"
        self.stage_results: dict[str, StageResult] = {}
        self.quality: list[StageQuality] = []
        self.quarantine: dict[str, DataFrame] = {}
        self.probe = SkewProbe(spark)
        self.cached: list[DataFrame] = []
        self.broadcasts: dict[str, bool] = {}  # per stage: joined against a broadcast
        self.stage_conf: dict[str, dict[str, str]] = {}  # per stage: SQL settings salting set
        self.resuming = False  # an earlier attempt of this generation recorded its start
        self.start_recorded: Future[None] | None = None  # the ledger's `started` commit

    # ---------------------------------------------------------------- entry point
    def run(self) -> RunResult:
        started = time.time()
        result = RunResult(self.run_id, self.plan.name, self.plan.date, 0, 0, "failed",
                           ExitCode.FAILURE, _now().isoformat())
        lock = PipelineLock(self.settings.lock_path, self.plan.name, run_id=self.run_id,
                            date=self.plan.date)
        lock.acquire()
        try:
            self._run(result)
        except BaseException as exc:  # noqa: BLE001 - every failure is recorded, then re-raised
            error = classify(exc, pipeline=self.plan.name) if isinstance(exc, Exception) else None
            result.status = "quality_failed" if isinstance(error, QualityError) else "failed"
            result.exit_code = error.exit_code if error else ExitCode.FAILURE
            result.error = error.to_dict() if error else {"error": type(exc).__name__}
            result.duration_s = round(time.time() - started, 3)
            self._finish(result)
            if error is not None and error is not exc:
                raise error from exc
            raise
        finally:
            for frame in self.cached:
                frame.unpersist()
            lock.release()
        result.duration_s = round(time.time() - started, 3)
        if result.status != "skipped":
            self._finish(result)
        return result

    def _finish(self, result: RunResult) -> None:
        result.stages = list(self.stage_results.values())
        result.quality = [r.to_dict() for q in self.quality for r in q.results]
        if not result.generation:
            return  # failed before the run was recorded as started
        if self.start_recorded is not None:
            self.start_recorded.exception()  # `finished` after `started`; a failure is known
        try:
            from pipelines.core.report import write_report

            result.report = write_report(self.warehouse, result)
            if self.settings.quality.ge_results and self.quality and result.report:
                self._write_ge_results(os.path.dirname(result.report))
        except Exception:  # noqa: BLE001 - a report must never hide the run's outcome
            log.exception("could not write the run report")
        quality_rows = [
            {"run_id": self.run_id, "pipeline": self.plan.name, "date": self.plan.date,
             "stage": r["stage"], "expectation": r["expectation"], "ge_type": r["ge_type"],
             "severity": r["severity"], "success": str(r["success"]).lower(),
             "evaluated_rows": r["evaluated_rows"], "failing_rows": r["failing_rows"],
             "observed_value": None if r["observed_value"] is None else str(r["observed_value"])}
            for r in result.quality
        ]
        faults.point("before_ledger_finish")
        finished = partial(
            self.ledger.append,
            run_id=self.run_id, pipeline=self.plan.name, date=self.plan.date,
            generation=result.generation, attempt=result.attempt, event="finished",
            status=result.status, duration_s=result.duration_s,
            stages=[s.to_dict() for s in result.stages], outputs=result.outputs,
            quality=result.quality, error=result.error, exit_code=result.exit_code,
        )
        # two tables, two independent commits: at once, whatever publish_threads says
        run_concurrently([partial(self.ledger.append_quality, quality_rows), finished], 2)
        if result.status == "succeeded":
            self._drop_staging(result.generation)

    def _write_ge_results(self, folder: str) -> None:
        from pipelines.core import ge_adapter

        results = [r for q in self.quality for r in q.results]
        validation = ge_adapter.to_validation_result(results, f"{self.plan.name}.{self.run_id}")
        with open(os.path.join(folder, "ge_validation.json"), "w") as fh:
            json.dump(validation.to_json_dict(), fh, indent=2, default=str)

    # ---------------------------------------------------------------- the run
    def _run(self, result: RunResult) -> None:
        plan = self.plan
        previous = self.ledger.runs(plan.name, plan.date)
        code, config = code_hash(plan.pipeline), config_hash(self.settings)
        generation, resume_from, why = self._generation(previous, code, config)
        if generation == 0:
            last = [r for r in previous if r.status == "succeeded"][-1]
            result.status, result.exit_code = "skipped", ExitCode.OK
            result.generation, result.attempt = last.generation, last.attempt
            result.message = (f"{plan.name} {plan.date} already succeeded in run {last.run_id} "
                              "with the same code, configuration and input files; use --force "
                              "to run it again")
            return
        if why:
            result.message = f"generation {generation}: {why}"
        if self.validate:
            from pipelines.core.analysis import check_schemas

            plan.schemas.update(check_schemas(self.spark, plan))
        attempt = 1 + sum(1 for r in previous if r.generation == generation)
        result.generation, result.attempt = generation, attempt
        pinned = resume_from.data.get("inputs", {}) if resume_from else {}
        if resume_from is not None:
            self._check_resumable(resume_from, code, config)
            self.resuming = True

        frames: dict[str, DataFrame] = {}
        inputs: dict[str, Any] = {}
        for source in plan.sources.values():
            version = pinned.get(source.name, {}).get("version")
            read = open_source(self.spark, source, self.warehouse, pipeline=plan.name,
                               version=version)
            frames[source.name] = read.frame
            inputs[source.name] = {"location": read.location, "version": read.version}
            if source.format != "delta":
                fp = files_fingerprint(self.spark, read.location)
                inputs[source.name]["fingerprint"] = fp
                old = pinned.get(source.name, {}).get("fingerprint")
                if old and old != fp:
                    raise ResumeConflictError(
                        f"input {source.name} changed since the failed attempt "
                        f"{resume_from.run_id if resume_from else ''}; rerun with --force for a "
                        "fresh run", pipeline=plan.name, source=source.name)
        result.inputs = inputs
        # committed while the first stages compute; awaited before anything durable is written
        self.start_recorded = in_background(partial(
            self._record_start, run_id=self.run_id, pipeline=plan.name, date=plan.date,
            generation=generation, attempt=attempt, event="started", status="running",
            code_hash=code, config_hash=config, params=plan.params, inputs=inputs,
        ))
        for name in plan.order:
            frames[name] = self._stage(name, frames, generation)
        self._await_start()
        faults.point("before_publish")
        publishes = [partial(self._publish, sink, frames[sink.input], generation)
                     for sink in plan.sinks.values()]
        publishes += [partial(self._publish_quarantine, stage, bad, generation)
                      for stage, bad in self.quarantine.items()]
        for out in run_concurrently(publishes, self.settings.publish_threads):
            result.outputs.append(out.to_dict())
        faults.point("after_publish")
        result.status, result.exit_code = "succeeded", ExitCode.OK

    def _record_start(self, **event: Any) -> None:
        self.ledger.append(**event)
        faults.point("after_start")

    def _await_start(self) -> None:
        """Wait until the ledger holds this attempt's ``started`` event (raising its failure).

        Staged stages and published tables are written only after it: a rerun then finds the
        attempt that wrote them. Until then nothing this attempt wrote outlives it (the staging
        folders of its generation are overwritten unless the ledger recorded its start).
        """
        if self.start_recorded is not None:
            self.start_recorded.result()

    def _generation(self, previous: list[RunRecord], code: str, config: str,
                    ) -> tuple[int, RunRecord | None, str]:
        """(generation to run, the failed attempt being resumed or None, why a succeeded or
        rolled-back date runs again); generation 0 means skip."""
        name, date = self.plan.name, self.plan.date
        if not previous:
            if self.resume:
                raise UsageError(f"nothing to resume for {name} {date}", pipeline=name)
            return 1, None, ""
        latest_gen = max(r.generation for r in previous)
        same = [r for r in previous if r.generation == latest_gen]
        succeeded = [r for r in same if r.status == "succeeded"]
        if succeeded:
            if self.resume:
                raise UsageError(f"{name} {date} already succeeded; nothing to resume",
                                 pipeline=name)
            if self.force:
                return latest_gen + 1, None, "forced"
            changed = self._changed_since(succeeded[-1], code, config)
            if not changed:
                return 0, None, ""
            return (latest_gen + 1, None, f"{', '.join(changed)} changed since run "
                    f"{succeeded[-1].run_id}")
        if any(r.status == "rolled_back" for r in same):
            if self.resume:
                raise UsageError(f"{name} {date} generation {latest_gen} was rolled back; "
                                 "nothing to resume", pipeline=name)
            # Delta remembers the rolled-back generation's writes: only a new one publishes
            return latest_gen + 1, None, f"generation {latest_gen} was rolled back"
        if self.force:
            return latest_gen + 1, None, "forced"
        started = [r for r in same if r.data.get("inputs") is not None]
        return latest_gen, (started[0] if started else None), ""

    def _changed_since(self, run: RunRecord, code: str, config: str) -> list[str]:
        """What differs from the succeeded ``run``: its code, its configuration, or the files
        of a file source (names, sizes, modification times). A Delta source's new commits do
        not count: a shared table gains commits for other dates; ``--force`` reruns then."""
        changed = [what for what, old, new in (("code", run.code_hash, code),
                                               ("configuration", run.config_hash, config))
                   if old and old != new]
        recorded = run.data.get("inputs") or {}
        for source in self.plan.sources.values():
            if source.format == "delta":
                continue
            path = landing_path(self.warehouse, source.path)
            now = files_fingerprint(self.spark, path) if path_exists(self.spark, path) else None
            if recorded.get(source.name, {}).get("fingerprint") != now:
                changed.append(f"input {source.name}")
        return changed

    def _check_resumable(self, previous: RunRecord, code: str, config: str) -> None:
        for what, old, new in (("code", previous.code_hash, code),
                               ("configuration", previous.config_hash, config)):
            if old and old != new:
                raise ResumeConflictError(
                    f"the {what} changed since the failed attempt {previous.run_id}; rerun with "
                    "--force for a fresh run", pipeline=self.plan.name)

    # ---------------------------------------------------------------- stages
    def _needs_materializing(self, name: str) -> bool:
        stage = self.plan.stage(name)
        return self._is_resume_point(name) or bool(stage.checks)

    def _is_resume_point(self, name: str) -> bool:
        """Stages written to a staging Delta table: they survive a crash of the driver.

        Stages that only carry checks are cached instead (computed once, audited, reused
        downstream) unless ``materialize: all``; a resumed run recomputes them from the same
        pinned inputs.
        """
        stage = self.plan.stage(name)
        feeds_sink = any(s.input == name for s in self.plan.sinks.values())
        return self.settings.materialize == "all" or feeds_sink or stage.checkpoint

    def _staging_path(self, generation: int, name: str) -> str:
        return (f"{self.warehouse}/_pipelines/staging/{self.plan.name}/{self.plan.date}/"
                f"g{generation}/{name}")

    def _stage(self, name: str, frames: dict[str, DataFrame], generation: int) -> DataFrame:
        stage = self.plan.stage(name)
        kind = type(stage).__name__.lower()
        record = self.stage_results.setdefault(name, StageResult(name, kind))
        faults.point(f"before_stage:{name}")
        inputs = {i: frames[i] for i in stage.inputs}
        hot, broadcast = self._salting(stage, inputs, record, frames)
        self.broadcasts[name] = broadcast
        if broadcast and isinstance(stage, Join) and stage.right in self.plan.sources:
            inputs[stage.right] = self._cache_source(stage.right, frames)
            if record.salting is not None:
                record.salting["right_cached"] = True
        df = apply_stage(stage, inputs, self.plan.params, pipeline=self.plan.name, hot=hot,
                         broadcast=broadcast)
        if not self._needs_materializing(name):
            return df
        record.materialized = True
        fused = self._fused_upstream(name)
        for upstream in fused:
            if self.stage_results[upstream].fused_into is None:
                self.stage_results[upstream].fused_into = name
        checks = list(stage.checks) + [c for s in self.plan.sinks.values()
                                       if s.input == name for c in s.checks]
        merge_keys = [s.keys for s in self.plan.sinks.values()
                      if s.input == name and s.mode == "merge"]
        gate = QualityGate(name, checks, self.settings.quality, key_sets=merge_keys)
        path = self._staging_path(generation, name)
        durable = self._is_resume_point(name)
        # only the output of an attempt whose start the ledger recorded is reused
        if durable and self.resuming and _staged(self.spark, path):
            record.resumed = True
            staged = self.spark.read.parquet(path)  # Spark keeps the exact types in the files
        else:
            prepared = gate.prepare(df)
            if durable:
                self._await_start()
            else:
                prepared = prepared.persist(CACHE_LEVEL)
                self.cached.append(prepared)

            # settings salting asked for, of this stage and those fused into its query
            conf = {k: v for s in [*fused, name] for k, v in self.stage_conf.get(s, {}).items()}

            def write() -> None:
                with self.probe.watch(name), scoped_conf(self.spark, conf):
                    if durable:
                        prepared.write.mode("overwrite").parquet(path)
                    else:  # compute once into the cache; the observed metrics come with it
                        prepared.write.format("noop").mode("overwrite").save()

            def count_retry(_attempt: int, _exc: BaseException) -> None:
                record.retries += 1

            started = time.time()
            try:
                with faults.timer(f"during_stage:{name}"):
                    with_retries(write, self.settings.retries, what=f"stage {name}",
                                 on_retry=count_retry)
            except Exception as exc:
                raise classify(exc, pipeline=self.plan.name, stage=name,
                               source=",".join(self._upstream_sources(name)) or None) from exc
            record.duration_s = round(time.time() - started, 3)
            record.skew = self.probe.report(name)
            # the schema it was written with: no job reading a file footer to infer it
            staged = (self.spark.read.schema(prepared.schema).parquet(path) if durable
                      else prepared)
        quality = gate.evaluate(staged, columns=[c for c in df.columns if c != FLAGS])
        for suite in gate.suites:
            quality.results.extend(self._suite_results(name, suite, gate.good_rows(staged)))
        self.quality.append(quality)
        record.rows_out = quality.rows - quality.dropped_rows
        record.rows_dropped = quality.dropped_rows
        if quality.blocking:  # stop here: everything downstream would be wasted work
            raise _quality_error(self.plan.name, quality.blocking)
        faults.point(f"after_stage:{name}")
        if gate.drops_rows and quality.dropped_rows:
            self.quarantine[name] = gate.bad_rows(staged)
        return gate.good_rows(staged)

    def _cache_source(self, name: str, frames: dict[str, DataFrame]) -> DataFrame:
        """Keep a broadcast-sized source in Spark's cache for the rest of the run.

        Every later query that reads it (each materialized stage downstream, hot-key
        samples) then skips the source's scan planning: for a Delta table, the file-skipping
        jobs over its snapshot. The first query that reads it fills it (in ``daily_revenue``,
        two small jobs more than that query had before); the size is bounded by
        ``salting.broadcast_max_bytes``.
        """
        if not frames[name].is_cached:
            frames[name] = frames[name].persist(CACHE_LEVEL)
            self.cached.append(frames[name])
        return frames[name]

    def _suite_results(self, stage: str, suite: Any, df: DataFrame) -> list[CheckResult]:
        """A full GE suite from JSON, validated by GE's own engine (one pass of its own)."""
        from pipelines.core import ge_adapter

        verdict = ge_adapter.validate_with_ge(df, suite_path=suite.args["path"])
        return [CheckResult(stage=stage, expectation=f"{suite.name}:{name}", ge_type=name.split(
            ":")[0], severity=suite.severity, success=ok, evaluated_rows=0,
            failing_rows=value if isinstance(value, int) else 0, observed_value=value)
            for name, (ok, value) in verdict.items()]

    def _fused_upstream(self, name: str) -> list[str]:
        out, todo = [], list(self.plan.stage(name).inputs)
        while todo:
            ref = todo.pop()
            if ref in self.stage_results and not self.stage_results[ref].materialized:
                out.append(ref)
                todo.extend(self.plan.stage(ref).inputs)
        return out

    def _upstream_sources(self, name: str) -> list[str]:
        found, todo = [], [name]
        while todo:
            ref = todo.pop()
            if ref in self.plan.sources:
                found.append(ref)
            elif ref in self.stage_results or ref in self.plan.order:
                todo.extend(self.plan.stage(ref).inputs)
        return sorted(set(found))

    def _salting(self, stage: Any, inputs: dict[str, DataFrame], record: StageResult,
                 frames: dict[str, DataFrame]) -> tuple[HotKeys | None, bool]:
        partitions = int(self.spark.conf.get("spark.sql.shuffle.partitions") or 200)
        decision = decide_salting(stage, inputs, self.settings.salting,
                                  shuffle_partitions=partitions, pipeline=self.plan.name,
                                  sampler=lambda name, fraction: self._sample(name, frames,
                                                                              fraction))
        if decision.record:
            record.salting = decision.record
        self.stage_conf[stage.name] = decision.conf
        return decision.hot, decision.broadcast

    def _sample(self, name: str, frames: dict[str, DataFrame], fraction: float) -> DataFrame:
        """A sample of ``name``'s output, drawn as far upstream as row-wise stages allow.

        Map stages and the left side of joins keep each row (or drop it) independently of the
        others, so building them from a sample of their input gives a sample of their output
        at the same rate, without computing them over all of it. The sample is drawn at the
        nearest source, reduce or materialized (cached or staged) stage.
        """
        stage = None if name in self.plan.sources else self.plan.stage(name)
        fused = name in self.stage_results and not self.stage_results[name].materialized
        row_wise = isinstance(stage, Map) or (isinstance(stage, Join)
                                              and stage.left != stage.right)
        if not (fused and row_wise):
            return frames[name].sample(fraction=fraction, seed=SAMPLE_SEED)
        if isinstance(stage, Map):
            inputs = {stage.input: self._sample(stage.input, frames, fraction)}
        else:  # a join: the right side stays whole
            inputs = {stage.left: self._sample(stage.left, frames, fraction),
                      stage.right: frames[stage.right]}
        return apply_stage(stage, inputs, self.plan.params, pipeline=self.plan.name,
                           broadcast=self.broadcasts.get(name, False))

    # ---------------------------------------------------------------- publishing
    def _publish(self, sink: Sink, df: DataFrame, generation: int) -> PublishResult:
        path = table_path(self.warehouse, sink.table)
        if sink.partition_by and sink.salt_partitions != "off":
            conf = self.settings.salting
            parts = int(self.spark.conf.get("spark.sql.shuffle.partitions") or 200)
            staged = self.stage_results.get(sink.input)
            rows = staged.rows_out if staged is not None and staged.materialized else None
            if isinstance(sink.salt_partitions, int):
                hot = detect_hot_keys(df, sink.partition_by, conf, shuffle_partitions=1,
                                      rows=rows)
                hot = declared_hot_keys(sink.partition_by, [k.value for k in hot.keys],
                                        sink.salt_partitions)
            else:
                hot = detect_hot_keys(df, sink.partition_by, conf, shuffle_partitions=parts,
                                      rows=rows)
            df = spread_for_write(df, sink.partition_by, hot, partitions=parts)
        txn = TxnId.for_sink(self.plan.name, sink.name, self.plan.date, generation, "")
        faults.point(f"before_publish:{sink.name}")
        proven = next((q.unique_keys.get(tuple(sink.keys)) for q in self.quality
                       if q.stage == sink.input), None) if sink.mode == "merge" else None
        with faults.timer(f"during_publish:{sink.name}"):
            out = with_retries(
                lambda: publish(self.spark, df, sink, path, txn, pipeline=self.plan.name,
                                keys_proven_by=proven),
                self.settings.retries, what=f"publish {sink.name}")
        faults.point(f"after_publish:{sink.name}")
        return out

    def _publish_quarantine(self, stage: str, bad: DataFrame, generation: int) -> PublishResult:
        data_cols = [c for c in bad.columns if c != FLAGS]
        rows = bad.select(
            F.lit(self.plan.name).alias("pipeline"), F.lit(self.plan.date).alias("date"),
            F.lit(stage).alias("stage"), F.lit(self.run_id).alias("run_id"),
            F.col(FLAGS).alias("failed_expectations"),
            F.concat(F.lit("failed "), F.array_join(F.col(FLAGS), ", ")).alias("reason"),
            F.to_json(F.struct(*data_cols)).alias("record"),
        )
        sink = Sink(name=f"{stage}_quarantine", input=stage, table=f"{stage}_quarantine",
                    mode="overwrite_partitions", partition_by=("pipeline", "date"),
                    replace_where=f"date = '{self.plan.date}' AND pipeline = "
                                  f"'{self.plan.name}'", salt_partitions="off")
        return self._publish(sink, rows, generation)

    def _drop_staging(self, generation: int) -> None:
        root = f"{self.warehouse}/_pipelines/staging/{self.plan.name}/{self.plan.date}"
        if "://" not in root and os.path.isdir(root):
            shutil.rmtree(root, ignore_errors=True)


def _staged(spark: SparkSession, path: str) -> bool:
    """Whether an earlier attempt finished writing this staging folder (Spark's job commit
    writes ``_SUCCESS`` last; a write killed midway leaves files without it)."""
    return path_exists(spark, f"{path}/_SUCCESS")


def _quality_error(pipeline: str, blocking: list[Any]) -> QualityError:
    first = blocking[0]
    more = f" (and {len(blocking) - 1} more blocking failure(s))" if len(blocking) > 1 else ""
    samples = ", ".join(repr(s) for s in first.samples[:5])
    sample_text = f"; e.g. {samples}" if samples else ""
    why = "dropped too many rows" if first.escalated else "failed"
    return QualityError(
        f"expectation {first.expectation} {why} on stage {first.stage}: "
        f"{first.failing_rows} of {first.evaluated_rows} rows{sample_text}{more}",
        pipeline=pipeline, stage=first.stage, expectation=first.expectation,
        failing_rows=first.failing_rows, samples=list(first.samples),
        failures=[r.to_dict() for r in blocking])


def run_pipeline(spark: SparkSession, settings: Settings, plan: Plan, **kwargs: Any) -> RunResult:
    return Runner(spark, settings, plan, **kwargs).run()


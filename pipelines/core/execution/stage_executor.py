"""Executing one stage of a run: salt it, build it, materialize it, audit it.

Stages whose output feeds a sink (or that say ``checkpoint``) are written to a staging
Parquet folder of their generation: the resume point, complete once Spark's job commit wrote
``_SUCCESS``. Stages that only carry checks are cached. Either way the stage's quality
metrics are observed in the same job, and a blocking failure stops the run at this stage.
Stages with neither stay lazy and are fused into the query of the next materialized stage.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from pyspark import StorageLevel
from pyspark.sql import DataFrame, SparkSession

from pipelines.core import faults
from pipelines.core.config.settings import Settings
from pipelines.core.declare.spec import Join
from pipelines.core.errors import DiskFullError, QualityError
from pipelines.core.execution import progress
from pipelines.core.execution.failures import classify, with_retries, writing
from pipelines.core.execution.session import scoped_conf
from pipelines.core.execution.skew_probe import SkewProbe
from pipelines.core.frames.input_drift import explain_failed_check
from pipelines.core.frames.stages import apply_stage
from pipelines.core.layout import staging_path
from pipelines.core.planning.plan import Plan
from pipelines.core.planning.reuse import staged
from pipelines.core.quality.gate import FLAGS, CheckResult, QualityGate, StageQuality
from pipelines.core.records.results import StageResult
from pipelines.core.salting import SAMPLE_SEED, SaltDecision, decide_salting

__all__ = ["StageExecutor", "build_stage", "decide_stage_salting", "CACHE_LEVEL"]

# What DataFrame.cache() uses: Spark's columnar cache batches kept as they are. PySpark's
# MEMORY_AND_DISK is the serialized level, which serializes every batch again when the cache
# fills and deserializes it on each read
CACHE_LEVEL = StorageLevel.MEMORY_AND_DISK_DESER
log = logging.getLogger(__name__)


def decide_stage_salting(spark: SparkSession, settings: Settings, plan: Plan, stage: Any,
                         inputs: dict[str, DataFrame], *,
                         sampler: Callable[[str, float], DataFrame] | None = None,
                         ) -> SaltDecision:
    """The salting decision for ``stage`` under the session's shuffle partitions (the run and
    the notebook explorer both ask here)."""
    partitions = int(spark.conf.get("spark.sql.shuffle.partitions") or 200)
    return decide_salting(stage, inputs, settings.salting, shuffle_partitions=partitions,
                          pipeline=plan.name, sampler=sampler)


def build_stage(spark: SparkSession, settings: Settings, plan: Plan, stage: Any,
                inputs: dict[str, DataFrame], *, salt: bool = True,
                sampler: Callable[[str, float], DataFrame] | None = None,
                broadcast_input: Callable[[str], DataFrame] | None = None,
                ) -> tuple[DataFrame, SaltDecision]:
    """Stage ``stage``'s lazy DataFrame from its inputs, salted as decided (the run and the
    notebook explorer both build stages here). ``broadcast_input(name)`` gives the frame to
    use for a source a join broadcasts (the run keeps it cached)."""
    decision = (decide_stage_salting(spark, settings, plan, stage, inputs, sampler=sampler)
                if salt else SaltDecision())
    if (decision.broadcast and broadcast_input is not None and isinstance(stage, Join)
            and stage.right in plan.sources):
        inputs = {**inputs, stage.right: broadcast_input(stage.right)}
        if decision.record:
            decision.record["right_cached"] = True
    out = apply_stage(stage, inputs, plan.params, pipeline=plan.name, hot=decision.hot,
                      broadcast=decision.broadcast)
    return out, decision


class StageExecutor:
    """The stages of one run attempt, with what they recorded on the way.

    ``await_start`` blocks until the ledger holds the attempt's start; nothing durable is
    written before it. ``resuming`` says that an earlier attempt of this generation recorded
    its start, so its completed staging folders are reused.
    """

    def __init__(self, spark: SparkSession, settings: Settings, plan: Plan, *,
                 await_start: Callable[[], None], resuming: bool = False) -> None:
        self.spark = spark
        self.settings = settings
        self.plan = plan
        self.await_start = await_start
        self.resuming = resuming
        self.stage_results: dict[str, StageResult] = {}
        self.quality: list[StageQuality] = []
        self.quarantine: dict[str, DataFrame] = {}
        self.probe = SkewProbe(spark)
        self.cached: list[DataFrame] = []
        self.broadcasts: dict[str, bool] = {}  # per stage: joined against a broadcast
        self.stage_conf: dict[str, dict[str, str]] = {}  # per stage: SQL settings salting set
        self.origin = time.time()  # the run's start: stages' start_s count from it
        self.frames: dict[str, DataFrame] = {}  # the run's sources and stages so far
        self.fingerprints: dict[str, str] = {}  # per stage, recorded with its result
        # per stage: (generation, folder) of an earlier attempt's staged result to read
        self.reusable: dict[str, tuple[int, str]] = {}
        self.not_needed: set[str] = set()  # stages only reused stages read

    def release(self) -> None:
        for frame in self.cached:
            frame.unpersist()

    # ---------------------------------------------------------------- one stage
    def run(self, name: str, frames: dict[str, DataFrame], generation: int) -> DataFrame:
        """Build stage ``name`` from ``frames``; materialize and audit it where it must be."""
        stage = self.plan.stage(name)
        self.frames = frames
        record = self.stage_results.setdefault(name, StageResult(name, stage.kind))
        record.fingerprint = self.fingerprints.get(name)
        faults.point(f"before_stage:{name}")
        if name in self.not_needed and self.plan.schemas.get(name) is not None:
            progress.log.info("stage %s: not computed, only reused stages read it", name)
            return self.spark.createDataFrame([], self.plan.schemas[name])
        if name in self.reusable and not (self.resuming and self.reusable[name][0] == generation):
            return self._reuse(name, record)  # (resuming its own generation: resumed below)
        df = self._build(stage, frames, record)
        if not self.needs_materializing(name):
            progress.log.debug("stage %s: lazy, computed with the next stage that needs it",
                               name)
            return df
        progress.log.info("stage %s: started", name)
        record.materialized = True
        fused = self._fused_upstream(name)
        for upstream in fused:
            if self.stage_results[upstream].fused_into is None:
                self.stage_results[upstream].fused_into = name
        gate = self._gate(name)
        path = self.staging_path(generation, name)
        if self.is_resume_point(name) and self.resuming and staged(self.spark, path):
            record.resumed = True  # only an attempt whose start the ledger recorded
            output = self.spark.read.parquet(path)  # Spark keeps the exact types in the files
        else:
            output = self._materialize(name, gate.prepare(df), path, fused, record)
        return self._audit(name, gate, output, df.columns, record)

    def _gate(self, name: str) -> QualityGate:
        """The stage's quality gate: its checks and its sinks', with the merge key sets a
        passed uniqueness check can prove."""
        return QualityGate(name, self.plan.gate_checks(name), self.settings.quality,
                           key_sets=self.plan.merge_keys(name))

    def _reuse(self, name: str, record: StageResult) -> DataFrame:
        """Read an earlier attempt's staged result of the same fingerprint, and audit it
        like a computed one (its checks are this run's)."""
        generation, path = self.reusable[name]
        progress.log.info("stage %s: reused from generation %d (same code and inputs)", name,
                          generation)
        record.materialized, record.reused_from = True, generation
        output = self.spark.read.parquet(path)
        gate = self._gate(name)
        return self._audit(name, gate, output, output.columns, record)

    def _build(self, stage: Any, frames: dict[str, DataFrame], record: StageResult,
               ) -> DataFrame:
        out, decision = build_stage(
            self.spark, self.settings, self.plan, stage, {i: frames[i] for i in stage.inputs},
            sampler=lambda name, fraction: self._sample(name, frames, fraction),
            broadcast_input=lambda name: self._cache_source(name, frames))
        if decision.record:
            record.salting = decision.record
        self.stage_conf[stage.name] = decision.conf
        self.broadcasts[stage.name] = decision.broadcast
        return out

    def _materialize(self, name: str, prepared: DataFrame, path: str, fused: list[str],
                     record: StageResult) -> DataFrame:
        """Compute the stage once: into its staging folder, or into Spark's cache."""
        durable = self.is_resume_point(name)
        if durable:
            self.await_start()
        else:
            prepared = prepared.persist(CACHE_LEVEL)
            self.cached.append(prepared)
        # settings salting asked for, of this stage and those fused into its query
        conf = {k: v for s in [*fused, name] for k, v in self.stage_conf.get(s, {}).items()}

        def write() -> None:
            faults.point(f"stage_write:{name}")
            with self.probe.watch(name), scoped_conf(self.spark, conf):
                if durable:
                    prepared.write.mode("overwrite").parquet(path)
                else:  # compute once into the cache; the observed metrics come with it
                    prepared.write.format("noop").mode("overwrite").save()

        def count_retry(_attempt: int, _exc: BaseException) -> None:
            record.retries += 1

        started = time.time()
        record.start_s = round(started - self.origin, 3)
        try:
            with faults.timer(f"during_stage:{name}"):
                with_retries(write, self.settings.retries, what=f"stage {name}",
                             on_retry=count_retry)
        except Exception as exc:
            error = classify(exc, pipeline=self.plan.name, stage=name,
                             source=",".join(self._upstream_sources(name)) or None)
            if durable:
                self._discard(path)
                if isinstance(error, DiskFullError):
                    error = writing(error, path)
            raise error from exc
        record.duration_s = round(time.time() - started, 3)
        record.skew = self.probe.report(name)
        # the schema it was written with: no job reading a file footer to infer it
        return self.spark.read.schema(prepared.schema).parquet(path) if durable else prepared

    def _audit(self, name: str, gate: QualityGate, output: DataFrame, columns: list[str],
               record: StageResult) -> DataFrame:
        """The stage's verdicts; a blocking failure stops the run here. Returns the rows
        that pass on downstream (the dropped ones wait for the quarantine table)."""
        quality = gate.evaluate(output, columns=[c for c in columns if c != FLAGS])
        for suite in gate.suites:
            quality.results.extend(self._suite_results(name, suite, gate.good_rows(output)))
        self.quality.append(quality)
        record.rows_out = quality.rows - quality.dropped_rows
        record.rows_dropped = quality.dropped_rows
        progress.stage_done(record, quality.results)
        if quality.blocking:  # stop here: everything downstream would be wasted work
            failed = quality_error(self.plan.name, quality.blocking)
            upstream = {s: self.plan.sources[s] for s in self._upstream_sources(name)}
            explained = explain_failed_check(self.spark, upstream, self.frames,
                                             self.settings.inputs_path,
                                             pipeline=self.plan.name, stage=name)
            if explained is not None:
                raise explained from failed
            raise failed
        faults.point(f"after_stage:{name}")
        if gate.drops_rows and quality.dropped_rows:
            self.quarantine[name] = gate.bad_rows(output)
        return gate.good_rows(output)

    # ---------------------------------------------------------------- where it goes
    def needs_materializing(self, name: str) -> bool:
        return self.is_resume_point(name) or bool(self.plan.stage(name).checks)

    def is_resume_point(self, name: str) -> bool:
        """Stages written to a staging folder: they survive a crash of the driver.

        Stages that only carry checks are cached instead (computed once, audited, reused
        downstream) unless ``materialize: all``; a resumed run recomputes them from the same
        pinned inputs.
        """
        return (self.settings.materialize == "all" or self.plan.feeds_sink(name)
                or self.plan.stage(name).checkpoint)

    def staging_path(self, generation: int, name: str) -> str:
        return staging_path(self.settings.warehouse_path, self.plan.name, self.plan.date,
                            generation, name)

    def _discard(self, path: str) -> None:
        """Delete what a failed write left in ``path``: never a resume point (its job commit
        may have written ``_SUCCESS`` before failing), and the space a full disk needs to
        record the run."""
        try:
            jvm: Any = self.spark.sparkContext._jvm
            hpath = jvm.org.apache.hadoop.fs.Path(path)
            hpath.getFileSystem(self.spark.sparkContext._jsc.hadoopConfiguration()).delete(
                hpath, True)
        except Exception:  # noqa: BLE001 - the write's own error is the one to report
            log.warning("could not delete the failed write's files in %s", path)

    # ---------------------------------------------------------------- helpers
    def _cache_source(self, name: str, frames: dict[str, DataFrame]) -> DataFrame:
        """Keep a broadcast-sized source in Spark's cache for the rest of the run.

        Every later query that reads it (each materialized stage downstream, hot-key
        samples) then skips the source's scan planning: for a Delta table, the file-skipping
        jobs over its snapshot. The first query that reads it fills it; the size is bounded
        by ``salting.broadcast_max_bytes``.
        """
        if not frames[name].is_cached:
            frames[name] = frames[name].persist(CACHE_LEVEL)
            self.cached.append(frames[name])
        return frames[name]

    def _suite_results(self, stage: str, suite: Any, df: DataFrame) -> list[CheckResult]:
        """A full GE suite from JSON, validated by GE's own engine (one pass of its own)."""
        from pipelines.core.quality import ge_adapter

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

    def _sample(self, name: str, frames: dict[str, DataFrame], fraction: float) -> DataFrame:
        """A sample of ``name``'s output, drawn as far upstream as row-wise stages allow.

        Map and filter stages and the left side of joins keep each row (or drop it)
        independently of the others, so building them from a sample of their input gives a
        sample of their output at the same rate, without computing them over all of it. The
        sample is drawn at the nearest source, reduce or materialized (cached or staged) stage.
        """
        stage = None if name in self.plan.sources else self.plan.stage(name)
        fused = name in self.stage_results and not self.stage_results[name].materialized
        inputs: dict[str, DataFrame]
        if stage is None or not fused:
            return frames[name].sample(fraction=fraction, seed=SAMPLE_SEED)
        if stage.row_wise:
            inputs = {i: self._sample(i, frames, fraction) for i in stage.inputs}
        elif isinstance(stage, Join) and stage.left != stage.right:  # the right side whole
            inputs = {stage.left: self._sample(stage.left, frames, fraction),
                      stage.right: frames[stage.right]}
        else:
            return frames[name].sample(fraction=fraction, seed=SAMPLE_SEED)
        return apply_stage(stage, inputs, self.plan.params, pipeline=self.plan.name,
                           broadcast=self.broadcasts.get(name, False))


def quality_error(pipeline: str, blocking: list[Any]) -> QualityError:
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

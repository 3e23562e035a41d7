"""Running a plan: the run loop from the lock to the ledger's ``finished`` event.

Write-audit-publish: the stage executor materializes and audits every stage that must be
(``stage_executor``); sinks are published only after every blocking check passed, each in
one idempotent Delta commit (``publisher``). Which generation runs, and whether at all, is
``generations``' decision.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from functools import partial
from typing import Any

from pyspark.sql import DataFrame, SparkSession

from pipelines.core import faults
from pipelines.core.config.settings import Settings
from pipelines.core.delta.tables import table_path
from pipelines.core.errors import (
    ExitCode,
    QualityError,
    RunTimeoutError,
    UsageError,
)
from pipelines.core.execution import progress
from pipelines.core.execution.canary import Staged
from pipelines.core.execution.causes import one_line
from pipelines.core.execution.concurrency import in_background, run_concurrently
from pipelines.core.execution.cost import CostMeter
from pipelines.core.execution.deadline import Deadline
from pipelines.core.execution.failures import classify, naming, unrecorded
from pipelines.core.execution.generations import (
    Generation,
    changes_since,
    check_inputs_unchanged,
    check_resumable,
    choose_generation,
    mark_skipped,
    new_run_id,
    now,
    skipped_without_spark,
)
from pipelines.core.execution.publisher import Publisher
from pipelines.core.execution.stage_executor import StageExecutor
from pipelines.core.frames.sampling import Sample
from pipelines.core.frames.sources import open_source
from pipelines.core.planning.plan import Plan
from pipelines.core.planning.reuse import not_needed, reusable_stages
from pipelines.core.planning.stage_fingerprint import stage_fingerprints
from pipelines.core.records.fingerprint import (
    code_hash,
    config_hash,
    delta_identity,
    files_fingerprint,
)
from pipelines.core.records.ledger import Ledger
from pipelines.core.records.lock import PipelineLock
from pipelines.core.records.results import RunResult

__all__ = ["Runner", "run_pipeline", "skipped_without_spark", "new_run_id"]

log = logging.getLogger(__name__)


class Runner:
    def __init__(self, spark: SparkSession, settings: Settings, plan: Plan, *,
                 force: bool = False, resume: bool = False, validate: bool = True,
                 lock: PipelineLock | None = None, timeout_s: float | None = None,
                 spark_start_s: float = 0.0, sample: Sample | None = None,
                 promote: Staged | None = None, reuse: bool = True,
                 before_publish: Callable[[], None] | None = None) -> None:
        """``lock``: the pipeline's lock, already taken (the CLI takes it before Spark
        starts); by default the run takes it itself. ``timeout_s``: past it, the running
        Spark jobs are cancelled and the run ends with :class:`RunTimeoutError`."""
        self.spark = spark
        self.settings = settings
        self.plan = plan
        self.force = force
        self.resume = resume
        self.validate = validate  # propagate schemas first (skipped for a no-op rerun)
        self.warehouse = settings.warehouse_path
        self.ledger = Ledger(spark, self.warehouse)
        self.run_id = new_run_id()
        self.stages = StageExecutor(spark, settings, plan, await_start=self._await_start)
        self.publisher = Publisher(spark, settings, plan, stage_results=self.stages.stage_results,
                                   quality=self.stages.quality, run_id=self.run_id)
        self.start_recorded: Future[None] | None = None  # the ledger's `started` commit
        self.lock = lock
        self.timeout_s = timeout_s
        self.spark_start_s = spark_start_s  # the caller's time starting Spark, a phase of the run
        self.sample = sample  # a canary's sample of the inputs
        self.promote = promote  # a staged run's rows, published instead of computing
        self.reuse = reuse  # read earlier generations' staged stages of the same fingerprint
        self.before_publish = before_publish  # returns once this run may commit (backfill)
        self.origin = time.time() - spark_start_s
        self.deadline = Deadline(timeout_s, pipeline=plan.name)

    # ---------------------------------------------------------------- entry point
    def run(self) -> RunResult:
        started = self.origin = self.stages.origin = time.time() - self.spark_start_s
        self.meter = CostMeter(self.spark, started=started)
        result = RunResult(self.run_id, self.plan.name, self.plan.date, 0, 0, "failed",
                           ExitCode.FAILURE, now().isoformat())
        if self.spark_start_s:
            result.phases["spark start"] = round(self.spark_start_s, 3)
            result.timeline.append({"name": "spark start", "start_s": 0.0,
                                    "duration_s": round(self.spark_start_s, 3)})
        lock = self.lock or PipelineLock(self.settings.lock_path, self.plan.name)
        if self.lock is None:
            lock.acquire()
        lock.update(run_id=self.run_id, date=self.plan.date)
        self.deadline.start(self.spark)
        try:
            self._run(result)
        except BaseException as exc:  # noqa: BLE001 - every failure is recorded, then re-raised
            error = classify(exc, pipeline=self.plan.name) if isinstance(exc, Exception) else None
            if self.deadline.passed.is_set() and not isinstance(error, RunTimeoutError):
                error = RunTimeoutError(f"the run took longer than --timeout {self.timeout_s:g}s;"
                                        " its Spark jobs were cancelled", pipeline=self.plan.name)
            result.status = ("quality_failed" if isinstance(error, QualityError)
                             else "partially_published" if result.outputs else "failed")
            result.exit_code = error.exit_code if error else ExitCode.FAILURE
            if error is not None and result.status == "partially_published":
                committed = [o["sink"] for o in result.outputs]
                error.message += (f"; committed before it: {', '.join(committed)} (a plain "
                                  "rerun completes the rest)")
                error.fields["committed"] = committed
            result.error = error.to_dict() if error else {"error": type(exc).__name__}
            result.duration_s = round(time.time() - started, 3)
            try:
                self._finish(result)
            except Exception as lost:  # noqa: BLE001 - the run's own error is the one
                log.warning("the ledger could not record run %s: %s", self.run_id,
                            one_line(lost))
            if error is not None and error is not exc:
                raise error from exc
            raise
        finally:
            self.deadline.stop()
            self.stages.release()
            if self.lock is None:
                lock.release()
        result.duration_s = round(time.time() - started, 3)
        if result.status != "skipped":
            try:
                self._finish(result)  # the ledger records the duration up to its own commit
            except Exception as exc:  # noqa: BLE001 - said as the run's error, re-raised
                raise unrecorded(exc, pipeline=self.plan.name, ledger=self.ledger.runs_path,
                                 committed=[o["sink"] for o in result.outputs]) from exc
            result.duration_s = round(time.time() - started, 3)
        return result

    @contextmanager
    def _phase(self, result: RunResult, name: str) -> Iterator[None]:
        started = time.time()
        try:
            yield
        finally:
            elapsed = time.time() - started
            result.phases[name] = round(result.phases.get(name, 0.0) + elapsed, 3)
            result.timeline.append({"name": name, "start_s": round(started - self.origin, 3),
                                    "duration_s": round(elapsed, 3)})

    def _finish(self, result: RunResult) -> None:
        result.stages = list(self.stages.stage_results.values())
        result.quality = [r.to_dict() for q in self.stages.quality for r in q.results]
        if not result.generation:
            return  # failed before the run was recorded as started
        if self.start_recorded is not None:
            self.start_recorded.exception()  # `finished` after `started`; a failure is known
        result.cost = self.meter.measure(self.settings.cost)
        try:
            from pipelines.core.records.report import write_report

            with self._phase(result, "report"):
                result.report = write_report(self.warehouse, result)
            if self.settings.quality.ge_results and self.stages.quality and result.report:
                from pipelines.core.quality.ge_adapter import write_validation_result

                write_validation_result([r for q in self.stages.quality for r in q.results],
                                        f"{self.plan.name}.{self.run_id}",
                                        os.path.dirname(result.report))
        except Exception as exc:  # noqa: BLE001 - a report must never hide the run's outcome
            log.warning("could not write the run report: %s", one_line(exc))
            log.debug("the report's error", exc_info=True)
        quality_rows = [
            {"run_id": self.run_id, "pipeline": self.plan.name, "date": self.plan.date,
             "stage": r["stage"], "expectation": r["expectation"], "ge_type": r["ge_type"],
             "severity": r["severity"], "success": str(r["success"]).lower(),
             "evaluated_rows": r["evaluated_rows"], "failing_rows": r["failing_rows"],
             "observed_value": None if r["observed_value"] is None else str(r["observed_value"])}
            for r in result.quality
        ]
        faults.point("before_ledger_finish")
        notes: dict[str, Any] = {}
        if result.cost:
            notes["cost"] = result.cost
        if self.sample:
            notes["canary"] = self.sample.to_dict()
        if self.plan.selected:
            notes.update(selected=self.plan.selected, selected_sinks=self.plan.selected_sinks)
        finished = partial(
            self.ledger.append,
            run_id=self.run_id, pipeline=self.plan.name, date=self.plan.date,
            generation=result.generation, attempt=result.attempt, event="finished",
            status=result.status, duration_s=result.duration_s,
            stages=[s.to_dict() for s in result.stages], outputs=result.outputs,
            quality=result.quality, error=result.error, exit_code=result.exit_code,
            notes=notes or None,
        )
        # two tables, two independent commits: at once, whatever publish_threads says
        with self._phase(result, "ledger"), faults.timer("during_ledger_finish"):
            run_concurrently([partial(self.ledger.append_quality, quality_rows), finished], 2)
            self.ledger.compact_if_due()
        if result.status == "succeeded" and not self.settings.keep_staging:
            self.publisher.drop_staging()

    # ---------------------------------------------------------------- the run
    def _run(self, result: RunResult) -> None:
        plan = self.plan
        with self._phase(result, "decide"):
            previous = self.ledger.runs(plan.name, plan.date)
            code, config = code_hash(plan.declared_pipeline), config_hash(self.settings)
            chosen = choose_generation(
                previous, pipeline=plan.name, date=plan.date, force=self.force,
                resume=self.resume,
                changed_since=lambda run: changes_since(
                    self.spark, plan, self.settings.inputs_path, run, code=code, config=config),
                sinks=plan.selected_sinks)
        if chosen.skip:
            mark_skipped(result, previous)
            return
        if chosen.why:
            result.message = f"generation {chosen.number}: {chosen.why}"
        if self.validate:
            from pipelines.core.planning.analysis import check_schemas
            from pipelines.core.planning.stored_schemas import stored_schema_notes

            with self._phase(result, "plan"):
                plan.schemas.update(check_schemas(self.spark, plan))
                for note in stored_schema_notes(plan, plan.schemas,
                                                inputs=self.settings.inputs_path,
                                                warehouse=self.warehouse):
                    progress.log.info("%s: %s", plan.name, note)
        generation = chosen.number
        attempt = 1 + sum(1 for r in previous if r.generation == generation)
        result.generation, result.attempt = generation, attempt
        if chosen.resume_from is not None:
            check_resumable(chosen.resume_from, pipeline=plan.name, code=code, config=config,
                            params=plan.params)
            self.stages.resuming = True
        progress.log.info("%s %s: generation %d attempt %d, %d stages, %d sinks%s", plan.name,
                          plan.date, generation, attempt, len(plan.order), len(plan.sinks),
                          f" ({chosen.why})" if chosen.why else "")
        if self.promote is not None:  # a staged run's outputs: nothing to read or compute
            self._promote(result, generation, attempt, code, config)
            return
        with self._phase(result, "sources"):
            frames, result.inputs = self._open_sources(chosen)
            self.stages.fingerprints = stage_fingerprints(plan, result.inputs, config)
            if self.reuse and not self.sample:  # a canary computes from its sample, always
                self.stages.reusable = reusable_stages(self.spark, self.warehouse, plan,
                                                       previous, self.stages.fingerprints)
                self.stages.not_needed = not_needed(plan, set(self.stages.reusable))
        # committed while the first stages compute; awaited before anything durable is written
        self.start_recorded = in_background(partial(
            self._record_start, run_id=self.run_id, pipeline=plan.name, date=plan.date,
            generation=generation, attempt=attempt, event="started", status="running",
            code_hash=code, config_hash=config, params=plan.params, inputs=result.inputs,
        ))
        with self._phase(result, "stages"):
            for name in plan.order:
                self.deadline.check()
                try:
                    frames[name] = self.stages.run(name, frames, generation)
                except Exception as exc:  # noqa: BLE001 - named after the stage, re-raised
                    error = classify(exc, pipeline=plan.name)
                    if error.fields.get("table") != self.ledger.runs_path:  # not the ledger's
                        error = naming(error, stage=name)
                    if error is exc:
                        raise
                    raise error from exc
            self._await_start()
            self.deadline.check()
        with self._phase(result, "publish"):
            self._publish_all(result, {s.name: frames[s.input] for s in plan.sinks.values()},
                              generation)
        result.status, result.exit_code = "succeeded", ExitCode.OK

    def _promote(self, result: RunResult, generation: int, attempt: int, code: str,
                 config: str) -> None:
        assert self.promote is not None
        result.inputs = self.promote.inputs  # the same production inputs the staged run read
        result.message = f"promoted from staged run {self.promote.run_id}"
        self.start_recorded = in_background(partial(
            self._record_start, run_id=self.run_id, pipeline=self.plan.name,
            date=self.plan.date, generation=generation, attempt=attempt, event="started",
            status="running", code_hash=code, config_hash=config, params=self.plan.params,
            inputs=result.inputs, notes={"promoted_from": self.promote.run_id}))
        self._await_start()
        with self._phase(result, "publish"):
            self._publish_all(result, self.promote.data, generation)
        result.status, result.exit_code = "succeeded", ExitCode.OK

    def _publish_all(self, result: RunResult, data: dict[str, DataFrame],
                     generation: int) -> None:
        """Publish ``data`` (by sink name), then the quarantined rows."""
        plan = self.plan
        self.deadline.check()
        if self.before_publish is not None:
            self.before_publish()
            self.deadline.check()
        self.publisher.check_contracts(data)
        faults.point("before_publish")
        publishes = [partial(self.publisher.publish, sink, data[sink.name], generation)
                     for sink in plan.sinks.values()]
        publishes += [partial(self.publisher.publish_quarantine, stage, bad, generation,
                              run_id=self.run_id)
                      for stage, bad in self.stages.quarantine.items()]
        # each commit is recorded as it lands: a later failure leaves the ledger exact
        run_concurrently([partial(self._recorded, p, result.outputs) for p in publishes],
                         self.settings.publish_threads)
        faults.point("after_publish")
        self.deadline.check()

    def _recorded(self, publish: Any, outputs: list[dict[str, Any]]) -> None:
        """One sink's commit, recorded as it lands; the timeout is checked before it starts
        and after it landed, never during it."""
        with self.deadline.committing():
            out = publish().to_dict()
        outputs.append(out)  # list.append is atomic: publishes may run at once
        progress.published(out)
        self.deadline.check()

    def _open_sources(self, chosen: Generation) -> tuple[dict[str, DataFrame], dict[str, Any]]:
        """Every source opened lazily (a resumed attempt's Delta inputs at its pinned versions),
        with what the ledger records of each: location, version, files' fingerprint."""
        resumed = chosen.resume_from
        pinned = resumed.data.get("inputs", {}) if resumed else {}
        frames: dict[str, DataFrame] = {}
        inputs: dict[str, Any] = {}
        sampled: list[str] = []
        if resumed is not None:  # another table under a pinned name: refused before reading
            check_inputs_unchanged(resumed, {
                s.name: {"table_id": delta_identity(self.spark, table_path(
                    self.settings.inputs_path, s.table))[0], "version": -1}
                for s in self.plan.sources.values() if s.format == "delta"},
                pipeline=self.plan.name)
        for source in self.plan.sources.values():
            read = open_source(self.spark, source, self.settings.inputs_path,
                               pipeline=self.plan.name,
                               version=pinned.get(source.name, {}).get("version"),
                               keep_files=self.sample.file_filter if self.sample else None)
            frames[source.name] = read.frame
            if self.sample and self.sample.applies_to(source, read.frame.columns):
                frames[source.name] = self.sample.apply(read.frame, source)
                sampled.append(source.name)
            inputs[source.name] = {"location": read.location, "version": read.version}
            if source.format == "delta":
                inputs[source.name]["table_id"] = read.table_id
            else:
                inputs[source.name]["fingerprint"] = files_fingerprint(self.spark, read.location)
        if resumed is not None:
            check_inputs_unchanged(resumed, inputs, pipeline=self.plan.name)
        if self.sample and not sampled:  # a sample asked for is never dropped silently
            raise UsageError(f"--sample-by {','.join(self.sample.by)}: no source of "
                             f"{self.plan.name} has all of these columns",
                             pipeline=self.plan.name, key="sample-by")
        return frames, inputs

    def _record_start(self, **event: Any) -> None:
        with faults.timer("during_ledger_start"):
            self.ledger.append(**event)
        faults.point("after_start")

    def _await_start(self) -> None:
        """Wait until the ledger holds this attempt's ``started`` event (raising its failure).

        Staged stages and published tables are written only after it: a rerun then finds the
        attempt that wrote them. Until then nothing this attempt wrote outlives it (the staging
        folders of its generation are overwritten unless the ledger recorded its start).
        """
        if self.start_recorded is not None:
            try:
                self.start_recorded.result()
            except Exception as exc:  # noqa: BLE001 - named after the ledger, re-raised
                error = naming(classify(exc, pipeline=self.plan.name),
                               table=self.ledger.runs_path)
                error.message = f"the ledger could not record the run's start: {error.message}"
                raise error from exc


def run_pipeline(spark: SparkSession, settings: Settings, plan: Plan, **kwargs: Any) -> RunResult:
    return Runner(spark, settings, plan, **kwargs).run()

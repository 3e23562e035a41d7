"""Which generation of a (pipeline, date) a run is: skip, resume the failed one, or a new one.

A rerun after a failure keeps the generation (and so Delta's idempotent-write version); a
succeeded date runs again, as the next generation, only when ``--force`` says so or its code,
configuration or input files changed; a rolled-back generation is never reused.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pyspark.sql import SparkSession

from pipelines.core.config.settings import Settings
from pipelines.core.delta.reader import ReaderError
from pipelines.core.errors import ExitCode, ResumeConflictError, UsageError
from pipelines.core.planning.plan import Plan
from pipelines.core.planning.stage_fingerprint import current_inputs
from pipelines.core.records.code_fingerprint import UNDETERMINED
from pipelines.core.records.fingerprint import (
    code_hash,
    config_hash,
    input_changes,
    params_text,
)
from pipelines.core.records.ledger import Ledger, RunRecord
from pipelines.core.records.results import RunResult

__all__ = ["Generation", "choose_generation", "check_resumable", "check_inputs_unchanged",
           "changes_since",
           "skipped_without_spark", "mark_skipped", "new_run_id", "now"]


@dataclass(frozen=True)
class Generation:
    number: int  # 0: skip, the date already succeeded unchanged
    resume_from: RunRecord | None = None  # the failed attempt this one continues
    why: str = ""  # why a succeeded or rolled-back date runs again

    @property
    def skip(self) -> bool:
        return self.number == 0


def choose_generation(previous: list[RunRecord], *, pipeline: str, date: str, force: bool,
                      resume: bool, changed_since: Callable[[RunRecord], list[str]],
                      sinks: Sequence[str] | None = None) -> Generation:
    """The generation to run, given the ledger's ``previous`` runs of this date.

    ``changed_since(run)`` names what differs from a succeeded run (code, configuration,
    input files); it is asked only when a skip is possible. ``sinks``: those a ``--select``
    run publishes (None: all); a succeeded ``--select`` run that published fewer is no
    reason to skip.
    """
    if not previous:
        if resume:
            raise UsageError(f"nothing to resume for {pipeline} {date}", pipeline=pipeline)
        return Generation(1)
    latest = max(r.generation for r in previous)
    same = [r for r in previous if r.generation == latest]
    if any(r.status in ("rolled_back", "rolling_back") for r in same):
        if resume:
            raise UsageError(f"{pipeline} {date} generation {latest} was rolled back; nothing "
                             "to resume", pipeline=pipeline)
        # Delta remembers the rolled-back generation's writes: only a new one publishes
        return Generation(latest + 1, why=f"generation {latest} was rolled back")
    succeeded = [r for r in same if r.status == "succeeded"]
    if succeeded:
        if resume:
            raise UsageError(f"{pipeline} {date} already succeeded; nothing to resume",
                             pipeline=pipeline)
        if force:
            return Generation(latest + 1, why="forced")
        published = (succeeded[-1].data.get("notes") or {}).get("selected_sinks")
        if published is not None and (sinks is None or not set(sinks) <= set(published)):
            return Generation(latest + 1, why=f"run {succeeded[-1].run_id} published only "
                                              f"{', '.join(published) or 'no sink'}")
        changed = changed_since(succeeded[-1])
        if not changed:
            return Generation(0)
        return Generation(latest + 1, why=f"{', '.join(changed)} changed since run "
                                          f"{succeeded[-1].run_id}")
    if force:
        return Generation(latest + 1, why="forced")
    started = [r for r in same if r.data.get("inputs") is not None]
    return Generation(latest, started[0] if started else None)


def check_resumable(previous: RunRecord, *, pipeline: str, code: str, config: str,
                    params: Mapping[str, Any]) -> None:
    """Refuse to resume a failed attempt whose code, configuration or parameters differ from
    this one's (its inputs are checked as they are opened: :func:`check_inputs_unchanged`)."""
    changed = [what for what, old, new in (
        ("code", previous.code_hash, code), ("configuration", previous.config_hash, config))
        if old != new or new.startswith(UNDETERMINED)]
    recorded = previous.data.get("params")
    if params_text(recorded) != params_text(params):
        changed.append(f"parameters ({_params_line(recorded, params)})")
    if changed:
        raise ResumeConflictError(
            f"{', '.join(changed)} changed since the failed attempt {previous.run_id}"
            f"{_undetermined_hint(code)}; rerun with --force for a fresh run",
            pipeline=pipeline, key=changed[0].split(" ")[0])


def check_inputs_unchanged(previous: RunRecord, inputs: Mapping[str, Any], *,
                           pipeline: str) -> None:
    """Refuse to resume a failed attempt whose inputs changed: another Delta table under the
    same name, or other files (the versions it pinned are read again, not the latest)."""
    changed = input_changes(previous.data.get("inputs") or {}, inputs, delta_versions=False)
    if changed:
        source = changed[0].split(" ")[1]
        raise ResumeConflictError(
            f"{', '.join(changed)} changed since the failed attempt {previous.run_id}; rerun "
            "with --force for a fresh run", pipeline=pipeline, source=source)


def _params_line(old: Mapping[str, Any] | None, new: Mapping[str, Any] | None) -> str:
    """The parameters that differ, as ``name: old -> new``."""
    old, new = dict(old or {}), dict(new or {})
    return ", ".join(f"{k}: {old.get(k, '(unset)')} -> {new.get(k, '(unset)')}"
                     for k in sorted(set(old) | set(new)) if old.get(k) != new.get(k))


def _undetermined_hint(code: str) -> str:
    return (" (the code's dependencies cannot be determined: see `pipelines plan`)"
            if code.startswith(UNDETERMINED) else "")


def changes_since(spark: SparkSession | None, plan: Plan, warehouse: str, run: RunRecord, *,
                  code: str, config: str) -> list[str]:
    """What differs from the succeeded ``run``, everything its result depends on: its code
    (reachable user modules, values read, framework), its configuration, its parameters, and
    its inputs (a Delta source's table id and version, a file source's change tokens).
    Without ``spark``, only what delta-rs and a local listing can tell (else ``ValueError``)."""
    changed = [what for what, old, new in (("code", run.code_hash, code),
                                           ("configuration", run.config_hash, config))
               if old != new or new.startswith(UNDETERMINED)]
    if code.startswith(UNDETERMINED):
        changed[0] = "code (its imports cannot be determined: see `pipelines plan`)"
    recorded = run.data.get("params")
    if params_text(recorded) != params_text(plan.params):
        changed.append(f"parameters ({_params_line(recorded, plan.params)})")
    changed += input_changes(run.data.get("inputs") or {},
                             current_inputs(spark, plan, warehouse))
    return changed


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def new_run_id() -> str:
    return f"{now():%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"


def mark_skipped(result: RunResult, previous: list[RunRecord]) -> None:
    last = [r for r in previous if r.status == "succeeded"][-1]
    result.status, result.exit_code = "skipped", ExitCode.OK
    result.generation, result.attempt = last.generation, last.attempt
    result.message = (f"{result.pipeline} {result.date} already succeeded in run "
                      f"{last.run_id} with the same code, configuration, parameters and inputs; "
                      "use --force to run it again")


def skipped_without_spark(settings: Settings, plan: Plan, *, force: bool = False,
                          resume: bool = False) -> RunResult | None:
    """The result of a run that the ledger and the input files show to be already done,
    decided without starting Spark (delta-rs reads the ledger, local files are listed
    directly); None when the run must go ahead, or when only Spark can tell (files on a
    remote file system, a ledger delta-rs cannot read)."""
    if force:
        return None
    try:
        previous = Ledger(None, settings.warehouse_path).runs(plan.name, plan.date)
        code, config = code_hash(plan.declared_pipeline), config_hash(settings)
        chosen = choose_generation(
            previous, pipeline=plan.name, date=plan.date, force=False, resume=resume,
            changed_since=lambda run: changes_since(None, plan, settings.inputs_path, run,
                                                    code=code, config=config),
            sinks=plan.selected_sinks)
    except (ValueError, ReaderError):
        return None
    if not chosen.skip:
        return None
    result = RunResult(new_run_id(), plan.name, plan.date, 0, 0, "skipped", ExitCode.OK,
                       now().isoformat())
    mark_skipped(result, previous)
    return result

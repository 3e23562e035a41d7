"""What each ``pipelines`` command does; ``cli`` parses the command line and calls these.

Commands that compute start Spark; the run lock is taken before Spark starts, so a second
run of a pipeline is refused at once.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import time
from typing import Any

from pipelines.core.config.settings import Settings
from pipelines.core.errors import ExitCode, PipelineError, UsageError
from pipelines.core.interfaces.cli_ops import export_metrics
from pipelines.core.interfaces.cli_support import _dates, _emit, _kv, _spark
from pipelines.core.interfaces.cli_tables import cmd_table
from pipelines.core.records.lock import PipelineLock

__all__ = ["COMMANDS"]


def _plan(args: argparse.Namespace, settings: Settings, *, date: str | None = None) -> Any:
    from pipelines.core.config.registry import find_pipeline
    from pipelines.core.planning.plan import make_plan
    from pipelines.core.planning.selection import parse_selectors

    pipeline = find_pipeline(args.pipeline, settings.pipeline_packages)
    return make_plan(pipeline, date or args.date, _kv(args.param, "--param"),
                     select=parse_selectors(getattr(args, "select", None) or []))


def cmd_list(args: argparse.Namespace, settings: Settings) -> int:
    from pipelines.core.config.registry import discover

    found = discover(settings.pipeline_packages)
    data = [{"name": n, "description": p.description, "module": p.module,
             "sources": len(p.sources), "stages": len(p.stages), "sinks": len(p.sinks)}
            for n, p in found.items()]
    text = "\n".join(f"{d['name']:<24} {d['description']}" for d in data) or "(no pipelines)"
    _emit(args, {"pipelines": data}, text)
    return ExitCode.OK


def cmd_plan(args: argparse.Namespace, settings: Settings) -> int:
    from pipelines.core.planning.analysis import check_schemas
    from pipelines.core.planning.render import code_text, render_plan
    from pipelines.core.planning.reuse import reuse_preview
    from pipelines.core.planning.stored_schemas import stored_schema_notes
    from pipelines.core.records.code_fingerprint import code_fingerprint
    from pipelines.core.records.ledger import Ledger

    plan = _plan(args, settings)
    spark = _spark(settings)
    schemas = check_schemas(spark, plan)
    plan.schemas.update(schemas)
    notes = stored_schema_notes(plan, schemas, inputs=settings.inputs_path,
                                warehouse=settings.warehouse_path)
    previous = Ledger(spark, settings.warehouse_path).runs(plan.name, plan.date)
    reuse = (reuse_preview(spark, settings, plan, previous) if previous
             else dict.fromkeys(plan.order, "compute"))
    if not plan.selected and "reuse" not in " ".join(reuse.values()):
        reuse = {}  # a whole run computing everything says nothing new
    text = render_plan(plan, settings.warehouse_path, settings.salting, reuse=reuse)
    code = code_fingerprint([plan.declared_pipeline.module], [plan.declared_pipeline])
    text += "\n" + code_text(code)
    text += "".join(f"\nnote: {n}" for n in notes)
    _emit(args, {"status": "ok", **plan.to_dict(settings.salting), "reuse": reuse or None,
                 "notes": notes,
                 "code": {"modules": list(code.modules), "packages": list(code.packages),
                          "undetermined": list(code.undetermined) or None}}, text)
    return ExitCode.OK


def _summary(result: Any) -> str:
    lines = [f"{result.pipeline} {result.date}: {result.status} (run {result.run_id}, "
             f"generation {result.generation}, {result.duration_s}s)"]
    if result.message:
        lines.append(result.message)
    for s in result.stages:
        rows = "-" if s.rows_out is None else s.rows_out
        extra = f" fused into {s.fused_into}" if s.fused_into else ""
        extra += f" reused from generation {s.reused_from}" if s.reused_from else ""
        salt = (s.salting or {}).get("decision")
        extra += f" [{salt}]" if salt and salt != "off" else ""
        dropped = f", {s.rows_dropped} quarantined" if s.rows_dropped else ""
        lines.append(f"  stage {s.name:<18} rows={rows}{dropped}{extra}")
    for o in result.outputs:
        again = " (already committed)" if o["already_committed"] else ""
        lines.append(f"  wrote {o['table']:<22} v{o['delta_version']} rows={o['rows_written']}"
                     f" {o['mode']}{again}")
    if result.cost:
        lines.append(f"  cost   {cost_text(result.cost)}")
    if result.report:
        lines.append(f"  report {result.report}")
    if result.phases:
        from pipelines.core.execution.progress import phases_text

        lines.append(f"  time   {phases_text(result.phases, result.duration_s)}")
    return "\n".join(lines)


def cost_text(cost: dict[str, Any]) -> str:
    return (f"{cost['executor_cpu_seconds']:.1f}s executor CPU of {cost['core_seconds']:.1f} "
            f"core-seconds held, {cost['cost']:.4f} {cost['currency']}")


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    from pipelines.core.execution.runner import Runner, skipped_without_spark
    from pipelines.core.interfaces.arguments import check_run_arguments

    check_run_arguments(args)
    sample = None
    if args.canary:  # its own warehouse for everything it writes; production's inputs
        from pipelines.core.execution.canary import canary_settings
        from pipelines.core.frames.sampling import Sample

        settings = canary_settings(settings)
        sample = Sample(0.01 if args.sample is None else args.sample,
                        tuple(c.strip() for c in args.sample_by.split(",") if c.strip()),
                        unit=args.sample_unit or "files")
        args.force = True
    plan = _plan(args, settings)
    with PipelineLock(settings.lock_path, plan.name, date=plan.date) as lock:
        result = skipped_without_spark(settings, plan, force=args.force, resume=args.resume)
        if result is None:  # it has work to do: start Spark
            started = time.perf_counter()
            spark = _spark(settings)
            spark_start = round(time.perf_counter() - started, 3)
            try:
                result = Runner(spark, settings, plan, force=args.force, resume=args.resume,
                                lock=lock, timeout_s=args.timeout,
                                spark_start_s=spark_start, sample=sample,
                                reuse=not getattr(args, "recompute", False)).run()
            finally:  # a failed run is a metric too
                export_metrics(settings)
    _progress_end(result)
    _emit(args, result.to_dict(), _summary(result))
    return result.exit_code


def _progress_end(result: Any) -> None:
    from pipelines.core.execution import progress

    phases = progress.phases_text(result.phases, result.duration_s)
    progress.log.info("%s %s: %s in %.1fs%s", result.pipeline, result.date, result.status,
                      result.duration_s, f" ({phases})" if phases else "")


def cmd_backfill(args: argparse.Namespace, settings: Settings) -> int:
    if args.staging:  # into the canary warehouse, to diff and then promote
        from pipelines.core.execution.canary import canary_settings

        settings = canary_settings(settings)
    dates = _dates(args.start, args.end)
    plans = {date: _plan(args, settings, date=date) for date in dates}  # all valid first
    lock = PipelineLock(settings.lock_path, plans[dates[0]].name).acquire()
    try:
        return _backfill(args, settings, plans, lock)
    finally:
        lock.release()
        export_metrics(settings)


def _backfill(args: argparse.Namespace, settings: Settings, plans: dict[str, Any],
              lock: PipelineLock) -> int:
    from pipelines.core.execution.backfill import Budget, run_backfill
    from pipelines.core.execution.runner import Runner
    from pipelines.core.interfaces.arguments import check_budget_arguments

    if args.parallel < 1:
        raise UsageError("--parallel must be at least 1", key="parallel")
    check_budget_arguments(args)
    spark = _spark(settings)

    def one(plan: Any, before_publish: Any) -> Any:
        return Runner(spark, settings, plan, force=args.force, lock=lock,
                      before_publish=before_publish).run()

    def said(date: str, outcome: Any) -> None:
        if isinstance(outcome, PipelineError):
            if not args.json:
                print(f"{args.pipeline} {date}: failed: {outcome}")
            return
        _progress_end(outcome)
        if not args.json:
            print(_summary(outcome))

    done = run_backfill(spark, settings, plans, run=one, lock=lock, parallel=args.parallel,
                        budget=Budget(core_hours=args.budget_core_hours, cost=args.budget_cost),
                        on_result=said)
    if done.stopped_by and not args.json:
        print(f"{args.pipeline}: stopped before the {done.stopped_by}; not started: "
              f"{', '.join(done.not_started)}")
    if args.json:
        print(json.dumps({"pipeline": args.pipeline, "runs": done.results,
                          "not_started": done.not_started, "stopped_by": done.stopped_by,
                          "used": done.used}, indent=2, default=str))
    return done.exit_code


def cmd_history(args: argparse.Namespace, settings: Settings) -> int:
    from pipelines.core.config.registry import find_pipeline
    from pipelines.core.records.ledger import Ledger, with_liveness

    runs = Ledger(None, settings.warehouse_path).runs(args.pipeline)[-args.limit:]
    if not runs:
        find_pipeline(args.pipeline, settings.pipeline_packages)  # an unknown name: exit 2
    runs = with_liveness(runs, settings.lock_path)
    data = [r.to_dict() for r in runs]
    lines = [f"{'run_id':<26} {'date':<10} {'gen':>3} {'status':<14} {'seconds':>8}  outputs"]
    for r in runs:
        outs = ", ".join(f"{o['table']}@v{o['delta_version']}"
                         for o in r.data.get("outputs", []) or [])
        secs = "" if r.duration_s is None else f"{r.duration_s:.1f}"
        lines.append(f"{r.run_id:<26} {r.date:<10} {r.generation:>3} {r.status:<14} "
                     f"{secs:>8}  {outs}")
    _emit(args, {"pipeline": args.pipeline, "runs": data}, "\n".join(lines))
    return ExitCode.OK


def cmd_slo(args: argparse.Namespace, settings: Settings) -> int:
    """The pipeline's indicators over ``--days``, and the objectives they breach (exit 7)."""
    from pipelines.core.config.registry import find_pipeline
    from pipelines.core.records.ledger import Ledger, with_liveness
    from pipelines.core.records.slo import breaches, indicators

    if args.days < 1:
        raise UsageError(f"--days must be at least 1, got {args.days}", key="days")
    pipeline = find_pipeline(args.pipeline, settings.pipeline_packages)
    runs = with_liveness(Ledger(None, settings.warehouse_path).runs(args.pipeline),
                         settings.lock_path)
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    found = indicators(args.pipeline, runs, days=args.days, now=now,
                       objectives=pipeline.objectives)
    missed = breaches(found, pipeline.objectives)

    def show(value: float | None, unit: str = "") -> str:
        return "-" if value is None else f"{value:.3f}{unit}" if unit == "" else (
            f"{value:.1f}{unit}")

    lines = [f"{args.pipeline}, last {args.days} days: {found.runs} runs, {found.succeeded} "
             f"succeeded, {found.failed} failed",
             f"  success rate        {show(found.success_rate)}",
             f"  completion P50/P95/P99  {show(found.p50_seconds, 's')} / "
             f"{show(found.p95_seconds, 's')} / {show(found.p99_seconds, 's')}",
             f"  throughput          {show(found.rows_per_second, ' rows/s')}",
             f"  retries per failure {show(found.retries_per_failure)}",
             f"  time to recover     {show(found.mttr_seconds, 's')}",
             f"  last success        {show(found.last_success_age_seconds, 's')} ago",
             f"  per run             {show(found.cpu_seconds_per_run, 's')} executor CPU, "
             f"{show(found.core_seconds_per_run, ' core-s')}, cost "
             f"{show(found.cost_per_run)} {found.currency or ''}".rstrip()]
    verdict = ("no objectives declared" if not pipeline.objectives
               else f"no runs in the last {args.days} days: nothing to judge the objectives by"
               if not found.runs else "objectives met")
    lines += [f"BREACH {line}" for line in missed] or [verdict]
    _emit(args, {"indicators": found.to_dict(), "breaches": missed,
                 "objectives": pipeline.objectives.__dict__ if pipeline.objectives else None},
          "\n".join(lines))
    return ExitCode.SLO_BREACH if missed else ExitCode.OK


def cmd_show(args: argparse.Namespace, settings: Settings) -> int:
    from pipelines.core.records.ledger import Ledger, with_liveness

    record = Ledger(None, settings.warehouse_path).run(args.run_id)
    if record is None:
        raise UsageError(f"no run '{args.run_id}' in the ledger", key=args.run_id)
    record = with_liveness([record], settings.lock_path)[0]
    data = record.to_dict()
    if args.ge:
        from pipelines.core.quality import ge_adapter
        from pipelines.core.quality.gate import CheckResult

        results = [CheckResult.from_dict(r) for r in data.get("quality") or []]
        data = ge_adapter.to_validation_result(results, f"{record.pipeline}.{record.run_id}"
                                               ).to_json_dict()
    _emit(args, data, json.dumps(data, indent=2, default=str))
    return ExitCode.OK


def cmd_rollback(args: argparse.Namespace, settings: Settings) -> int:
    from pipelines.core.records.rollback import rollback

    data = rollback(_spark(settings), settings, args.run_id)
    text = "\n".join(f"restored {t['table']} to v{t['restored_to']} (new version "
                     f"{t['new_version']})" for t in data["tables"])
    _emit(args, data, text or "nothing to restore")
    return ExitCode.OK


def cmd_demo_data(args: argparse.Namespace, settings: Settings) -> int:
    from pipelines.core.planning.plan import parse_date
    from pipelines.demo.catalog_data import write_catalog
    from pipelines.demo.orders_data import generate

    date = parse_date(args.date)
    if args.rows < 1 or not 0 <= args.hot_share <= 1 or not 0 <= args.bad_share <= 1:
        raise UsageError("--rows must be >= 1 and --hot-share/--bad-share within [0, 1]")
    out = generate(_spark(settings), settings.warehouse_path, date, rows=args.rows,
                   customers=args.customers, hot_share=args.hot_share, seed=args.seed,
                   bad_share=args.bad_share, duplicates=args.duplicates)
    catalog = write_catalog(_spark(settings), settings.warehouse_path, date, seed=args.seed)
    data = {"date": out.date, "rows": out.rows, "orders": out.orders_path,
            "customers": out.customers_path, "fx_rates": out.fx_path, "products": catalog}
    _emit(args, data, f"wrote {out.rows} orders for {out.date} to {out.orders_path}")
    return ExitCode.OK


def cmd_package(args: argparse.Namespace, settings: Settings) -> int:
    from pipelines.core.interfaces.packaging import build_bundle

    data = build_bundle(settings, args.out)
    _emit(args, data, data["text"])
    return ExitCode.OK


COMMANDS = {"list": cmd_list, "plan": cmd_plan, "run": cmd_run, "backfill": cmd_backfill,
            "history": cmd_history, "slo": cmd_slo, "show": cmd_show, "rollback": cmd_rollback,
            "demo-data": cmd_demo_data, "table": cmd_table, "package": cmd_package}

"""Commands for operating pipelines: metrics for Prometheus from the ledger (no JVM), and
table maintenance (OPTIMIZE, VACUUM) within the retention that resumable runs and time
travel need."""

from __future__ import annotations

import argparse
import json
import logging

from pipelines.core.config.settings import Settings
from pipelines.core.errors import ExitCode, redact

__all__ = ["OPS_COMMANDS", "export_metrics"]

log = logging.getLogger(__name__)


def _registry(settings: Settings, pipelines: list[str] | None) -> tuple[object, list[str]]:
    from pipelines.core.records.ledger import Ledger, with_liveness
    from pipelines.core.records.ledger_metrics import ledger_registry

    runs = with_liveness(Ledger(None, settings.warehouse_path).runs(), settings.lock_path)
    by_pipeline: dict[str, list] = {}
    for run in runs:
        if not pipelines or run.pipeline in pipelines:
            by_pipeline.setdefault(run.pipeline, []).append(run)
    return ledger_registry(by_pipeline), sorted(by_pipeline)


def export_metrics(settings: Settings) -> list[str]:
    """After a run: the ledger's metrics to the configured textfile folder and Pushgateway.
    Returns where they went; a failure to export is logged, never fails the run."""
    from pipelines.core.records.ledger_metrics import push, write_textfile

    targets = settings.metrics
    if not (targets.textfile_dir or targets.pushgateway):
        return []
    done = []
    try:
        registry, _ = _registry(settings, None)
        if targets.textfile_dir:
            done.append(write_textfile(registry, targets.textfile_dir))
        if targets.pushgateway:
            push(registry, targets.pushgateway)
            done.append(targets.pushgateway)
    except Exception as exc:  # noqa: BLE001 - metrics must never change a run's outcome
        log.warning("could not export metrics: %s", redact(str(exc)))
    return done


def cmd_metrics(args: argparse.Namespace, settings: Settings) -> int:
    """The ledger's metrics: printed, written for a textfile collector, or pushed."""
    from prometheus_client import generate_latest

    from pipelines.core.records.ledger_metrics import push, write_textfile

    registry, names = _registry(settings, args.pipeline or None)
    text = generate_latest(registry).decode()  # type: ignore[arg-type]
    wrote = []
    if args.textfile_dir:
        wrote.append(write_textfile(registry, args.textfile_dir))
    if args.push:
        push(registry, args.push)
        wrote.append(args.push)
    if args.json:
        print(redact(json.dumps({"pipelines": names, "written": wrote, "text": text},
                                indent=2)))
    else:
        print(redact("\n".join(f"wrote {w}" for w in wrote) if wrote else text.rstrip()))
    return ExitCode.OK


def cmd_maintain(args: argparse.Namespace, settings: Settings) -> int:
    import datetime as dt

    from pipelines.core.config.registry import find_pipeline
    from pipelines.core.execution.maintenance import maintain
    from pipelines.core.execution.session import get_spark
    from pipelines.core.planning.plan import make_plan
    from pipelines.core.records.lock import PipelineLock

    pipeline = find_pipeline(args.pipeline, settings.pipeline_packages)
    plan = make_plan(pipeline, dt.date.today().isoformat(), {})
    # under the pipeline's lock: no run of it commits while files are rewritten or deleted
    with PipelineLock(settings.lock_path, plan.name):
        data = maintain(get_spark(settings), settings, plan)
    lines = [f"{t['table']}: compacted {t['files_removed']} files into {t['files_added']}, "
             f"deleted {t['files_deleted']} files unreferenced for {t['retain_hours']:g}h+"
             for t in data["tables"]]
    if args.json:
        print(redact(json.dumps(data, indent=2, default=str)))
    else:
        print(redact("\n".join(lines) or "no tables yet"))
    return ExitCode.OK


def cmd_diff(args: argparse.Namespace, settings: Settings) -> int:
    """A canary's tables against production's; exit 9 when a threshold is broken."""
    from pipelines.core.config.registry import find_pipeline
    from pipelines.core.execution.canary import diff
    from pipelines.core.execution.session import get_spark
    from pipelines.core.interfaces.cli_support import _kv
    from pipelines.core.planning.plan import make_plan, parse_date

    plan = make_plan(find_pipeline(args.pipeline, settings.pipeline_packages),
                     parse_date(args.date), _kv(args.param, "--param"))
    found = diff(get_spark(settings), settings, plan,
                 keys=[k.strip() for k in args.key.split(",") if k.strip()],
                 max_changed_share=args.max_changed_share, max_mean_shift=args.max_mean_shift)
    lines = [f"{plan.name} {plan.date}: canary {found['canary_run']} against production"]
    for s in found["sinks"]:
        lines.append(f"  {s['sink']:<20} canary {s['canary']} rows, production {s['production']}"
                     f"; added {s['added']}, removed {s['removed']}, changed {s['changed']} "
                     f"(by {', '.join(s['keys'])})")
        for column, stats in s["columns"].items():
            shift = stats["mean_shift"]
            lines.append(f"    {column:<18} mean {stats['canary']['mean']} vs "
                         f"{stats['production']['mean']}"
                         + ("" if shift is None else f" ({shift:.2%} shift)"))
    lines += [f"BREACH {b}" for b in found["breaches"]] or ["within thresholds"]
    if args.json:
        print(redact(json.dumps(found, indent=2, default=str)))
    else:
        print(redact("\n".join(lines)))
    return ExitCode.DIFF if found["breaches"] else ExitCode.OK


def cmd_promote(args: argparse.Namespace, settings: Settings) -> int:
    """Each date's staged run published to production as a new generation, its rows read
    back from the versions the staged run committed (nothing recomputed)."""
    from pipelines.core.config.registry import find_pipeline
    from pipelines.core.errors import PipelineError, UsageError
    from pipelines.core.execution.canary import staged_outputs, staged_run
    from pipelines.core.execution.runner import Runner
    from pipelines.core.execution.session import get_spark
    from pipelines.core.interfaces.cli_support import _dates, _kv
    from pipelines.core.planning.plan import make_plan
    from pipelines.core.records.fingerprint import code_hash
    from pipelines.core.records.lock import PipelineLock

    pipeline = find_pipeline(args.pipeline, settings.pipeline_packages)
    params = _kv(args.param, "--param")
    plans = [make_plan(pipeline, date, params) for date in _dates(args.start, args.end)]
    staged = [staged_run(settings, plan) for plan in plans]  # every date staged, first
    for plan, run in zip(plans, staged, strict=True):
        if run.code_hash and run.code_hash != code_hash(plan.declared_pipeline):
            raise UsageError(f"the code of {plan.name} changed since staged run {run.run_id} "
                             f"of {plan.date}: stage it again", pipeline=plan.name,
                             key=run.run_id)
    spark = get_spark(settings)
    results, worst = [], ExitCode.OK
    with PipelineLock(settings.lock_path, pipeline.name) as lock:
        for plan, run in zip(plans, staged, strict=True):
            try:
                result = Runner(spark, settings, plan, force=True, validate=False, lock=lock,
                                promote=staged_outputs(spark, settings, plan, run)).run()
                results.append(result.to_dict())
            except PipelineError as exc:
                worst = worst or exc.exit_code
                results.append({"date": plan.date, "status": "failed", "error": exc.to_dict()})
                break
    text = "\n".join(f"{r.get('date')}: {r.get('status')}" + (
        f" generation {r['generation']}, " + ", ".join(
            f"{o['table']}@v{o['delta_version']}" for o in r.get("outputs") or [])
        if r.get("status") == "succeeded" else "") for r in results)
    print(redact(json.dumps({"pipeline": pipeline.name, "runs": results}, indent=2,
                            default=str) if args.json else text))
    export_metrics(settings)
    return worst


OPS_COMMANDS = {"metrics": cmd_metrics, "maintain": cmd_maintain, "diff": cmd_diff,
                "promote": cmd_promote}

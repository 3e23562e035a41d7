"""The ``pipelines`` command. Exit codes: 0 ok, 2 usage/config/definition, 3 blocking
data-quality failure, 4 lock held, 5 input missing or unreadable, 1 anything else."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from pipelines.core.config.settings import Settings, load_settings
from pipelines.core.errors import ExitCode, PipelineError, UsageError

__all__ = ["main", "build_parser"]

log = logging.getLogger("pipelines")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line, exit code 2
        raise UsageError(message)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--env", default="local", help="configuration environment (conf/<env>.yaml)")
    p.add_argument("--conf", action="append", default=[], metavar="KEY=VALUE",
                   help="override a setting, e.g. warehouse=/data/wh (repeatable)")
    p.add_argument("--json", action="store_true", help="print one JSON document")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="pipelines", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    p = sub.add_parser("list", help="the declared pipelines")
    _common(p)
    for name, text in (("plan", "validate and show the DAG and write footprint"),
                       ("run", "run a pipeline for one logical date")):
        p = sub.add_parser(name, help=text)
        p.add_argument("pipeline")
        p.add_argument("--date", required=True, help="logical date, YYYY-MM-DD")
        p.add_argument("--param", action="append", default=[], metavar="KEY=VALUE")
        _common(p)
        if name == "run":
            p.add_argument("--force", action="store_true",
                           help="run again even if this date already succeeded")
            p.add_argument("--resume", action="store_true",
                           help="continue the failed run of this date (a plain rerun does too)")
    p = sub.add_parser("backfill", help="run a range of dates, oldest first")
    p.add_argument("pipeline")
    p.add_argument("--start", required=True)
    p.add_argument("--end", required=True)
    p.add_argument("--force", action="store_true")
    p.add_argument("--param", action="append", default=[], metavar="KEY=VALUE")
    _common(p)
    p = sub.add_parser("history", help="runs of a pipeline, from the ledger")
    p.add_argument("pipeline")
    p.add_argument("--limit", type=int, default=20)
    _common(p)
    p = sub.add_parser("show", help="one run, from the ledger")
    p.add_argument("run_id")
    p.add_argument("--ge", action="store_true",
                   help="print the run's quality verdicts as GE's ExpectationSuiteValidationResult")
    _common(p)
    p = sub.add_parser("rollback", help="restore the tables a run published to before it")
    p.add_argument("run_id")
    _common(p)
    p = sub.add_parser("demo-data", help="generate raw data for the reference pipeline")
    p.add_argument("--date", required=True)
    p.add_argument("--rows", type=int, default=20_000)
    p.add_argument("--customers", type=int, default=2_000)
    p.add_argument("--hot-share", type=float, default=0.5)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--bad-share", type=float, default=0.0,
                   help="share of rows with a null customer, negative amount or unknown currency")
    p.add_argument("--duplicates", type=int, default=0, help="orders repeated with the same id")
    _common(p)
    p = sub.add_parser("table", help="print rows of a table (any Delta version)")
    p.add_argument("table", help="table name (under <warehouse>/tables) or path")
    p.add_argument("--version", type=int, default=None, help="Delta version (time travel)")
    p.add_argument("--limit", type=int, default=20)
    p.add_argument("--where", default=None, help="SQL filter")
    _common(p)
    p = sub.add_parser("package", help="build the artifacts a cluster needs (zip, conf, flags)")
    p.add_argument("--out", default="dist")
    _common(p)
    return parser


def _kv(items: Sequence[str], what: str) -> dict[str, str]:
    out = {}
    for item in items:
        if "=" not in item:
            raise UsageError(f"{what} expects KEY=VALUE, got '{item}'")
        k, v = item.split("=", 1)
        out[k.strip()] = v
    return out


def _emit(args: argparse.Namespace, data: Any, text: str) -> None:
    if args.json:
        print(json.dumps(data, indent=2, default=str))
    else:
        print(text)


def _spark(settings: Settings) -> Any:
    from pipelines.core.execution.session import get_spark

    return get_spark(settings)


def _plan(args: argparse.Namespace, settings: Settings, *, date: str | None = None) -> Any:
    from pipelines.core.config.registry import find_pipeline
    from pipelines.core.planning.plan import make_plan

    pipeline = find_pipeline(args.pipeline, settings.pipeline_packages)
    return make_plan(pipeline, date or args.date, _kv(args.param, "--param"))


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
    from pipelines.core.planning.render import render_plan

    plan = _plan(args, settings)
    spark = _spark(settings)
    schemas = check_schemas(spark, plan)
    plan.schemas.update(schemas)
    text = render_plan(plan, settings.warehouse_path, settings.salting)
    _emit(args, {"status": "ok", **plan.to_dict(settings.salting)}, text)
    return ExitCode.OK


def _summary(result: Any) -> str:
    lines = [f"{result.pipeline} {result.date}: {result.status} (run {result.run_id}, "
             f"generation {result.generation}, {result.duration_s}s)"]
    if result.message:
        lines.append(result.message)
    for s in result.stages:
        rows = "-" if s.rows_out is None else s.rows_out
        extra = f" fused into {s.fused_into}" if s.fused_into else ""
        salt = (s.salting or {}).get("decision")
        extra += f" [{salt}]" if salt and salt != "off" else ""
        dropped = f", {s.rows_dropped} quarantined" if s.rows_dropped else ""
        lines.append(f"  stage {s.name:<18} rows={rows}{dropped}{extra}")
    for o in result.outputs:
        again = " (already committed)" if o["already_committed"] else ""
        lines.append(f"  wrote {o['table']:<22} v{o['delta_version']} rows={o['rows_written']}"
                     f" {o['mode']}{again}")
    if result.report:
        lines.append(f"  report {result.report}")
    return "\n".join(lines)


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    from pipelines.core.execution.runner import Runner

    plan = _plan(args, settings)
    result = Runner(_spark(settings), settings, plan, force=args.force, resume=args.resume).run()
    _emit(args, result.to_dict(), _summary(result))
    return result.exit_code


def _dates(start: str, end: str) -> list[str]:
    from pipelines.core.planning.plan import parse_date

    a, b = dt.date.fromisoformat(parse_date(start)), dt.date.fromisoformat(parse_date(end))
    if b < a:
        raise UsageError(f"--end {end} is before --start {start}")
    return [(a + dt.timedelta(days=i)).isoformat() for i in range((b - a).days + 1)]


def cmd_backfill(args: argparse.Namespace, settings: Settings) -> int:
    from pipelines.core.execution.runner import Runner

    dates = _dates(args.start, args.end)
    spark = _spark(settings)
    results, worst = [], ExitCode.OK
    for date in dates:
        try:
            plan = _plan(args, settings, date=date)
            result = Runner(spark, settings, plan, force=args.force).run()
            results.append(result.to_dict())
            if not args.json:
                print(_summary(result))
        except PipelineError as exc:
            worst = worst or exc.exit_code
            results.append({"date": date, "status": "failed", "error": exc.to_dict()})
            if not args.json:
                print(f"{args.pipeline} {date}: failed: {exc}")
            if exc.exit_code in (ExitCode.USAGE, ExitCode.LOCKED):
                break
    if args.json:
        print(json.dumps({"pipeline": args.pipeline, "runs": results}, indent=2, default=str))
    return worst


def cmd_history(args: argparse.Namespace, settings: Settings) -> int:
    from pipelines.core.records.ledger import Ledger

    runs = Ledger(_spark(settings), settings.warehouse_path).runs(args.pipeline)[-args.limit:]
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


def cmd_show(args: argparse.Namespace, settings: Settings) -> int:
    from pipelines.core.records.ledger import Ledger

    record = Ledger(_spark(settings), settings.warehouse_path).run(args.run_id)
    if record is None:
        raise UsageError(f"no run '{args.run_id}' in the ledger", key=args.run_id)
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
    from pipelines.demo.orders_data import generate

    date = parse_date(args.date)
    if args.rows < 1 or not 0 <= args.hot_share <= 1 or not 0 <= args.bad_share <= 1:
        raise UsageError("--rows must be >= 1 and --hot-share/--bad-share within [0, 1]")
    out = generate(_spark(settings), settings.warehouse_path, date, rows=args.rows,
                   customers=args.customers, hot_share=args.hot_share, seed=args.seed,
                   bad_share=args.bad_share, duplicates=args.duplicates)
    data = {"date": out.date, "rows": out.rows, "orders": out.orders_path,
            "customers": out.customers_path, "fx_rates": out.fx_path}
    _emit(args, data, f"wrote {out.rows} orders for {out.date} to {out.orders_path}")
    return ExitCode.OK


def cmd_table(args: argparse.Namespace, settings: Settings) -> int:
    from pipelines.core.delta.tables import current_version, read_delta, table_path
    from pipelines.core.errors import InputDataError

    path = table_path(settings.warehouse_path, args.table)
    spark = _spark(settings)
    latest = current_version(spark, path)
    if latest is None:
        raise InputDataError(f"no Delta table at {path}", file=path, key=args.table)
    df = read_delta(spark, path, args.version)
    if args.where:
        df = df.where(args.where)
    rows = [r.asDict(recursive=True) for r in df.limit(args.limit).collect()]
    shown = latest if args.version is None else args.version
    text = f"{args.table} v{shown} (latest v{latest}), {len(rows)} row(s) shown\n"
    text += "\n".join(" | ".join(f"{k}={v}" for k, v in r.items()) for r in rows)
    _emit(args, {"table": args.table, "path": path, "version": shown, "latest": latest,
                 "rows": rows}, text)
    return ExitCode.OK


def cmd_package(args: argparse.Namespace, settings: Settings) -> int:
    from pipelines.core.interfaces.packaging import build_bundle

    data = build_bundle(settings, args.out)
    _emit(args, data, data["text"])
    return ExitCode.OK


COMMANDS = {"list": cmd_list, "plan": cmd_plan, "run": cmd_run, "backfill": cmd_backfill,
            "history": cmd_history, "show": cmd_show, "rollback": cmd_rollback,
            "demo-data": cmd_demo_data, "table": cmd_table, "package": cmd_package}


def _setup_logging(level: str) -> None:
    logging.basicConfig(level=getattr(logging, level.upper(), logging.INFO), stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("py4j", "great_expectations"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    wants_json = "--json" in argv
    try:
        args = build_parser().parse_args(argv)
        settings = load_settings(args.env, args.conf)
        _setup_logging(settings.log_level)
        return COMMANDS[args.command](args, settings)
    except PipelineError as exc:
        if wants_json:
            print(json.dumps({"status": "error", **exc.to_dict()}, indent=2, default=str))
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return ExitCode.FAILURE
    except Exception as exc:  # noqa: BLE001 - last resort: one line, exit code 1
        log.debug("unexpected error", exc_info=True)
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        print(f"error: {type(exc).__name__}: {first}", file=sys.stderr)
        return ExitCode.FAILURE


def entry() -> None:
    sys.exit(main())

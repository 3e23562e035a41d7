"""The ``pipelines`` command. Exit codes: 0 ok, 2 usage/config/definition, 3 blocking
data-quality failure, 4 lock held, 5 input missing or unreadable, 1 anything else."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from collections.abc import Sequence
from typing import NoReturn

from pipelines.core.config.settings import load_settings
from pipelines.core.errors import ExitCode, PipelineError, UsageError, redact
from pipelines.core.interfaces.cli_commands import COMMANDS
from pipelines.core.interfaces.cli_ops import OPS_COMMANDS

__all__ = ["main", "build_parser"]

log = logging.getLogger("pipelines")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line, exit code 2
        raise UsageError(message)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--env", default=os.environ.get("PIPELINES_ENV", "local"),
                   help="configuration environment (conf/<env>.yaml); default $PIPELINES_ENV, "
                        "else local")
    p.add_argument("--conf", action="append", default=[], metavar="KEY=VALUE",
                   help="override a setting, e.g. warehouse=/data/wh (repeatable)")
    p.add_argument("--json", action="store_true", help="print one JSON document")
    p.add_argument("--quiet", "-q", action="store_true",
                   help="no progress lines on stderr: warnings and errors only")
    p.add_argument("--verbose", "-v", action="store_true", help="debugging lines too")


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
        p.add_argument("--select", action="append", default=[], metavar="NODE[+]",
                       help="only this sink, or stage and the sinks it feeds (NODE+: and "
                            "everything downstream), with what they need; repeatable")
        _common(p)
        if name == "run":
            p.add_argument("--force", action="store_true",
                           help="run again even if this date already succeeded")
            p.add_argument("--recompute", action="store_true",
                           help="compute every stage, reading no earlier generation's staged "
                                "result")
            p.add_argument("--resume", action="store_true",
                           help="continue the failed run of this date (a plain rerun does too)")
            p.add_argument("--timeout", type=float, default=None, metavar="SECONDS",
                           help="end the run after this long: its Spark jobs are cancelled, "
                                "exit code 6")
            p.add_argument("--canary", action="store_true",
                           help="a sample of the inputs into shadow tables under "
                                "<warehouse>/_canary that production never reads")
            p.add_argument("--sample", type=float, default=None, metavar="FRACTION",
                           help="--canary: the share of rows (or keys) kept (default 0.01)")
            p.add_argument("--sample-unit", default=None, choices=("files", "rows"),
                           help="--canary without --sample-by: sample whole input files "
                                "(default; the others are never read) or rows of every file")
            p.add_argument("--sample-by", default="", metavar="COL[,COL]",
                           help="--canary: keep whole keys of these columns, in every source "
                                "that has them (default: rows of the file sources)")
    p = sub.add_parser("backfill", help="run a range of dates, oldest first")
    p.add_argument("pipeline")
    p.add_argument("--start", required=True)
    p.add_argument("--end", required=True)
    p.add_argument("--force", action="store_true")
    p.add_argument("--param", action="append", default=[], metavar="KEY=VALUE")
    p.add_argument("--parallel", type=int, default=1, metavar="N",
                   help="dates running at once in the one Spark session (default 1)")
    p.add_argument("--budget-core-hours", type=float, default=None, metavar="H",
                   help="start no date that would take the backfill past H core-hours")
    p.add_argument("--budget-cost", type=float, default=None, metavar="PRICE",
                   help="start no date that would take its cost past PRICE (cost settings)")
    p.add_argument("--staging", action="store_true",
                   help="write under <warehouse>/_canary, to diff and promote later")
    _common(p)
    p = sub.add_parser("promote", help="publish a staged backfill's dates to production "
                                       "without recomputing them")
    p.add_argument("pipeline")
    p.add_argument("--start", required=True)
    p.add_argument("--end", required=True)
    p.add_argument("--param", action="append", default=[], metavar="KEY=VALUE")
    _common(p)
    p = sub.add_parser("history", help="runs of a pipeline, from the ledger")
    p.add_argument("pipeline")
    p.add_argument("--limit", type=int, default=20)
    _common(p)
    p = sub.add_parser("slo", help="service-level indicators from the ledger, and breaches")
    p.add_argument("pipeline")
    p.add_argument("--days", type=int, default=30, help="the window, in days up to now")
    _common(p)
    p = sub.add_parser("show", help="one run, from the ledger")
    p.add_argument("run_id")
    p.add_argument("--ge", action="store_true",
                   help="print the run's quality verdicts as GE's ExpectationSuiteValidationResult")
    _common(p)
    p = sub.add_parser("rollback", help="restore the tables a run published to before it")
    p.add_argument("run_id")
    _common(p)
    p = sub.add_parser("demo-data", help="generate raw data for the reference pipelines "
                                         "(orders, customers, FX rates, product catalog)")
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
    p = sub.add_parser("diff", help="compare a canary run's tables with production's")
    p.add_argument("pipeline")
    p.add_argument("--date", required=True)
    p.add_argument("--param", action="append", default=[], metavar="KEY=VALUE")
    p.add_argument("--key", default="", metavar="COL[,COL]",
                   help="compare rows by these columns (default: the sink's merge keys, "
                        "else the canary's sample-by columns, else whole rows)")
    p.add_argument("--max-changed-share", type=float, default=0.0, metavar="F",
                   help="share of production's rows that may differ (default 0)")
    p.add_argument("--max-mean-shift", type=float, default=0.0, metavar="F",
                   help="relative move of a numeric column's mean allowed (default 0)")
    _common(p)
    p = sub.add_parser("metrics", help="the ledger's metrics for Prometheus (no JVM)")
    p.add_argument("pipeline", nargs="*", help="these pipelines only (default: all)")
    p.add_argument("--textfile-dir", default=None,
                   help="write pipelines.prom there (node_exporter's textfile collector)")
    p.add_argument("--push", default=None, metavar="URL", help="push to a Pushgateway")
    _common(p)
    p = sub.add_parser("maintain", help="OPTIMIZE and VACUUM a pipeline's tables and the "
                                        "ledger, within the retention its runs need")
    p.add_argument("pipeline")
    _common(p)
    p = sub.add_parser("package", help="build the artifacts a cluster needs (zip, conf, flags)")
    p.add_argument("--out", default="dist")
    _common(p)
    return parser


def _setup_logging(level: str, *, quiet: bool = False, verbose: bool = False) -> None:
    """Framework logs at ``log_level``; progress lines (one per stage and publish) as plain
    ``HH:MM:SS message`` lines on stderr. ``--quiet``: warnings and errors only;
    ``--verbose``: debugging too."""
    chosen = "WARNING" if quiet else "DEBUG" if verbose else level.upper()
    logging.basicConfig(level=getattr(logging, chosen, logging.INFO), stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s", force=True)
    for noisy in ("py4j", "great_expectations"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    progress = logging.getLogger("pipelines.progress")
    progress.handlers.clear()
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", datefmt="%H:%M:%S"))
    progress.addHandler(handler)
    progress.propagate = False
    progress.setLevel(logging.WARNING if quiet else logging.DEBUG if verbose else logging.INFO)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    wants_json = "--json" in argv
    try:
        args = build_parser().parse_args(argv)
        settings = load_settings(args.env, args.conf)
        # spark-submit merges the driver's stderr into its stdout: there, --json keeps stdout
        # for the one document by leaving progress lines out
        merged = "PYSPARK_GATEWAY_PORT" in os.environ and args.json
        _setup_logging(settings.log_level, quiet=args.quiet or merged, verbose=args.verbose)
        return {**COMMANDS, **OPS_COMMANDS}[args.command](args, settings)
    except PipelineError as exc:
        spark_log = os.environ.get("PIPELINES_SPARK_LOG")  # set once this process started Spark
        details = {"spark_log": spark_log} if spark_log else {}
        if wants_json:
            print(redact(json.dumps({"status": "error", **exc.to_dict(), **details}, indent=2,
                                    default=str)))
        more = f" (Spark's log: {spark_log})" if spark_log else ""
        if spark_log and _trace_to(spark_log, exc):
            more = f" (full trace: {spark_log})"
        print(redact(f"error: {exc}{more}"), file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return ExitCode.FAILURE
    except Exception as exc:  # noqa: BLE001 - last resort: one line, exit code 1
        log.debug("unexpected error", exc_info=True)
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        print(redact(f"error: {type(exc).__name__}: {first}"), file=sys.stderr)
        return ExitCode.FAILURE


def _trace_to(path: str, exc: BaseException) -> bool:
    """Append the error's whole Python trace (its causes, and through Py4J the JVM's) to the
    process's log file, beside Spark's own lines. False when it has no trace to tell."""
    import traceback

    if exc.__cause__ is None and exc.__context__ is None:
        return False
    try:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(f"\n{time.strftime('%Y-%m-%d %H:%M:%S')} pipelines error: {exc}\n")
            fh.write(redact("".join(traceback.format_exception(exc))))
    except OSError:
        return False
    return True


def entry() -> None:
    code = main()
    if "pyspark" in sys.modules and _spark_started():
        sys.exit(code)  # Spark's own shutdown hooks run
    # No JVM in this process (history, show, table, a skipped run): leave without the
    # interpreter's teardown, where native thread pools (Arrow's, delta-rs') can abort the
    # process after its work is done and its output written.
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def _spark_started() -> bool:
    from pyspark import SparkContext

    return SparkContext._active_spark_context is not None

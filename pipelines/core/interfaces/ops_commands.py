"""Commands for operating pipelines: metrics for Prometheus from the ledger (no JVM)."""

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


OPS_COMMANDS = {"metrics": cmd_metrics}

"""Every pipeline's metrics from its run ledger, in Prometheus' exposition format
(``prometheus_client``), for a node_exporter textfile collector or a Pushgateway.

Counters over all the runs the ledger holds (``_total``), and gauges of each pipeline's
latest finished run; labelled by pipeline and status, sink or currency, never by date or run,
so a series lives as long as its pipeline. Read through delta-rs: no JVM.
"""

from __future__ import annotations

import os
from collections import Counter as Tally
from typing import Any

from pipelines.core.errors import PipelineError, redact
from pipelines.core.records.ledger import RunRecord

__all__ = ["ledger_registry", "write_textfile", "push", "STATUSES"]

STATUSES = ("succeeded", "failed", "quality_failed", "partially_published", "died",
            "rolled_back", "rolling_back")


def ledger_registry(runs_by_pipeline: dict[str, list[RunRecord]]) -> Any:
    """A ``CollectorRegistry`` of the pipelines' counters and latest-run gauges."""
    from prometheus_client import CollectorRegistry, Counter, Gauge

    registry = CollectorRegistry()

    def counter(name: str, doc: str, *labels: str) -> Any:
        return Counter(name, doc, ["pipeline", *labels], registry=registry)

    def gauge(name: str, doc: str, *labels: str) -> Any:
        return Gauge(name, doc, ["pipeline", *labels], registry=registry)

    runs_total = counter("pipelines_runs", "runs recorded in the ledger, by final status",
                         "status")
    retries = counter("pipelines_retries", "task-level retries of the pipeline's stages")
    rows = counter("pipelines_rows_written", "rows published to each sink", "sink")
    quarantined = counter("pipelines_quarantined_rows", "rows quarantined by drop checks")
    cpu = counter("pipelines_executor_cpu_seconds", "executor CPU time of the runs' tasks")
    cost = counter("pipelines_cost", "price of the runs' cores and memory", "currency")
    last_success = gauge("pipelines_last_success_timestamp_seconds",
                         "when the latest successful run finished (Unix time)")
    last_duration = gauge("pipelines_last_run_duration_seconds", "wall time of the latest run")
    last_ok = gauge("pipelines_last_run_success", "1 if the latest finished run succeeded")
    for pipeline, runs in sorted(runs_by_pipeline.items()):
        tally = Tally(r.status for r in runs)
        for status in sorted(set(STATUSES) | set(tally)):
            if status != "running":
                runs_total.labels(pipeline, status).inc(tally.get(status, 0))
        for run in runs:
            stages = run.data.get("stages") or []
            retries.labels(pipeline).inc(sum(int(s.get("retries") or 0) for s in stages))
            quarantined.labels(pipeline).inc(sum(int(s.get("rows_dropped") or 0)
                                                 for s in stages))
            for out in run.data.get("outputs") or []:
                if out.get("rows_written") is not None and not out.get("already_committed"):
                    rows.labels(pipeline, out["sink"]).inc(out["rows_written"])
            spent = (run.data.get("notes") or {}).get("cost")
            if spent:
                cpu.labels(pipeline).inc(spent["executor_cpu_seconds"])
                cost.labels(pipeline, spent["currency"]).inc(spent["cost"])
        finished = [r for r in runs if r.finished_at is not None]
        if finished:
            latest = finished[-1]
            last_duration.labels(pipeline).set(latest.duration_s or 0)
            last_ok.labels(pipeline).set(1 if latest.status == "succeeded" else 0)
        succeeded = [r.finished_at.timestamp() for r in finished
                     if r.status == "succeeded" and r.finished_at is not None]
        if succeeded:
            last_success.labels(pipeline).set(max(succeeded))
    return registry


def write_textfile(registry: Any, folder: str) -> str:
    """``<folder>/pipelines.prom``, replaced atomically (the collector never reads half)."""
    from prometheus_client import write_to_textfile

    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, "pipelines.prom")
    write_to_textfile(path, registry)
    return path


def push(registry: Any, gateway: str, *, job: str = "pipelines") -> None:
    """Replace the job's metrics on a Pushgateway (``http://host:9091``)."""
    from http.client import InvalidURL

    from prometheus_client import push_to_gateway

    where = redact(gateway)
    try:
        push_to_gateway(gateway, job=job, registry=registry)
    except (ValueError, InvalidURL):  # a malformed URL: its text may hold a password's pieces
        raise PipelineError(f"cannot push metrics to {where}: the URL is malformed (a '/' or "
                            "'@' in its password must be percent-encoded)", key="push",
                            file=where) from None
    except OSError as exc:  # unreachable, refused, an HTTP error (URLError is an OSError)
        reason = getattr(exc, "reason", None) or exc
        raise PipelineError(f"cannot push metrics to {where}: {redact(str(reason))}",
                            key="push", file=where) from None

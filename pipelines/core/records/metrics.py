"""A run's metrics in Prometheus' text exposition format, written with ``prometheus_client``.

Gauges of the pipeline's last run, labelled by pipeline (and sink or phase), never by date
or run id, so each series lives as long as the pipeline does: a node_exporter textfile
collector picks the file up as it is.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

__all__ = ["render_prometheus"]


def render_prometheus(data: dict[str, Any]) -> str:
    from prometheus_client import CollectorRegistry, Gauge, generate_latest

    registry = CollectorRegistry()
    pipeline = data["pipeline"]

    def gauge(name: str, doc: str, value: float, **labels: str) -> None:
        metric = Gauge(name, doc, ["pipeline", *labels], registry=registry)
        metric.labels(pipeline=pipeline, **labels).set(value)

    gauge("pipelines_last_run_success", "1 if the last run succeeded (or had nothing to do)",
          1 if data["status"] in ("succeeded", "skipped") else 0)
    gauge("pipelines_last_run_exit_code", "exit code of the last run", data["exit_code"])
    gauge("pipelines_last_run_duration_seconds", "wall time of the last run",
          data["duration_s"])
    started = dt.datetime.fromisoformat(data["started_at"])
    gauge("pipelines_last_run_end_timestamp_seconds", "when the last run ended (Unix time)",
          started.timestamp() + float(data["duration_s"]))
    gauge("pipelines_last_run_generation", "generation the last run computed",
          data["generation"])
    failures = sum(1 for q in data["quality"] if not q["success"])
    gauge("pipelines_last_run_quality_failures", "expectations that failed in the last run",
          failures)
    quarantined = sum(int(s.get("rows_dropped") or 0) for s in data["stages"])
    gauge("pipelines_last_run_quarantined_rows", "rows the last run quarantined", quarantined)
    cost = data.get("cost") or {}
    if cost:
        gauge("pipelines_last_run_executor_cpu_seconds", "CPU time of the last run's tasks",
              cost["executor_cpu_seconds"])
        gauge("pipelines_last_run_core_seconds", "executor cores held by the last run, times "
              "seconds", cost["core_seconds"])
        gauge("pipelines_last_run_cost", "price of the last run's cores and memory, in the "
              "configured currency", cost["cost"], currency=cost["currency"])
    phases = Gauge("pipelines_last_run_phase_seconds", "wall time of each phase of the last run",
                   ["pipeline", "phase"], registry=registry)
    for phase, seconds in (data.get("phases") or {}).items():
        phases.labels(pipeline=pipeline, phase=phase).set(seconds)
    rows = Gauge("pipelines_last_run_rows_written", "rows the last run published per sink",
                 ["pipeline", "sink"], registry=registry)
    for out in data["outputs"]:
        if out.get("rows_written") is not None:
            rows.labels(pipeline=pipeline, sink=out["sink"]).set(out["rows_written"])
    return str(generate_latest(registry).decode())

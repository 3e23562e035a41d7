"""Per-run reports written next to the warehouse: the JSON summary, an HTML page with charts,
and the run's metrics in Prometheus' text format.

The HTML page is rendered from a Jinja2 template with inline SVG charts (no script, no
network): where the run's time went, rows per stage, the task durations of keyed stages
(salted or not) with their hot keys, the quality verdicts, the outputs, and trends over the
pipeline's last runs read from the ledger.
"""

from __future__ import annotations

import json
import logging
import os
from functools import cache
from importlib import resources
from typing import Any

from pipelines.core.layout import report_folder
from pipelines.core.records import charts
from pipelines.core.records.metrics import render_prometheus
from pipelines.core.records.results import RunResult

__all__ = ["write_report", "render_html", "trend_points", "TREND_RUNS"]

log = logging.getLogger(__name__)

TREND_RUNS = 20  # runs of the pipeline the trends show, the current one last


def _dir(warehouse: str, result: RunResult) -> str:
    return report_folder(warehouse, result.pipeline, result.date, result.run_id)


def write_report(warehouse: str, result: RunResult) -> str | None:
    if "://" in warehouse:
        return None
    folder = _dir(warehouse, result)
    os.makedirs(folder, exist_ok=True)
    data = result.to_dict()
    with open(os.path.join(folder, "summary.json"), "w") as fh:
        json.dump(data, fh, indent=2, default=str)
    history = _history(warehouse, result.pipeline, result.run_id)
    with open(os.path.join(folder, "report.html"), "w") as fh:
        fh.write(render_html(data, history=history))
    with open(os.path.join(folder, "metrics.prom"), "w") as fh:
        fh.write(render_prometheus(data))
    return os.path.join(folder, "report.html")


def _history(warehouse: str, pipeline: str, run_id: str) -> list[dict[str, Any]]:
    """The pipeline's earlier runs in the ledger (read without Spark), oldest first."""
    from pipelines.core.records.ledger import Ledger

    try:
        runs = Ledger(None, warehouse).runs(pipeline)
    except Exception as exc:  # noqa: BLE001 - a report without trends is still a report
        log.debug("no run history for the report: %s", exc)
        return []
    return [{**r.data, "run_id": r.run_id, "date": r.date, "status": r.status,
             "duration_s": r.duration_s, "started_at": r.started_at.isoformat()}
            for r in runs if r.run_id != run_id and r.status != "running"]


def _quarantined_share(run: dict[str, Any]) -> float:
    """Rows quarantined over rows reaching the stages that quarantine, in percent."""
    gates = {q["stage"] for q in run.get("quality") or [] if q.get("severity") == "drop"}
    stages = [s for s in run.get("stages") or [] if s["name"] in gates]
    dropped = sum(int(s.get("rows_dropped") or 0) for s in stages)
    seen = dropped + sum(int(s.get("rows_out") or 0) for s in stages)
    return 100.0 * dropped / seen if seen else 0.0


def trend_points(runs: list[dict[str, Any]]) -> dict[str, list[Any]]:
    """Per run, oldest first: its label, whether it failed, its duration, the rows its
    materialized stages produced and the share of rows it quarantined."""
    return {
        "labels": [f"{r['date']} (run {str(r.get('started_at', ''))[5:16].replace('T', ' ')})"
                   for r in runs],
        "failed": [r.get("status") not in ("succeeded", "skipped") for r in runs],
        "duration_s": [r.get("duration_s") for r in runs],
        "rows": [sum(int(s.get("rows_out") or 0) for s in r.get("stages") or []
                     if s.get("materialized")) for r in runs],
        "quarantined_pct": [round(_quarantined_share(r), 3) for r in runs],
    }


def _timeline(data: dict[str, Any]) -> str:
    bars = [charts.Bar(p["name"], p["start_s"], p["duration_s"], "phase")
            for p in data.get("timeline") or []]
    bars += [charts.Bar(f"  {s['name']}", s["start_s"], s["duration_s"], "stage",
                        "(resumed)" if s.get("resumed") else "")
             for s in data["stages"] if s.get("start_s") is not None
             and s.get("duration_s") is not None]
    bars.sort(key=lambda b: b.start)
    if not bars:
        return ""
    return charts.timeline(bars, total=data["duration_s"], title="run timeline")


def _rows(data: dict[str, Any]) -> str:
    bars = [charts.Bar(s["name"], 0, s["rows_out"], "stage",
                       f"({charts.number(s['rows_dropped'])} quarantined)"
                       if s.get("rows_dropped") else "")
            for s in data["stages"] if s.get("rows_out") is not None]
    return charts.bars(bars, unit=" rows", title="rows per stage") if bars else ""


def _tasks(data: dict[str, Any]) -> str:
    boxes = []
    for s in data["stages"]:
        skew = s.get("skew") or {}
        if not skew.get("task_ms_box"):
            continue
        decision = (s.get("salting") or {}).get("decision", "off")
        note = (f"{skew.get('tasks')} tasks, max/median {skew.get('task_max_over_median')}, "
                f"CPU {skew.get('task_cpu_max_over_median')}")
        boxes.append(charts.Box(s["name"], skew["task_ms_box"],
                                "salted" if decision == "salted" else "unsalted", note))
    return charts.boxes(boxes, title="task durations") if boxes else ""


def _hot_keys(data: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for s in data["stages"]:
        salting = s.get("salting") or {}
        for key in salting.get("hot_keys") or []:
            rows.append({"stage": s["name"], "decision": salting.get("decision", ""),
                         "columns": ", ".join(salting.get("columns") or []),
                         "key": ", ".join(str(v) for v in key.get("key") or []),
                         "salts": key.get("salts"), "share": f"{100 * key['share']:.1f}%",
                         "estimated_rows": key.get("estimated_rows")})
    return rows


def _trends(data: dict[str, Any], history: list[dict[str, Any]]) -> list[str]:
    runs = [*history, data][-TREND_RUNS:]
    if len(runs) < 2:
        return []
    points = trend_points(runs)
    return [charts.trend(points["duration_s"], labels=points["labels"], unit=" s",
                         title="duration", failed=points["failed"]),
            charts.trend(points["rows"], labels=points["labels"], unit=" rows",
                         title="rows produced", failed=points["failed"]),
            charts.trend(points["quarantined_pct"], labels=points["labels"], unit=" %",
                         title="quarantined share", failed=points["failed"])]


@cache
def _template() -> Any:
    import jinja2
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined,
                             keep_trailing_newline=True)
    env.filters["number"] = lambda v: v if isinstance(v, str) else charts.number(v)
    # read as a resource: works from the --py-files zip of spark-submit too
    text = resources.files("pipelines.core.records").joinpath(
        "templates/report.html.j2").read_text(encoding="utf-8")
    return env.from_string(text)


def render_html(data: dict[str, Any], *, history: list[dict[str, Any]] | None = None) -> str:
    """The run's report page; ``history`` is the pipeline's earlier runs, oldest first."""
    from markupsafe import Markup

    phase_total = sum((data.get("phases") or {}).values())
    return str(_template().render(
        run=data,
        error_json=json.dumps(data.get("error"), indent=2, default=str),
        timeline=Markup(_timeline(data)), rows_chart=Markup(_rows(data)),
        tasks_chart=Markup(_tasks(data)), hot=_hot_keys(data),
        quality_passed=sum(1 for q in data["quality"] if q.get("success")),
        phase_total=round(phase_total, 3),
        other=round(max(data["duration_s"] - phase_total, 0.0), 3),
        trends=[Markup(c) for c in _trends(data, history or [])],
        trend_runs=TREND_RUNS,
    ))

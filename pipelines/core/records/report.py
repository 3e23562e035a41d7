"""Per-run reports written next to the warehouse: JSON summary, HTML page, Prometheus text."""

from __future__ import annotations

import html
import json
import os
from typing import Any

from pipelines.core.records.results import RunResult

__all__ = ["write_report", "render_html", "render_prometheus"]


def _dir(warehouse: str, result: RunResult) -> str:
    return f"{warehouse}/_pipelines/reports/{result.pipeline}/{result.date}/{result.run_id}"


def write_report(warehouse: str, result: RunResult) -> str | None:
    if "://" in warehouse:
        return None
    folder = _dir(warehouse, result)
    os.makedirs(folder, exist_ok=True)
    data = result.to_dict()
    with open(os.path.join(folder, "summary.json"), "w") as fh:
        json.dump(data, fh, indent=2, default=str)
    with open(os.path.join(folder, "report.html"), "w") as fh:
        fh.write(render_html(data))
    with open(os.path.join(folder, "metrics.prom"), "w") as fh:
        fh.write(render_prometheus(data))
    return os.path.join(folder, "report.html")


def _table(rows: list[dict[str, Any]], columns: list[str]) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = ""
    for row in rows:
        cls = ""
        if row.get("blocking"):
            cls = ' class="bad"'
        elif row.get("success") is False:
            cls = ' class="warn"'
        cells = "".join(f"<td>{html.escape(str(row.get(c, '')))}</td>" for c in columns)
        body += f"<tr{cls}>{cells}</tr>"
    return f"<table><tr>{head}</tr>{body}</table>"


def render_html(data: dict[str, Any]) -> str:
    title = f"{data['pipeline']} {data['date']} — {data['status']}"
    style = ("body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;margin:1em 0}"
             "td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}"
             ".bad{background:#fdd}.warn{background:#ffd}")
    stages = [{**s, "salting": (s.get("salting") or {}).get("decision", ""),
               "task max/median": (s.get("skew") or {}).get("task_max_over_median", "")}
              for s in data["stages"]]
    parts = [
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<style>{style}</style></head><body><h1>{html.escape(title)}</h1>",
        f"<p>run {html.escape(data['run_id'])}, generation {data['generation']}, attempt "
        f"{data['attempt']}, {data['duration_s']} s</p>",
        "<h2>Stages</h2>",
        _table(stages, ["name", "kind", "materialized", "rows_out", "rows_dropped",
                        "duration_s", "fused_into", "salting", "task max/median"]),
        "<h2>Quality</h2>",
        _table(data["quality"], ["stage", "expectation", "severity", "success",
                                 "failing_rows", "evaluated_rows", "observed_value", "samples"]),
        "<h2>Outputs</h2>",
        _table(data["outputs"], ["sink", "table", "mode", "delta_version", "rows_written",
                                 "already_committed"]),
    ]
    if data.get("error"):
        parts.append(f"<h2>Error</h2><pre>{html.escape(json.dumps(data['error'], indent=2))}"
                     "</pre>")
    parts.append("</body></html>")
    return "\n".join(parts)


def render_prometheus(data: dict[str, Any]) -> str:
    labels = f'pipeline="{data["pipeline"]}",date="{data["date"]}"'
    lines = [
        f"pipelines_run_success{{{labels}}} {1 if data['status'] == 'succeeded' else 0}",
        f"pipelines_run_duration_seconds{{{labels}}} {data['duration_s']}",
        f"pipelines_run_exit_code{{{labels}}} {data['exit_code']}",
    ]
    for out in data["outputs"]:
        if out.get("rows_written") is not None:
            lines.append(f'pipelines_rows_written{{{labels},sink="{out["sink"]}"}} '
                         f'{out["rows_written"]}')
    failed = sum(1 for q in data["quality"] if not q["success"])
    lines.append(f"pipelines_quality_failures{{{labels}}} {failed}")
    return "\n".join(lines) + "\n"

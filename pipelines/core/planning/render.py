"""Rendering a plan as text (the ``plan`` command) and as an SVG picture (notebooks)."""

from __future__ import annotations

import html

from pipelines.core.config.settings import SaltSettings
from pipelines.core.delta.modes import MODES
from pipelines.core.delta.tables import table_path
from pipelines.core.planning.plan import Plan
from pipelines.core.planning.salting_notes import salting_note
from pipelines.core.records.code_fingerprint import CodeFingerprint

__all__ = ["render_plan", "plan_svg", "code_text", "KIND_COLOURS"]

# the DAG picture's fill per node kind: every stage kind of ``Stage``, sources and sinks
KIND_COLOURS = {
    "source": "#dbeafe", "sink": "#bbf7d0",
    "map": "#f3f4f6", "reduce": "#fde68a", "join": "#fbcfe8",
    "filter": "#e0e7ff", "select": "#e0f2fe", "withcolumns": "#ecfccb", "top": "#fef3c7",
    "latest": "#fae8ff", "union": "#ccfbf1", "sql": "#fee2e2",
}


def render_plan(plan: Plan, warehouse: str, salting: SaltSettings | None = None, *,
                reuse: dict[str, str] | None = None) -> str:
    """The plan as text; ``reuse`` says per stage whether a run now would compute it or read
    an earlier generation's staged result."""
    lines = [f"pipeline {plan.name} for {plan.date}"]
    if plan.selected:
        lines.append(f"selected: {', '.join(plan.selected)} ({len(plan.order)} of "
                     f"{plan.whole[0]} stages, {len(plan.sinks)} of {plan.whole[1]} sinks)")
    lines += ["", "sources:"]
    for s in plan.sources.values():
        where = f" where {s.where}" if s.where else ""
        what = s.table if s.format == "delta" else s.path
        lines.append(f"  {s.name:<20} {s.format:<8} {what}{where}")
    lines += ["", "stages (in order):"]
    for name in plan.order:
        stage = plan.stage(name)
        inputs = " + ".join(stage.inputs)
        lines.append(f"  {name:<20} <- {inputs}")
        lines.append(f"  {'':<20}    {stage.describe()}")
        if reuse and name in reuse:
            lines.append(f"  {'':<20}    run now: {reuse[name]}")
        note = salting_note(stage, salting)
        if note:
            lines.append(f"  {'':<20}    {note}")
        schema = plan.schemas.get(name)
        if schema is not None:
            cols = ", ".join(f"{f.name}:{f.dataType.simpleString()}" for f in schema.fields)
            lines.append(f"  {'':<20}    columns: {cols}")
        for check in stage.checks:
            lines.append(f"  {'':<20}    check {check.name} [{check.severity}]")
    lines += ["", "writes:"]
    for f in plan.footprint:
        path = table_path(warehouse, f.table)
        detail = MODES[f.mode].describe(predicate=f.predicate, keys=f.keys)
        lines.append(f"  {f.sink:<20} -> {path}")
        lines.append(f"  {'':<20}    {f.mode}: {detail}")
    return "\n".join(lines)


def plan_svg(plan: Plan) -> str:
    """A left-to-right layered drawing of the DAG (sources, stages, sinks) as SVG."""
    nodes: dict[str, tuple[str, int]] = {}
    for s in plan.sources:
        nodes[s] = ("source", 0)
    for name in plan.order:
        depth = 1 + max(nodes[i][1] for i in plan.stage(name).inputs)
        nodes[name] = (plan.stage(name).kind, depth)
    for sink in plan.sinks.values():
        nodes[sink.name] = ("sink", nodes[sink.input][1] + 1)
    columns: dict[int, list[str]] = {}
    for name, (_, depth) in nodes.items():
        columns.setdefault(depth, []).append(name)
    w, h, gx, gy = 150, 36, 60, 24
    pos = {}
    for depth, names in columns.items():
        for i, name in enumerate(names):
            pos[name] = (20 + depth * (w + gx), 20 + i * (h + gy))
    width = 40 + (max(columns) + 1) * (w + gx)
    height = 40 + max(len(v) for v in columns.values()) * (h + gy)
    colors = KIND_COLOURS
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             'font-family="sans-serif" font-size="12">',
             '<defs><marker id="a" markerWidth="8" markerHeight="8" refX="8" refY="4" '
             'orient="auto"><path d="M0,0 L8,4 L0,8 z" fill="#555"/></marker></defs>']
    for src, dst in plan.edges():
        (x1, y1), (x2, y2) = pos[src], pos[dst]
        parts.append(f'<line x1="{x1 + w}" y1="{y1 + h / 2}" x2="{x2}" y2="{y2 + h / 2}" '
                     'stroke="#555" marker-end="url(#a)"/>')
    for name, (kind, _) in nodes.items():
        x, y = pos[name]
        parts.append(f'<rect x="{x}" y="{y}" width="{w}" height="{h}" rx="6" '
                     f'fill="{colors[kind]}" stroke="#333"/>')
        parts.append(f'<text x="{x + 8}" y="{y + 15}">{html.escape(name)}</text>')
        parts.append(f'<text x="{x + 8}" y="{y + 29}" fill="#555" font-size="10">{kind}</text>')
    parts.append("</svg>")
    return "\n".join(parts)


def code_text(code: CodeFingerprint) -> str:
    """What the skip and reuse of a pipeline's runs take its code to be, in one line."""
    if code.undetermined:
        return (f"code: not determined ({'; '.join(code.undetermined)}): every run computes, "
                "nothing is skipped or reused")
    packages = f"; packages {', '.join(code.packages)}" if code.packages else ""
    return f"code: {len(code.modules)} modules ({', '.join(code.modules)}){packages}"

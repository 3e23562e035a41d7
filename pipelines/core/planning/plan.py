"""From a pipeline definition to a validated plan, before any Spark job runs.

``make_plan`` checks the definition as plain data (names, inputs, cycles, modes, parameters,
function signatures) and renders every template for the run's parameters. ``check_schemas``
then pushes empty DataFrames with the declared schemas through the very stage code the run
uses, so a missing column or a type error is reported with its stage before any data is read.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pipelines.core.config.settings import SaltSettings
from pipelines.core.declare.expectations import SEVERITIES, Expectation
from pipelines.core.declare.spec import (
    SOURCE_FORMATS,
    Pipeline,
    Sink,
    Source,
    Stage,
)
from pipelines.core.delta.modes import MODES, mode_of
from pipelines.core.errors import DefinitionError, UsageError
from pipelines.core.planning.declared_options import (
    check_expectation_options,
    check_sink_options,
    check_source_options,
)
from pipelines.core.planning.salting_notes import salting_note
from pipelines.core.planning.stage_checks import check_stage
from pipelines.core.quality.gate import MAX_DROP_CHECKS

__all__ = ["Plan", "SinkFootprint", "make_plan", "parse_date", "render"]

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True)
class SinkFootprint:
    sink: str
    table: str
    mode: str
    predicate: str
    keys: tuple[str, ...]
    partition_by: tuple[str, ...]


@dataclass(frozen=True)
class Plan:
    pipeline: Pipeline
    params: dict[str, str]
    order: tuple[str, ...]  # stages in topological order
    sources: dict[str, Source]  # rendered (templates filled)
    sinks: dict[str, Sink]  # rendered
    consumers: dict[str, tuple[str, ...]]
    footprint: tuple[SinkFootprint, ...]
    schemas: dict[str, Any] = field(default_factory=dict)
    # ``--select``: the selectors, and the whole pipeline's stage and sink counts
    selected: tuple[str, ...] = ()
    whole: tuple[int, int] = (0, 0)
    declared: Pipeline | None = None  # the whole pipeline a selection was taken from

    @property
    def declared_pipeline(self) -> Pipeline:
        """The pipeline as declared, whole: what its code fingerprint covers."""
        return self.declared or self.pipeline

    @property
    def name(self) -> str:
        return self.pipeline.name

    @property
    def date(self) -> str:
        return self.params["date"]

    def stage(self, name: str) -> Stage:
        """The declared stage ``name`` (a source or sink name raises ``KeyError``)."""
        node = self.pipeline.node(name)
        if isinstance(node, (Source, Sink)):
            raise KeyError(name)
        return node

    @property
    def selected_sinks(self) -> tuple[str, ...] | None:
        """The sinks a ``--select`` run publishes (None: the whole pipeline runs)."""
        return tuple(sorted(self.sinks)) if self.selected else None

    def gate_checks(self, name: str) -> list[Expectation]:
        """The checks of one stage's quality gate: its own and those of the sinks it feeds."""
        return gate_checks(self.pipeline, name)

    def merge_keys(self, name: str) -> list[tuple[str, ...]]:
        """The key sets of the merge sinks fed by stage ``name``."""
        return [tuple(s.keys) for s in self.sinks.values()
                if s.input == name and mode_of(s).needs_keys]

    def feeds_sink(self, name: str) -> bool:
        return any(s.input == name for s in self.sinks.values())

    def edges(self) -> list[tuple[str, str]]:
        out = []
        for node in (*self.pipeline.stages, *self.pipeline.sinks):
            for src in node.inputs:
                out.append((src, node.name))
        return out

    def to_dict(self, salting: SaltSettings | None = None) -> dict[str, Any]:
        """The plan as JSON-ready data; ``salting`` (the run's settings) words each stage's
        salting note as the text plan does."""
        return {
            "pipeline": self.name,
            "params": self.params,
            "selected": list(self.selected) or None,
            "sources": [
                {"name": s.name, "format": s.format, "table": s.table, "path": s.path,
                 "where": s.where}
                for s in self.sources.values()
            ],
            "stages": [
                {"name": n, "kind": self.stage(n).kind,
                 "inputs": list(self.stage(n).inputs),
                 "columns": _columns(self.schemas.get(n)),
                 "salting": salting_note(self.stage(n), salting),
                 "checks": [{"name": c.name, "severity": c.severity}
                            for c in self.stage(n).checks]}
                for n in self.order
            ],
            "sinks": [
                {"name": f.sink, "table": f.table, "mode": f.mode, "predicate": f.predicate,
                 "keys": list(f.keys), "partition_by": list(f.partition_by)}
                for f in self.footprint
            ],
        }


def _columns(schema: Any) -> list[str] | None:
    if schema is None:
        return None
    return [f"{f.name}:{f.dataType.simpleString()}" for f in schema.fields]


def gate_checks(pipeline: Pipeline, name: str) -> list[Expectation]:
    """One quality gate per stage: the stage's checks and those of the sinks reading it."""
    stage = pipeline.node(name)
    return [*stage.checks, *(c for s in pipeline.sinks if s.input == name for c in s.checks)]


def parse_date(value: str) -> str:
    """A calendar date written YYYY-MM-DD, and only so (Python also reads ``20261126`` and
    ``2026-W48-4``, which a cron line should never pass for a date)."""
    try:
        if not _DATE.fullmatch(str(value)):
            raise ValueError(value)
        return dt.date.fromisoformat(value).isoformat()
    except (TypeError, ValueError):
        raise UsageError(f"invalid date '{value}': expected YYYY-MM-DD", key="date") from None


def render(template: str, params: Mapping[str, str], *, pipeline: str, where: str) -> str:
    fields = {f for _, f, _, _ in string.Formatter().parse(template) if f}
    missing = sorted(f for f in fields if f not in params)
    if missing:
        raise DefinitionError(
            f"unknown placeholder {{{missing[0]}}} (known: {', '.join(sorted(params))})",
            pipeline=pipeline, stage=where, key=missing[0],
        )
    return template.format(**params)


def make_plan(pipeline: Pipeline, date: str, params: Mapping[str, str] | None = None, *,
              select: Sequence[str] = ()) -> Plan:
    """Validate ``pipeline`` as plain data and render it for one logical ``date``; with
    ``select``, the plan of the part of it the selectors need (the whole is validated)."""
    plan = _make_plan(pipeline, date, params)
    if not select:
        return plan
    from pipelines.core.planning.selection import select as select_part

    part = _make_plan(select_part(pipeline, select), date, params)
    return _replace(part, selected=tuple(select),
                    whole=(len(pipeline.stages), len(pipeline.sinks)), declared=pipeline)


def _make_plan(pipeline: Pipeline, date: str, params: Mapping[str, str] | None) -> Plan:
    name = pipeline.name
    run_params = _run_params(pipeline, date, params or {})
    _check_names(pipeline)
    stages = {s.name: s for s in pipeline.stages}
    known = {s.name for s in pipeline.sources} | set(stages)
    for node in (*pipeline.stages, *pipeline.sinks):
        for ref in node.inputs:
            if ref not in known:
                close = difflib.get_close_matches(ref, sorted(known), n=1)
                hint = f" (did you mean '{close[0]}'?)" if close else ""
                raise DefinitionError(f"unknown input '{ref}'{hint}", pipeline=name,
                                      stage=node.name, key=ref)
    order = _topological(pipeline, stages)
    if pipeline.objectives is not None:
        for key, expected in pipeline.objectives.problems():
            raise DefinitionError(f"objective '{key}' must be {expected}", pipeline=name,
                                  key=key)
    for source in pipeline.sources:
        _check_source(name, source)
    for stage in pipeline.stages:
        check_stage(name, stage, run_params)
    for sink in pipeline.sinks:
        _check_sink(name, sink)
    for declared in (*pipeline.sources, *pipeline.stages, *pipeline.sinks):
        _check_expectations(name, declared.name, declared.checks)
    for stage in pipeline.stages:  # one quality gate: the stage's checks and its sinks'
        gate = gate_checks(pipeline, stage.name)
        if sum(1 for c in gate if c.severity == "drop") > MAX_DROP_CHECKS:
            raise DefinitionError(f"at most {MAX_DROP_CHECKS} checks may drop rows",
                                  pipeline=name, stage=stage.name)

    rendered_sources = {
        s.name: _replace(s, path=render(s.path, run_params, pipeline=name, where=s.name),
                         where=render(s.where, run_params, pipeline=name, where=s.name),
                         table=render(s.table, run_params, pipeline=name, where=s.name))
        for s in pipeline.sources
    }
    rendered_sinks = {
        s.name: _replace(s, replace_where=render(s.replace_where, run_params, pipeline=name,
                                                 where=s.name))
        for s in pipeline.sinks
    }
    consumers: dict[str, list[str]] = {}
    for node in (*pipeline.stages, *pipeline.sinks):
        for ref in node.inputs:
            consumers.setdefault(ref, []).append(node.name)
    footprint = tuple(
        SinkFootprint(s.name, s.table, s.mode,
                      s.replace_where if mode_of(s).needs_replace_where else "",
                      tuple(s.keys), tuple(s.partition_by))
        for s in rendered_sinks.values()
    )
    return Plan(pipeline, run_params, order, rendered_sources, rendered_sinks,
                {k: tuple(v) for k, v in consumers.items()}, footprint)


def _replace(obj: Any, **changes: Any) -> Any:
    import dataclasses

    return dataclasses.replace(obj, **changes)


def _run_params(pipeline: Pipeline, date: str, params: Mapping[str, str]) -> dict[str, str]:
    out = {"date": parse_date(date)}
    out["date_nodash"] = out["date"].replace("-", "")
    for key, _value in params.items():
        if key not in pipeline.params:
            close = difflib.get_close_matches(key, list(pipeline.params), n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            known = ", ".join(sorted(pipeline.params)) or "none"
            raise UsageError(f"unknown parameter '{key}'{hint}; this pipeline takes: {known}",
                             pipeline=pipeline.name, key=key)
    for key, default in pipeline.params.items():
        out[key] = str(params.get(key, default))
    return out


def _check_names(pipeline: Pipeline) -> None:
    seen: dict[str, str] = {}
    for kind, nodes in (("source", pipeline.sources), ("stage", pipeline.stages),
                        ("sink", pipeline.sinks)):
        for node in nodes:
            if not isinstance(node.name, str) or not _NAME.match(node.name):
                raise DefinitionError(f"invalid {kind} name {node.name!r}: use letters, digits, _",
                                      pipeline=pipeline.name, stage=str(node.name))
            if node.name in seen:
                raise DefinitionError(
                    f"duplicate name '{node.name}' (a {seen[node.name]} and a {kind})",
                    pipeline=pipeline.name, stage=node.name,
                )
            seen[node.name] = kind
    if not pipeline.sinks:
        raise DefinitionError("a pipeline needs at least one sink", pipeline=pipeline.name)
    tables = [s.table for s in pipeline.sinks]
    for table in tables:
        if tables.count(table) > 1:
            raise DefinitionError(f"two sinks write table '{table}'", pipeline=pipeline.name,
                                  key=table)


def _topological(pipeline: Pipeline, stages: dict[str, Any]) -> tuple[str, ...]:
    order: list[str] = []
    state: dict[str, int] = {}

    def visit(name: str, path: list[str]) -> None:
        if name not in stages or state.get(name) == 2:
            return
        if state.get(name) == 1:
            cycle = path[path.index(name):] + [name]
            raise DefinitionError(f"cycle: {' -> '.join(cycle)}", pipeline=pipeline.name,
                                  stage=name)
        state[name] = 1
        for ref in stages[name].inputs:
            visit(ref, path + [name])
        state[name] = 2
        order.append(name)

    for stage in pipeline.stages:
        visit(stage.name, [])
    return tuple(order)


def _check_source(pipeline: str, source: Source) -> None:
    if source.format not in SOURCE_FORMATS:
        raise DefinitionError(f"unknown format '{source.format}' (use one of "
                              f"{', '.join(SOURCE_FORMATS)})", pipeline=pipeline,
                              source=source.name)
    if source.format == "delta" and not source.table:
        raise DefinitionError("a delta source needs 'table'", pipeline=pipeline,
                              source=source.name)
    if source.format != "delta" and not source.path:
        raise DefinitionError(f"a {source.format} source needs 'path'", pipeline=pipeline,
                              source=source.name)
    if source.schema is None:
        raise DefinitionError("a source needs a declared schema (see schemas/)",
                              pipeline=pipeline, source=source.name)
    check_source_options(pipeline, source)


def _check_sink(pipeline: str, sink: Sink) -> None:
    where = {"pipeline": pipeline, "sink": sink.name}
    if sink.mode not in MODES:
        raise DefinitionError(f"unknown sink mode '{sink.mode}' (use one of "
                              f"{', '.join(MODES)})", **where, key="mode")
    mode = MODES[sink.mode]
    if mode.needs_replace_where and not (sink.partition_by and sink.replace_where):
        raise DefinitionError(f"{mode.name} needs 'partition_by' and 'replace_where'",
                              **where)
    if sink.replace_schema is not False and not (sink.replace_schema is True
                                                  and mode.replaces_table):
        replacing = " or ".join(f"'{m.name}'" for m in MODES.values() if m.replaces_table)
        raise DefinitionError(f"replace_schema=True is for mode {replacing} only (a table "
                              "whose rows stay must be migrated first)", **where,
                              key="replace_schema")
    if mode.needs_keys and not sink.keys:
        raise DefinitionError(f"{sink.mode} needs 'keys'", **where, key="keys")
    if not (sink.salt_partitions == "auto" or sink.salt_partitions == "off"
            or (isinstance(sink.salt_partitions, int) and sink.salt_partitions >= 1)):
        raise DefinitionError("salt_partitions must be 'auto', 'off' or a count >= 1", **where)
    if sink.stats_columns is not None and not (sink.stats_columns and all(
            isinstance(c, str) and c and "," not in c for c in sink.stats_columns)):
        raise DefinitionError("stats_columns must name at least one column", **where,
                              key="stats_columns")
    partitioned = [c for c in sink.stats_columns or () if c in sink.partition_by]
    if partitioned:
        raise DefinitionError(f"stats_columns names the partition column '{partitioned[0]}' "
                              "(Delta skips partitions by their values, with no statistics)",
                              **where, key="stats_columns", column=partitioned[0])
    check_sink_options(pipeline, sink)


def _check_expectations(pipeline: str, node: str, checks: Any) -> None:
    for check in checks:
        if not isinstance(check, Expectation):
            raise DefinitionError(f"checks must be expectations, got {type(check).__name__}",
                                  pipeline=pipeline, stage=node)
        if check.severity not in SEVERITIES:
            raise DefinitionError(f"unknown severity '{check.severity}' in {check.name} (use "
                                  f"{', '.join(SEVERITIES)})", pipeline=pipeline, stage=node)
        if check.severity == "drop" and not check.row_level:
            raise DefinitionError(f"{check.name}: only row-level expectations can drop rows",
                                  pipeline=pipeline, stage=node)
        check_expectation_options(pipeline, node, check)

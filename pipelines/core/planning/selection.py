"""Running part of a pipeline: ``--select`` a stage or sink, with what it needs.

``NAME`` selects a sink, or a stage and the sinks it feeds directly; ``NAME+`` adds every
stage and sink downstream of it (``+NAME`` is the same as ``NAME``: what a node needs is
always included). The selected pipeline keeps the sinks selected and exactly the stages and
sources they (and the selected stages) need, so a run computes nothing else.
"""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Sequence

from pipelines.core.declare.spec import Pipeline
from pipelines.core.errors import UsageError

__all__ = ["select", "parse_selectors"]


def parse_selectors(values: Sequence[str]) -> tuple[str, ...]:
    """``--select`` values (repeated or comma-separated) as a tuple, in order; a value that
    names nothing (``--select ,``) is refused rather than taken as the whole pipeline."""
    found = tuple(dict.fromkeys(part.strip() for v in values for part in v.split(",")
                                if part.strip()))
    if values and not found:
        raise UsageError(f"--select {' '.join(values)!r} names no stage or sink",
                         key="select")
    return found


def select(pipeline: Pipeline, selectors: Sequence[str]) -> Pipeline:
    """``pipeline`` reduced to what ``selectors`` need (unchanged when there are none)."""
    if not selectors:
        return pipeline
    stages = {s.name: s for s in pipeline.stages}
    sinks = {s.name: s for s in pipeline.sinks}
    downstream: dict[str, list[str]] = {}
    for node in (*pipeline.stages, *pipeline.sinks):
        for ref in node.inputs:
            downstream.setdefault(ref, []).append(node.name)
    chosen_stages: set[str] = set()
    chosen_sinks: set[str] = set()
    for selector in selectors:
        name = selector.strip("+")
        if name not in stages and name not in sinks:
            known = sorted((*stages, *sinks))
            close = difflib.get_close_matches(name, known, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise UsageError(f"--select {selector}: no stage or sink '{name}' in "
                             f"{pipeline.name}{hint}", pipeline=pipeline.name, key=selector)
        reached = _closure(name, downstream) if selector.endswith("+") else {name}
        for picked in reached:
            if picked in sinks:
                chosen_sinks.add(picked)
            else:
                chosen_stages.add(picked)
                chosen_sinks.update(n for n in downstream.get(picked, []) if n in sinks)
    if not chosen_sinks:
        raise UsageError(f"--select {','.join(selectors)} selects no sink: a stage selects the "
                         "sinks it feeds directly; add '+' for everything downstream",
                         pipeline=pipeline.name, key=",".join(selectors))
    needed: set[str] = set()
    todo = [*chosen_stages, *(sinks[s].input for s in chosen_sinks)]
    while todo:
        name = todo.pop()
        if name not in needed:
            needed.add(name)
            todo.extend(stages[name].inputs if name in stages else ())
    return dataclasses.replace(
        pipeline,
        sources=[s for s in pipeline.sources if s.name in needed],
        stages=[s for s in pipeline.stages if s.name in needed],
        sinks=[s for s in pipeline.sinks if s.name in chosen_sinks])


def _closure(name: str, downstream: dict[str, list[str]]) -> set[str]:
    seen = {name}
    todo = [name]
    while todo:
        for node in downstream.get(todo.pop(), []):
            if node not in seen:
                seen.add(node)
                todo.append(node)
    return seen

"""Checking each declared stage as plain data: its kind's required fields and parameters,
and the placeholders of its SQL text, before any Spark job runs."""

from __future__ import annotations

import difflib
import inspect
import string
from collections.abc import Mapping
from typing import Any

from pipelines.core.declare.relational import (
    Filter,
    Latest,
    Select,
    Sql,
    Top,
    Union,
    WithColumns,
)
from pipelines.core.declare.stages import JOIN_TYPES, Join, Map, Reduce
from pipelines.core.errors import DefinitionError
from pipelines.core.planning.declared_options import check_stage_options

__all__ = ["check_stage"]


def _salt_ok(value: Any) -> bool:
    return value in ("auto", "off") or (isinstance(value, int) and not isinstance(value, bool)
                                        and value >= 1)


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def _check_template(text: str, known: set[str], where: dict[str, Any], field: str) -> None:
    try:
        unknown = sorted(_placeholders(text) - known)
    except ValueError as exc:  # an unmatched brace
        raise DefinitionError(f"'{field}': {exc} (write a literal brace as {{{{ or }}}})",
                              **where, key=field) from None
    if unknown:
        close = difflib.get_close_matches(unknown[0], sorted(known), n=1)
        hint = f"did you mean {{{close[0]}}}? " if close else ""
        raise DefinitionError(f"unknown placeholder {{{unknown[0]}}} in '{field}' ({hint}known: "
                              f"{', '.join(sorted(known))})", **where, key=unknown[0])


def check_stage(pipeline: str, stage: Any, params: Mapping[str, str]) -> None:
    """Refuse a stage whose declaration is incomplete or inconsistent, naming the field."""
    where = {"pipeline": pipeline, "stage": stage.name}
    checker = _CHECKERS.get(type(stage))
    if checker is None:
        raise DefinitionError(f"unknown stage type {type(stage).__name__}", **where)
    known = set(params) | (set(stage.inputs) if isinstance(stage, Sql) else set())
    for field, text in stage.templates():
        if isinstance(text, str):
            _check_template(text, known, where, field)
    checker(stage, where)
    check_stage_options(pipeline, stage)


def _map(stage: Map, where: dict[str, Any]) -> None:
    if not callable(stage.fn):
        raise DefinitionError("'fn' is not callable", **where, key="fn")
    try:
        inspect.signature(stage.fn).bind(None, **stage.args)
    except TypeError as exc:
        raise DefinitionError(f"'fn' {getattr(stage.fn, '__name__', stage.fn)} does not "
                              f"accept (df, **args): {exc}", **where, key="fn") from None


def _reduce(stage: Reduce, where: dict[str, Any]) -> None:
    if not stage.aggs:
        raise DefinitionError("a reduce needs at least one aggregation", **where, key="aggs")
    if not _salt_ok(stage.salt):
        raise DefinitionError(f"salt must be 'auto', 'off' or a count >= 1, got "
                              f"{stage.salt!r}", **where, key="salt")
    aliases = [a.alias for a in stage.aggs] + list(stage.keys)
    for alias in aliases:
        if aliases.count(alias) > 1:
            raise DefinitionError(f"output column '{alias}' appears twice", **where,
                                  column=alias)
    if stage.hot_keys and not stage.keys:
        raise DefinitionError("'hot_keys' need 'keys': a reduce without keys has one group",
                              **where, key="hot_keys")
    for hot in stage.hot_keys:
        if len(hot) != len(stage.keys):
            raise DefinitionError(f"hot key {hot!r} must have one value per key column "
                                  f"{stage.keys}", **where, key="hot_keys")


def _join(stage: Join, where: dict[str, Any]) -> None:
    if stage.on and (stage.left_on or stage.right_on):
        raise DefinitionError("a join takes 'on' or 'left_on'/'right_on', not both", **where,
                              key="left_on")
    if len(stage.left_on) != len(stage.right_on):
        raise DefinitionError(f"'left_on' has {len(stage.left_on)} columns and 'right_on' "
                              f"{len(stage.right_on)}: they pair up", **where, key="right_on")
    if not (stage.on or stage.left_on or stage.condition):
        raise DefinitionError("a join needs 'on' columns, 'left_on'/'right_on' pairs or a "
                              "'condition'", **where, key="on")
    if stage.condition_only and stage.how in ("right", "full"):
        raise DefinitionError(f"a {stage.how} join on a condition alone is not supported: "
                              "Spark broadcasts the right side of a nested-loop join; swap "
                              "the sides and use a left join", **where, key="how")
    if stage.condition_only and stage.broadcast == "none":
        raise DefinitionError("broadcast='none' on a join with a condition alone would pair "
                              "every row with every row in a shuffle; add keys or let it "
                              "broadcast", **where, key="broadcast")
    if stage.how not in JOIN_TYPES:
        raise DefinitionError(f"unknown join type '{stage.how}' (use one of "
                              f"{', '.join(JOIN_TYPES)})", **where, key="how")
    if not _salt_ok(stage.salt):
        raise DefinitionError(f"salt must be 'auto', 'off' or a count >= 1, got "
                              f"{stage.salt!r}", **where, key="salt")
    if stage.broadcast not in ("auto", "right", "none"):
        raise DefinitionError(f"broadcast must be 'auto', 'right' or 'none', got "
                              f"{stage.broadcast!r}", **where, key="broadcast")


def _filter(stage: Filter, where: dict[str, Any]) -> None:
    if not isinstance(stage.where, str) or not stage.where.strip():
        raise DefinitionError("a filter needs a 'where' condition", **where, key="where")


def _select(stage: Select, where: dict[str, Any]) -> None:
    if not stage.columns:
        raise DefinitionError("a select needs 'columns'", **where, key="columns")


def _with_columns(stage: WithColumns, where: dict[str, Any]) -> None:
    if not (stage.columns or stage.rename or stage.drop):
        raise DefinitionError("declares no 'columns', 'rename' or 'drop'", **where,
                              key="columns")


def _top(stage: Top, where: dict[str, Any]) -> None:
    if not isinstance(stage.n, int) or isinstance(stage.n, bool) or stage.n < 1:
        raise DefinitionError(f"'n' must be a count >= 1, got {stage.n!r}", **where, key="n")
    if not stage.by:
        raise DefinitionError("a top needs 'by', the order that decides which rows come first",
                              **where, key="by")


def _latest(stage: Latest, where: dict[str, Any]) -> None:
    if not stage.keys:
        raise DefinitionError("latest needs 'keys'", **where, key="keys")
    if not stage.by:
        raise DefinitionError("latest needs 'by', the column that orders rows in time",
                              **where, key="by")


def _union(stage: Union, where: dict[str, Any]) -> None:
    if len(stage.inputs) < 2:
        raise DefinitionError("a union needs at least two inputs", **where, key="inputs")


def _sql(stage: Sql, where: dict[str, Any]) -> None:
    if not stage.inputs:
        raise DefinitionError("a SQL stage needs 'inputs'", **where, key="inputs")
    named = _placeholders(stage.query)
    unused = [i for i in stage.inputs if i not in named]
    if unused:
        raise DefinitionError(f"input '{unused[0]}' is not named in the query as "
                              f"{{{unused[0]}}}", **where, key=unused[0])


_CHECKERS: dict[type, Any] = {Map: _map, Reduce: _reduce, Join: _join, Filter: _filter,
                              Select: _select, WithColumns: _with_columns, Top: _top,
                              Latest: _latest, Union: _union, Sql: _sql}

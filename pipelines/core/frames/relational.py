"""Building the relational stages (and joins on keys named differently) from their inputs."""

from __future__ import annotations

import difflib
import re
import string
from collections.abc import Mapping
from functools import reduce
from typing import Any

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F
from pyspark.sql.types import MapType

from pipelines.core.declare.relational import (
    Filter,
    Latest,
    Select,
    Sql,
    Top,
    Union,
    WithColumns,
)
from pipelines.core.declare.stages import Join
from pipelines.core.errors import DefinitionError

__all__ = ["RELATIONAL", "build_relational", "join_on_expressions", "order_column",
           "render_params"]

RELATIONAL = (Filter, Select, WithColumns, Top, Latest, Union, Sql)
_ROW = "__row"
_ORDER = re.compile(r"^(?P<expr>.+?)(?:\s+(?P<dir>asc|desc))?"
                    r"(?:\s+nulls\s+(?P<nulls>first|last))?$", re.IGNORECASE | re.DOTALL)


def render_params(text: str, params: Mapping[str, str], *, keep: tuple[str, ...] = ()) -> str:
    """``text`` with ``{param}`` placeholders filled; those named in ``keep`` stay as they are."""
    out = []
    for literal, name, spec, _conversion in string.Formatter().parse(text):
        # kept placeholders go on to another formatter, which needs literal braces doubled
        out.append(literal.replace("{", "{{").replace("}", "}}") if keep else literal)
        if name is None:
            continue
        out.append("{" + name + "}" if name in keep else format(params[name], spec or ""))
    return "".join(out)


def order_column(text: str) -> Column:
    """A sort order written as SQL: ``"revenue DESC"``, ``"name"``, ``"x ASC NULLS LAST"``."""
    match = _ORDER.match(text.strip())
    expr = F.expr(match.group("expr") if match else text)
    desc = bool(match and (match.group("dir") or "").lower() == "desc")
    nulls = (match.group("nulls") or "").lower() if match else ""
    if desc:
        return expr.desc_nulls_first() if nulls == "first" else expr.desc_nulls_last()
    return expr.asc_nulls_last() if nulls == "last" else expr.asc_nulls_first()


def _tie_breakers(df: DataFrame, used: set[str]) -> list[Column]:
    """The remaining orderable columns, ascending: a deterministic order for ties."""
    return [F.col(f"`{f.name}`").asc_nulls_first() for f in df.schema.fields
            if f.name not in used and not isinstance(f.dataType, MapType)]


def _top(df: DataFrame, n: int, by: tuple[str, ...], per: tuple[str, ...]) -> DataFrame:
    order = [order_column(b) for b in by]
    order += _tie_breakers(df, set(per) | set(by))
    if not per:
        return df.orderBy(*order).limit(n)
    ranked = df.withColumn(_ROW, F.row_number().over(Window.partitionBy(*per).orderBy(*order)))
    return ranked.where(F.col(_ROW) <= n).drop(_ROW)


def _same_columns(stage: str, columns: dict[str, list[str]]) -> None:
    """Refuse a union whose inputs have different columns, naming the input that lacks one."""
    every = {c for names in columns.values() for c in names}
    for name, names in columns.items():
        missing = sorted(every - set(names))
        if missing:
            holder = next(i for i, cs in columns.items() if missing[0] in cs)
            raise DefinitionError(
                f"input {name} of union {stage} lacks column '{missing[0]}' that {holder} has; "
                "declare allow_missing=True to fill it with nulls", stage=stage,
                column=missing[0], key=name)


def _require_columns(df: DataFrame, stage: str, option: str, names: list[str]) -> None:
    """Refuse a column an option names that the input lacks (Spark would ignore it)."""
    missing = [n for n in names if n not in df.columns]
    if missing:
        close = difflib.get_close_matches(missing[0], df.columns, n=3)
        hint = f"; closest: {', '.join(close)}" if close else ""
        raise DefinitionError(f"{option} names column '{missing[0]}', which the input of "
                              f"stage {stage} does not have{hint}", stage=stage,
                              column=missing[0], key=option)


def join_on_expressions(stage: Join, left: DataFrame, right: DataFrame, *,
                        broadcast: bool, params: Mapping[str, str]) -> DataFrame:
    """A join on ``left_on``/``right_on`` pairs (or ``on``) and an optional SQL ``condition``
    over ``l.`` and ``r.``; the right side's key columns are dropped, as ``on`` would.
    ``broadcast``: the right side; a join on a condition alone broadcasts the left otherwise
    (the salting decision refuses one with neither side small)."""
    left_keys, right_keys = stage.keys
    small_left = stage.condition_only and not broadcast
    lhs = (F.broadcast(left) if small_left else left).alias("l")
    rhs = (F.broadcast(right) if broadcast else right).alias("r")
    conditions = [F.col(f"l.`{a}`") == F.col(f"r.`{b}`")
                  for a, b in zip(left_keys, right_keys, strict=True)]
    if stage.condition:
        conditions.append(F.expr(render_params(stage.condition, params)))
    joined = lhs.join(rhs, reduce(lambda a, b: a & b, conditions), stage.how)
    if stage.how in ("left_semi", "left_anti"):
        return joined
    kept = [F.col(f"r.`{c}`") for c in right.columns if c not in right_keys]
    return joined.select(*[F.col(f"l.`{c}`") for c in left.columns], *kept)


def build_relational(stage: Any, inputs: Mapping[str, DataFrame],
                     params: Mapping[str, str]) -> DataFrame:
    """The DataFrame of a relational stage (Spark analyses it at once: a bad expression or an
    unknown column raises here, as the plan's check on empty frames relies on)."""
    if isinstance(stage, Union):
        frames = [inputs[i] for i in stage.inputs]
        if not stage.allow_missing:
            _same_columns(stage.name, {i: inputs[i].columns for i in stage.inputs})
        return reduce(lambda a, b: a.unionByName(b, allowMissingColumns=stage.allow_missing),
                      frames)
    if isinstance(stage, Sql):
        spark = inputs[stage.inputs[0]].sparkSession
        query = render_params(stage.query, params, keep=tuple(stage.inputs))
        views: dict[str, Any] = {i: inputs[i] for i in stage.inputs}
        return spark.sql(query, **views)
    df = inputs[stage.input]
    if isinstance(stage, Filter):
        return df.where(F.expr(render_params(stage.where, params)))
    if isinstance(stage, Select):
        return df.select(*[F.expr(render_params(e, params)).alias(name)
                           for name, e in stage.expressions.items()])
    if isinstance(stage, WithColumns):
        if stage.columns:
            df = df.withColumns({name: F.expr(render_params(e, params))
                                 for name, e in stage.columns.items()})
        if stage.rename:
            _require_columns(df, stage.name, "rename", list(stage.rename))
            df = df.withColumnsRenamed(dict(stage.rename))
        if stage.drop:
            _require_columns(df, stage.name, "drop", list(stage.drop))
        return df.drop(*stage.drop) if stage.drop else df
    if isinstance(stage, Top):
        return _top(df, stage.n, tuple(stage.by), tuple(stage.per))
    if isinstance(stage, Latest):
        return _top(df, 1, (f"{stage.by} DESC",), tuple(stage.keys))
    raise TypeError(f"not a relational stage: {type(stage).__name__}")

"""Turning one declared stage into a DataFrame. Used by the run and, on empty DataFrames,
by the plan, so that what is validated is exactly what runs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pyspark.errors import AnalysisException
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from pipelines.core.declare.spec import Join, Map, Reduce
from pipelines.core.errors import DefinitionError
from pipelines.core.frames.relational import RELATIONAL, build_relational, join_on_expressions
from pipelines.core.salting import HotKeys, plain_reduce, salted_join, salted_reduce

__all__ = ["apply_stage", "render_args", "analysis_error"]


def render_args(args: Mapping[str, Any], params: Mapping[str, str]) -> dict[str, Any]:
    """String arguments may use ``{date}`` and the pipeline's params."""
    return {k: v.format(**params) if isinstance(v, str) and "{" in v else v
            for k, v in args.items()}


def apply_stage(stage: Any, inputs: Mapping[str, DataFrame], params: Mapping[str, str], *,
                pipeline: str, hot: HotKeys | None = None, broadcast: bool = False,
                ) -> DataFrame:
    """Build ``stage``'s output from its inputs. ``hot`` carries the salting decision."""
    try:
        if isinstance(stage, Map):
            out = _call_map(stage, inputs, params, pipeline)
            if not isinstance(out, DataFrame):
                raise DefinitionError(
                    f"'fn' returned {type(out).__name__}, not a DataFrame",
                    pipeline=pipeline, stage=stage.name)
            return out
        if isinstance(stage, Reduce):
            df = inputs[stage.input]
            _require_columns(df, [*stage.keys, *(c for a in stage.aggs for c in a.input_columns)],
                             pipeline, stage.name)
            if hot:
                return salted_reduce(df, stage.keys, stage.aggs, hot)
            return plain_reduce(df, stage.keys, stage.aggs)
        if isinstance(stage, Join):
            return _join(stage, inputs, params, pipeline=pipeline, hot=hot, broadcast=broadcast)
        if isinstance(stage, RELATIONAL):
            return build_relational(stage, inputs, params)
    except AnalysisException as exc:
        raise analysis_error(exc, pipeline=pipeline, stage=stage.name) from None
    raise DefinitionError(f"unknown stage type {type(stage).__name__}", pipeline=pipeline,
                          stage=getattr(stage, "name", "?"))


def _call_map(stage: Map, inputs: Mapping[str, DataFrame], params: Mapping[str, str],
              pipeline: str) -> Any:
    """Run the user's function; an exception of its own (not Spark's analysis) is one line
    naming the stage and the function."""
    try:
        return stage.fn(inputs[stage.input], **render_args(stage.args, params))
    except (AnalysisException, DefinitionError):
        raise
    except Exception as exc:  # noqa: BLE001 - user code: any error is a definition error
        name = getattr(stage.fn, "__qualname__", repr(stage.fn))
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        raise DefinitionError(f"'fn' {name} raised {type(exc).__name__}: {first}",
                              pipeline=pipeline, stage=stage.name, key="fn") from exc


def _join(stage: Join, inputs: Mapping[str, DataFrame], params: Mapping[str, str], *,
          pipeline: str, hot: HotKeys | None, broadcast: bool) -> DataFrame:
    left, right = inputs[stage.left], inputs[stage.right]
    left_keys, right_keys = stage.keys
    _require_columns(left, left_keys, pipeline, stage.name, side="left")
    _require_columns(right, right_keys, pipeline, stage.name, side="right")
    clash = (set(left.columns) & (set(right.columns) - set(right_keys))) - set(left_keys)
    if clash and stage.how not in ("left_semi", "left_anti"):
        col = sorted(clash)[0]
        raise DefinitionError(
            f"column '{col}' is on both sides of the join; rename it (WithColumns rename=...)",
            pipeline=pipeline, stage=stage.name, column=col)
    if not stage.by_name:
        return join_on_expressions(stage, left, right, broadcast=broadcast, params=params)
    if broadcast:
        return left.join(F.broadcast(right), list(stage.on), stage.how)
    if hot:
        return salted_join(left, right, stage.on, stage.how, hot)
    return left.join(right, list(stage.on), stage.how)


def _require_columns(df: DataFrame, columns: Any, pipeline: str, stage: str,
                     side: str | None = None) -> None:
    present = set(df.columns)
    for col in columns:
        if col not in present:
            where = f" on the {side} side" if side else ""
            raise DefinitionError(
                f"column '{col}' not found{where}; available: {', '.join(df.columns)}",
                pipeline=pipeline, stage=stage, column=col)


def analysis_error(exc: AnalysisException, *, pipeline: str, stage: str | None = None,
                   source: str | None = None) -> DefinitionError:
    """A one-line DefinitionError naming the column Spark could not resolve, and the stage
    (or source) whose code or declaration referred to it."""
    params: dict[str, Any] = {}
    try:
        params = dict(exc.getMessageParameters() or {})
    except Exception:  # noqa: BLE001 - older error classes have no parameters
        params = {}
    column = params.get("objectName") or params.get("colName") or params.get("fieldName")
    if isinstance(column, str):
        column = column.strip("`").split("`.`")[-1]
    condition = ""
    try:
        condition = exc.getCondition() or ""
    except Exception:  # noqa: BLE001
        condition = ""
    # the first line that says something (a parse error's text starts with a newline)
    first_line = next((line.strip() for line in str(exc).splitlines() if line.strip()),
                      condition)
    return DefinitionError(f"Spark analysis failed: {first_line}", pipeline=pipeline,
                           stage=stage, source=source, column=column, key=condition or None)

"""One line saying what a relational stage does, for the plan's text."""

from __future__ import annotations

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

__all__ = ["describe_relational"]


def _pairs(mapping: dict[str, str]) -> str:
    return ", ".join(name if name == text else f"{name} = {text}"
                     for name, text in mapping.items())


def describe_relational(stage: Any) -> str | None:
    if isinstance(stage, Filter):
        return f"filter where {stage.where}"
    if isinstance(stage, Select):
        return f"select {_pairs(stage.expressions)}"
    if isinstance(stage, WithColumns):
        parts = [_pairs(dict(stage.columns))] if stage.columns else []
        parts += [f"rename {', '.join(f'{a} -> {b}' for a, b in stage.rename.items())}"
                  ] if stage.rename else []
        parts += [f"drop {', '.join(stage.drop)}"] if stage.drop else []
        return f"with   {'; '.join(parts)}"
    if isinstance(stage, Top):
        per = f" per {', '.join(stage.per)}" if stage.per else ""
        return f"top    {stage.n}{per} by {', '.join(stage.by)}"
    if isinstance(stage, Latest):
        return f"latest per {', '.join(stage.keys)} by {stage.by}"
    if isinstance(stage, Union):
        return "union  by name" + (" (missing columns null)" if stage.allow_missing else "")
    if isinstance(stage, Sql):
        return "sql    " + " ".join(stage.query.split())
    return None

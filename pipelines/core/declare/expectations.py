"""Compact data-quality expectations, declared next to the stages they guard.

Each helper returns a plain, frozen :class:`Expectation`. They map one-to-one onto Great
Expectations' expectation types (``ge_type``); :mod:`pipelines.core.quality.gate` evaluates them in
one pass and reports through GE's result objects.

Severities: ``warn`` records and goes on; ``drop`` removes failing rows to a quarantine table
(row-level expectations only) and fails the run when more than ``max_drop_share`` of the rows
would go; ``fail`` stops the run before anything is published.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

__all__ = [
    "Expectation",
    "SEVERITIES",
    "not_null",
    "unique",
    "unique_together",
    "in_set",
    "between",
    "regex",
    "row_count_between",
    "mean_between",
    "min_between",
    "max_between",
    "columns_exist",
    "suite_file",
]

Severity = Literal["warn", "drop", "fail"]
SEVERITIES: tuple[str, ...] = get_args(Severity)
ROW_LEVEL = ("not_null", "in_set", "between", "regex")

GE_TYPES = {
    "not_null": "expect_column_values_to_not_be_null",
    "unique": "expect_column_values_to_be_unique",
    "unique_together": "expect_compound_columns_to_be_unique",
    "in_set": "expect_column_values_to_be_in_set",
    "between": "expect_column_values_to_be_between",
    "regex": "expect_column_values_to_match_regex",
    "row_count_between": "expect_table_row_count_to_be_between",
    "mean_between": "expect_column_mean_to_be_between",
    "min_between": "expect_column_min_to_be_between",
    "max_between": "expect_column_max_to_be_between",
    "columns_exist": "expect_table_columns_to_match_set",
}


@dataclass(frozen=True)
class Expectation:
    kind: str
    severity: Severity = "fail"
    column: str | None = None
    columns: tuple[str, ...] = ()
    args: dict[str, Any] = field(default_factory=dict)
    name: str = ""
    max_drop_share: float | None = None

    def __post_init__(self) -> None:
        if not self.name:
            target = self.column or ",".join(self.columns) or "table"
            object.__setattr__(self, "name", f"{self.kind}:{target}")

    @property
    def row_level(self) -> bool:
        return self.kind in ROW_LEVEL

    @property
    def ge_type(self) -> str:
        return GE_TYPES.get(self.kind, self.kind)

    @property
    def ge_class(self) -> str:
        """The class of Great Expectations' expectation (``ExpectColumnValuesToNotBeNull``)."""
        return "".join(word.capitalize() for word in self.ge_type.split("_"))

    @property
    def ge_kwargs(self) -> dict[str, Any]:
        """The arguments of Great Expectations' expectation, in its own names."""
        kw: dict[str, Any] = {}
        if self.column:
            kw["column"] = self.column
        if self.kind == "unique_together":
            kw["column_list"] = list(self.columns)
        if self.kind == "columns_exist":
            kw["column_set"] = list(self.columns)
            kw["exact_match"] = bool(self.args.get("exact_match"))
        for key in ("min_value", "max_value", "regex", "value_set"):
            if key in self.args and self.args[key] is not None:
                kw[key] = self.args[key]
        if self.kind == "in_set":
            kw["value_set"] = list(self.args["values"])
        return kw

    @property
    def referenced_columns(self) -> tuple[str, ...]:
        return ((self.column,) if self.column else ()) + tuple(self.columns)


def _e(kind: str, severity: Severity, name: str | None, **kw: Any) -> Expectation:
    return Expectation(kind=kind, severity=severity, name=name or "", **kw)


def not_null(column: str, *, severity: Severity = "fail", name: str | None = None,
             max_drop_share: float | None = None) -> Expectation:
    return _e("not_null", severity, name, column=column, max_drop_share=max_drop_share)


def unique(column: str, *, severity: Severity = "fail", name: str | None = None) -> Expectation:
    return _e("unique", severity, name, column=column)


def unique_together(columns: Sequence[str], *, severity: Severity = "fail",
                    name: str | None = None) -> Expectation:
    return _e("unique_together", severity, name, columns=tuple(columns))


def in_set(column: str, values: Sequence[Any], *, severity: Severity = "fail",
           name: str | None = None, max_drop_share: float | None = None) -> Expectation:
    return _e("in_set", severity, name, column=column, args={"values": list(values)},
              max_drop_share=max_drop_share)


def between(column: str, min_value: Any = None, max_value: Any = None, *,
            severity: Severity = "fail", name: str | None = None,
            max_drop_share: float | None = None) -> Expectation:
    return _e("between", severity, name, column=column,
              args={"min_value": min_value, "max_value": max_value}, max_drop_share=max_drop_share)


def regex(column: str, pattern: str, *, severity: Severity = "fail", name: str | None = None,
          max_drop_share: float | None = None) -> Expectation:
    return _e("regex", severity, name, column=column, args={"regex": pattern},
              max_drop_share=max_drop_share)


def row_count_between(min_value: int | None = None, max_value: int | None = None, *,
                      severity: Severity = "fail", name: str | None = None) -> Expectation:
    return _e("row_count_between", severity, name,
              args={"min_value": min_value, "max_value": max_value})


def mean_between(column: str, min_value: float | None = None, max_value: float | None = None, *,
                 severity: Severity = "fail", name: str | None = None) -> Expectation:
    return _e("mean_between", severity, name, column=column,
              args={"min_value": min_value, "max_value": max_value})


def min_between(column: str, min_value: Any = None, max_value: Any = None, *,
                severity: Severity = "fail", name: str | None = None) -> Expectation:
    return _e("min_between", severity, name, column=column,
              args={"min_value": min_value, "max_value": max_value})


def max_between(column: str, min_value: Any = None, max_value: Any = None, *,
                severity: Severity = "fail", name: str | None = None) -> Expectation:
    return _e("max_between", severity, name, column=column,
              args={"min_value": min_value, "max_value": max_value})


def columns_exist(columns: Sequence[str], *, exact: bool = False, severity: Severity = "fail",
                  name: str | None = None) -> Expectation:
    return _e("columns_exist", severity, name, columns=tuple(columns), args={"exact_match": exact})


def suite_file(path: str, *, severity: Severity = "fail", name: str | None = None) -> Expectation:
    """A full Great Expectations suite (JSON) for anything the compact forms do not cover."""
    return _e("suite", severity, name or f"suite:{path}", args={"path": path})

"""Relational stages declared as plain data: the plan knows their columns, checks their SQL
expressions on empty frames before any job runs, and the run builds them without user code.

* :class:`Filter`: keep the rows where a SQL condition holds.
* :class:`Select`: exactly these output columns, each a name or a SQL expression.
* :class:`WithColumns`: add or replace columns from SQL expressions (window expressions with
  ``OVER (...)`` included), then rename, then drop.
* :class:`Top`: the first ``n`` rows by an order, over the whole input or per key.
* :class:`Latest`: the latest row per key.
* :class:`Union`: the rows of several inputs, matched by column name.
* :class:`Sql`: a stage defined by a SQL query over named inputs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import KW_ONLY, dataclass, field
from typing import Any, ClassVar

from pipelines.core.declare._data import as_tuple, freeze

__all__ = ["Filter", "Select", "WithColumns", "Top", "Latest", "Union", "Sql"]


def _pairs(mapping: Mapping[str, str]) -> str:
    return ", ".join(name if name == text else f"{name} = {text}"
                     for name, text in mapping.items())


@dataclass(frozen=True)
class Filter:
    """Rows of ``input`` where ``where`` (SQL, may use ``{date}`` and params) is true."""

    kind: ClassVar[str] = "filter"  # its name in the plan, the DAG and the ledger
    row_wise: ClassVar[bool] = True  # each row kept or dropped on its own
    name: str
    input: str
    _: KW_ONLY
    where: str
    checks: Sequence[Any] = ()
    checkpoint: bool = False

    def __post_init__(self) -> None:
        freeze(self, checks=as_tuple(self.checks))

    @property
    def inputs(self) -> tuple[str, ...]:
        return (self.input,)

    def describe(self) -> str:
        """One line saying what the stage does, for the plan's text."""
        return f"filter where {self.where}"

    def templates(self) -> tuple[tuple[str, str], ...]:
        """(field, SQL text) of every template the stage declares (``{date}``, params)."""
        return (("where", self.where),)


@dataclass(frozen=True)
class Select:
    """Exactly the ``columns`` given: a list of names, or a mapping of output name to a SQL
    expression (``{"revenue": "price * quantity", "customer_id": "customer_id"}``)."""

    kind: ClassVar[str] = "select"  # its name in the plan, the DAG and the ledger
    row_wise: ClassVar[bool] = False  # each row kept or dropped on its own
    name: str
    input: str
    _: KW_ONLY
    columns: Sequence[str] | Mapping[str, str]
    checks: Sequence[Any] = ()
    checkpoint: bool = False

    def __post_init__(self) -> None:
        columns = (dict(self.columns) if isinstance(self.columns, Mapping)
                   else {c: c for c in as_tuple(self.columns)})
        freeze(self, columns=columns, checks=as_tuple(self.checks))

    @property
    def expressions(self) -> dict[str, str]:
        """Output column -> SQL expression."""
        return dict(self.columns) if isinstance(self.columns, Mapping) else {}

    @property
    def inputs(self) -> tuple[str, ...]:
        return (self.input,)

    def describe(self) -> str:
        """One line saying what the stage does, for the plan's text."""
        return f"select {_pairs(self.expressions)}"

    def templates(self) -> tuple[tuple[str, str], ...]:
        """(field, SQL text) of every template the stage declares (``{date}``, params)."""
        return tuple(("columns", text) for text in self.expressions.values())


@dataclass(frozen=True)
class WithColumns:
    """All columns of ``input``, with ``columns`` (name -> SQL expression) added or replaced,
    then ``rename`` (old -> new) applied, then ``drop`` removed."""

    kind: ClassVar[str] = "withcolumns"  # its name in the plan, the DAG and the ledger
    row_wise: ClassVar[bool] = False  # each row kept or dropped on its own
    name: str
    input: str
    _: KW_ONLY
    columns: Mapping[str, str] = field(default_factory=dict)
    rename: Mapping[str, str] = field(default_factory=dict)
    drop: Sequence[str] = ()
    checks: Sequence[Any] = ()
    checkpoint: bool = False

    def __post_init__(self) -> None:
        freeze(self, columns=dict(self.columns), rename=dict(self.rename),
               drop=as_tuple(self.drop), checks=as_tuple(self.checks))

    @property
    def inputs(self) -> tuple[str, ...]:
        return (self.input,)

    def describe(self) -> str:
        """One line saying what the stage does, for the plan's text."""
        parts = [_pairs(dict(self.columns))] if self.columns else []
        parts += [f"rename {', '.join(f'{a} -> {b}' for a, b in self.rename.items())}"
                  ] if self.rename else []
        parts += [f"drop {', '.join(self.drop)}"] if self.drop else []
        return f"with   {'; '.join(parts)}"

    def templates(self) -> tuple[tuple[str, str], ...]:
        """(field, SQL text) of every template the stage declares (``{date}``, params)."""
        return tuple(("columns", text) for text in self.columns.values())


@dataclass(frozen=True)
class Top:
    """The first ``n`` rows of ``input`` ordered by ``by`` (``"revenue DESC"``, ``"name"``,
    ``"x ASC NULLS LAST"``): over the whole input, or per value of the ``per`` columns. Ties
    are broken by the remaining columns, so a rerun keeps the same rows."""

    kind: ClassVar[str] = "top"  # its name in the plan, the DAG and the ledger
    row_wise: ClassVar[bool] = False  # each row kept or dropped on its own
    name: str
    input: str
    _: KW_ONLY
    n: int
    by: Sequence[str]
    per: Sequence[str] = ()
    checks: Sequence[Any] = ()
    checkpoint: bool = False

    def __post_init__(self) -> None:
        freeze(self, by=as_tuple(self.by), per=as_tuple(self.per), checks=as_tuple(self.checks))

    @property
    def inputs(self) -> tuple[str, ...]:
        return (self.input,)

    def describe(self) -> str:
        """One line saying what the stage does, for the plan's text."""
        per = f" per {', '.join(self.per)}" if self.per else ""
        return f"top    {self.n}{per} by {', '.join(self.by)}"

    def templates(self) -> tuple[tuple[str, str], ...]:
        """(field, SQL text) of every template the stage declares (``{date}``, params)."""
        return ()


@dataclass(frozen=True)
class Latest:
    """One row per value of ``keys``: the one with the greatest ``by`` (ties broken by the
    remaining columns)."""

    kind: ClassVar[str] = "latest"  # its name in the plan, the DAG and the ledger
    row_wise: ClassVar[bool] = False  # each row kept or dropped on its own
    name: str
    input: str
    _: KW_ONLY
    keys: Sequence[str]
    by: str
    checks: Sequence[Any] = ()
    checkpoint: bool = False

    def __post_init__(self) -> None:
        freeze(self, keys=as_tuple(self.keys), checks=as_tuple(self.checks))

    @property
    def inputs(self) -> tuple[str, ...]:
        return (self.input,)

    def describe(self) -> str:
        """One line saying what the stage does, for the plan's text."""
        return f"latest per {', '.join(self.keys)} by {self.by}"

    def templates(self) -> tuple[tuple[str, str], ...]:
        """(field, SQL text) of every template the stage declares (``{date}``, params)."""
        return ()


@dataclass(frozen=True)
class Union:
    """The rows of every input, columns matched by name; with ``allow_missing``, a column
    that an input lacks is null in its rows."""

    kind: ClassVar[str] = "union"  # its name in the plan, the DAG and the ledger
    row_wise: ClassVar[bool] = False  # each row kept or dropped on its own
    name: str
    inputs: Sequence[str]
    _: KW_ONLY
    allow_missing: bool = False
    checks: Sequence[Any] = ()
    checkpoint: bool = False

    def __post_init__(self) -> None:
        freeze(self, inputs=as_tuple(self.inputs), checks=as_tuple(self.checks))

    def describe(self) -> str:
        """One line saying what the stage does, for the plan's text."""
        return "union  by name" + (" (missing columns null)" if self.allow_missing else "")

    def templates(self) -> tuple[tuple[str, str], ...]:
        """(field, SQL text) of every template the stage declares (``{date}``, params)."""
        return ()


@dataclass(frozen=True)
class Sql:
    """A stage defined by a SQL ``query`` that names its ``inputs`` as ``{input}``
    (``"SELECT c.country, sum(o.amount) AS revenue FROM {orders} o JOIN {customers} c ..."``);
    other placeholders are the run's parameters (``'{date}'``)."""

    kind: ClassVar[str] = "sql"  # its name in the plan, the DAG and the ledger
    row_wise: ClassVar[bool] = False  # each row kept or dropped on its own
    name: str
    inputs: Sequence[str]
    _: KW_ONLY
    query: str
    checks: Sequence[Any] = ()
    checkpoint: bool = False

    def __post_init__(self) -> None:
        freeze(self, inputs=as_tuple(self.inputs), checks=as_tuple(self.checks))

    def describe(self) -> str:
        """One line saying what the stage does, for the plan's text."""
        return "sql    " + " ".join(self.query.split())

    def templates(self) -> tuple[tuple[str, str], ...]:
        """(field, SQL text) of every template the stage declares (``{date}``, params)."""
        return (("query", self.query),)

"""The MapReduce stages: Map (custom Python), Reduce (keys and mergeable aggregations) and
Join. Their options after the required fields are keyword-only."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import KW_ONLY, dataclass, field
from typing import Any, ClassVar, Literal

from pipelines.core.declare._data import as_tuple, freeze, hot_key_tuples
from pipelines.core.declare.aggregations import Agg

__all__ = ["Map", "Reduce", "Join", "JOIN_TYPES"]

Salt = Literal["auto", "off"] | int  # "auto": decided at run time; N: N salts
Broadcast = Literal["auto", "right", "none"]
JOIN_TYPES = ("inner", "left", "right", "full", "left_semi", "left_anti")


@dataclass(frozen=True)
class Map:
    """A narrow stage: ``fn(df, **args) -> DataFrame`` over one input."""

    kind: ClassVar[str] = "map"  # its name in the plan, the DAG and the ledger
    row_wise: ClassVar[bool] = True  # each row kept or dropped on its own
    name: str
    input: str
    fn: Callable[..., Any]
    _: KW_ONLY  # options are keyword-only
    args: Mapping[str, Any] = field(default_factory=dict)
    checks: Sequence[Any] = ()
    checkpoint: bool = False

    def __post_init__(self) -> None:
        freeze(self, args=dict(self.args), checks=as_tuple(self.checks))

    @property
    def inputs(self) -> tuple[str, ...]:
        return (self.input,)

    def describe(self) -> str:
        """One line saying what the stage does, for the plan's text."""
        return f"map    {self.fn.__module__}.{self.fn.__name__}"

    def templates(self) -> tuple[tuple[str, str], ...]:
        """(field, SQL text) of every template the stage declares (``{date}``, params)."""
        return ()


@dataclass(frozen=True)
class Reduce:
    """A keyed stage: group ``input`` by ``keys`` and compute ``aggs``; with ``keys=[]``, one
    row of grand totals over the whole input.

    ``salt``: ``"auto"`` finds hot keys and salts them when an aggregation is not combinable;
    ``"off"`` never salts; an integer salts every ``hot_keys`` entry (or every detected hot key)
    that many ways.
    """

    kind: ClassVar[str] = "reduce"  # its name in the plan, the DAG and the ledger
    row_wise: ClassVar[bool] = False  # each row kept or dropped on its own
    name: str
    input: str
    keys: Sequence[str]
    aggs: Sequence[Agg]
    _: KW_ONLY  # options are keyword-only
    salt: Salt = "auto"
    hot_keys: Sequence[Any] = ()
    checks: Sequence[Any] = ()
    checkpoint: bool = False

    def __post_init__(self) -> None:
        freeze(self, keys=as_tuple(self.keys), aggs=as_tuple(self.aggs),
                hot_keys=hot_key_tuples(self.hot_keys),
                checks=as_tuple(self.checks))

    @property
    def inputs(self) -> tuple[str, ...]:
        return (self.input,)

    def describe(self) -> str:
        """One line saying what the stage does, for the plan's text."""
        aggs = ", ".join(a.alias for a in self.aggs)
        return f"reduce by {', '.join(self.keys)} -> {aggs} (salt={self.salt})"

    def templates(self) -> tuple[tuple[str, str], ...]:
        """(field, SQL text) of every template the stage declares (``{date}``, params)."""
        return ()


@dataclass(frozen=True)
class Join:
    """A join of ``left`` and ``right``: on the columns ``on`` (same names both sides), or on
    ``left_on``/``right_on`` pairs (the right side's key columns are dropped: they equal the
    left's), optionally with an extra ``condition`` in SQL over ``l.`` and ``r.`` columns
    (``"r.valid_from <= l.order_ts"``). ``how="left_semi"``/``"left_anti"`` keep the left rows
    that have (or lack) a match.

    A ``condition`` alone, with no keys (``"l.amount > r.avg_amount"`` against a one-row
    average), is a nested-loop join: one side is broadcast to every task. The right side when
    it is small (a ``Reduce`` without keys, a ``Top``, a small table: Spark's size estimate
    under ``salting.broadcast_max_bytes``), else the left for an inner join; with neither
    side small the run is refused before any job, as a shuffle of every pair would be.

    ``salt="auto"``, for inner, left, semi and anti joins: with AQE on (and
    ``salting.auto_join: aqe``) Spark's skew-join split, sized by the salting settings, cuts a
    skewed partition; declared ``hot_keys`` (or ``auto_join: sample``) take the left side's hot
    keys out of the skewed shuffle: their rows join a broadcast of their right rows when those
    are few, else they are split over salts and the matching right rows replicated.
    ``broadcast="auto"`` broadcasts a small right side whole ("none": never the whole side).
    """

    kind: ClassVar[str] = "join"  # its name in the plan, the DAG and the ledger
    row_wise: ClassVar[bool] = False  # each row kept or dropped on its own
    name: str
    left: str
    right: str
    on: Sequence[str] = ()
    _: KW_ONLY  # options are keyword-only
    left_on: Sequence[str] = ()
    right_on: Sequence[str] = ()
    condition: str = ""
    how: str = "inner"
    salt: Salt = "auto"
    hot_keys: Sequence[Any] = ()
    broadcast: Broadcast = "auto"
    checks: Sequence[Any] = ()
    checkpoint: bool = False

    def __post_init__(self) -> None:
        freeze(self, on=as_tuple(self.on), left_on=as_tuple(self.left_on),
                right_on=as_tuple(self.right_on),
                hot_keys=hot_key_tuples(self.hot_keys),
                checks=as_tuple(self.checks))

    @property
    def inputs(self) -> tuple[str, ...]:
        return (self.left, self.right)

    @property
    def keys(self) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """(left key columns, right key columns)."""
        return (tuple(self.left_on or self.on), tuple(self.right_on or self.on))

    @property
    def condition_only(self) -> bool:
        """A join on its ``condition`` alone, no equality keys: Spark joins it by a nested
        loop over a broadcast side (a scalar subquery, a range lookup)."""
        return not (self.on or self.left_on) and bool(self.condition)

    @property
    def by_name(self) -> bool:
        """An equi-join on same-named columns and nothing else: what salting can split."""
        return bool(self.on) and not self.condition

    def describe(self) -> str:
        """One line saying what the stage does, for the plan's text."""
        if self.condition_only:
            return (f"join   {self.how} on the condition {self.condition} (a nested loop "
                    "over a broadcast side)")
        left, right = self.keys
        on = ", ".join(a if a == b else f"{a} = {b}" for a, b in zip(left, right, strict=True))
        extra = f" and {self.condition}" if self.condition else ""
        return (f"join   {self.how} on {on}{extra} (salt={self.salt}, "
                f"broadcast={self.broadcast})")

    def templates(self) -> tuple[tuple[str, str], ...]:
        """(field, SQL text) of every template the stage declares (``{date}``, params)."""
        return (("condition", self.condition),) if self.condition else ()

"""Declarative aggregations that know how their partial results merge.

An :class:`Agg` describes one output column of a reduce in two equivalent forms:

* ``direct``: a single aggregate expression (what a plain ``groupBy().agg()`` computes), and
* ``partial`` -> ``merge`` -> ``final``: the same result computed in two phases, which is what
  lets the framework split a hot key over several tasks and combine the pieces afterwards.

``combinable`` aggregations (sum, count, min, max, avg) are already combined map-side by Spark;
the framework never salts a reduce made only of those.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from pyspark.sql import Column
from pyspark.sql import functions as F

__all__ = [
    "Agg",
    "Phases",
    "sum_",
    "count",
    "min_",
    "max_",
    "avg",
    "count_distinct",
    "collect_set",
    "sorted_list",
    "top_k",
    "approx_distinct",
    "custom",
]

ColumnFn = Callable[[str], Column]


@dataclass(frozen=True)
class Phases:
    """A two-phase form: ``partial`` over raw rows, ``merge`` over partials, ``final``."""

    partial: Callable[[str], Column]
    merge: Callable[[str], Column]
    final: Callable[[str], Column]


@dataclass(frozen=True)
class Agg:
    """One aggregated output column. Build it with the helpers of this module."""

    kind: str
    column: str | None
    alias: str
    combinable: bool
    direct: Callable[[], Column]
    partial: Callable[[str], Column]  # argument: the name the partial column will have
    merge: Callable[[str], Column]  # argument: the partial column's name
    final: Callable[[str], Column]  # argument: the merged column's name
    k: int | None = None
    # a cheaper two-phase form, valid when rows are split by a hash of ``column`` alone: the
    # pieces then hold disjoint values (distinct sets merge by concatenation, counts by a sum)
    by_value: Phases | None = None

    @property
    def input_columns(self) -> tuple[str, ...]:
        return () if self.column in (None, "*") else (self.column,)


def _same(fn: Callable[[Column], Column]) -> Callable[[str], Column]:
    return lambda name: fn(F.col(name))


def _ident(name: str) -> Column:
    return F.col(name)


def sum_(column: str, alias: str | None = None) -> Agg:
    return Agg("sum", column, alias or f"sum_{column}", True,
               lambda: F.sum(column), lambda _: F.sum(column), _same(F.sum), _ident)


def count(alias: str = "count", column: str | None = None) -> Agg:
    """Rows per key (or non-null values of ``column``)."""
    def target() -> Column:
        return F.col(column) if column else F.lit(1)

    return Agg("count", column, alias, True, lambda: F.count(target()),
               lambda _: F.count(target()), _same(F.sum), _ident)


def min_(column: str, alias: str | None = None) -> Agg:
    return Agg("min", column, alias or f"min_{column}", True,
               lambda: F.min(column), lambda _: F.min(column), _same(F.min), _ident)


def max_(column: str, alias: str | None = None) -> Agg:
    return Agg("max", column, alias or f"max_{column}", True,
               lambda: F.max(column), lambda _: F.max(column), _same(F.max), _ident)


def avg(column: str, alias: str | None = None) -> Agg:
    """Mean; the partial is a (sum, count) struct."""
    return Agg(
        "avg", column, alias or f"avg_{column}", True,
        lambda: F.avg(column),
        lambda _: F.struct(F.sum(column).alias("s"), F.count(column).alias("n")),
        lambda p: F.struct(F.sum(f"{p}.s").alias("s"), F.sum(f"{p}.n").alias("n")),
        lambda m: F.col(f"{m}.s").cast("double") / F.col(f"{m}.n"),
    )


def _union_sets(p: str) -> Column:
    return F.array_distinct(F.flatten(F.collect_list(p)))


def count_distinct(column: str, alias: str | None = None) -> Agg:
    """Exact number of distinct non-null values."""
    return Agg("count_distinct", column, alias or f"distinct_{column}", False,
               lambda: F.count_distinct(column), lambda _: F.collect_set(column),
               _union_sets, lambda m: F.size(m).cast("bigint"),
               # size(collect_set) rather than count(DISTINCT): no distinct-aggregate rewrite
               by_value=Phases(lambda _: F.size(F.collect_set(column)).cast("bigint"),
                               _same(F.sum), _ident))


def collect_set(column: str, alias: str | None = None) -> Agg:
    """Distinct values, sorted (sorted so that the result is deterministic)."""
    return Agg("collect_set", column, alias or f"set_{column}", False,
               lambda: F.array_sort(F.collect_set(column)), lambda _: F.collect_set(column),
               _union_sets, lambda m: F.array_sort(m),
               by_value=Phases(lambda _: F.collect_set(column),
                               lambda p: F.flatten(F.collect_list(p)), lambda m: F.array_sort(m)))


def sorted_list(column: str, alias: str | None = None) -> Agg:
    """All values, sorted ascending."""
    return Agg("sorted_list", column, alias or f"list_{column}", False,
               lambda: F.array_sort(F.collect_list(column)), lambda _: F.collect_list(column),
               lambda p: F.flatten(F.collect_list(p)), lambda m: F.array_sort(m))


def top_k(column: str, k: int, alias: str | None = None) -> Agg:
    """The ``k`` largest values, largest first (nulls ignored)."""
    if k < 1:
        raise ValueError(f"top_k needs k >= 1, got {k}")

    def top(values: Column) -> Column:
        return F.slice(F.sort_array(values, asc=False), 1, k)

    return Agg("top_k", column, alias or f"top{k}_{column}", False,
               lambda: top(F.collect_list(column)), lambda _: top(F.collect_list(column)),
               lambda p: top(F.flatten(F.collect_list(p))), _ident, k=k)


def approx_distinct(column: str, alias: str | None = None, lg_k: int = 12) -> Agg:
    """Approximate distinct count through mergeable HyperLogLog sketches."""
    return Agg("approx_distinct", column, alias or f"approx_distinct_{column}", False,
               lambda: F.hll_sketch_estimate(F.hll_sketch_agg(column, lg_k)),
               lambda _: F.hll_sketch_agg(column, lg_k),
               lambda p: F.hll_union_agg(p), lambda m: F.hll_sketch_estimate(m))


def custom(
    alias: str,
    *,
    partial: Callable[[], Column],
    merge: Callable[[Column], Column],
    final: Callable[[Column], Column] | None = None,
    column: str | None = None,
) -> Agg:
    """A user-defined mergeable aggregation.

    ``partial()`` aggregates raw rows; ``merge(col)`` aggregates a column of partials into one;
    ``final(col)`` turns the merged value into the output (identity if omitted). The direct form
    is ``final(partial())``; it equals the salted form whenever ``merge`` is associative and
    commutative and ``merge`` of one partial is that partial.
    """
    finish = final or (lambda c: c)
    return Agg("custom", column, alias, False,
               lambda: finish(partial()), lambda _: partial(), lambda p: merge(F.col(p)),
               lambda m: finish(F.col(m)))

"""Salted shuffles: a reduce in two phases over (key, salt), and a join that takes the hot
keys of its left side out of the skewed shuffle. Both equal their plain forms."""

from __future__ import annotations

from collections.abc import Sequence

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from pipelines.core.declare.aggregations import Agg
from pipelines.core.salting.hot_keys import HotKeys, row_bytes
from pipelines.core.salting.placement import SALT, any_hot, salt_column, salt_values_per_row

__all__ = ["SALTABLE_JOINS", "needs_salting", "plain_reduce", "salted_reduce",
           "hot_rows_fit_broadcast", "salted_join"]

SALTABLE_JOINS = ("inner", "left", "left_semi", "left_anti")


def needs_salting(aggs: Sequence[Agg]) -> bool:
    """A reduce is worth salting only when some aggregation is not combined map-side."""
    return any(not a.combinable for a in aggs)


def plain_reduce(df: DataFrame, keys: Sequence[str], aggs: Sequence[Agg]) -> DataFrame:
    return df.groupBy(*keys).agg(*[a.direct().alias(a.alias) for a in aggs])


def _value_salt_column(aggs: Sequence[Agg]) -> str | None:
    """The column to salt by, when every distinct-type aggregation reads that one column.

    Salting by the value's hash puts each value in one piece only, so the pieces' distinct
    sets are disjoint: they merge by a sum or a concatenation instead of a second dedupe of
    everything the hot key holds.
    """
    columns = {a.column for a in aggs if a.by_value is not None}
    return columns.pop() if len(columns) == 1 else None


def salted_reduce(df: DataFrame, keys: Sequence[str], aggs: Sequence[Agg],
                  hot: HotKeys) -> DataFrame:
    """Two-phase reduce: (key, salt) partials, then merge per key. Equal to ``plain_reduce``."""
    if not hot:
        return plain_reduce(df, keys, aggs)
    by_value = _value_salt_column(aggs)
    phases = [a.by_value if by_value and a.by_value is not None else a for a in aggs]
    salt = salt_column(df, hot, [by_value] if by_value else None)
    partial = df.withColumn(SALT, salt).groupBy(*keys, SALT).agg(
        *[p.partial(f"__p{i}").alias(f"__p{i}") for i, p in enumerate(phases)]
    )
    merged = partial.groupBy(*keys).agg(
        *[p.merge(f"__p{i}").alias(f"__m{i}") for i, p in enumerate(phases)]
    )
    # same types as the one-phase reduce (a sum of sums would widen decimals, for example)
    types = plain_reduce(df, keys, aggs).schema
    return merged.select(*keys, *[p.final(f"__m{i}").cast(types[a.alias].dataType).alias(a.alias)
                                  for i, (a, p) in enumerate(zip(aggs, phases, strict=True))])


def hot_rows_fit_broadcast(right: DataFrame, hot: HotKeys, max_bytes: int) -> bool:
    """Whether the right side's rows for the hot keys are few enough to broadcast.

    One short Spark job that stops as soon as the answer is known.
    """
    limit = max(1, max_bytes // row_bytes(right))
    return right.where(any_hot(hot)).limit(limit + 1).count() <= limit


def salted_join(left: DataFrame, right: DataFrame, on: Sequence[str], how: str,
                hot: HotKeys) -> DataFrame:
    """Join with the hot keys of ``left`` taken out of the skewed shuffle.

    ``broadcast_hot``: the hot keys' left rows join a broadcast of their right rows where they
    are (no shuffle at all), the cold rows take the usual sort-merge join. ``salt``: the hot
    keys' left rows are split over salts and their right rows replicated once per salt.
    Equal to the plain join for :data:`SALTABLE_JOINS`.
    """
    if not hot:
        return left.join(right, list(on), how)
    if how not in SALTABLE_JOINS:
        raise ValueError(f"salting is not valid for {how} joins")
    if hot.strategy == "broadcast_hot":
        is_hot = any_hot(hot)
        hot_part = left.where(is_hot).join(F.broadcast(right.where(is_hot)), list(on), how)
        cold_part = left.where(~is_hot).join(right.where(~is_hot), list(on), how)
        return hot_part.unionByName(cold_part)
    left_salted = left.withColumn(SALT, salt_column(left, hot))
    right_salted = right.withColumn(SALT, F.explode(salt_values_per_row(hot).cast("array<int>")))
    joined = left_salted.join(right_salted, [*on, SALT], how)
    return joined.drop(SALT)



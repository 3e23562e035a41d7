"""Where salts go: the salt column of a hot key's rows, and salt numbers placed so that a
key's pieces hash to distinct shuffle partitions.

A salt is ``pmod(xxhash64(<every column of the row>), n)``: a pure function of the row's
content, so a retried task puts every row in the same bucket again. Only hot keys get
``n > 1``; every other key keeps salt 0, so cold keys are shuffled exactly as before.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from pipelines.core.salting.hot_keys import HotKeys

__all__ = ["SALT", "key_match", "any_hot", "salt_values_per_row", "place_salts",
           "salt_column", "spread_for_write"]

SALT = "__salt"


def key_match(columns: Sequence[str], value: tuple[Any, ...]) -> Column:
    cond: Column | None = None
    for col, v in zip(columns, value, strict=False):
        c = F.col(col).eqNullSafe(F.lit(v))
        cond = c if cond is None else cond & c
    assert cond is not None
    return cond


def salt_values_per_row(hot: HotKeys) -> Column:
    """The salt numbers a row of each key may carry: the hot key's values, else just 0."""
    expr: Any = F
    for key in hot.keys:
        expr = expr.when(key_match(hot.columns, key.value),
                         F.array(*[F.lit(v) for v in key.values]))
    return expr.otherwise(F.array(F.lit(0)))


def place_salts(df: DataFrame, hot: HotKeys, partitions: int) -> HotKeys:
    """Choose each hot key's salt numbers so that its pieces land in distinct partitions.

    A shuffle on (key, salt) sends a piece to ``pmod(hash(key, salt), partitions)``; with the
    salts 0..n-1 several pieces collide in one partition by chance, and that task carries two
    or three times a piece. Candidates are hashed with Spark's own ``hash`` (the function its
    hash partitioning uses); pieces of all hot keys are then spread over unused partitions
    first. The candidate salts are an inline table and the hash a projection of it, with the
    key as literals, which Spark's optimizer evaluates on the driver
    (``ConvertToLocalRelation``): no Spark job runs.
    """
    if not hot or partitions < 2:
        return hot
    spark = df.sparkSession
    span = 4 * max(partitions, max(k.salts for k in hot.keys))
    salts = spark.sql("SELECT * FROM VALUES " + ", ".join(f"({c})" for c in range(span))
                      + " AS candidates(c)")  # integers only in the SQL text
    types = {c: df.schema[c].dataType for c in hot.columns}
    first_salt: dict[int, dict[int, int]] = {}
    for i, key in enumerate(hot.keys):
        cols = [F.lit(v).cast(types[c]) for c, v in zip(hot.columns, key.value, strict=True)]
        firsts = first_salt.setdefault(i, {})
        for row in salts.select("c", F.pmod(F.hash(*cols, F.col("c")),
                                            F.lit(partitions)).alias("p")).collect():
            firsts[row["p"]] = min(row["c"], firsts.get(row["p"], row["c"]))
    used: set[int] = set()
    placed = []
    for i, key in enumerate(hot.keys):
        options = sorted(first_salt.get(i, {}).items(), key=lambda pc: pc[1])
        fresh = [c for p, c in options if p not in used]
        chosen = (fresh + [c for p, c in options if p in used])[:key.salts]
        if len(chosen) < key.salts:  # fewer partitions than pieces: keep plain numbering
            placed.append(key)
            continue
        used.update(p for p, c in options if c in chosen)
        placed.append(replace(key, salt_values=tuple(sorted(chosen))))
    return replace(hot, keys=tuple(placed))


def salt_column(df: DataFrame, hot: HotKeys, on: Sequence[str] | None = None) -> Column:
    """0 for cold keys; a content hash modulo the key's salt count for hot keys.

    The hash covers every column of the row, or only the columns ``on``.
    """
    if not hot:
        return F.lit(0)
    content = F.xxhash64(*[F.col(c) for c in (on or df.columns)])
    salts: Any = F
    for key in hot.keys:  # the hash is computed for the hot keys' rows only
        piece = F.pmod(content, F.lit(key.salts))
        if key.salt_values:
            piece = F.element_at(F.array(*[F.lit(v) for v in key.salt_values]),
                                 (piece + 1).cast("int"))
        salts = salts.when(key_match(hot.columns, key.value), piece)
    return salts.otherwise(F.lit(0)).cast("int")


def any_hot(hot: HotKeys) -> Column:
    cond: Column | None = None
    for key in hot.keys:
        match = key_match(hot.columns, key.value)
        cond = match if cond is None else cond | match
    assert cond is not None
    return cond


def spread_for_write(df: DataFrame, partition_by: Sequence[str], hot: HotKeys, *,
                     partitions: int) -> DataFrame:
    """Repartition so that each hot partition value is written by several tasks.

    The partition count is explicit so that AQE does not coalesce the pieces back together.
    """
    if not hot:
        return df
    count = max(partitions, hot.salt_count)
    return df.repartition(count, *[F.col(c) for c in partition_by], salt_column(df, hot))



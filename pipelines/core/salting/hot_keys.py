"""Hot keys: which keys of a shuffle are hot, found from a deterministic sample or declared.

A key is hot when its estimated shuffle bytes exceed ``skew_factor`` times one reduce task's
fair share and ``min_hot_bytes``; it gets enough salts to bring each piece to that share.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pyspark.sql import DataFrame, Observation, Row
from pyspark.sql import functions as F

from pipelines.core.config.settings import SaltSettings

__all__ = ["HotKey", "HotKeys", "SAMPLE_SEED", "detect_hot_keys", "declared_hot_keys",
           "row_bytes", "task_slots"]

SAMPLE_SEED = 20261127


@dataclass(frozen=True)
class HotKey:
    value: tuple[Any, ...]
    salts: int
    estimated_rows: int
    share: float
    # the salt numbers used (default 0..salts-1); chosen by place_salts so that each piece
    # of the key hashes to its own shuffle partition
    salt_values: tuple[int, ...] = ()

    @property
    def values(self) -> tuple[int, ...]:
        return self.salt_values or tuple(range(self.salts))

    def to_dict(self) -> dict[str, Any]:
        return {"key": [_plain(v) for v in self.value], "salts": self.salts,
                "estimated_rows": self.estimated_rows, "share": round(self.share, 4)}


@dataclass(frozen=True)
class HotKeys:
    """What salting decided for one stage."""

    columns: tuple[str, ...]
    keys: tuple[HotKey, ...] = ()
    source: str = "none"  # "sample", "declared", "none"
    reason: str = ""
    sampled_rows: int = 0
    extra: dict[str, Any] = field(default_factory=dict)
    # joins only: "salt" (split the hot keys' left rows over salts, replicate their right
    # rows) or "broadcast_hot" (join the hot keys' rows against a broadcast of their few
    # right rows, without a shuffle; only the cold rows go through the sort-merge join)
    strategy: str = "salt"

    @property
    def salt_count(self) -> int:
        return max((k.salts for k in self.keys), default=1)

    def __bool__(self) -> bool:
        return bool(self.keys)

    def to_dict(self) -> dict[str, Any]:
        return {"columns": list(self.columns), "source": self.source, "reason": self.reason,
                "salt_count": self.salt_count, "strategy": self.strategy,
                "hot_keys": [k.to_dict() for k in self.keys],
                "sampled_rows": self.sampled_rows}


def _plain(value: Any) -> Any:
    return value if isinstance(value, (str, int, float, bool)) or value is None else str(value)



_SIZES = {"boolean": 1, "byte": 1, "short": 2, "integer": 4, "date": 4, "float": 4, "long": 8,
          "double": 8, "timestamp": 8, "timestamp_ntz": 8, "decimal": 16, "string": 20,
          "binary": 20}


def _type_bytes(data_type: Any) -> int:
    name = data_type.typeName()
    if name == "struct":
        return sum(_type_bytes(f.dataType) for f in data_type.fields)
    if name in ("array", "map"):
        return 64
    return _SIZES.get(name, 16)


def row_bytes(df: DataFrame, columns: Sequence[str] | None = None) -> int:
    """Estimated bytes per row in a shuffle of ``columns`` (default: all), from the schema
    (like Spark's default sizes)."""
    fields = [f for f in df.schema.fields if columns is None or f.name in columns]
    return max(8, sum(_type_bytes(f.dataType) for f in fields))



def task_slots(spark: Any) -> int:
    """How many tasks the application runs at once (its executors' cores)."""
    sc = spark.sparkContext
    try:
        jsc = sc._jsc.sc()
        slots = int(jsc.maxNumConcurrentTasks(
            jsc.resourceProfileManager().defaultResourceProfile()))
    except Exception:  # noqa: BLE001 - not a JVM-backed context: Spark's default parallelism
        slots = 0
    return slots if slots > 0 else int(sc.defaultParallelism)


def detect_hot_keys(df: DataFrame, keys: Sequence[str], settings: SaltSettings, *,
                    shuffle_partitions: int, rows: int | None = None,
                    partition_bytes: int | Callable[[float], float] = 0,
                    sample: DataFrame | None = None,
                    shuffled: Sequence[str] | None = None,
                    pieces_per_share: int = 1) -> HotKeys:
    """Find hot keys from a deterministic sample (one Spark job over ``df``'s key columns).

    A key is hot when its estimated shuffle bytes exceed ``skew_factor`` times one reduce
    task's fair share and ``min_hot_bytes``; it gets enough salts to bring each piece down to
    that fair share (at most ``max_salt``). A caller that knows ``df``'s row count passes it
    as ``rows``: when all of ``df`` is under ``min_hot_bytes`` no key can be hot, and no job
    runs. ``partition_bytes`` is the size AQE coalesces shuffle partitions to, or a function
    of the shuffle's estimated total bytes giving it (see :func:`coalesced_partition_bytes`):
    a fair share is never smaller. ``sample`` is a Bernoulli sample of ``df`` at
    ``sample_fraction`` that the caller built more cheaply (drawn upstream, before row-wise
    stages); by default ``df`` is sampled. ``shuffled`` names the columns the stage's shuffle
    carries (a reduce's keys and aggregated columns), by default all of ``df``'s.
    ``pieces_per_share`` cuts a hot key finer than one fair share per piece (2: half a share).
    """
    cols = tuple(keys)
    per_row = row_bytes(df, shuffled)
    if rows is not None and rows * per_row < settings.min_hot_bytes:
        return HotKeys(cols, (), "size", f"{rows} rows: under {settings.min_hot_bytes} "
                       "estimated bytes in all", 0)
    fraction = settings.sample_fraction
    counts, sampled = _sampled_key_counts(df, cols, settings, sample)
    if not counts:
        return HotKeys(cols, (), "sample", "empty sample", 0)
    total_bytes = sampled / fraction * per_row
    coalesced = partition_bytes(total_bytes) if callable(partition_bytes) else partition_bytes
    fair_share = max(total_bytes / max(1, shuffle_partitions), float(coalesced), 1.0)
    threshold = max(settings.skew_factor * fair_share, float(settings.min_hot_bytes))
    hot = []
    for row in counts:
        est_rows = row["count"] / fraction
        key_bytes = est_rows * per_row
        if key_bytes < threshold:
            break
        salts = min(settings.max_salt,
                    max(2, math.ceil(key_bytes * pieces_per_share / fair_share)))
        hot.append(HotKey(tuple(row[c] for c in cols), salts, int(est_rows),
                          row["count"] / sampled))
    reason = (f"{len(hot)} key(s) over {int(threshold)} estimated bytes" if hot
              else f"no key over {int(threshold)} estimated bytes")
    return HotKeys(cols, tuple(hot), "sample", reason, sampled,
                   {"fair_share_bytes": int(fair_share), "row_bytes": per_row})


def _sampled_key_counts(df: DataFrame, cols: tuple[str, ...], settings: SaltSettings,
                        sample: DataFrame | None) -> tuple[list[Row], int]:
    """The most frequent keys of a sample of ``df`` with their counts, and the sample's size:
    one aggregation over the sampled key columns, the size observed on the way."""
    sample_size = Observation("hot-key sample")
    if sample is None:
        sample = df.sample(fraction=settings.sample_fraction, seed=SAMPLE_SEED)
    counts = (
        # one wave of tasks: a scan of the key columns is short, and on a few cores the
        # per-task cost of many file splits outweighs it
        sample.select(*cols).coalesce(task_slots(df.sparkSession))
        .groupBy(*cols).count()
        .observe(sample_size, F.sum("count").alias("rows"))
        .orderBy(F.desc("count"))
        .limit(settings.max_hot_keys)
        .collect()
    )
    return counts, (int(sample_size.get["rows"]) if counts else 0)


def declared_hot_keys(keys: Sequence[str], values: Sequence[tuple[Any, ...]],
                      salts: int) -> HotKeys:
    return HotKeys(tuple(keys), tuple(HotKey(tuple(v), salts, 0, 0.0) for v in values),
                   "declared", f"{len(values)} declared hot key(s)")


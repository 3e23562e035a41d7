"""Hot keys: detection and salting. The only module that adds salt to a shuffle.

A salt is ``pmod(xxhash64(<every column of the row>), n)``: a pure function of the row's
content, so a retried task puts every row in the same bucket again. Only hot keys get
``n > 1``; every other key keeps salt 0, so cold keys are shuffled exactly as before.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from pyspark.sql import Column, DataFrame, Observation
from pyspark.sql import functions as F

from pipelines.core.errors import PipelineError
from pipelines.core.settings import SaltSettings
from pipelines.core.spec import Join, Reduce
from transforms.aggregations import Agg

__all__ = [
    "HotKey",
    "HotKeys",
    "SALT",
    "SAMPLE_SEED",
    "detect_hot_keys",
    "plain_reduce",
    "salted_reduce",
    "salted_join",
    "hot_rows_fit_broadcast",
    "salt_column",
    "place_salts",
    "spread_for_write",
    "needs_salting",
    "SALTABLE_JOINS",
    "SaltDecision",
    "decide_salting",
    "skew_conf",
    "coalesced_partition_bytes",
    "task_slots",
]

log = logging.getLogger(__name__)

SALT = "__salt"
SALTABLE_JOINS = ("inner", "left", "left_semi", "left_anti")
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


def needs_salting(aggs: Sequence[Agg]) -> bool:
    """A reduce is worth salting only when some aggregation is not combined map-side."""
    return any(not a.combinable for a in aggs)


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


def _row_bytes(df: DataFrame, columns: Sequence[str] | None = None) -> int:
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
    row_bytes = _row_bytes(df, shuffled)
    if rows is not None and rows * row_bytes < settings.min_hot_bytes:
        return HotKeys(cols, (), "size", f"{rows} rows: under {settings.min_hot_bytes} "
                       "estimated bytes in all", 0)
    fraction = settings.sample_fraction
    # one aggregation over the sampled key columns; the sample's size is observed on the way
    sample_size = Observation("hot-key sample")
    if sample is None:
        sample = df.sample(fraction=fraction, seed=SAMPLE_SEED)
    rows = (
        # one wave of tasks: a scan of the key columns is short, and on a few cores the
        # per-task cost of many file splits outweighs it
        sample.select(*cols).coalesce(task_slots(df.sparkSession))
        .groupBy(*cols).count()
        .observe(sample_size, F.sum("count").alias("rows"))
        .orderBy(F.desc("count"))
        .limit(settings.max_hot_keys)
        .collect()
    )
    if not rows:
        return HotKeys(cols, (), "sample", "empty sample", 0)
    sampled = int(sample_size.get["rows"])
    total_bytes = sampled / fraction * row_bytes
    coalesced = partition_bytes(total_bytes) if callable(partition_bytes) else partition_bytes
    fair_share = max(total_bytes / max(1, shuffle_partitions), float(coalesced), 1.0)
    threshold = max(settings.skew_factor * fair_share, float(settings.min_hot_bytes))
    hot = []
    for row in rows:
        est_rows = row["count"] / fraction
        key_bytes = est_rows * row_bytes
        if key_bytes < threshold:
            break
        salts = min(settings.max_salt,
                    max(2, math.ceil(key_bytes * pieces_per_share / fair_share)))
        hot.append(HotKey(tuple(row[c] for c in cols), salts, int(est_rows),
                          row["count"] / sampled))
    reason = (f"{len(hot)} key(s) over {int(threshold)} estimated bytes" if hot
              else f"no key over {int(threshold)} estimated bytes")
    return HotKeys(cols, tuple(hot), "sample", reason, sampled,
                   {"fair_share_bytes": int(fair_share), "row_bytes": row_bytes})


def declared_hot_keys(keys: Sequence[str], values: Sequence[tuple[Any, ...]],
                      salts: int) -> HotKeys:
    return HotKeys(tuple(keys), tuple(HotKey(tuple(v), salts, 0, 0.0) for v in values),
                   "declared", f"{len(values)} declared hot key(s)")


def _key_match(columns: Sequence[str], value: tuple[Any, ...]) -> Column:
    cond: Column | None = None
    for col, v in zip(columns, value, strict=False):
        c = F.col(col).eqNullSafe(F.lit(v))
        cond = c if cond is None else cond & c
    assert cond is not None
    return cond


def _salt_values_per_row(hot: HotKeys) -> Column:
    """The salt numbers a row of each key may carry: the hot key's values, else just 0."""
    expr: Any = F
    for key in hot.keys:
        expr = expr.when(_key_match(hot.columns, key.value),
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
        salts = salts.when(_key_match(hot.columns, key.value), piece)
    return salts.otherwise(F.lit(0)).cast("int")


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


def _any_hot(hot: HotKeys) -> Column:
    cond: Column | None = None
    for key in hot.keys:
        match = _key_match(hot.columns, key.value)
        cond = match if cond is None else cond | match
    assert cond is not None
    return cond


def hot_rows_fit_broadcast(right: DataFrame, hot: HotKeys, max_bytes: int) -> bool:
    """Whether the right side's rows for the hot keys are few enough to broadcast.

    One short Spark job that stops as soon as the answer is known.
    """
    limit = max(1, max_bytes // _row_bytes(right))
    return right.where(_any_hot(hot)).limit(limit + 1).count() <= limit


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
        is_hot = _any_hot(hot)
        hot_part = left.where(is_hot).join(F.broadcast(right.where(is_hot)), list(on), how)
        cold_part = left.where(~is_hot).join(right.where(~is_hot), list(on), how)
        return hot_part.unionByName(cold_part)
    left_salted = left.withColumn(SALT, salt_column(left, hot))
    right_salted = right.withColumn(SALT, F.explode(_salt_values_per_row(hot).cast("array<int>")))
    joined = left_salted.join(right_salted, [*on, SALT], how)
    return joined.drop(SALT)


def spread_for_write(df: DataFrame, partition_by: Sequence[str], hot: HotKeys, *,
                     partitions: int) -> DataFrame:
    """Repartition so that each hot partition value is written by several tasks.

    The partition count is explicit so that AQE does not coalesce the pieces back together.
    """
    if not hot:
        return df
    count = max(partitions, hot.salt_count)
    return df.repartition(count, *[F.col(c) for c in partition_by], salt_column(df, hot))


_AQE = "spark.sql.adaptive."


def skew_conf(conf: SaltSettings) -> dict[str, str]:
    """Spark settings that size AQE's partitions and skew-join split by the salting rule.

    AQE splits a join's shuffle partition when it is over ``skewedPartitionFactor`` times the
    median partition and over ``skewedPartitionThresholdInBytes``: the form of our hot-key rule,
    with Spark's defaults (5x, 256 MB) set for large clusters. The pieces are cut to the
    advisory partition size, ``target_bytes_per_salt`` (or the average unskewed partition,
    when that is larger), and the other partitions coalesced to it. A piece is sized apart
    from the hot-key threshold, as Spark sizes it (64 MB against 256 MB): a task should carry
    enough work that the pauses every task meets (a garbage collection, a busy core) are a
    small part of its duration.

    Even bytes are not even work in a sort-merge join: a piece holds one key, which sorts
    almost for free, while a partition of many keys does not, so the pieces' tasks finish
    early and the others straggle. A join whose smaller side comes in shuffle partitions of
    at most one advisory size each therefore builds a hash table of that side instead of
    sorting both (AQE's ``maxShuffledHashJoinLocalMapThreshold``, off in Spark by default):
    a task's work then no longer depends on how many keys it holds, and the table it keeps in
    memory is built from at most one advisory size of shuffle bytes (more once decompressed).
    """
    if not conf.enabled or conf.auto_join != "aqe":
        return {}
    advisory = str(max(conf.target_bytes_per_salt, 1024 * 1024))
    return {
        f"{_AQE}skewJoin.enabled": "true",
        f"{_AQE}skewJoin.skewedPartitionFactor": str(conf.skew_factor),
        f"{_AQE}skewJoin.skewedPartitionThresholdInBytes": str(conf.min_hot_bytes),
        f"{_AQE}advisoryPartitionSizeInBytes": advisory,
        # coalesce to that size too, so that the pieces of a split partition and the other
        # partitions come out about the same size (a salted reduce's own query runs
        # parallelism-first instead: see decide_salting)
        f"{_AQE}coalescePartitions.parallelismFirst": "false",
        f"{_AQE}maxShuffledHashJoinLocalMapThreshold": advisory,
    }


def _conf_on(spark: Any, key: str, default: str = "true") -> bool:
    return str(spark.conf.get(_AQE + key, default)).lower() == "true"


def _conf_bytes(spark: Any, key: str, default: str) -> int:
    size = str(spark.conf.get(_AQE + key, default))
    return int(spark.sparkContext._jvm.org.apache.spark.network.util.JavaUtils.byteStringAsBytes(
        size))


def _partition_bytes(spark: Any) -> int:
    """The size AQE coalesces shuffle partitions to, when it sizes them by bytes, else 0."""
    if not (_conf_on(spark, "enabled") and _conf_on(spark, "coalescePartitions.enabled")
            and not _conf_on(spark, "coalescePartitions.parallelismFirst")):
        return 0
    return _conf_bytes(spark, "advisoryPartitionSizeInBytes", "64m")


# A salted reduce's shuffle is first cut into this many partitions per task slot, which AQE
# then coalesces back to about one per slot. Fine partitions let the coalescer fill every task
# to the same size: the cold keys come in small slices that pack around the hot keys' pieces.
_SLICES_PER_SLOT = 8
# Over 2000 partitions, a map task records only the average size of its small blocks
# (spark.shuffle.minNumPartitionsToHighlyCompress), and AQE could no longer see the pieces.
_MAX_SLICES = 2000
# A salted reduce's coalescing floor (minPartitionSize) is this fraction of its partition. At
# a quarter it was above the merge shuffle's partitions in bench_skew (partials per key,
# several times smaller than the salted rows), and the merge's last task took the leftovers.
_FLOOR_PER_PARTITION = 32


def _coalescing_slots(spark: Any) -> int:
    """The partition count AQE's parallelism-first coalescing aims at (Spark's own order)."""
    slots = spark.conf.get(f"{_AQE}coalescePartitions.minPartitionNum", None) or \
        spark.conf.get("spark.sql.leafNodeDefaultParallelism", None) or \
        spark.sparkContext.defaultParallelism
    return max(1, int(slots))


def coalesced_partition_bytes(spark: Any, total_bytes: float) -> float:
    """The partition size AQE's parallelism-first coalescing gives a shuffle of
    ``total_bytes``: its total over Spark's default parallelism (so that each task slot gets
    a partition), at most the advisory size and at least ``minPartitionSize``."""
    advisory = _conf_bytes(spark, "advisoryPartitionSizeInBytes", "64m")
    smallest = _conf_bytes(spark, "coalescePartitions.minPartitionSize", "1m")
    return max(min(float(advisory), total_bytes / _coalescing_slots(spark)), float(smallest))


def _by_slots_conf(spark: Any, partitions: int, hot: HotKeys) -> dict[str, str]:
    """The SQL settings of a salted reduce's query, coalesced one partition per task slot.

    Parallelism-first coalescing, starting from ``partitions`` fine partitions. AQE also
    merges a coalesced partition under ``minPartitionSize`` (1 MiB by default) into its
    neighbour: next to a piece, that made tasks of two partitions. When the estimated
    partition is above that floor, the floor becomes a small part of it
    (``_FLOOR_PER_PARTITION``). The one floor serves both shuffles of the query: the salted
    rows, and the partial results per key that the second phase merges, several times
    smaller. A floor above the second shuffle's size per slot becomes its target, and AQE
    then merges whatever is left at the end into the last task (up to twice the records of
    the others: the longest task of the stage).
    """
    conf = {f"{_AQE}coalescePartitions.parallelismFirst": "true",
            f"{_AQE}coalescePartitions.initialPartitionNum": str(partitions)}
    share = int(hot.extra.get("fair_share_bytes", 0))
    if share > _conf_bytes(spark, "coalescePartitions.minPartitionSize", "1m"):
        conf[f"{_AQE}coalescePartitions.minPartitionSize"] = str(share // _FLOOR_PER_PARTITION)
    return conf


def _aqe_split_record(spark: Any, keys: Sequence[str]) -> dict[str, Any] | None:
    """The run record of a join left to AQE's skew split, or None when AQE will not split."""
    if not (_conf_on(spark, "enabled") and _conf_on(spark, "skewJoin.enabled")):
        return None
    # the session's values, which skew_conf set unless spark.conf overrode them
    factor = spark.conf.get(f"{_AQE}skewJoin.skewedPartitionFactor", "5.0")
    threshold = spark.conf.get(f"{_AQE}skewJoin.skewedPartitionThresholdInBytes", "256MB")
    return {"decision": "aqe_skew_join",
            "reason": f"Spark's AQE splits a partition over {factor}x the median and "
                      f"{threshold} bytes",
            "columns": list(keys), "hot_keys": [], "salt_count": 1}


@dataclass(frozen=True)
class SaltDecision:
    """What the framework does with one reduce or join stage's shuffle, and why."""

    hot: HotKeys | None = None
    broadcast: bool = False
    record: dict[str, Any] = field(default_factory=dict)  # for the run report and --json
    # runtime SQL settings for the action that computes the stage (the runner sets them
    # around it and restores the session's afterwards)
    conf: dict[str, str] = field(default_factory=dict)


def _fits_broadcast(df: DataFrame, limit: int) -> bool:
    """Whether Spark's size estimate of ``df`` is at most ``limit`` bytes.

    First the estimate of the plan before the optimizer (cached data substituted): an upper
    bound, since filters are not counted, that costs no Spark job. Only when that is over the
    limit, the optimized plan's estimate, which counts the files Delta's data skipping keeps
    (one job over the table's snapshot).
    """
    for plan in ("withCachedData", "optimizedPlan"):
        try:
            stats = getattr(df._jdf.queryExecution(), plan)().stats()
            if int(str(stats.sizeInBytes())) <= limit:
                return True
        except Exception:  # noqa: BLE001 - no estimate: try the next, else do not broadcast
            continue
    return False


def decide_salting(stage: Any, inputs: dict[str, DataFrame], conf: SaltSettings, *,
                   shuffle_partitions: int, pipeline: str,
                   sampler: Callable[[str, float], DataFrame] | None = None) -> SaltDecision:
    """Broadcast, salt (declared or detected hot keys) or leave alone a reduce or join stage.

    The one place that decides; the runner and the notebook explorer both call it.
    ``sampler(input, fraction)`` builds a sample of an input for detection (see
    :func:`detect_hot_keys`); without it the input itself is sampled.
    """
    if not isinstance(stage, (Reduce, Join)):
        return SaltDecision()
    if isinstance(stage, Join):
        if stage.broadcast == "right" or (stage.broadcast == "auto" and _fits_broadcast(
                inputs[stage.right], conf.broadcast_max_bytes)):
            return SaltDecision(None, True, {"decision": "broadcast",
                                             "reason": "right side is small"})
        if stage.how not in SALTABLE_JOINS:
            if isinstance(stage.salt, int):
                raise PipelineError(f"salting a {stage.how} join would duplicate rows; "
                                    "use inner or left", pipeline=pipeline, stage=stage.name)
            return SaltDecision(record={"decision": "off", "reason": f"{stage.how} join"})
        keys, name = tuple(stage.on), stage.left
    else:
        keys, name = tuple(stage.keys), stage.input
        if stage.salt == "auto" and not needs_salting(stage.aggs):
            return SaltDecision(record={"decision": "off", "reason":
                                        "combinable aggregations (combined map-side)"})
    frame = inputs[name]
    if stage.salt == "off" or not conf.enabled:
        return SaltDecision(record={"decision": "off", "reason": "disabled"})
    spark = frame.sparkSession
    session_bytes = _partition_bytes(spark)
    # a salted reduce's query is coalesced parallelism-first (SaltDecision.conf), one
    # partition per task slot, and its pieces are sized to that partition, from the bytes of
    # the columns the reduce shuffles; joins keep the session's by-size coalescing
    by_slots = (isinstance(stage, Reduce) and conf.reduce_coalesce == "parallelism"
                and session_bytes > 0)
    # such a query starts from finer partitions (see _SLICES_PER_SLOT), its pieces of half a
    # partition: the coalescer packs a smaller partition with its neighbours but never splits
    # a larger one, and the estimate counts raw row bytes, not the partial aggregates the
    # shuffle carries
    partitions = (max(shuffle_partitions,
                      min(_SLICES_PER_SLOT * _coalescing_slots(spark), _MAX_SLICES))
                  if by_slots else shuffle_partitions)
    if isinstance(stage.salt, int) and stage.hot_keys:
        hot = declared_hot_keys(keys, stage.hot_keys, stage.salt)
    elif stage.hot_keys:
        hot = declared_hot_keys(keys, stage.hot_keys, conf.max_salt)
    elif (isinstance(stage, Join) and stage.salt == "auto" and conf.auto_join == "aqe"
          and (record := _aqe_split_record(spark, keys)) is not None):
        return SaltDecision(record=record)
    else:
        sample = sampler(name, conf.sample_fraction) if sampler is not None else None
        sized: int | Callable[[float], float] = (
            (lambda total: coalesced_partition_bytes(spark, total)) if by_slots
            else session_bytes)
        shuffled = ([*keys, *sorted({c for a in stage.aggs for c in a.input_columns})]
                    if isinstance(stage, Reduce) else None)
        hot = detect_hot_keys(frame, keys, conf, shuffle_partitions=partitions,
                              sample=sample, partition_bytes=sized, shuffled=shuffled,
                              pieces_per_share=2 if by_slots else 1)
        if isinstance(stage.salt, int) and hot:
            hot = declared_hot_keys(keys, [k.value for k in hot.keys], stage.salt)
    if (isinstance(stage, Join) and hot
            and hot_rows_fit_broadcast(inputs[stage.right], hot, conf.broadcast_max_bytes)):
        hot = replace(hot, strategy="broadcast_hot")
    if hot and hot.strategy == "salt":
        hot = place_salts(frame, hot, partitions)
    record = {"decision": "salted" if hot else "off", **hot.to_dict()}
    if not (hot and by_slots):
        return SaltDecision(hot, False, record)
    settings = _by_slots_conf(spark, partitions, hot)
    return SaltDecision(hot, False, {**record, "spark_conf": settings}, conf=settings)

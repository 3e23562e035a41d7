"""Sizing Spark's adaptive execution by the salting settings: the skew-join split and
partition coalescing of the session, and the coalescing of a salted reduce's own query."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pipelines.core.config.settings import SaltSettings
from pipelines.core.salting.hot_keys import HotKeys

__all__ = ["AQE", "skew_conf", "partition_bytes", "coalescing_slots",
           "coalesced_partition_bytes", "by_slots_conf", "aqe_split_record", "SLICES_PER_SLOT",
           "MAX_SLICES"]

AQE = "spark.sql.adaptive."


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
        f"{AQE}skewJoin.enabled": "true",
        f"{AQE}skewJoin.skewedPartitionFactor": str(conf.skew_factor),
        f"{AQE}skewJoin.skewedPartitionThresholdInBytes": str(conf.min_hot_bytes),
        f"{AQE}advisoryPartitionSizeInBytes": advisory,
        # coalesce to that size too, so that the pieces of a split partition and the other
        # partitions come out about the same size (a salted reduce's own query runs
        # parallelism-first instead: see decide_salting)
        f"{AQE}coalescePartitions.parallelismFirst": "false",
        f"{AQE}maxShuffledHashJoinLocalMapThreshold": advisory,
    }


def _conf_on(spark: Any, key: str, default: str = "true") -> bool:
    return str(spark.conf.get(AQE + key, default)).lower() == "true"


def _conf_bytes(spark: Any, key: str, default: str) -> int:
    size = str(spark.conf.get(AQE + key, default))
    return int(spark.sparkContext._jvm.org.apache.spark.network.util.JavaUtils.byteStringAsBytes(
        size))


def partition_bytes(spark: Any) -> int:
    """The size AQE coalesces shuffle partitions to, when it sizes them by bytes, else 0."""
    if not (_conf_on(spark, "enabled") and _conf_on(spark, "coalescePartitions.enabled")
            and not _conf_on(spark, "coalescePartitions.parallelismFirst")):
        return 0
    return _conf_bytes(spark, "advisoryPartitionSizeInBytes", "64m")


# A salted reduce's shuffle is first cut into this many partitions per task slot, which AQE
# then coalesces back to about one per slot. Fine partitions let the coalescer fill every task
# to the same size: the cold keys come in small slices that pack around the hot keys' pieces.
SLICES_PER_SLOT = 8
# Over 2000 partitions, a map task records only the average size of its small blocks
# (spark.shuffle.minNumPartitionsToHighlyCompress), and AQE could no longer see the pieces.
MAX_SLICES = 2000
# A salted reduce's coalescing floor (minPartitionSize) is this fraction of its partition: it
# must stay under the merge shuffle's partitions too (partials per key, several times smaller
# than the salted rows), or the merge's last task takes the leftovers.
_FLOOR_PER_PARTITION = 32


def coalescing_slots(spark: Any) -> int:
    """The partition count AQE's parallelism-first coalescing aims at (Spark's own order)."""
    slots = spark.conf.get(f"{AQE}coalescePartitions.minPartitionNum", None) or \
        spark.conf.get("spark.sql.leafNodeDefaultParallelism", None) or \
        spark.sparkContext.defaultParallelism
    return max(1, int(slots))


def coalesced_partition_bytes(spark: Any, total_bytes: float) -> float:
    """The partition size AQE's parallelism-first coalescing gives a shuffle of
    ``total_bytes``: its total over Spark's default parallelism (so that each task slot gets
    a partition), at most the advisory size and at least ``minPartitionSize``."""
    advisory = _conf_bytes(spark, "advisoryPartitionSizeInBytes", "64m")
    smallest = _conf_bytes(spark, "coalescePartitions.minPartitionSize", "1m")
    return max(min(float(advisory), total_bytes / coalescing_slots(spark)), float(smallest))


def by_slots_conf(spark: Any, partitions: int, hot: HotKeys) -> dict[str, str]:
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
    conf = {f"{AQE}coalescePartitions.parallelismFirst": "true",
            f"{AQE}coalescePartitions.initialPartitionNum": str(partitions)}
    share = int(hot.extra.get("fair_share_bytes", 0))
    if share > _conf_bytes(spark, "coalescePartitions.minPartitionSize", "1m"):
        conf[f"{AQE}coalescePartitions.minPartitionSize"] = str(share // _FLOOR_PER_PARTITION)
    return conf


def aqe_split_record(spark: Any, keys: Sequence[str]) -> dict[str, Any] | None:
    """The run record of a join left to AQE's skew split, or None when AQE will not split."""
    if not (_conf_on(spark, "enabled") and _conf_on(spark, "skewJoin.enabled")):
        return None
    # the session's values, which skew_conf set unless spark.conf overrode them
    factor = spark.conf.get(f"{AQE}skewJoin.skewedPartitionFactor", "5.0")
    threshold = spark.conf.get(f"{AQE}skewJoin.skewedPartitionThresholdInBytes", "256MB")
    return {"decision": "aqe_skew_join",
            "reason": f"Spark's AQE splits a partition over {factor}x the median and "
                      f"{threshold} bytes",
            "columns": list(keys), "hot_keys": [], "salt_count": 1}



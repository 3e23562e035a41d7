"""The salting decision for one reduce or join stage: broadcast, salt or leave alone."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from pyspark.sql import DataFrame

from pipelines.core.config.settings import SaltSettings
from pipelines.core.declare.spec import Join, Reduce
from pipelines.core.errors import DefinitionError, PipelineError
from pipelines.core.salting.aqe import (
    MAX_SLICES,
    SLICES_PER_SLOT,
    aqe_split_record,
    by_slots_conf,
    coalesced_partition_bytes,
    coalescing_slots,
    partition_bytes,
)
from pipelines.core.salting.hot_keys import HotKeys, declared_hot_keys, detect_hot_keys
from pipelines.core.salting.placement import place_salts
from pipelines.core.salting.shuffles import SALTABLE_JOINS, hot_rows_fit_broadcast, needs_salting

__all__ = ["SaltDecision", "decide_salting"]

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


def _nested_loop(stage: Join, inputs: dict[str, DataFrame], conf: SaltSettings,
                 pipeline: str) -> SaltDecision:
    """A join on a condition alone whose right side is not small: its left, for an inner
    join; else refused (every pair of rows in a shuffle)."""
    if stage.how == "inner" and _fits_broadcast(inputs[stage.left], conf.broadcast_max_bytes):
        return SaltDecision(None, False, {"decision": "broadcast", "side": "left",
                                          "reason": "left side is small"})
    raise DefinitionError(
        f"a join on a condition alone needs a side Spark can broadcast: "
        f"'{stage.right}'" + (f" and '{stage.left}' are" if stage.how == "inner" else " is")
        + f" over salting.broadcast_max_bytes ({conf.broadcast_max_bytes} bytes, Spark's "
        "estimate); add equality keys ('on'), or make a side small (a Reduce without keys, a "
        "Top)", pipeline=pipeline, stage=stage.name, key="condition")


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
    unsalted = _unsalted(stage, inputs, conf, pipeline)
    if unsalted is not None:
        return unsalted
    keys, name = ((tuple(stage.on), stage.left) if isinstance(stage, Join)
                  else (tuple(stage.keys), stage.input))
    frame = inputs[name]
    spark = frame.sparkSession
    session_bytes = partition_bytes(spark)
    # a salted reduce's query is coalesced parallelism-first (SaltDecision.conf), one
    # partition per task slot, and its pieces are sized to that partition, from the bytes of
    # the columns the reduce shuffles; joins keep the session's by-size coalescing
    by_slots = (isinstance(stage, Reduce) and conf.reduce_coalesce == "parallelism"
                and session_bytes > 0)
    # such a query starts from finer partitions (see SLICES_PER_SLOT), its pieces of half a
    # partition: the coalescer packs a smaller partition with its neighbours but never splits
    # a larger one, and the estimate counts raw row bytes, not the partial aggregates the
    # shuffle carries
    partitions = (max(shuffle_partitions,
                      min(SLICES_PER_SLOT * coalescing_slots(spark), MAX_SLICES))
                  if by_slots else shuffle_partitions)
    if (isinstance(stage, Join) and not stage.hot_keys and stage.salt == "auto"
            and conf.auto_join == "aqe" and (record := aqe_split_record(spark, keys)) is not None):
        return SaltDecision(record=record)
    if stage.hot_keys:
        salts = stage.salt if isinstance(stage.salt, int) else conf.max_salt
        hot = declared_hot_keys(keys, stage.hot_keys, salts)
    else:
        sized: int | Callable[[float], float] = (
            (lambda total: coalesced_partition_bytes(spark, total)) if by_slots
            else session_bytes)
        shuffled = ([*keys, *sorted({c for a in stage.aggs for c in a.input_columns})]
                    if isinstance(stage, Reduce) else None)
        hot = detect_hot_keys(frame, keys, conf, shuffle_partitions=partitions,
                              sample=sampler(name, conf.sample_fraction) if sampler else None,
                              partition_bytes=sized, shuffled=shuffled,
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
    settings = by_slots_conf(spark, partitions, hot)
    return SaltDecision(hot, False, {**record, "spark_conf": settings}, conf=settings)


def _unsalted(stage: Reduce | Join, inputs: dict[str, DataFrame], conf: SaltSettings,
              pipeline: str) -> SaltDecision | None:
    """The decision for a stage that is broadcast or never salted, else None."""
    if isinstance(stage, Join):
        if stage.broadcast == "right" or (stage.broadcast == "auto" and _fits_broadcast(
                inputs[stage.right], conf.broadcast_max_bytes)):
            return SaltDecision(None, True, {"decision": "broadcast",
                                             "reason": "right side is small"})
        if stage.condition_only:
            return _nested_loop(stage, inputs, conf, pipeline)
        if not stage.by_name:  # keys named differently, or a condition: AQE's split alone
            record = (aqe_split_record(inputs[stage.left].sparkSession, stage.keys[0])
                      if conf.enabled and stage.salt == "auto" and conf.auto_join == "aqe"
                      else None)
            return SaltDecision(record=record or {
                "decision": "off", "reason": "keys named differently or a join condition"})
        if stage.how not in SALTABLE_JOINS:
            if isinstance(stage.salt, int):
                raise PipelineError(f"salting a {stage.how} join would duplicate rows; "
                                    "use inner or left", pipeline=pipeline, stage=stage.name)
            return SaltDecision(record={"decision": "off", "reason": f"{stage.how} join"})
    elif not stage.keys:
        return SaltDecision(record={"decision": "off", "reason": "no keys: one group"})
    elif stage.salt == "auto" and not needs_salting(stage.aggs):
        return SaltDecision(record={"decision": "off", "reason":
                                    "combinable aggregations (combined map-side)"})
    if stage.salt == "off" or not conf.enabled:
        return SaltDecision(record={"decision": "off", "reason": "disabled"})
    return None

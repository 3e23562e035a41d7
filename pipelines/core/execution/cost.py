"""What a run cost, from Spark's own accounting (its status store, kept with the UI off; no
Spark job): the CPU time its tasks spent on executors, and the cores and memory its
executors held while it ran, priced per core-hour and GB-hour (``cost`` in the conf files).

A run counts the Spark stages that started after it did, so runs one after another in one
session (a backfill, a notebook) are each charged their own; the status store keeps the last
``spark.ui.retainedStages`` stages (1,000), so a run of more stages than that is
undercounted. Allocation counts each executor from when the run (or the executor) started
to when the run (or the executor) ended: in local mode, the driver's ``local[N]`` cores.
"""

from __future__ import annotations

import logging
import re
import time
from typing import Any

from pyspark.sql import SparkSession

from pipelines.core.config.settings import CostSettings

__all__ = ["CostMeter", "memory_gb"]

log = logging.getLogger(__name__)

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)b?\s*$", re.IGNORECASE)
_UNIT_GB = {"": 1 / 1024 ** 3, "k": 1 / 1024 ** 2, "m": 1 / 1024, "g": 1.0, "t": 1024.0}


def memory_gb(setting: str | None, default: str = "1g") -> float:
    """GB of a JVM memory setting such as ``4g`` or ``512m`` (a bare number is bytes)."""
    match = _SIZE.match(setting or default) or _SIZE.match(default)
    assert match is not None
    number, unit = match.groups()
    return float(number) * _UNIT_GB[unit.lower()]


class CostMeter:
    """Started when a run starts; :meth:`measure` tells what the run used up to now."""

    def __init__(self, spark: SparkSession, *, started: float | None = None) -> None:
        self.spark = spark
        self.started = time.time() if started is None else started
        self.before = self._stage_keys()

    def _store(self) -> Any:
        return self.spark.sparkContext._jsc.sc().statusStore()

    def _stages(self) -> list[Any]:
        gateway = self.spark.sparkContext._gateway
        assert gateway is not None
        stages = self._store().stageList(None, False, False,
                                         gateway.new_array(gateway.jvm.double, 0), None)
        return [stages.apply(i) for i in range(stages.size())]

    def _stage_keys(self) -> set[tuple[int, int]]:
        try:
            return {(s.stageId(), s.attemptId()) for s in self._stages()}
        except Exception:  # noqa: BLE001 - accounting must never fail a run
            log.debug("no stage list", exc_info=True)
            return set()

    def _executor_memory_gb(self) -> float:
        conf = self.spark.sparkContext.getConf()
        local = (self.spark.sparkContext.master or "").startswith("local")
        key = "spark.driver.memory" if local else "spark.executor.memory"
        return memory_gb(conf.get(key, None))

    def measure(self, prices: CostSettings) -> dict[str, Any] | None:
        """CPU seconds, run seconds, core-seconds and GB-seconds since the run started, and
        their price; None where Spark's status store cannot be read."""
        ended = time.time()
        try:
            stages = [s for s in self._stages()
                      if (s.stageId(), s.attemptId()) not in self.before]
            cpu_s = sum(s.executorCpuTime() for s in stages) / 1e9
            run_s = sum(s.executorRunTime() for s in stages) / 1e3
            executors = self._store().executorList(False)
            memory = self._executor_memory_gb()
            core_s = gb_s = 0.0
            for i in range(executors.size()):
                ex = executors.apply(i)
                added = ex.addTime().getTime() / 1e3
                removed = (ex.removeTime().get().getTime() / 1e3
                           if ex.removeTime().isDefined() else ended)
                held = max(0.0, min(removed, ended) - max(added, self.started))
                core_s += ex.totalCores() * held
                gb_s += (memory if ex.totalCores() else 0.0) * held
        except Exception:  # noqa: BLE001 - accounting must never fail a run
            log.debug("no cost figures", exc_info=True)
            return None
        core_h, gb_h = core_s / 3600, gb_s / 3600
        return {
            "executor_cpu_seconds": round(cpu_s, 3),
            "executor_run_seconds": round(run_s, 3),
            "spark_stages": len(stages),
            "core_seconds": round(core_s, 3),
            "gb_seconds": round(gb_s, 3),
            "cpu_utilization": round(cpu_s / core_s, 4) if core_s else None,
            "cost": round(core_h * prices.core_hour + gb_h * prices.gb_hour, 6),
            "currency": prices.currency,
            "core_hour_price": prices.core_hour,
            "gb_hour_price": prices.gb_hour,
        }

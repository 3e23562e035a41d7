"""Shared helpers for the benchmark scripts (not part of the framework)."""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple, TypeVar

T = TypeVar("T")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("PIPELINES_CONF_DIR", str(ROOT / "conf"))
os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")


def plain_spark(shuffle_partitions: int = 8, **conf: str):
    """A Delta-enabled local[2] session built with pyspark/delta-spark only (no framework)."""
    from delta import configure_spark_with_delta_pip
    from pyspark.sql import SparkSession

    builder = (SparkSession.builder.master("local[2]").appName("bench")
               .config("spark.ui.enabled", "false")
               .config("spark.ui.showConsoleProgress", "false")
               .config("spark.sql.shuffle.partitions", str(shuffle_partitions))
               .config("spark.sql.session.timeZone", "UTC")
               .config("spark.databricks.delta.snapshotPartitions", "2")
               .config("spark.sql.extensions", "io.delta.sql.DeltaSparkSessionExtension")
               .config("spark.sql.catalog.spark_catalog",
                       "org.apache.spark.sql.delta.catalog.DeltaCatalog"))
    for key, value in conf.items():
        builder = builder.config(key.replace("__", "."), value)
    spark = configure_spark_with_delta_pip(builder).getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def framework_codegen_cache() -> int:
    """The generated-class cache size the framework's own sessions start with
    (``spark.sql.codegen.cache.maxEntries`` in ``conf/base.yaml``; Spark's default is 100)."""
    from pipelines.core.config.settings import load_settings

    conf = load_settings("local", []).spark.conf
    return int(conf.get("spark.sql.codegen.cache.maxEntries", 100))


class Cost(NamedTuple):
    """What one call cost: its wall seconds, the Spark jobs it ran, the classes Spark
    generated and compiled during it, the seconds the JVM's JIT compilers spent compiling
    during it, and the seconds its garbage collectors report for it."""

    wall_s: float
    jobs: int
    classes: int
    jit_s: float
    gc_s: float = 0.0


def spark_jobs(spark) -> int:
    """Spark jobs the application has run so far (from Spark's status store)."""
    return int(spark.sparkContext._jsc.sc().statusStore().jobsList(None).size())


def cost_of(spark, fn: Callable[[], object]) -> Cost:
    """Run ``fn`` and measure it. A class evicted from Spark's cache of generated classes
    (``spark.sql.codegen.cache.maxEntries``) is generated and compiled again when needed; on 2
    cores the JIT compilers take turns with the tasks."""
    jvm = spark.sparkContext._jvm
    classes = jvm.org.apache.spark.metrics.source.CodegenMetrics.METRIC_COMPILATION_TIME()
    jit = jvm.java.lang.management.ManagementFactory.getCompilationMXBean()
    jobs_before, classes_before = spark_jobs(spark), classes.getCount()
    jit_before, gc_before = jit.getTotalCompilationTime(), _gc_ms(jvm)
    wall = timed(fn)
    return Cost(wall, spark_jobs(spark) - jobs_before, int(classes.getCount() - classes_before),
                (jit.getTotalCompilationTime() - jit_before) / 1000.0,
                (_gc_ms(jvm) - gc_before) / 1000.0)


def _gc_ms(jvm) -> int:
    """Milliseconds the JVM's garbage collectors have reported so far (GarbageCollectorMXBean:
    for G1, its young and mixed collections and its pauses)."""
    beans = jvm.java.lang.management.ManagementFactory.getGarbageCollectorMXBeans()
    return sum(int(beans.get(i).getCollectionTime()) for i in range(beans.size()))


def in_turn(repeat: int, sides: list[T]) -> list[T]:
    """``sides`` in order in even repeats, reversed in odd ones: the JVM's JIT work falls run
    after run, which favours whichever side runs later, so the sides take turns going first."""
    return sides if repeat % 2 == 0 else sides[::-1]


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def median(values: list[float]) -> float:
    return statistics.median(values)

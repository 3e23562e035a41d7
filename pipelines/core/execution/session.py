"""Getting a SparkSession with Delta configured.

* Under ``spark-submit`` (or in a notebook with a session already running) the existing
  session is reused; its Delta packages come from ``--packages`` as shown in the README.
* From plain ``python`` or the ``pipelines`` command, a session is started with the Delta
  extension, catalog and JARs (resolved from Maven Central by Spark's Ivy on first use).
"""

from __future__ import annotations

import datetime
import logging
import os
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path
from typing import IO, TYPE_CHECKING

from pipelines.core.config.settings import Settings
from pipelines.core.layout import host_state

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

__all__ = ["get_spark", "delta_package", "delta_spark_conf", "scoped_conf", "live_progress",
           "DELTA_CONF"]

log = logging.getLogger(__name__)

DELTA_CONF = {
    "spark.sql.extensions": "io.delta.sql.DeltaSparkSessionExtension",
    "spark.sql.catalog.spark_catalog": "org.apache.spark.sql.delta.catalog.DeltaCatalog",
}

# Defaults that make a small local session start and run quickly; conf/*.yaml overrides them.
LOCAL_DEFAULTS = {
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.session.timeZone": "UTC",
    "spark.databricks.delta.snapshotPartitions": "2",
    "spark.databricks.delta.properties.defaults.checkpointInterval": "20",
}


def delta_package() -> str:
    """The Maven coordinate of the Delta JAR matching the installed pyspark and delta-spark."""
    import pyspark

    spark_minor = ".".join(pyspark.__version__.split(".")[:2])
    return f"io.delta:delta-spark_{spark_minor}_2.13:{metadata.version('delta-spark')}"


def delta_spark_conf(settings: Settings) -> dict[str, str]:
    """Every Spark setting the framework needs (for ``spark-submit --conf`` too)."""
    conf = dict(LOCAL_DEFAULTS)
    conf.update(DELTA_CONF)
    conf.update(_runtime_conf(settings))
    return conf


@contextmanager
def scoped_conf(spark: SparkSession, conf: Mapping[str, str]) -> Iterator[None]:
    """Set runtime SQL settings for the queries run inside the block, then restore them."""
    before: dict[str, str | None] = {key: spark.conf.get(key, None) for key in conf}
    try:
        for key, value in conf.items():
            spark.conf.set(key, value)
        yield
    finally:
        for key, old in before.items():
            if old is None:
                spark.conf.unset(key)
            else:
                spark.conf.set(key, old)


def _runtime_conf(settings: Settings) -> dict[str, str]:
    """The settings a running session takes: AQE's skew-join sizing, then ``spark.conf``."""
    from pipelines.core.salting import skew_conf

    return {**skew_conf(settings.salting), **settings.spark.conf}


def _launched_by_spark_submit() -> bool:
    return "PYSPARK_GATEWAY_PORT" in os.environ


def get_spark(settings: Settings) -> SparkSession:
    from pyspark.sql import SparkSession

    _route_query_context_logs(os.environ.get("PIPELINES_SPARK_LOG"))
    active = SparkSession.getActiveSession()
    if active is not None or _launched_by_spark_submit():
        spark = active or SparkSession.builder.getOrCreate()
        for key, value in _runtime_conf(settings).items():
            try:
                spark.conf.set(key, value)
            except Exception:  # noqa: BLE001 - static confs cannot change on a live session
                log.debug("cannot set static conf %s on a running session", key)
        return spark
    builder = SparkSession.builder.master(settings.spark.master).appName(settings.spark.app_name)
    conf = delta_spark_conf(settings)
    if "spark.ui.showConsoleProgress" not in settings.spark.conf and live_progress(sys.stderr):
        conf["spark.ui.showConsoleProgress"] = "true"  # Spark's bar under the progress lines
    options = conf.get("spark.driver.extraJavaOptions", "")
    conf["spark.driver.extraJavaOptions"] = f"{_log_options(settings)} {options}".strip()
    for key, value in conf.items():
        builder = builder.config(key, value)
    package = delta_package() if settings.spark.delta_package == "auto" else (
        settings.spark.delta_package)
    jars = _cached_jars(package) if package else None
    if jars:
        builder = builder.config("spark.jars", ",".join(jars))
    elif package:
        builder = builder.config("spark.jars.packages", package)
    spark = builder.getOrCreate()
    _route_query_context_logs(os.environ.get("PIPELINES_SPARK_LOG"))
    spark.sparkContext.setLogLevel("ERROR")
    if package and not jars:
        _remember_jars(package, spark.sparkContext.getConf().get("spark.jars", ""))
    return spark


# PySpark logs every analysis error with its Java stack, as JSON on stderr, before the error
# reaches the framework: kept to Spark's log file (dropped where there is none)
_QUERY_CONTEXT_LOGGERS = ("SQLQueryContextLogger", "DataFrameQueryContextLogger")


def _route_query_context_logs(path: str | None) -> None:
    from pyspark.logger import PySparkLogger

    for name in _QUERY_CONTEXT_LOGGERS:
        logger = PySparkLogger.getLogger(name)  # its kind: PySpark logs with extra fields
        for old in list(logger.handlers):
            logger.removeHandler(old)
            old.close()
        logger.propagate = False
        target: logging.Handler = logging.NullHandler()
        if path:
            try:
                target = logging.FileHandler(path, delay=True)
            except OSError:  # a log that cannot be written is no reason to fail
                pass
        logger.addHandler(target)


def live_progress(stream: IO[str]) -> bool:
    """Whether to show Spark's live progress bar: on a terminal, unless ``--quiet``; never
    in a cron log or a pipe, which get the progress lines alone."""
    from pipelines.core.execution.progress import log as progress_log

    try:
        tty = stream.isatty()
    except (AttributeError, ValueError):
        return False
    return tty and progress_log.isEnabledFor(logging.INFO)


LOG4J2 = os.path.join(os.path.dirname(__file__), "log4j2.properties")


def spark_log_file(settings: Settings) -> str:
    """Where Spark's own log lines go for a session the framework starts: one file per
    process under the warehouse's ``_pipelines/logs`` (a remote warehouse: this host's
    ``~/.local/state/pipelines/logs``)."""
    folder = os.path.join(os.path.dirname(settings.lock_path), "logs")
    if settings.lock_dir or "://" in settings.warehouse_path and not (
            settings.warehouse_path.startswith("file:")):
        folder = host_state("logs")
    os.makedirs(folder, exist_ok=True)
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%S")
    return os.path.join(folder, f"spark-{stamp}-{os.getpid()}.log")


def _log_options(settings: Settings) -> str:
    path = spark_log_file(settings)
    os.environ["PIPELINES_SPARK_LOG"] = path  # for the error line of the command
    return java_options({"log4j2.configurationFile": Path(LOG4J2).resolve().as_uri(),
                         "pipelines.spark.log": path})


def java_options(properties: dict[str, str]) -> str:
    """``-Dkey=value`` options for ``extraJavaOptions``, each in double quotes so that a
    value with spaces (a warehouse folder) stays one option when Spark splits the string."""
    def quoted(text: str) -> str:
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'

    return " ".join(quoted(f"-D{key}={value}") for key, value in properties.items())


def _jar_cache(package: str) -> str:
    safe = package.replace(":", "_").replace("/", "_")
    return os.path.join(sys.prefix, "share", "pipelines", f"{safe}.jars")


def _cached_jars(package: str) -> list[str] | None:
    """The JAR files Ivy resolved for ``package`` on an earlier start (skips resolving)."""
    try:
        with open(_jar_cache(package)) as fh:
            jars = [line.strip() for line in fh if line.strip()]
    except OSError:
        return None
    local = [j.removeprefix("file://").removeprefix("file:") for j in jars]
    return jars if jars and all(os.path.exists(j) for j in local) else None


def _remember_jars(package: str, jars: str) -> None:
    paths = [j for j in jars.split(",") if j.endswith(".jar")]
    if not paths:
        return
    try:
        os.makedirs(os.path.dirname(_jar_cache(package)), exist_ok=True)
        with open(_jar_cache(package), "w") as fh:
            fh.write("\n".join(paths) + "\n")
    except OSError:
        log.debug("cannot cache the Delta JAR list", exc_info=True)


def _warm() -> None:
    """Resolve the Delta JARs once and prove a Delta write works (``make setup``)."""
    import tempfile

    from pipelines.core.config.settings import load_settings

    spark = get_spark(load_settings("local"))
    with tempfile.TemporaryDirectory() as tmp:
        spark.range(3).write.format("delta").save(f"{tmp}/t")
        rows = spark.read.format("delta").load(f"{tmp}/t").count()
    spark.stop()
    sys.stdout.write(f"Delta OK ({delta_package()}, {rows} rows read back)\n")


if __name__ == "__main__":
    if "--warm" in sys.argv:
        _warm()

"""The sections of the settings (``spark:``, ``salting:``, ``quality:``, ...): typed, with their
defaults; ``settings.py`` loads and validates them."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["SparkSettings", "SaltSettings", "QualitySettings", "RetrySettings",
           "CostSettings", "MetricsSettings", "MaintenanceSettings"]


@dataclass(frozen=True)
class SparkSettings:
    master: str = "local[2]"
    app_name: str = "pipelines"
    delta_package: str = "auto"  # "auto": derived from the installed pyspark/delta-spark
    conf: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class SaltSettings:
    enabled: bool = True
    # A key is hot when its estimated shuffle bytes exceed this share of one reduce task's
    # fair share, and at least this many bytes (Spark AQE's skew thresholds have the same form).
    skew_factor: float = 3.0
    min_hot_bytes: int = 8 * 1024 * 1024
    # the size of one piece of a hot key: AQE cuts a skewed join partition into pieces of it
    # and coalesces the session's other shuffle partitions to it (its advisory partition
    # size, at least 1 MiB). Not min_hot_bytes: when a key is hot and how big a task should
    # be are separate questions (Spark: 256 MB and 64 MB)
    target_bytes_per_salt: int = 12 * 1024 * 1024
    max_salt: int = 64
    sample_fraction: float = 0.01
    max_hot_keys: int = 32
    broadcast_max_bytes: int = 10 * 1024 * 1024
    # joins with salt="auto" and no declared hot keys: "aqe" leaves the split of a skewed
    # partition to Spark's AQE skew join, its thresholds set from skew_factor/min_hot_bytes,
    # its pieces cut to target_bytes_per_salt (no detection pass); "sample" detects hot keys
    # from a sample and salts them
    auto_join: str = "aqe"
    # the partitions a salted reduce's query is coalesced to: "parallelism" (Spark's default
    # rule: at least spark.default.parallelism of them, so that every task slot gets a
    # piece; hot keys are cut to that size), or "size" (the session's, target_bytes_per_salt)
    reduce_coalesce: str = "parallelism"


@dataclass(frozen=True)
class QualitySettings:
    drop_threshold: float = 0.001  # share of rows a "drop" check may remove before it fails the run
    sample_values: int = 5
    # also write each run's verdicts as GE's ExpectationSuiteValidationResult JSON; off by
    # default because importing GE costs seconds per run (`pipelines show --ge` converts later)
    ge_results: bool = False


@dataclass(frozen=True)
class RetrySettings:
    max_attempts: int = 3
    base_delay_s: float = 1.0
    max_delay_s: float = 30.0


@dataclass(frozen=True)
class CostSettings:
    """Prices per hour of each executor core and GB of executor memory a run holds."""

    core_hour: float = 0.0
    gb_hour: float = 0.0
    currency: str = "USD"


@dataclass(frozen=True)
class MetricsSettings:
    """Where each run leaves the ledger's metrics (empty: not there)."""

    textfile_dir: str = ""
    pushgateway: str = ""


@dataclass(frozen=True)
class MaintenanceSettings:
    """VACUUM keeps files removed less than ``retain_hours`` ago, at least the
    ``time_travel_hours`` that rollback and time travel must reach back."""

    retain_hours: float = 168.0
    time_travel_hours: float = 168.0

"""Evaluating expectations without a pass over the data per expectation.

Scan-type expectations (nulls, sets, ranges, regex, mean/min/max, row count) become aggregate
expressions observed while the stage's output is being materialized (``DataFrame.observe``):
no extra Spark job. Uniqueness needs a shuffle: one query per uniqueness check over the
materialized output, its verdict observed while the counted rows stream by. Rows failing a
``drop`` expectation are flagged in the same pass, then split off to quarantine. Results
are reported through Great Expectations' result objects by :mod:`pipelines.core.quality.ge_adapter`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pyspark.sql import Column, DataFrame, Observation, Window
from pyspark.sql import functions as F

from pipelines.core.config.settings import QualitySettings
from pipelines.core.declare.expectations import Expectation

__all__ = ["CheckResult", "StageQuality", "QualityGate", "FLAGS", "MAX_DROP_CHECKS"]

FLAGS = "__failed_checks"
MAX_DROP_CHECKS = 62  # one bit each in the FLAGS bigint
_ROWS = "__rows"


@dataclass(frozen=True)
class CheckResult:
    stage: str
    expectation: str
    ge_type: str
    severity: str
    success: bool
    evaluated_rows: int
    failing_rows: int
    observed_value: Any = None
    samples: tuple[Any, ...] = ()
    kwargs: dict[str, Any] = field(default_factory=dict)
    escalated: bool = False  # a drop check that removed too many rows

    @property
    def blocking(self) -> bool:
        return not self.success and (self.severity == "fail" or self.escalated)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CheckResult:
        """A result as :meth:`to_dict` wrote it (the ledger's and ``--json``'s form)."""
        fields = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        fields["samples"] = tuple(fields.get("samples") or ())
        return cls(**fields)

    def to_dict(self) -> dict[str, Any]:
        return {"stage": self.stage, "expectation": self.expectation, "ge_type": self.ge_type,
                "severity": self.severity, "success": self.success,
                "evaluated_rows": self.evaluated_rows, "failing_rows": self.failing_rows,
                "observed_value": _plain(self.observed_value),
                "samples": [_plain(s) for s in self.samples], "blocking": self.blocking}


def _plain(value: Any) -> Any:
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return str(value)


@dataclass
class StageQuality:
    stage: str
    results: list[CheckResult]
    rows: int = 0
    dropped_rows: int = 0
    # key sets (as declared by a merge sink) proven unique over the kept rows: a passed
    # uniqueness check on exactly those columns, and at most one row whose keys are all null
    unique_keys: dict[tuple[str, ...], str] = field(default_factory=dict)

    @property
    def blocking(self) -> list[CheckResult]:
        return [r for r in self.results if r.blocking]


def _violates(check: Expectation) -> Column | None:
    """True where a row fails a row-level expectation (nulls pass all but not_null, as in GE);
    None for an expectation that is not row-level."""
    if check.column is None:
        return None
    c = F.col(check.column)
    if check.kind == "not_null":
        return c.isNull()
    if check.kind == "in_set":
        return c.isNotNull() & ~c.isin(list(check.args["values"]))
    if check.kind == "between":
        lo, hi = check.args.get("min_value"), check.args.get("max_value")
        cond = F.lit(False)
        if lo is not None:
            cond = cond | (c < F.lit(lo))
        if hi is not None:
            cond = cond | (c > F.lit(hi))
        return c.isNotNull() & cond
    if check.kind == "regex":
        return c.isNotNull() & ~c.cast("string").rlike(check.args["regex"])
    return None


def _row_violation(check: Expectation) -> Column:
    violated = _violates(check)
    if violated is None:  # the plan lets only row-level expectations drop rows
        raise ValueError(f"{check.name} is not a row-level expectation")
    return violated


class QualityGate:
    """The checks of one stage: prepare the frame, then evaluate after it is materialized."""

    def __init__(self, stage: str, checks: Sequence[Expectation], settings: QualitySettings,
                 *, key_sets: Sequence[Sequence[str]] = ()) -> None:
        """``key_sets``: merge keys of the sinks this stage feeds; the gate tells whether its
        checks already prove each set unique (see :attr:`StageQuality.unique_keys`)."""
        self.stage = stage
        self.key_sets = list(dict.fromkeys(tuple(k) for k in key_sets))
        self.checks = [c for c in checks if c.kind != "suite"]
        self.suites = [c for c in checks if c.kind == "suite"]
        self.settings = settings
        self.observation: Observation | None = None
        self._drop = [c for c in self.checks if c.severity == "drop"]

    @property
    def drops_rows(self) -> bool:
        return bool(self._drop)

    def _metrics(self) -> list[Column]:
        exprs: list[Column] = [F.count(F.lit(1)).alias(_ROWS)]
        if self._drop:
            exprs.append(F.sum(F.when(F.col(FLAGS) != 0, 1).otherwise(0)).alias("__dropped"))
        for i, check in enumerate(self.checks):
            violated = _violates(check)
            if violated is not None:
                exprs.append(F.sum(F.when(violated, 1).otherwise(0)).alias(f"f{i}"))
                if check.kind != "not_null":
                    picked = F.when(violated, F.col(str(check.column)))
                    exprs += [F.min(picked).alias(f"lo{i}"), F.max(picked).alias(f"hi{i}")]
            elif check.kind in ("mean_between", "min_between", "max_between"):
                fn = {"mean_between": F.avg, "min_between": F.min, "max_between": F.max}[check.kind]
                exprs.append(fn(F.col(str(check.column))).alias(f"v{i}"))
        kept = F.col(FLAGS) == 0 if self._drop else F.lit(True)
        for j, keys in enumerate(self.key_sets):
            if self._uniqueness_check(keys) is not None:  # rows whose merge keys are all null
                all_null = kept
                for key in keys:
                    all_null = all_null & F.col(key).isNull()
                exprs.append(F.sum(F.when(all_null, 1).otherwise(0)).alias(f"__nullkeys{j}"))
        return exprs

    def _uniqueness_check(self, keys: tuple[str, ...]) -> Expectation | None:
        for check in self.checks:
            if check.kind in ("unique", "unique_together") and (
                    set(check.referenced_columns) == set(keys)):
                return check
        return None

    def prepare(self, df: DataFrame) -> DataFrame:
        """Attach the observed metrics (and the drop flags) to the frame to be materialized.

        The flags are one bigint per row, bit ``i`` set when the row fails the ``i``-th drop
        check: plain arithmetic that Spark compiles, and a small column in the cache or the
        staging files, read again by every downstream stage. Only the dropped rows get the
        checks' names (:meth:`bad_rows`).
        """
        if self._drop:
            bits = [F.when(_row_violation(c), F.lit(1 << i)).otherwise(F.lit(0))
                    for i, c in enumerate(self._drop)]
            df = df.withColumn(FLAGS, sum(bits[1:], bits[0]).cast("bigint"))
        self.observation = Observation(f"quality:{self.stage}")
        return df.observe(self.observation, *self._metrics())

    def evaluate(self, staged: DataFrame, *, columns: Sequence[str]) -> StageQuality:
        """Verdicts for every check; run after the prepared frame was materialized.

        ``staged`` is the materialized output (read back), used only by uniqueness checks.
        """
        if self.observation is not None:
            metrics = self.observation.get
        else:  # resumed from an earlier attempt's staging table: one aggregate job
            metrics = staged.agg(*self._metrics()).collect()[0].asDict()
        rows = int(metrics.get(_ROWS, 0) or 0)
        results = [self._verdict(i, check, metrics, rows, staged, columns)
                   for i, check in enumerate(self.checks)]
        dropped = 0
        if self._drop:
            # a row failing several drop checks is dropped once: count rows, not failures
            dropped = int(metrics.get("__dropped", 0) or 0)
        proven: dict[tuple[str, ...], str] = {}
        for j, keys in enumerate(self.key_sets):
            check = self._uniqueness_check(keys)
            if check is None:
                continue
            passed = any(r.expectation == check.name and r.success for r in results)
            # the uniqueness check skips all-null keys; MERGE matches nulls to nulls (<=>)
            if passed and int(metrics.get(f"__nullkeys{j}", 0) or 0) <= 1:
                proven[keys] = check.name
        return StageQuality(self.stage, results, rows, dropped, proven)

    def _verdict(self, i: int, check: Expectation, metrics: dict[str, Any], rows: int,
                 staged: DataFrame, columns: Sequence[str]) -> CheckResult:
        base: dict[str, Any] = {"stage": self.stage, "expectation": check.name,
                                "ge_type": check.ge_type, "severity": check.severity,
                                "kwargs": check.ge_kwargs}
        if check.kind == "columns_exist":
            missing = [c for c in check.columns if c not in columns]
            extra = [c for c in columns if c not in check.columns and not c.startswith("__")]
            ok = not missing and not (check.args.get("exact_match") and extra)
            return CheckResult(**base, success=ok, evaluated_rows=rows,
                               failing_rows=0, observed_value=[c for c in columns
                                                               if not c.startswith("__")],
                               samples=tuple(missing or extra))
        if check.kind == "row_count_between":
            return CheckResult(**base, success=_within(rows, check.args), evaluated_rows=rows,
                               failing_rows=0, observed_value=rows)
        if check.kind in ("mean_between", "min_between", "max_between"):
            value = metrics.get(f"v{i}")
            ok = value is not None and _within(value, check.args)
            return CheckResult(**base, success=ok, evaluated_rows=rows, failing_rows=0,
                               observed_value=value)
        if check.kind in ("unique", "unique_together"):
            failing, samples = _duplicates(staged, check)
            return CheckResult(**base, success=failing == 0, evaluated_rows=rows,
                               failing_rows=failing, observed_value=failing, samples=samples)
        failing = int(metrics.get(f"f{i}", 0) or 0)
        samples = tuple(v for v in (metrics.get(f"lo{i}"), metrics.get(f"hi{i}"))
                        if v is not None)
        samples = tuple(dict.fromkeys(samples))
        escalated = False
        if check.severity == "drop" and rows:
            limit = (check.max_drop_share if check.max_drop_share is not None
                     else self.settings.drop_threshold)
            escalated = failing / rows > limit
        return CheckResult(**base, success=failing == 0, evaluated_rows=rows,
                           failing_rows=failing,
                           observed_value=round(failing / rows, 6) if rows else 0.0,
                           samples=samples, escalated=escalated)

    def good_rows(self, staged: DataFrame) -> DataFrame:
        if not self._drop:
            return staged
        return staged.where(F.col(FLAGS) == 0).drop(FLAGS)

    def bad_rows(self, staged: DataFrame) -> DataFrame:
        """The dropped rows, with the names of the checks each failed in ``FLAGS``."""
        names = [F.when((F.col(FLAGS).bitwiseAND(F.lit(1 << i))) != 0, F.lit(c.name))
                 for i, c in enumerate(self._drop)]
        return staged.where(F.col(FLAGS) != 0).withColumn(
            FLAGS, F.array_compact(F.array(*names)))


def _within(value: Any, args: dict[str, Any]) -> bool:
    lo, hi = args.get("min_value"), args.get("max_value")
    return (lo is None or value >= lo) and (hi is None or value <= hi)


def _duplicates(staged: DataFrame, check: Expectation) -> tuple[int, tuple[Any, ...]]:
    """Rows whose (non-null) value occurs more than once, as GE counts them.

    Each row learns its value's count from a window partitioned by the value (a shuffle and a
    sort, cheaper here than a two-level hash aggregation of every distinct value), and the
    verdict is observed while the rows stream into a no-op sink. This runs first over a
    64-bit hash of each value: equal values have equal hashes, so when no hash repeats, no
    value does, and the shuffle carries 8 bytes per row whatever the key's width. Only when a
    hash repeats (a duplicate, or a rare collision) is it run over the values themselves, for
    the exact count. Samples are the smallest and largest duplicated value.
    """
    cols = list(check.referenced_columns)
    df = staged.where(F.col(FLAGS) == 0) if FLAGS in staged.columns else staged
    if len(cols) == 1:
        df = df.where(F.col(cols[0]).isNotNull())
    else:  # as GE: skip rows whose values are all missing
        df = df.where(F.greatest(*[F.col(c).isNotNull().cast("int") for c in cols]) == 1)
    hashed = df.select(F.xxhash64(*[F.col(c) for c in cols]).alias("__h"))
    if not _repeats(hashed, ["__h"], check.name)["n"]:
        return 0, ()
    key = F.col(cols[0]) if len(cols) == 1 else F.struct(*cols)
    metrics = _repeats(df.select(*cols), cols, check.name, key)
    failing = int(metrics.get("n") or 0)
    samples = tuple(dict.fromkeys(
        _plain(v.asDict() if hasattr(v, "asDict") else v)
        for v in (metrics.get("lo"), metrics.get("hi")) if v is not None))
    return failing, samples


def _repeats(df: DataFrame, cols: Sequence[str], name: str,
             key: Column | None = None) -> dict[str, Any]:
    """Rows of ``df`` whose ``cols`` occur more than once (``n``), observed in one query; with
    ``key``, also its smallest and largest repeated value (``lo``, ``hi``)."""
    counted = df.withColumn(
        "__n", F.count(F.lit(1)).over(Window.partitionBy(*[F.col(c) for c in cols])))
    repeated = F.col("__n") > 1
    metrics = [F.count(F.when(repeated, 1)).alias("n")]
    if key is not None:
        metrics += [F.min(F.when(repeated, key)).alias("lo"),
                    F.max(F.when(repeated, key)).alias("hi")]
    observation = Observation(f"unique:{name}")
    counted.observe(observation, *metrics).write.format("noop").mode("overwrite").save()
    return observation.get

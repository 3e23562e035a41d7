"""Canary runs and their diff against production.

A canary run reads production's inputs (a sample of them) and writes everything else (its
tables, staging, ledger, reports, lock) under ``<warehouse>/_canary``, which production never
reads. :func:`diff` compares each sink's canary table with production's, over the rows the
canary's sample kept (production restricted to the canary's keys when it sampled by key):
rows added, removed and changed per key, and per numeric column the mean, min, max and null
share on both sides with the mean's relative shift.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import NumericType

from pipelines.core.config.sections import MetricsSettings
from pipelines.core.config.settings import Settings
from pipelines.core.declare.spec import Sink
from pipelines.core.delta.modes import HISTORY_COLUMN_NAMES, mode_of
from pipelines.core.delta.tables import is_delta, read_delta, table_path
from pipelines.core.errors import UsageError
from pipelines.core.layout import canary_root
from pipelines.core.planning.plan import Plan
from pipelines.core.records.ledger import Ledger, RunRecord

__all__ = ["Staged", "canary_settings", "diff", "staged_run", "staged_outputs"]

def canary_settings(settings: Settings) -> Settings:
    """The settings of a canary run: its own warehouse, production's as its inputs, no
    metrics export (a canary is not a production run)."""
    production = settings.warehouse_path
    return dataclasses.replace(settings, warehouse=canary_root(production),
                               input_warehouse=production, metrics=MetricsSettings(),
                               lock_dir="")


def _keys(sink: Sink, columns: list[str], by: list[str], asked: list[str]) -> list[str]:
    # declared merge keys, else the sampled keys, else the whole row (added/removed only)
    keys = asked or list(sink.keys) or [c for c in by if c in columns] or list(columns)
    missing = [k for k in keys if k not in columns]
    if missing:
        raise UsageError(f"sink {sink.name} has no column '{missing[0]}' to compare by",
                         sink=sink.name, column=missing[0])
    return keys


def _stats(df: DataFrame, numeric: list[str]) -> tuple[int, dict[str, dict[str, Any]]]:
    """The row count, and per numeric column mean, min, max and null share: one job."""
    aggs = [F.count(F.lit(1)).alias("__rows")]
    for c in numeric:
        aggs += [F.avg(c).alias(f"{c}__mean"), F.min(c).alias(f"{c}__min"),
                 F.max(c).alias(f"{c}__max"),
                 F.avg(F.col(c).isNull().cast("double")).alias(f"{c}__nulls")]
    row = df.agg(*aggs).first()
    assert row is not None
    return int(row["__rows"]), {
        c: {k: (float(row[f"{c}__{k}"]) if row[f"{c}__{k}"] is not None else None)
            for k in ("mean", "min", "max", "nulls")} for c in numeric}


def _compare(canary: DataFrame, production: DataFrame, keys: list[str]) -> dict[str, int]:
    values = [c for c in canary.columns if c not in keys and c in production.columns]
    a = canary.withColumn("__in_a", F.lit(True)).alias("a")
    b = production.withColumn("__in_b", F.lit(True)).alias("b")
    on = functools.reduce(lambda x, y: x & y,
                          [F.col(f"a.{k}").eqNullSafe(F.col(f"b.{k}")) for k in keys])
    same = functools.reduce(lambda x, y: x & y,
                            [F.col(f"a.{c}").eqNullSafe(F.col(f"b.{c}")) for c in values],
                            F.lit(True))
    in_a, in_b = F.col("a.__in_a").isNotNull(), F.col("b.__in_b").isNotNull()
    row = a.join(b, on, "full_outer").agg(
        F.sum(F.when(in_a & ~in_b, 1).otherwise(0)).alias("added"),
        F.sum(F.when(~in_a & in_b, 1).otherwise(0)).alias("removed"),
        F.sum(F.when(in_a & in_b & ~same, 1).otherwise(0)).alias("changed")).first()
    assert row is not None
    return {k: int(row[k] or 0) for k in ("added", "removed", "changed")}


def _current(df: DataFrame) -> DataFrame:
    """An scd2 table's current rows with its data columns only."""
    return df.where("is_current").drop(*HISTORY_COLUMN_NAMES)


def _shift(ours: dict[str, Any], theirs: dict[str, Any]) -> float | None:
    if ours.get("mean") is None or theirs.get("mean") in (None, 0.0):
        return None
    return abs(ours["mean"] - theirs["mean"]) / abs(theirs["mean"])


def diff(spark: SparkSession, settings: Settings, plan: Plan, *, keys: list[str],
         max_changed_share: float, max_mean_shift: float) -> dict[str, Any]:
    """Each sink's canary table against production's, and the thresholds it breaks."""
    production = settings.warehouse_path
    canary = canary_root(production)
    runs = [r for r in Ledger(None, canary).runs(plan.name, plan.date)
            if r.status == "succeeded"]
    if not runs:
        raise UsageError(f"no succeeded canary run of {plan.name} for {plan.date}; run "
                         f"pipelines run {plan.name} --date {plan.date} --canary first",
                         pipeline=plan.name, key="canary")
    sample = (runs[-1].data.get("notes") or {}).get("canary") or {}
    by = list(sample.get("by") or [])
    sinks, breaches = [], []
    for sink in plan.sinks.values():
        ours_path = table_path(canary, sink.table)
        theirs_path = table_path(production, sink.table)
        if not (is_delta(spark, ours_path) and is_delta(spark, theirs_path)):
            raise UsageError(f"sink {sink.name}: no table to compare at "
                             f"{ours_path if not is_delta(spark, ours_path) else theirs_path}",
                             sink=sink.name)
        ours, theirs = read_delta(spark, ours_path), read_delta(spark, theirs_path)
        if sink.replace_where:  # the plan's, rendered for the date and parameters
            ours, theirs = ours.where(sink.replace_where), theirs.where(sink.replace_where)
        if mode_of(sink).keeps_history:  # the dimension as it stands: one current row a key
            ours, theirs = _current(ours), _current(theirs)
        on = _keys(sink, ours.columns, by, keys)
        if by and all(c in theirs.columns for c in by):  # production over the canary's keys
            theirs = theirs.join(ours.select(*by).distinct(), by, "left_semi")
        counts = _compare(ours, theirs, on)
        numeric = [f.name for f in ours.schema.fields if isinstance(f.dataType, NumericType)
                   and f.name in theirs.columns and f.name not in on]
        (ours_rows, a), (theirs_rows, b) = _stats(ours, numeric), _stats(theirs, numeric)
        rows = {"canary": ours_rows, "production": theirs_rows}
        columns: dict[str, dict[str, Any]] = {
            c: {"canary": a[c], "production": b[c], "mean_shift": _shift(a[c], b[c])}
            for c in numeric}
        differing = counts["added"] + counts["removed"] + counts["changed"]
        share = differing / max(rows["production"], 1)
        if share > max_changed_share:
            breaches.append(f"{sink.name}: {differing} of {rows['production']} rows differ "
                            f"(added {counts['added']}, removed {counts['removed']}, changed "
                            f"{counts['changed']}), over --max-changed-share "
                            f"{max_changed_share:g}")
        for c, found in columns.items():
            if found["mean_shift"] is not None and found["mean_shift"] > max_mean_shift:
                breaches.append(f"{sink.name}.{c}: mean moved {found['mean_shift']:.1%}, over "
                                f"--max-mean-shift {max_mean_shift:g}")
        sinks.append({"sink": sink.name, "table": sink.table, "keys": on, **rows, **counts,
                      "changed_share": round(share, 6), "columns": columns})
    return {"pipeline": plan.name, "date": plan.date, "canary_run": runs[-1].run_id,
            "sample": sample, "sinks": sinks, "breaches": breaches}


def staged_run(settings: Settings, plan: Plan) -> RunRecord:
    """The latest succeeded run of ``plan``'s date in the canary warehouse (a staged backfill
    or a canary), which :func:`staged_outputs` promotes."""
    root = canary_root(settings.warehouse_path)
    runs = [r for r in Ledger(None, root).runs(plan.name, plan.date) if r.status == "succeeded"]
    if not runs:
        raise UsageError(f"no staged run of {plan.name} for {plan.date} to promote; run "
                         f"pipelines backfill {plan.name} ... --staging first",
                         pipeline=plan.name, key=plan.date)
    if (runs[-1].data.get("notes") or {}).get("canary"):
        raise UsageError(f"run {runs[-1].run_id} is a sampled canary: only a staged run of "
                         "the whole input can be promoted", pipeline=plan.name,
                         key=runs[-1].run_id)
    return runs[-1]


@dataclasses.dataclass(frozen=True)
class Staged:
    """A staged run's outputs to promote: rows per sink, and the inputs it read."""

    run_id: str
    data: dict[str, DataFrame]
    inputs: dict[str, Any]


def staged_outputs(spark: SparkSession, settings: Settings, plan: Plan,
                   run: RunRecord) -> Staged:
    """Per sink, the rows the staged ``run`` published, read back from the version it
    committed: that version of an overwritten table, its ``replace_where`` of a table whose
    partitions it replaced, the current rows of a dimension with history (without its history
    columns, which the promoting run adds), and the rows its commit added to an appended or
    merged one."""
    root = canary_root(settings.warehouse_path)
    versions = {o["sink"]: o["delta_version"] for o in run.data.get("outputs") or []}
    out = {}
    for sink in plan.sinks.values():
        version = versions.get(sink.name)
        if version is None:
            raise UsageError(f"staged run {run.run_id} did not publish sink {sink.name}",
                             sink=sink.name, key=run.run_id)
        path = table_path(root, sink.table)
        rows = read_delta(spark, path, version)
        mode = mode_of(sink)
        if mode.keeps_history:  # the snapshot it loaded: the current rows, without history
            rows = _current(rows)
        elif mode.needs_replace_where and sink.replace_where:
            rows = rows.where(sink.replace_where)
        elif not mode.replaces_table and version > 0:
            rows = rows.exceptAll(read_delta(spark, path, version - 1))
        out[sink.name] = rows
    return Staged(run.run_id, out, dict(run.data.get("inputs") or {}))

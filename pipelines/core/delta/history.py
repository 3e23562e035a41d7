"""Type 2 slowly changing dimensions: every version of a row kept, with when it held.

The table holds the sink's data columns plus ``valid_from``, ``valid_to`` and ``is_current``.
One MERGE per run closes the current row of each key whose tracked columns changed and
inserts its new version (both in the same commit), inserts the first row of a new key, and
leaves unchanged and absent keys alone.

A new generation of a date already loaded (corrected data, a rerun) first undoes that date:
its versions are removed and the versions it closed reopened; then the date is applied again.
The table ends exactly as a clean load up to that date would leave it, keys the new data
lacks included, in one commit that rewrites the table (a MERGE cannot both remove the date's
versions and apply it again).
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from pipelines.core.declare.spec import Sink
from pipelines.core.delta.modes import HISTORY_COLUMN_NAMES
from pipelines.core.errors import DefinitionError

__all__ = ["with_history_columns", "merge_history", "check_order"]

_INSERT = "__scd2_insert"  # marks the staged copy of a changed row that becomes its new version


def with_history_columns(df: DataFrame, date: str) -> DataFrame:
    """The rows as a current version valid from ``date``: the table's full set of columns."""
    return df.select(*df.columns,
                     F.lit(date).cast("date").alias("valid_from"),
                     F.lit(None).cast("date").alias("valid_to"),
                     F.lit(True).alias("is_current"))


def check_order(current: DataFrame, sink: Sink, *, date: str, pipeline: str) -> None:
    """Refuse to load ``date`` into a table (``current``, as read now) whose history already
    goes past it."""
    newest = current.agg(F.max("valid_from").cast("string")).first()
    if newest is not None and newest[0] is not None and newest[0] > date:
        raise DefinitionError(
            f"table {sink.table} holds history up to {newest[0]}; loading {date} before it "
            "would rewrite later versions (load dates in order, or roll back first)",
            pipeline=pipeline, sink=sink.name, key=date)


def merge_history(session: SparkSession, df: DataFrame, sink: Sink, path: str, *,
                  date: str, pipeline: str, write_options: dict[str, str]) -> None:
    """MERGE ``df`` (with its history columns) into the table at ``path`` on ``session``,
    whose confs carry the idempotent-write pair (``write_options`` carries it too, for the
    rewrite of a date loaded before)."""
    from delta.tables import DeltaTable

    table = DeltaTable.forPath(session, path)
    check_order(table.toDF(), sink, date=date, pipeline=pipeline)
    data_cols = [c for c in df.columns if c not in HISTORY_COLUMN_NAMES]
    tracked = [c for c in data_cols if c not in sink.keys]
    changed = " OR ".join(f"NOT (t.`{c}` <=> s.`{c}`)" for c in tracked) or "false"
    same_key = " AND ".join(f"t.`{k}` <=> s.`{k}`" for k in sink.keys)
    day = F.lit(date).cast("date")
    loaded = table.toDF().where((F.col("valid_from") == day) | (F.col("valid_to") == day))
    if loaded.limit(1).count():
        reloaded = _reload(table.toDF(), df, day, changed=changed, same_key=same_key)
        (reloaded.select(*table.toDF().columns).write.format("delta").mode("overwrite")
         .options(**write_options).save(path))
        return
    current = table.toDF().where("is_current")
    # a changed key's current row needs a second source row: one closes the old version
    # (matched), this one inserts the new (never matches)
    new_versions = (df.alias("s").join(current.alias("t"), F.expr(same_key))
                    .where(changed).select("s.*"))
    staged = (df.withColumn(_INSERT, F.lit(False))
              .unionByName(new_versions.withColumn(_INSERT, F.lit(True))))
    (table.alias("t")
     .merge(staged.alias("s"), f"NOT s.{_INSERT} AND t.is_current AND {same_key}")
     .whenMatchedUpdate(condition=changed,
                        set={"valid_to": "s.valid_from", "is_current": "false"})
     .whenNotMatchedInsert(values={c: f"s.`{c}`" for c in (*data_cols, *HISTORY_COLUMN_NAMES)})
     .execute())


def _reload(table: DataFrame, df: DataFrame, day: Column, *, changed: str,
            same_key: str) -> DataFrame:
    """The whole table with ``day`` undone (its versions removed, the versions it closed
    reopened) and then applied again from ``df``."""
    reopened = F.col("valid_to") == day
    base = (table.where(F.col("valid_from") != day)
            .withColumn("is_current", F.when(reopened, F.lit(True)).otherwise(F.col("is_current")))
            .withColumn("valid_to", F.when(reopened, F.lit(None).cast("date"))
                        .otherwise(F.col("valid_to"))))
    history, current = base.where("NOT is_current"), base.where("is_current")
    t, s = current.alias("t"), df.alias("s")
    both = t.join(s, F.expr(same_key))
    closed = (both.where(changed).select("t.*")
              .withColumn("valid_to", day).withColumn("is_current", F.lit(False)))
    kept = t.join(s, F.expr(same_key), "left_anti").unionByName(
        both.where(f"NOT ({changed})").select("t.*"))
    added = s.join(t, F.expr(same_key), "left_anti").unionByName(
        both.where(changed).select("s.*"))
    return history.unionByName(closed).unionByName(kept).unionByName(added)

"""Reproducible raw data for the reference pipeline ``daily_revenue``.

Every value is a hash of (seed, row id, field): the same arguments always give the same
files. ``hot_share`` of the orders go to three hot customers, split 70/20/10 (the skew the
framework salts);
``bad_share`` of the rows get a null customer, a negative amount or an unknown currency, and
``duplicates`` orders are repeated with the same id.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from pipelines.core.delta.tables import is_delta, landing_path, table_path
from schemas.sales import CUSTOMERS, FX_RATES, RAW_ORDERS

__all__ = ["DemoData", "generate", "HOT_CUSTOMERS"]

HOT_CUSTOMERS = ("C000001", "C000002", "C000003")
RATES = {"USD": "1.0", "EUR": "1.08", "GBP": "1.27", "JPY": "0.0067", "CHF": "1.13"}
COUNTRIES = ("US", "DE", "FR", "GB", "JP", "CH", "NL", "ES")
SEGMENTS = ("enterprise", "smb", "consumer")


@dataclass(frozen=True)
class DemoData:
    date: str
    rows: int
    customers: int
    orders_path: str
    customers_path: str
    fx_path: str


def _unit(seed: int, field: str) -> Column:
    """A uniform number in [0, 1) from the row id: deterministic, no random generator."""
    h = F.xxhash64(F.lit(seed), F.col("id"), F.lit(field))
    return (F.pmod(h, F.lit(1_000_003)) / F.lit(1_000_003.0)).cast("double")


def _pick(values: tuple[str, ...], u: Column) -> Column:
    return F.element_at(F.array(*[F.lit(v) for v in values]),
                        (u * len(values)).cast("int") + 1)


def _customers(spark: SparkSession, n: int, seed: int) -> DataFrame:
    base = spark.range(1, n + 1)
    return base.select(
        F.format_string("C%06d", F.col("id")).alias("customer_id"),
        F.format_string("Customer %d", F.col("id")).alias("name"),
        _pick(COUNTRIES, _unit(seed, "country")).alias("country"),
        _pick(SEGMENTS, _unit(seed, "segment")).alias("segment"),
    )


def _orders(spark: SparkSession, date: str, rows: int, customers: int, hot_share: float,
            bad_share: float, duplicates: int, seed: int) -> DataFrame:
    day = dt.date.fromisoformat(date)
    day_seed = seed * 100_003 + day.toordinal()
    base = spark.range(rows)
    which = _unit(day_seed, "hot_which")  # the hottest customer takes 70% of the hot orders
    hot_index = F.when(which < 0.7, 1).when(which < 0.9, 2).otherwise(3)
    cold_index = (_unit(day_seed, "cust") * customers).cast("int") + 1
    customer = F.when(_unit(day_seed, "hot") < hot_share,
                      F.format_string("C%06d", hot_index)).otherwise(
        F.format_string("C%06d", cold_index))
    bad = _unit(day_seed, "bad")
    third = bad_share / 3
    amount = (_unit(day_seed, "amount") * 500 + 1).cast("decimal(12,2)")
    currency = _pick(tuple(RATES), _unit(day_seed, "currency"))
    seconds = (_unit(day_seed, "ts") * 86_399).cast("int")
    orders = base.select(
        F.format_string(f"O{day:%Y%m%d}-%09d", F.col("id")).alias("order_id"),
        F.when(bad < third, F.lit(None)).otherwise(customer).alias("customer_id"),
        (F.lit(f"{date} 00:00:00").cast("timestamp") + F.make_interval(
            secs=seconds)).alias("order_ts"),
        F.format_string("P%04d", (_unit(day_seed, "product") * 200).cast("int")).alias(
            "product"),
        ((_unit(day_seed, "qty") * 5).cast("int") + 1).alias("quantity"),
        F.when((bad >= third) & (bad < 2 * third), -amount).otherwise(amount).alias("amount"),
        F.when((bad >= 2 * third) & (bad < bad_share), F.lit("XXX")).otherwise(currency).alias(
            "currency"),
    )
    if duplicates:
        orders = orders.unionByName(orders.limit(duplicates))
    return orders.select(*[F.col(f.name).cast(f.dataType) for f in RAW_ORDERS.fields])


def generate(spark: SparkSession, warehouse: str, date: str, *, rows: int = 20_000,
             customers: int = 2_000, hot_share: float = 0.5, seed: int = 7,
             bad_share: float = 0.0, duplicates: int = 0, files: int = 4) -> DemoData:
    """Write the landing JSON for ``date``, the FX rates of that day, and the customers."""
    orders_path = landing_path(warehouse, f"landing/orders/date={date}")
    _orders(spark, date, rows, customers, hot_share, bad_share, duplicates, seed).repartition(
        files).write.mode("overwrite").json(orders_path)
    customers_path = table_path(warehouse, "customers")
    if not is_delta(spark, customers_path):
        _customers(spark, customers, seed).select(
            *[F.col(f.name).cast(f.dataType) for f in CUSTOMERS.fields]
        ).write.format("delta").mode("overwrite").save(customers_path)
    fx_path = table_path(warehouse, "fx_rates")
    fx = spark.createDataFrame(
        [(cur, dt.date.fromisoformat(date), rate) for cur, rate in RATES.items()],
        "currency string, rate_date date, usd_rate string",
    ).select("currency", "rate_date", F.col("usd_rate").cast(FX_RATES["usd_rate"].dataType))
    writer = fx.write.format("delta")
    if is_delta(spark, fx_path):
        writer.mode("overwrite").option("replaceWhere", f"rate_date = '{date}'").save(fx_path)
    else:
        writer.mode("overwrite").partitionBy("rate_date").save(fx_path)
    return DemoData(date, rows, customers, orders_path, customers_path, fx_path)

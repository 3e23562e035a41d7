"""Contracts of the sales domain: raw orders, customers, FX rates and revenue outputs."""

from __future__ import annotations

from pyspark.sql.types import (
    ArrayType,
    DateType,
    DecimalType,
    IntegerType,
    LongType,
    StringType,
    StructField,
    StructType,
    TimestampType,
)

__all__ = ["RAW_ORDERS", "CUSTOMERS", "FX_RATES", "DAILY_REVENUE", "CUSTOMER_TOTALS", "MONEY"]

MONEY = DecimalType(18, 2)

RAW_ORDERS = StructType([
    StructField("order_id", StringType()),
    StructField("customer_id", StringType()),
    StructField("order_ts", TimestampType()),
    StructField("product", StringType()),
    StructField("quantity", IntegerType()),
    StructField("amount", DecimalType(12, 2)),
    StructField("currency", StringType()),
])

CUSTOMERS = StructType([
    StructField("customer_id", StringType(), False),
    StructField("name", StringType()),
    StructField("country", StringType()),
    StructField("segment", StringType()),
])

FX_RATES = StructType([
    StructField("currency", StringType(), False),
    StructField("rate_date", DateType(), False),
    StructField("usd_rate", DecimalType(18, 6), False),
])

DAILY_REVENUE = StructType([
    StructField("order_date", DateType()),
    StructField("customer_id", StringType()),
    StructField("country", StringType()),
    StructField("orders", LongType(), False),
    StructField("revenue_usd", DecimalType(28, 2)),
    StructField("distinct_products", LongType(), False),
    StructField("top_amounts_usd", ArrayType(MONEY)),
])

CUSTOMER_TOTALS = StructType([
    StructField("customer_id", StringType()),
    StructField("name", StringType()),
    StructField("country", StringType()),
    StructField("segment", StringType()),
    StructField("last_order_date", DateType()),
    StructField("last_day_orders", LongType(), False),
    StructField("last_day_revenue_usd", DecimalType(28, 2)),
])

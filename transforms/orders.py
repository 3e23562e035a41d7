"""Map functions over orders: pure DataFrame -> DataFrame, no actions, no session state."""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from schemas.sales import MONEY

__all__ = ["clean_orders", "convert_to_usd", "REVENUE_KEYS"]

REVENUE_KEYS = ("order_date", "customer_id", "country")


def clean_orders(df: DataFrame, date: str) -> DataFrame:
    """Trim ids, upper-case currencies, derive ``order_date`` and keep only the logical date."""
    return (
        df.withColumn("order_id", F.trim("order_id"))
        .withColumn("customer_id", F.trim("customer_id"))
        .withColumn("currency", F.upper(F.trim("currency")))
        .withColumn("order_date", F.to_date("order_ts"))
        .where(F.col("order_date") == F.lit(date).cast("date"))
    )


def convert_to_usd(df: DataFrame) -> DataFrame:
    """Add ``amount_usd`` (rounded to cents) and drop the FX columns."""
    return (
        df.withColumn("amount_usd", (F.col("amount") * F.col("usd_rate")).cast(MONEY))
        .drop("usd_rate", "rate_date")
    )

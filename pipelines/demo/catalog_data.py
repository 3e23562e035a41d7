"""Reproducible daily snapshots of the product catalog for the pipeline ``product_sales``.

The catalog holds the products the demo orders name (``P0000``..``P0199``). Each product's
list price steps every 30 days at an offset of its own, so about one product in thirty is
repriced on any day: the changes a dimension with history records.
"""

from __future__ import annotations

import datetime as dt

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from pipelines.core.delta.tables import landing_path
from schemas.catalog import PRODUCTS

__all__ = ["write_catalog", "PRODUCT_COUNT", "CATEGORIES"]

PRODUCT_COUNT = 200
CATEGORIES = ("books", "games", "garden", "kitchen", "music", "toys")
_EPOCH = dt.date(2026, 1, 1).toordinal()


def write_catalog(spark: SparkSession, warehouse: str, date: str, *, seed: int = 7) -> str:
    """Write the catalog snapshot of ``date`` (CSV with a header); returns its folder."""
    days = dt.date.fromisoformat(date).toordinal() - _EPOCH
    unit = F.pmod(F.xxhash64(F.lit(seed), F.col("id"), F.lit("price")), F.lit(10_007)) / 10_007.0
    offset = F.pmod(F.xxhash64(F.lit(seed), F.col("id"), F.lit("offset")), F.lit(30))
    step = F.pmod(F.floor((F.lit(days) + offset) / 30), F.lit(10))
    category = F.element_at(F.array(*[F.lit(c) for c in CATEGORIES]),
                            (F.col("id") % len(CATEGORIES) + 1).cast("int"))
    catalog = spark.range(PRODUCT_COUNT).select(
        F.format_string("P%04d", F.col("id")).alias("product_code"),
        F.format_string("Product %d", F.col("id")).alias("product_name"),
        category.alias("category"),
        ((unit * 90 + 5) * (1 + step * 0.02)).cast(PRODUCTS["list_price"].dataType).alias(
            "list_price"),
    )
    path = landing_path(warehouse, f"landing/products/date={date}")
    catalog.coalesce(1).write.mode("overwrite").option("header", "true").csv(path)
    return path

"""Contracts of the product catalog: the daily catalog snapshot and the sales star schema."""

from __future__ import annotations

from pyspark.sql.types import DecimalType, StringType, StructField, StructType

__all__ = ["PRODUCTS", "PRICE"]

PRICE = DecimalType(12, 2)

PRODUCTS = StructType([
    StructField("product_code", StringType()),
    StructField("product_name", StringType()),
    StructField("category", StringType()),
    StructField("list_price", PRICE),
])

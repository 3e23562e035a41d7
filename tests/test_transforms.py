"""The reference pipeline's map functions, on tiny DataFrames, without the framework."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from chispa import assert_df_equality

from schemas.sales import RAW_ORDERS
from transforms.orders import clean_orders, convert_to_usd


def describe_clean_orders():
    def it_trims_ids_uppercases_currency_and_keeps_only_the_logical_date(spark):
        raw = spark.createDataFrame([
            (" O1 ", " C1", dt.datetime(2026, 11, 26, 10), "P1", 1, Decimal("9.50"), " eur"),
            ("O2", "C2", dt.datetime(2026, 11, 25, 23), "P1", 1, Decimal("1.00"), "usd"),
        ], RAW_ORDERS)
        out = clean_orders(raw, "2026-11-26").select("order_id", "customer_id", "currency",
                                                     "order_date")
        expected = spark.createDataFrame(
            [("O1", "C1", "EUR", dt.date(2026, 11, 26))],
            "order_id string, customer_id string, currency string, order_date date")
        assert_df_equality(out, expected, ignore_nullable=True)


def describe_convert_to_usd():
    def it_rounds_to_cents_and_drops_fx_columns(spark):
        df = spark.createDataFrame(
            [("O1", Decimal("10.00"), Decimal("1.080000"), dt.date(2026, 11, 26))],
            "order_id string, amount decimal(12,2), usd_rate decimal(18,6), rate_date date")
        out = convert_to_usd(df)
        expected = spark.createDataFrame([("O1", Decimal("10.00"), Decimal("10.80"))],
                                         "order_id string, amount decimal(12,2), "
                                         "amount_usd decimal(18,2)")
        assert_df_equality(out, expected, ignore_nullable=True)


def describe_the_deprecated_aggregations_module():
    def it_still_gives_the_aggregations_and_warns_where_they_moved():
        import importlib
        import sys

        from pipelines import agg

        sys.modules.pop("transforms.aggregations", None)
        with pytest.warns(DeprecationWarning, match="from pipelines import agg"):
            old = importlib.import_module("transforms.aggregations")
        assert old.sum_ is agg.sum_ and old.Agg is agg.Agg


def describe_the_declared_vocabulary():
    def it_takes_options_by_keyword_only():
        from pipelines import Source

        with pytest.raises(TypeError):
            Source("orders", "json", None, "", "landing/orders")  # type: ignore[misc]

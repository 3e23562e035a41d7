"""The star-schema reference pipeline end to end: a dimension with history and a sales fact,
every stage declared, checked against independent computations."""

from __future__ import annotations

import csv
import datetime as dt
import glob
from decimal import Decimal

import pytest
from chispa import assert_df_equality
from pyspark.sql import functions as F

from pipelines.demo.catalog_data import write_catalog
from pipelines.demo.orders_data import generate
from schemas.sales import RAW_ORDERS
from tests.helpers import cli, delta_rows, table

DAYS = ("2026-11-24", "2026-11-25")
pytestmark = pytest.mark.slow  # two nights of the star schema (make demo runs it too)


@pytest.fixture(scope="module")
def two_days(spark, tmp_path_factory):
    """A warehouse after product_sales ran for two days of demo data."""
    import contextlib
    import io

    from pipelines.core.interfaces.cli import main

    warehouse = str(tmp_path_factory.mktemp("star") / "wh")
    for day in DAYS:
        generate(spark, warehouse, day, rows=2000, customers=100, seed=5)
        write_catalog(spark, warehouse, day, seed=5)
        with contextlib.redirect_stdout(io.StringIO()), \
                contextlib.redirect_stderr(io.StringIO()) as err:
            code = main(["run", "product_sales", "--date", day, "--env", "test",
                         "--conf", f"warehouse={warehouse}"])
        if code != 0:
            pytest.fail(err.getvalue())
    return warehouse


def _snapshot(warehouse, day):
    """The catalog CSV of ``day`` read with Python's csv module: {product: (category, price)}."""
    rows = {}
    for name in glob.glob(f"{warehouse}/landing/products/date={day}/*.csv"):
        with open(name, newline="") as handle:
            for r in csv.DictReader(handle):
                rows[r["product_code"]] = (r["category"], Decimal(r["list_price"]))
    return rows


def describe_product_sales():
    def it_keeps_each_products_price_history(two_days):
        first, second = (_snapshot(two_days, d) for d in DAYS)
        d1, d2 = (dt.date.fromisoformat(d) for d in DAYS)
        expected = []
        for product, (category, price) in first.items():
            if second[product] == (category, price):
                expected.append((product, price, d1, None, True))
            else:
                expected.append((product, price, d1, d2, False))
                expected.append((product, second[product][1], d2, None, True))
        assert 0 < sum(not row[-1] for row in expected) < len(first)  # some were repriced
        got = delta_rows(two_days, "dim_product", "product_id", "list_price", "valid_from",
                         "valid_to", "is_current")
        assert got == sorted(expected, key=repr)

    def it_sums_sales_per_day_category_and_segment_as_plain_pyspark_does(spark, two_days):
        day = DAYS[1]
        orders = spark.read.schema(RAW_ORDERS).json(f"{two_days}/landing/orders/date={day}")
        products = (spark.read.option("header", "true")
                    .csv(f"{two_days}/landing/products/date={day}")
                    .select(F.col("product_code").alias("product"), "category"))
        fx = table(spark, two_days, "fx_rates").where(F.col("rate_date") == day)
        customers = table(spark, two_days, "customers")
        expected = (orders.where("customer_id IS NOT NULL AND amount > 0 AND quantity "
                                 "BETWEEN 1 AND 1000")
                    .join(fx, "currency").join(products, "product").join(customers,
                                                                         "customer_id")
                    .groupBy(F.to_date("order_ts").alias("order_date"), "category", "segment")
                    .agg(F.count(F.lit(1)).alias("orders"),
                         F.sum((F.col("amount") * F.col("usd_rate")).cast("decimal(18,2)"))
                         .alias("revenue_usd"),
                         F.countDistinct("customer_id").alias("customers")))
        got = table(spark, two_days, "fact_category_sales").where(F.col("order_date") == day)
        assert_df_equality(got, expected, ignore_row_order=True, ignore_nullable=True,
                           ignore_column_order=True)

    def it_replaces_the_top_products_table_with_the_latest_days(spark, two_days):
        top = table(spark, two_days, "top_products")
        assert {r[0] for r in top.select(F.col("order_date").cast("string")).distinct()
                .collect()} == {DAYS[1]}
        per_category = top.groupBy("category").count().collect()
        assert per_category and all(r["count"] <= 3 for r in per_category)

    def it_plans_every_stage_with_its_columns_and_no_map(capsys, two_days):
        code, plan, _ = cli(capsys, "plan", "product_sales", "--date", DAYS[1],
                            warehouse=two_days)
        assert code == 0
        kinds = {s["name"]: s["kind"] for s in plan["stages"]}
        assert "map" not in kinds.values()
        assert all(s["columns"] for s in plan["stages"])

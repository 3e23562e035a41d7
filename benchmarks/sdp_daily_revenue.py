"""``daily_revenue`` written for Spark Declarative Pipelines (``spark-pipelines``), for the
head-to-head in ``bench_sdp.py``: the same sources, the same map functions
(``transforms.orders``), the same rules and aggregations, the same three Delta tables.

SDP has no expectations in open-source Spark: the drop rules are a filter, the bad rows a
materialized view of their own, and the rules that fail a run in the framework (order id
not null and unique, the share of dropped rows) have no equivalent. ``customer_totals`` is a
materialized view recomputed from the day's orders (SDP has no MERGE into a table), which on
one date holds the same rows as the framework's merge.

Reads ``SDP_BENCH_WAREHOUSE`` and ``SDP_BENCH_DATE`` from the environment.
"""

import os

from pyspark import pipelines as dp
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from schemas.sales import CUSTOMERS, FX_RATES, MONEY, RAW_ORDERS
from transforms.orders import REVENUE_KEYS, clean_orders

spark = SparkSession.active()
WAREHOUSE = os.environ["SDP_BENCH_WAREHOUSE"]
DATE = os.environ["SDP_BENCH_DATE"]
CURRENCIES = ["USD", "EUR", "GBP", "JPY", "CHF"]
COLUMNS = [*RAW_ORDERS.fieldNames(), "order_date"]  # clean_orders' output
BAD = (F.col("customer_id").isNull() | ~F.col("amount").between(0, 1_000_000)
       | ~F.col("currency").isin(*CURRENCIES))


@dp.temporary_view
def orders_flagged() -> DataFrame:
    raw = (spark.read.schema(RAW_ORDERS).option("mode", "FAILFAST")
           .json(f"{WAREHOUSE}/landing/orders/date={DATE}"))
    return clean_orders(raw, DATE).withColumn("_bad", BAD)


@dp.materialized_view(name="clean_orders_quarantine", format="delta",
                      partition_cols=["order_date"])
def quarantine() -> DataFrame:
    return spark.read.table("orders_flagged").where(F.col("_bad")).select(*COLUMNS)


@dp.temporary_view
def orders_enriched() -> DataFrame:
    fx = (spark.read.format("delta").load(f"{WAREHOUSE}/tables/fx_rates")
          .where(F.col("rate_date") == DATE).select(*FX_RATES.fieldNames()))
    customers = (spark.read.format("delta").load(f"{WAREHOUSE}/tables/customers")
                 .select(*CUSTOMERS.fieldNames()))
    good = spark.read.table("orders_flagged").where(~F.col("_bad")).select(*COLUMNS)
    # convert_to_usd, with a select for its drop(): SDP analyzes a query when it is defined,
    # and a drop() by name over another dataset of the graph cannot be analyzed then
    usd = good.join(F.broadcast(fx), "currency").select(
        *COLUMNS, (F.col("amount") * F.col("usd_rate")).cast(MONEY).alias("amount_usd"))
    return usd.join(F.broadcast(customers), "customer_id")


@dp.materialized_view(format="delta", partition_cols=["order_date"])
def fact_daily_revenue() -> DataFrame:
    return spark.read.table("orders_enriched").groupBy(*REVENUE_KEYS).agg(
        F.count(F.lit(1)).alias("orders"), F.sum("amount_usd").alias("revenue_usd"),
        F.count_distinct("product").alias("distinct_products"),
        F.slice(F.sort_array(F.collect_list("amount_usd"), False), 1, 3).alias(
            "top_amounts_usd"))


@dp.materialized_view(format="delta")
def customer_totals() -> DataFrame:
    return spark.read.table("orders_enriched").groupBy(
        "customer_id", "name", "country", "segment").agg(
        F.max("order_date").alias("last_order_date"), F.count(F.lit(1)).alias("last_day_orders"),
        F.sum("amount_usd").alias("last_day_revenue_usd"))

"""Nightly revenue per customer, country and day, from raw orders landing as JSON lines.

raw_orders (JSON) -> clean_orders -> with FX rates -> in USD -> with customers
  -> daily_revenue (reduce, hot customers salted) -> fact_daily_revenue (partition overwrite)
  -> customer_latest (reduce)                     -> customer_totals (merge on customer_id)
"""

from pipelines import Join, Map, Pipeline, Reduce, Sink, Source, agg
from pipelines import expect as e
from schemas import sales
from transforms import orders

CURRENCIES = ["USD", "EUR", "GBP", "JPY", "CHF"]

DAILY_REVENUE_AGGS = (
    agg.count("orders"),
    agg.sum_("amount_usd", "revenue_usd"),
    agg.count_distinct("product", "distinct_products"),
    agg.top_k("amount_usd", 3, "top_amounts_usd"),
)

CUSTOMER_LATEST_AGGS = (
    agg.max_("order_date", "last_order_date"),
    agg.count("last_day_orders"),
    agg.sum_("amount_usd", "last_day_revenue_usd"),
)

pipeline = Pipeline(
    name="daily_revenue",
    description="Revenue per customer, country and day; latest day per customer.",
    sources=[
        Source("raw_orders", format="json", path="landing/orders/date={date}",
               schema=sales.RAW_ORDERS),
        Source("customers", format="delta", table="customers", schema=sales.CUSTOMERS),
        Source("fx_rates", format="delta", table="fx_rates", schema=sales.FX_RATES,
               where="rate_date = '{date}'"),
    ],
    stages=[
        Map("clean_orders", input="raw_orders", fn=orders.clean_orders, args={"date": "{date}"},
            checks=[
                e.not_null("order_id"),
                e.unique("order_id"),
                e.not_null("customer_id", severity="drop", max_drop_share=0.05),
                e.between("amount", 0, 1_000_000, severity="drop", max_drop_share=0.05),
                e.in_set("currency", CURRENCIES, severity="drop", max_drop_share=0.05),
                e.between("quantity", 1, 1000, severity="warn"),
            ]),
        Join("orders_fx", left="clean_orders", right="fx_rates", on=["currency"]),
        Map("orders_usd", input="orders_fx", fn=orders.convert_to_usd),
        Join("orders_enriched", left="orders_usd", right="customers", on=["customer_id"]),
        Reduce("daily_revenue", input="orders_enriched", keys=orders.REVENUE_KEYS,
               aggs=DAILY_REVENUE_AGGS, salt="auto",
               checks=[e.row_count_between(1), e.min_between("revenue_usd", 0)]),
        Reduce("customer_latest", input="orders_enriched",
               keys=["customer_id", "name", "country", "segment"],
               aggs=CUSTOMER_LATEST_AGGS),
    ],
    sinks=[
        Sink("fact_daily_revenue", input="daily_revenue", table="fact_daily_revenue",
             mode="overwrite_partitions", partition_by=["order_date"],
             replace_where="order_date = '{date}'", schema=sales.DAILY_REVENUE),
        Sink("customer_totals", input="customer_latest", table="customer_totals", mode="merge",
             keys=["customer_id"], schema=sales.CUSTOMER_TOTALS,
             checks=[e.unique("customer_id")]),
    ],
)

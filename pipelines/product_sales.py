"""Nightly sales star schema: a product dimension with history and a category sales fact.

raw_orders (JSON) -> valid_orders (filter) -> with FX rates -> with products -> with customers
  -> sales_lines (amounts in USD, order date)
     -> category_sales (reduce)         -> fact_category_sales (partition overwrite)
     -> product_revenue -> best_sellers (top 3 per category) -> top_products (whole table)
products (CSV snapshot) -> product_dim (select) -> dim_product (history, type 2)

Every stage is declared: the plan knows each stage's columns, pushes the filters into the
reads and checks each step.
"""

from pipelines import Filter, Join, Pipeline, Reduce, Select, Sink, Source, Top, WithColumns, agg
from pipelines import expect as e
from schemas import catalog, sales

pipeline = Pipeline(
    name="product_sales",
    description="Sales per day, category and segment; products with their price history.",
    sources=[
        Source("raw_orders", format="json", path="landing/orders/date={date}",
               schema=sales.RAW_ORDERS),
        Source("products", format="csv", path="landing/products/date={date}",
               schema=catalog.PRODUCTS, options={"header": "true"}),
        Source("customers", format="delta", table="customers", schema=sales.CUSTOMERS),
        Source("fx_rates", format="delta", table="fx_rates", schema=sales.FX_RATES,
               where="rate_date = '{date}'"),
    ],
    stages=[
        Filter("valid_orders", input="raw_orders",
               where="customer_id IS NOT NULL AND amount > 0 AND quantity BETWEEN 1 AND 1000",
               checks=[e.unique("order_id")]),
        Select("product_dim", input="products",
               columns={"product_id": "product_code", "product_name": "product_name",
                        "category": "lower(trim(category))", "list_price": "list_price"},
               checks=[e.not_null("product_id"), e.unique("product_id"),
                       e.min_between("list_price", 0)]),
        Join("priced_orders", left="valid_orders", right="fx_rates", on=["currency"]),
        Join("product_orders", left="priced_orders", right="product_dim", left_on=["product"],
             right_on=["product_id"]),
        Join("customer_orders", left="product_orders", right="customers", on=["customer_id"]),
        WithColumns("sales_lines", input="customer_orders",
                    columns={"order_date": "to_date(order_ts)",
                             "amount_usd": "cast(amount * usd_rate AS decimal(18,2))"}),
        Reduce("category_sales", input="sales_lines", keys=["order_date", "category", "segment"],
               aggs=[agg.count("orders"), agg.sum_("amount_usd", "revenue_usd"),
                     agg.count_distinct("customer_id", "customers")],
               checks=[e.row_count_between(1)]),
        Reduce("product_revenue", input="sales_lines",
               keys=["order_date", "category", "product"],
               aggs=[agg.sum_("amount_usd", "revenue_usd"), agg.sum_("quantity", "units")]),
        Top("best_sellers", input="product_revenue", n=3, by=["revenue_usd DESC", "product"],
            per=["category"]),
    ],
    sinks=[
        Sink("dim_product", input="product_dim", table="dim_product", mode="scd2",
             keys=["product_id"]),
        Sink("fact_category_sales", input="category_sales", table="fact_category_sales",
             mode="overwrite_partitions", partition_by=["order_date"],
             replace_where="order_date = '{date}'"),
        Sink("top_products", input="best_sellers", table="top_products", mode="overwrite"),
    ],
)

"""Reduce declarations for revenue: what each output column aggregates and how it merges."""

from __future__ import annotations

from transforms import aggregations as agg

__all__ = ["DAILY_REVENUE_AGGS", "CUSTOMER_LATEST_AGGS"]

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

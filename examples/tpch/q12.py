"""TPC-H Q12, shipping modes and order priority: late lines per ship mode, split by the
order's priority (CASE expressions summed)."""

from examples.tpch.tables import answer, source
from pipelines import Filter, Join, Pipeline, Reduce, WithColumns, agg

HIGH = "o_orderpriority IN ('1-URGENT', '2-HIGH')"

pipeline = Pipeline(
    name="q12",
    sources=[source("orders"), source("lineitem")],
    stages=[
        Filter("late_lines", input="lineitem", where=(
            "l_shipmode IN ('MAIL', 'SHIP') AND l_commitdate < l_receiptdate "
            "AND l_shipdate < l_commitdate AND l_receiptdate >= DATE'1994-01-01' "
            "AND l_receiptdate < DATE'1995-01-01'")),
        Join("with_orders", "late_lines", "orders", left_on=["l_orderkey"],
             right_on=["o_orderkey"]),
        WithColumns("flags", input="with_orders", columns={
            "high": f"CASE WHEN {HIGH} THEN 1 ELSE 0 END",
            "low": f"CASE WHEN NOT {HIGH} THEN 1 ELSE 0 END"}),
        Reduce("per_mode", "flags", ["l_shipmode"], [agg.sum_("high", "high_line_count"),
                                                     agg.sum_("low", "low_line_count")]),
    ],
    sinks=[answer("q12", "per_mode")],
)

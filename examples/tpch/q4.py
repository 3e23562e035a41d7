"""TPC-H Q4, order priority checking: orders of a quarter with a line received late, per
priority (an EXISTS subquery as a semi join)."""

from examples.tpch.tables import answer, source
from pipelines import Join, Pipeline, Reduce, agg

pipeline = Pipeline(
    name="q4",
    sources=[source("orders", where="o_orderdate >= DATE'1993-07-01' "
                                   "AND o_orderdate < DATE'1993-10-01'"),
             source("lineitem", where="l_commitdate < l_receiptdate")],
    stages=[
        Join("late_orders", "orders", "lineitem", left_on=["o_orderkey"],
             right_on=["l_orderkey"], how="left_semi"),
        Reduce("per_priority", "late_orders", ["o_orderpriority"], [agg.count("order_count")]),
    ],
    sinks=[answer("q4", "per_priority")],
)

"""TPC-H Q18, large volume customers: orders of over 300 units (an IN subquery as a reduce,
a filter and a semi join), the 100 largest by price."""

from examples.tpch.tables import answer, source
from pipelines import Filter, Join, Pipeline, Reduce, Top, agg

pipeline = Pipeline(
    name="q18",
    sources=[source("customer"), source("orders"), source("lineitem")],
    stages=[
        Reduce("order_quantities", "lineitem", ["l_orderkey"],
               [agg.sum_("l_quantity", "order_quantity")]),
        Filter("large_orders", input="order_quantities", where="order_quantity > 300"),
        Join("large", "orders", "large_orders", left_on=["o_orderkey"],
             right_on=["l_orderkey"], how="left_semi"),
        Join("with_customer", "large", "customer", left_on=["o_custkey"],
             right_on=["c_custkey"]),
        Join("with_lines", "with_customer", "lineitem", left_on=["o_orderkey"],
             right_on=["l_orderkey"]),
        Reduce("per_order", "with_lines",
               ["c_name", "o_custkey", "o_orderkey", "o_orderdate", "o_totalprice"],
               [agg.sum_("l_quantity", "sum_qty")]),
        Top("largest", input="per_order", n=100, by=["o_totalprice DESC", "o_orderdate"]),
    ],
    sinks=[answer("q18", "largest")],
)

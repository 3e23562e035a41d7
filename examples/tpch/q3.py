"""TPC-H Q3, shipping priority: the 10 unshipped orders of the BUILDING segment with the
highest revenue."""

from examples.tpch.tables import REVENUE, answer, source
from pipelines import Join, Pipeline, Reduce, Top, WithColumns, agg

pipeline = Pipeline(
    name="q3",
    sources=[source("customer", where="c_mktsegment = 'BUILDING'"),
             source("orders", where="o_orderdate < DATE'1995-03-15'"),
             source("lineitem", where="l_shipdate > DATE'1995-03-15'")],
    stages=[
        Join("segment_orders", "orders", "customer", left_on=["o_custkey"],
             right_on=["c_custkey"], how="left_semi"),
        Join("lines", "lineitem", "segment_orders", left_on=["l_orderkey"],
             right_on=["o_orderkey"]),
        WithColumns("volumes", input="lines", columns={"volume": REVENUE}),
        Reduce("revenue", "volumes", ["l_orderkey", "o_orderdate", "o_shippriority"],
               [agg.sum_("volume", "revenue")]),
        Top("top_orders", input="revenue", n=10, by=["revenue DESC", "o_orderdate"]),
    ],
    sinks=[answer("q3", "top_orders")],
)

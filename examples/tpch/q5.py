"""TPC-H Q5, local supplier volume: revenue per Asian nation from customers and suppliers of
that same nation (a join on two pairs of keys)."""

from examples.tpch.tables import REVENUE, answer, source
from pipelines import Join, Pipeline, Reduce, WithColumns, agg

pipeline = Pipeline(
    name="q5",
    sources=[source("region", where="r_name = 'ASIA'"), source("nation"), source("supplier"),
             source("customer"), source("lineitem"),
             source("orders", where="o_orderdate >= DATE'1994-01-01' "
                                    "AND o_orderdate < DATE'1995-01-01'")],
    stages=[
        Join("asian_nations", "nation", "region", left_on=["n_regionkey"],
             right_on=["r_regionkey"], how="left_semi"),
        Join("suppliers", "supplier", "asian_nations", left_on=["s_nationkey"],
             right_on=["n_nationkey"]),
        Join("customer_orders", "orders", "customer", left_on=["o_custkey"],
             right_on=["c_custkey"]),
        Join("order_lines", "lineitem", "customer_orders", left_on=["l_orderkey"],
             right_on=["o_orderkey"]),
        Join("local_lines", "order_lines", "suppliers", left_on=["l_suppkey", "c_nationkey"],
             right_on=["s_suppkey", "s_nationkey"]),
        WithColumns("volumes", input="local_lines", columns={"volume": REVENUE}),
        Reduce("per_nation", "volumes", ["n_name"], [agg.sum_("volume", "revenue")]),
    ],
    sinks=[answer("q5", "per_nation")],
)

"""TPC-H Q10, returned item reporting: the 20 customers who lost the most revenue to returns
in a quarter."""

from examples.tpch.tables import REVENUE, answer, source
from pipelines import Join, Pipeline, Reduce, Top, WithColumns, agg

pipeline = Pipeline(
    name="q10",
    sources=[source("orders", where="o_orderdate >= DATE'1993-10-01' "
                                   "AND o_orderdate < DATE'1994-01-01'"),
             source("lineitem", where="l_returnflag = 'R'"), source("customer"),
             source("nation")],
    stages=[
        Join("returned", "lineitem", "orders", left_on=["l_orderkey"],
             right_on=["o_orderkey"]),
        Join("with_customer", "returned", "customer", left_on=["o_custkey"],
             right_on=["c_custkey"]),
        Join("with_nation", "with_customer", "nation", left_on=["c_nationkey"],
             right_on=["n_nationkey"]),
        WithColumns("volumes", input="with_nation", columns={"volume": REVENUE},
                    rename={"o_custkey": "c_custkey"}),
        Reduce("lost", "volumes", ["c_custkey", "c_name", "c_acctbal", "c_phone", "n_name",
                                   "c_address", "c_comment"],
               [agg.sum_("volume", "revenue")]),
        Top("top_customers", input="lost", n=20, by=["revenue DESC"]),
    ],
    sinks=[answer("q10", "top_customers")],
)

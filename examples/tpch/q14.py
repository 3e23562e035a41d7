"""TPC-H Q14, promotion effect: the share of a month's revenue from promoted parts."""

from examples.tpch.tables import REVENUE, answer, source
from pipelines import Join, Pipeline, Reduce, Select, WithColumns, agg

pipeline = Pipeline(
    name="q14",
    sources=[source("lineitem", where="l_shipdate >= DATE'1995-09-01' "
                                      "AND l_shipdate < DATE'1995-10-01'"),
             source("part")],
    stages=[
        Join("with_part", "lineitem", "part", left_on=["l_partkey"], right_on=["p_partkey"]),
        WithColumns("volumes", input="with_part", columns={
            "volume": REVENUE,
            "promo": f"CASE WHEN p_type LIKE 'PROMO%' THEN {REVENUE} ELSE 0 END"}),
        Reduce("sums", "volumes", [], [agg.sum_("promo", "promo"),
                                       agg.sum_("volume", "volume")]),
        Select("share", input="sums", columns={"promo_revenue": "100.00 * promo / volume"}),
    ],
    sinks=[answer("q14", "share")],
)

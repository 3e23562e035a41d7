"""TPC-H Q6, forecasting revenue change: one grand total over filtered lines."""

from examples.tpch.tables import answer, source
from pipelines import Filter, Pipeline, Reduce, WithColumns, agg

pipeline = Pipeline(
    name="q6",
    sources=[source("lineitem")],
    stages=[
        Filter("discounted", input="lineitem", where=(
            "l_shipdate >= DATE'1994-01-01' AND l_shipdate < DATE'1995-01-01' "
            "AND l_discount BETWEEN 0.05 AND 0.07 AND l_quantity < 24")),
        WithColumns("gains", input="discounted", columns={
            "gain": "l_extendedprice * l_discount"}),
        Reduce("total", "gains", [], [agg.sum_("gain", "revenue")]),
    ],
    sinks=[answer("q6", "total")],
)

"""TPC-H Q1, pricing summary report: quantities and prices per return flag and line status."""

from examples.tpch.tables import REVENUE, answer, source
from pipelines import Pipeline, Reduce, WithColumns, agg

pipeline = Pipeline(
    name="q1",
    sources=[source("lineitem", where="l_shipdate <= DATE'1998-09-02'")],
    stages=[
        WithColumns("priced", input="lineitem", columns={
            "disc_price": REVENUE, "charge": f"{REVENUE} * (1 + l_tax)"}),
        Reduce("summary", "priced", ["l_returnflag", "l_linestatus"], [
            agg.sum_("l_quantity", "sum_qty"), agg.sum_("l_extendedprice", "sum_base_price"),
            agg.sum_("disc_price", "sum_disc_price"), agg.sum_("charge", "sum_charge"),
            agg.avg("l_quantity", "avg_qty"), agg.avg("l_extendedprice", "avg_price"),
            agg.avg("l_discount", "avg_disc"), agg.count("count_order")]),
    ],
    sinks=[answer("q1", "summary")],
)

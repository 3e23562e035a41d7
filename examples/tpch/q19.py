"""TPC-H Q19, discounted revenue: lines of three kinds of parts, each kind with its own
brand, containers, quantities and sizes (a join with an extra condition)."""

from examples.tpch.tables import REVENUE, answer, source
from pipelines import Join, Pipeline, Reduce, WithColumns, agg


def _kind(brand: str, containers: str, low: int, size: int) -> str:
    return (f"(r.p_brand = '{brand}' AND r.p_container IN ({containers}) "
            f"AND l.l_quantity BETWEEN {low} AND {low + 10} AND r.p_size BETWEEN 1 AND {size})")


KINDS = " OR ".join([
    _kind("Brand#12", "'SM CASE', 'SM BOX', 'SM PACK', 'SM PKG'", 1, 5),
    _kind("Brand#23", "'MED BAG', 'MED BOX', 'MED PKG', 'MED PACK'", 10, 10),
    _kind("Brand#34", "'LG CASE', 'LG BOX', 'LG PACK', 'LG PKG'", 20, 15),
])

pipeline = Pipeline(
    name="q19",
    sources=[source("lineitem", where="l_shipmode IN ('AIR', 'AIR REG') "
                                      "AND l_shipinstruct = 'DELIVER IN PERSON'"),
             source("part")],
    stages=[
        Join("kinds", "lineitem", "part", left_on=["l_partkey"], right_on=["p_partkey"],
             condition=KINDS),
        WithColumns("volumes", input="kinds", columns={"volume": REVENUE}),
        Reduce("total", "volumes", [], [agg.sum_("volume", "revenue")]),
    ],
    sinks=[answer("q19", "total")],
)

"""Every declared option that names a column, given a column its input lacks: refused by
``plan`` (exit 2) naming the stage or sink, the column and the closest existing names."""

from __future__ import annotations

import pytest
from pyspark.sql.types import LongType, StringType, StructField, StructType

from pipelines import (
    Filter,
    Join,
    Latest,
    Pipeline,
    Reduce,
    Select,
    Sink,
    Source,
    Top,
    WithColumns,
    agg,
)
from pipelines import expect as e
from pipelines.core.errors import DefinitionError
from pipelines.core.planning.analysis import check_schemas
from pipelines.core.planning.plan import make_plan
from tests.helpers import DATE

SALES = StructType([StructField("region", StringType()), StructField("amount", LongType()),
                    StructField("day", StringType())])
REGIONS = StructType([StructField("region", StringType()), StructField("zone", StringType())])


def _pipeline(stage=None, **sink_options) -> Pipeline:
    stages = [stage] if stage is not None else [Select("s", input="sales",
                                                       columns=["region", "amount", "day"])]
    mode = sink_options.pop("mode", "append")
    return Pipeline(name="p", sources=[
        Source("sales", format="parquet", path="in/sales", schema=SALES),
        Source("regions", format="parquet", path="in/regions", schema=REGIONS)],
        stages=stages, sinks=[Sink("out", input=stages[0].name, table="out", mode=mode,
                                   **sink_options)])


# (option, pipeline, where it is named: stage or sink)
MATRIX = [
    ("Reduce(keys)", _pipeline(Reduce("s", input="sales", keys=["regoin"],
                                      aggs=[agg.sum_("amount", "total")])), "s"),
    ("Reduce(aggs)", _pipeline(Reduce("s", input="sales", keys=["region"],
                                      aggs=[agg.sum_("amout", "total")])), "s"),
    ("Join(on)", _pipeline(Join("s", "sales", "regions", ["regoin"])), "s"),
    ("Join(left_on)", _pipeline(Join("s", "sales", "regions", left_on=["regoin"],
                                     right_on=["region"])), "s"),
    ("Join(right_on)", _pipeline(Join("s", "sales", "regions", left_on=["region"],
                                      right_on=["regoin"])), "s"),
    ("Select(columns)", _pipeline(Select("s", input="sales", columns=["regoin"])), "s"),
    ("Select(columns=mapping)", _pipeline(Select("s", input="sales",
                                                 columns={"r": "regoin"})), "s"),
    ("Filter(where)", _pipeline(Filter("s", input="sales", where="regoin = 'eu'")), "s"),
    ("WithColumns(columns)", _pipeline(WithColumns("s", input="sales",
                                                   columns={"x": "amout * 2"})), "s"),
    ("WithColumns(rename)", _pipeline(WithColumns("s", input="sales",
                                                  rename={"regoin": "r"})), "s"),
    ("WithColumns(drop)", _pipeline(WithColumns("s", input="sales", drop=["regoin"])), "s"),
    ("Top(by)", _pipeline(Top("s", input="sales", n=3, by=["amout DESC"])), "s"),
    ("Top(per)", _pipeline(Top("s", input="sales", n=3, by=["amount"], per=["regoin"])), "s"),
    ("Latest(keys)", _pipeline(Latest("s", input="sales", keys=["regoin"], by="day")), "s"),
    ("Latest(by)", _pipeline(Latest("s", input="sales", keys=["region"], by="dya")), "s"),
    ("expect.not_null", _pipeline(Select("s", input="sales", columns=["region"],
                                         checks=[e.not_null("regoin")])), "s"),
    ("Sink(partition_by)", _pipeline(partition_by=["dya"], mode="overwrite"), "out"),
    ("Sink(keys)", _pipeline(keys=["regoin"], mode="merge"), "out"),
    ("Sink(stats_columns)", _pipeline(stats_columns=["amout"]), "out"),
]


@pytest.mark.parametrize(("option", "pipeline", "where"), MATRIX, ids=[m[0] for m in MATRIX])
def describe_an_option_naming_a_missing_column():
    def it_is_refused_at_plan_time_naming_where_and_the_closest_names(spark, option, pipeline,
                                                                      where):
        with pytest.raises(DefinitionError) as refused:
            check_schemas(spark, make_plan(pipeline, DATE))
        error = refused.value
        assert error.exit_code == 2
        assert (error.stage or error.sink) == where, str(error)
        assert error.column in ("regoin", "amout", "dya"), str(error)
        closest = {"regoin": "region", "amout": "amount", "dya": "day"}[error.column]
        assert closest in error.message, str(error)

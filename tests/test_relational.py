"""Relational stages declared as plain data: each builds the answer, each mistake is refused by
the plan with the stage, the column or the field named."""

from __future__ import annotations

import pytest
from chispa import assert_df_equality
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
    Sql,
    Top,
    Union,
    WithColumns,
    agg,
)
from pipelines.core.errors import DefinitionError
from pipelines.core.frames.stages import apply_stage
from pipelines.core.planning.analysis import check_schemas
from pipelines.core.planning.plan import make_plan
from pipelines.core.planning.render import render_plan
from tests.helpers import DATE

ORDERS = StructType([StructField("order_id", StringType()), StructField("cust", StringType()),
                     StructField("amount", LongType()), StructField("day", StringType())])
CUSTOMERS = StructType([StructField("customer_id", StringType()),
                        StructField("country", StringType())])
PARAMS = {"date": DATE, "min_amount": "5"}


@pytest.fixture
def orders(spark):
    return spark.createDataFrame([("o1", "c1", 10, "2026-11-25"), ("o2", "c1", 3, "2026-11-26"),
                                  ("o3", "c2", 7, "2026-11-26"), ("o4", "c3", 7, "2026-11-26")],
                                 ORDERS)


@pytest.fixture
def customers(spark):
    return spark.createDataFrame([("c1", "FR"), ("c2", "DE")], CUSTOMERS)


def _built(stage, **inputs):
    return apply_stage(stage, inputs, PARAMS, pipeline="p")


def _pipeline(*stages, sink_input=None) -> Pipeline:
    return Pipeline(name="p", sources=[
        Source("orders", format="parquet", path="in/orders", schema=ORDERS),
        Source("customers", format="parquet", path="in/customers", schema=CUSTOMERS)],
        stages=list(stages),
        sinks=[Sink("out", input=sink_input or stages[-1].name, table="out", mode="append")],
        params={"min_amount": "5"})


def _plan_error(spark, *stages) -> DefinitionError:
    with pytest.raises(DefinitionError) as err:
        check_schemas(spark, make_plan(_pipeline(*stages), DATE))
    return err.value


def describe_filter_select_and_with_columns():
    def it_filters_with_sql_and_the_runs_parameters(spark, orders):
        out = _built(Filter("big", input="orders", where="amount >= {min_amount}"),
                     orders=orders).select("order_id")
        assert sorted(r.order_id for r in out.collect()) == ["o1", "o3", "o4"]

    def it_selects_names_and_expressions(spark, orders):
        out = _built(Select("s", input="orders",
                            columns={"order_id": "order_id", "cents": "amount * 100"}),
                     orders=orders).where("order_id = 'o2'")
        expected = spark.createDataFrame([("o2", 300)], "order_id string, cents bigint")
        assert_df_equality(out, expected, ignore_nullable=True)

    def it_adds_renames_and_drops_columns_and_takes_window_expressions(spark, orders):
        out = _built(WithColumns("w", input="orders", columns={
            "amount": "amount * 2",
            "cust_total": "sum(amount) OVER (PARTITION BY cust)"},
            rename={"cust": "customer_id"}, drop=["day"]), orders=orders)
        expected = spark.createDataFrame(
            [("o1", "c1", 20, 13), ("o2", "c1", 6, 13), ("o3", "c2", 14, 7), ("o4", "c3", 14, 7)],
            "order_id string, customer_id string, amount bigint, cust_total bigint")
        assert_df_equality(out, expected, ignore_nullable=True, ignore_row_order=True)

    def it_shows_each_stages_columns_in_the_plan(spark):
        plan = make_plan(_pipeline(
            Filter("big", input="orders", where="amount > 5"),
            WithColumns("w", input="big", columns={"cents": "amount * 100"}, drop=["day"])),
            DATE)
        plan.schemas.update(check_schemas(spark, plan))
        text = render_plan(plan, "wh")
        assert "filter where amount > 5" in text
        assert "columns: order_id:string, cust:string, amount:bigint, cents:bigint" in text


def describe_joins_on_keys_named_differently():
    def it_pairs_the_keys_and_drops_the_right_ones(spark, orders, customers):
        out = _built(Join("j", "orders", "customers", left_on=["cust"],
                          right_on=["customer_id"]), orders=orders, customers=customers)
        assert out.columns == ["order_id", "cust", "amount", "day", "country"]
        assert sorted((r.order_id, r.country) for r in out.collect()) == [
            ("o1", "FR"), ("o2", "FR"), ("o3", "DE")]

    def it_adds_a_condition_and_keeps_semi_and_anti_rows(spark, orders, customers):
        cond = _built(Join("j", "orders", "customers", left_on=["cust"],
                           right_on=["customer_id"], condition="l.amount > 5"),
                      orders=orders, customers=customers)
        assert sorted(r.order_id for r in cond.collect()) == ["o1", "o3"]
        anti = _built(Join("j", "orders", "customers", left_on=["cust"],
                           right_on=["customer_id"], how="left_anti"),
                      orders=orders, customers=customers)
        assert anti.columns == ORDERS.fieldNames()
        assert [r.order_id for r in anti.collect()] == ["o4"]

    def it_refuses_keys_that_do_not_pair_up(spark):
        err = _plan_error(spark, Join("j", "orders", "customers", left_on=["cust", "day"],
                                      right_on=["customer_id"]))
        assert (err.stage, err.key) == ("j", "right_on")

    def it_names_a_key_column_the_right_side_lacks(spark):
        err = _plan_error(spark, Join("j", "orders", "customers", left_on=["cust"],
                                      right_on=["id"]))
        assert (err.stage, err.column) == ("j", "id")

    def it_refuses_salting_a_join_on_differently_named_keys(spark):
        err = _plan_error(spark, Join("j", "orders", "customers", left_on=["cust"],
                                      right_on=["customer_id"], hot_keys=["c1"]))
        assert (err.stage, err.key) == ("j", "hot_keys")


def describe_grand_totals_top_latest_and_union():
    def it_reduces_without_keys_to_one_row(spark, orders):
        out = _built(Reduce("total", "orders", [], [agg.sum_("amount", "amount"),
                                                    agg.count("orders")]), orders=orders)
        assert_df_equality(out, spark.createDataFrame([(27, 4)], "amount bigint, orders bigint"),
                           ignore_nullable=True)

    def it_takes_the_top_rows_overall_and_per_key_breaking_ties_the_same_way(spark, orders):
        top = _built(Top("t", input="orders", n=2, by=["amount DESC"]), orders=orders)
        assert [r.order_id for r in top.collect()] == ["o1", "o3"]  # o3/o4 tie: by order_id
        per = _built(Top("t", input="orders", n=1, by=["amount"], per=["cust"]), orders=orders)
        assert sorted(r.order_id for r in per.collect()) == ["o2", "o3", "o4"]

    def it_keeps_the_latest_row_per_key(spark, orders):
        out = _built(Latest("l", input="orders", keys=["cust"], by="day"), orders=orders)
        assert sorted(r.order_id for r in out.collect()) == ["o2", "o3", "o4"]

    def it_unions_by_name(spark, orders):
        reordered = orders.select("day", "amount", "cust", "order_id")
        out = _built(Union("u", ["a", "b"]), a=orders, b=reordered)
        assert out.columns == ORDERS.fieldNames() and out.count() == 8

    def it_refuses_a_top_without_a_count_or_an_order(spark):
        assert _plan_error(spark, Top("t", input="orders", n=0, by=["amount"])).key == "n"
        assert _plan_error(spark, Top("t", input="orders", n=3, by=[])).key == "by"
        assert _plan_error(spark, Union("u", ["orders"])).key == "inputs"


def describe_sql_stages():
    def it_runs_a_query_over_named_inputs_with_the_runs_parameters(spark, orders, customers):
        stage = Sql("by_country", ["orders", "customers"], query=(
            "SELECT c.country, sum(o.amount) AS revenue FROM {orders} o "
            "JOIN {customers} c ON o.cust = c.customer_id WHERE o.day = '{date}' "
            "GROUP BY c.country"))
        out = _built(stage, orders=orders, customers=customers)
        expected = spark.createDataFrame([("DE", 7), ("FR", 3)], "country string, revenue bigint")
        assert_df_equality(out, expected, ignore_nullable=True, ignore_row_order=True)

    def it_knows_the_querys_output_columns_at_plan_time(spark):
        plan = make_plan(_pipeline(Sql("s", ["orders"], query=(
            "SELECT cust, count(*) AS n FROM {orders} GROUP BY cust"))), DATE)
        schemas = check_schemas(spark, plan)
        assert schemas["s"].simpleString() == "struct<cust:string,n:bigint>"

    def it_refuses_an_input_the_query_does_not_name_and_an_unknown_placeholder(spark):
        err = _plan_error(spark, Sql("s", ["orders", "customers"],
                                     query="SELECT * FROM {orders}"))
        assert (err.stage, err.key) == ("s", "customers")
        err = _plan_error(spark, Sql("s", ["orders"], query="SELECT * FROM {order}"))
        assert (err.stage, err.key) == ("s", "order")


def describe_plan_time_rejections():
    def it_names_an_unknown_column_in_an_expression(spark):
        err = _plan_error(spark, Filter("f", input="orders", where="amont > 5"))
        assert (err.stage, err.column) == ("f", "amont")

    def it_names_a_bad_expression(spark):
        err = _plan_error(spark, WithColumns("w", input="orders", columns={"x": "amount +* 2"}))
        assert err.stage == "w" and err.key == "PARSE_SYNTAX_ERROR"

    def it_names_a_wrong_type(spark):
        err = _plan_error(spark, Filter("f", input="orders", where="amount"))
        assert err.stage == "f" and err.key.startswith("DATATYPE_MISMATCH")

    def it_says_what_is_wrong_with_a_query_that_does_not_parse(spark):
        err = _plan_error(spark, Sql("q", ["orders"], query="SELEC * FROM {orders}"))
        assert (err.stage, err.key) == ("q", "PARSE_SYNTAX_ERROR")
        assert "Syntax error" in err.message, err.message

    def it_names_the_union_input_that_lacks_a_column(spark):
        err = _plan_error(spark, Select("ids", input="orders", columns={"order_id": "order_id"}),
                          Union("u", ["orders", "ids"]))
        assert (err.stage, err.key, err.column) == ("u", "ids", "amount")
        assert "allow_missing=True" in err.message

    @pytest.mark.parametrize("option", ["rename", "drop"])
    def it_names_a_renamed_or_dropped_column_the_input_lacks(spark, option):
        declared = ({"rename": {"custt": "customer"}} if option == "rename"
                    else {"drop": ["custt"]})
        err = _plan_error(spark, WithColumns("w", input="orders", **declared))
        assert (err.stage, err.column, err.key) == ("w", "custt", option)
        assert "closest: cust" in err.message

    def it_names_an_unknown_placeholder(spark):
        err = _plan_error(spark, Filter("f", input="orders", where="day = '{dat}'"))
        assert (err.stage, err.key) == ("f", "dat")


def describe_decimal_division():
    """The types the README's note on decimal ratios states (Spark's rules, ANSI on)."""

    @pytest.mark.parametrize(("expression", "expected"), [
        ("sum(a) / sum(b)", "decimal(38,16)"),           # sums of decimal(12,2)
        ("sum(a * r) / sum(b * r)", "decimal(38,6)"),     # sums of products: 6 places
        ("cast(sum(a * r) AS decimal(18,4)) / cast(sum(b * r) AS decimal(18,4))",
         "decimal(38,20)"),
        ("cast(sum(a * r) AS double) / sum(b * r)", "double"),
    ])
    def it_types_a_ratio_of_decimal_sums_as_the_readme_says(spark, expression, expected):
        df = spark.sql("SELECT CAST(1 AS decimal(12,2)) a, CAST(3 AS decimal(12,2)) b, "
                       "CAST(1.5 AS decimal(38,18)) r")
        assert df.selectExpr(f"{expression} AS x").schema["x"].dataType.simpleString() \
            == expected

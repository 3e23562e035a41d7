"""The reference pipeline end to end on real Spark and Delta, through the CLI."""

from __future__ import annotations

import shutil

import pytest
from chispa import assert_df_equality
from pyspark.sql import functions as F

from pipelines.demo.orders_data import HOT_CUSTOMERS, generate
from tests.helpers import DATE, cli, table

NEXT = "2026-11-27"


SALT_CONF = ("--conf", "salting.skew_factor=0.5")  # 4 shuffle partitions: 20% of rows is hot


@pytest.fixture(scope="module")
def first_run(spark, tmp_path_factory):
    """A warehouse with demo data, after one successful run: (warehouse, the run's JSON)."""
    warehouse = str(tmp_path_factory.mktemp("daily") / "wh")
    generate(spark, warehouse, DATE, rows=3000, customers=200, hot_share=0.6, seed=3)
    capsys = _CapturingCli()
    code, out, err = capsys.run("run", "daily_revenue", "--date", DATE, *SALT_CONF,
                                warehouse=warehouse)
    if code != 0:
        pytest.fail(err)
    return warehouse, out


class _CapturingCli:
    """cli() for module fixtures, where pytest's capsys is not available."""

    def run(self, *args, warehouse):
        import contextlib
        import io
        import json

        from pipelines.core.interfaces.cli import main

        out, err = io.StringIO(), io.StringIO()
        argv = [*args, "--env", "test", "--conf", f"warehouse={warehouse}", "--json"]
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(argv)
        return code, json.loads(out.getvalue() or "null"), err.getvalue()


@pytest.fixture
def demo(first_run, tmp_path):
    """A private copy of the warehouse after the first run."""
    copy = str(tmp_path / "wh")
    shutil.copytree(first_run[0], copy)
    return copy


def _expected_fact(spark, warehouse, date):
    """The same logic written by hand in plain PySpark."""
    orders = spark.read.schema(
        "order_id string, customer_id string, order_ts timestamp, product string, "
        "quantity int, amount decimal(12,2), currency string"
    ).json(f"{warehouse}/landing/orders/date={date}")
    fx = spark.read.format("delta").load(f"{warehouse}/tables/fx_rates").where(
        F.col("rate_date") == date)
    customers = spark.read.format("delta").load(f"{warehouse}/tables/customers")
    usd = (orders.withColumn("currency", F.upper(F.trim("currency")))
           .withColumn("order_date", F.to_date("order_ts"))
           .join(fx, "currency")
           .withColumn("amount_usd", (F.col("amount") * F.col("usd_rate")).cast("decimal(18,2)"))
           .join(customers, "customer_id"))
    return usd.groupBy("order_date", "customer_id", "country").agg(
        F.count(F.lit(1)).alias("orders"), F.sum("amount_usd").alias("revenue_usd"),
        F.count_distinct("product").alias("distinct_products"),
        F.slice(F.sort_array(F.collect_list("amount_usd"), False), 1, 3).alias(
            "top_amounts_usd"))


def describe_a_nightly_run():
    def it_publishes_both_sinks_with_the_hand_written_result(spark, first_run):
        demo, out = first_run
        assert out["status"] == "succeeded"
        assert {o["table"] for o in out["outputs"]} == {"fact_daily_revenue", "customer_totals"}
        # the sink's passed unique(customer_id) stands in for MERGE's duplicate-key query
        merged = next(o for o in out["outputs"] if o["table"] == "customer_totals")
        assert merged["duplicate_key_check"] == "unique:customer_id"
        fact = table(spark, demo, "fact_daily_revenue")
        assert_df_equality(fact, _expected_fact(spark, demo, DATE), ignore_row_order=True,
                           ignore_nullable=True, ignore_column_order=True)
        stages = {s["name"]: s for s in out["stages"]}
        assert stages["daily_revenue"]["rows_out"] == fact.count()
        assert stages["daily_revenue"]["salting"]["decision"] == "salted"
        hot = {k["key"][1] for k in stages["daily_revenue"]["salting"]["hot_keys"]}
        assert hot <= set(HOT_CUSTOMERS) and hot
        assert stages["orders_fx"]["salting"]["decision"] == "broadcast"
        # broadcast sources are kept in Spark's cache for the later stages that read them
        assert stages["orders_enriched"]["salting"]["right_cached"] is True

    def it_is_a_no_op_when_the_date_already_succeeded(spark, demo, capsys, delta_versions):
        before = delta_versions(demo)
        code, out, _ = cli(capsys, "run", "daily_revenue", "--date", DATE, *SALT_CONF,
                           warehouse=demo)
        assert code == 0 and out["status"] == "skipped", out.get("message")
        assert delta_versions(demo) == before

    def it_runs_the_date_again_when_its_configuration_changed(spark, demo, capsys):
        first_fact = table(spark, demo, "fact_daily_revenue").collect()
        code, out, _ = cli(capsys, "run", "daily_revenue", "--date", DATE, warehouse=demo)
        assert (code, out["status"], out["generation"]) == (0, "succeeded", 2)
        assert out["message"].startswith("generation 2: configuration changed since run ")
        assert sorted(table(spark, demo, "fact_daily_revenue").collect()) == sorted(first_fact)

    def it_gives_identical_tables_when_forced_to_run_again(spark, demo, capsys):
        first_fact = table(spark, demo, "fact_daily_revenue").collect()
        first_totals = table(spark, demo, "customer_totals").collect()
        code, out, _ = cli(capsys, "run", "daily_revenue", "--date", DATE, "--force",
                           warehouse=demo)
        assert code == 0 and out["generation"] == 2
        assert_df_equality(table(spark, demo, "fact_daily_revenue"),
                           spark.createDataFrame(first_fact, table(
                               spark, demo, "fact_daily_revenue").schema),
                           ignore_row_order=True)
        assert sorted(table(spark, demo, "customer_totals").collect()) == sorted(first_totals)

    def it_replaces_only_the_partition_of_its_date(spark, demo, capsys):
        generate(spark, demo, NEXT, rows=500, customers=200, seed=3)
        day_one = table(spark, demo, "fact_daily_revenue").collect()
        assert cli(capsys, "run", "daily_revenue", "--date", NEXT, warehouse=demo)[0] == 0
        fact = table(spark, demo, "fact_daily_revenue")
        assert sorted(fact.where(F.col("order_date") == DATE).collect()) == sorted(day_one)
        assert fact.where(F.col("order_date") == NEXT).count() > 0


def describe_plan():
    def it_prints_the_dag_and_the_write_footprint_without_data(spark, warehouse, capsys):
        code, out, err = cli(capsys, "plan", "daily_revenue", "--date", DATE,
                             warehouse=warehouse)
        assert code == 0, err
        assert [s["name"] for s in out["stages"]][:2] == ["clean_orders", "orders_fx"]
        sinks = {s["name"]: s for s in out["sinks"]}
        assert sinks["fact_daily_revenue"]["predicate"] == f"order_date = '{DATE}'"
        assert sinks["customer_totals"]["keys"] == ["customer_id"]

    def it_words_the_json_salting_notes_with_the_runs_settings(spark, warehouse, capsys):
        code, out, err = cli(capsys, "plan", "daily_revenue", "--date", DATE,
                             "--conf", "salting.enabled=false", warehouse=warehouse)
        assert code == 0, err
        notes = [s["salting"] for s in out["stages"] if s["salting"]]
        assert notes and all("off (salting.enabled: false)" in n for n in notes), notes

    def it_lists_the_pipelines(spark, warehouse, capsys):
        code, out, _ = cli(capsys, "list", warehouse=warehouse)
        assert code == 0
        assert {"daily_revenue", "events_append"} <= {p["name"] for p in out["pipelines"]}

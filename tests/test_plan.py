"""Plan validation: every definition error fails fast, before any job, saying what and where."""

from __future__ import annotations

import dataclasses

import pytest
from pyspark.sql import functions as F
from pyspark.sql.types import LongType, StringType, StructField, StructType

from pipelines import Join, Map, Pipeline, Reduce, Sink, Source, agg
from pipelines import expect as e
from pipelines.core.errors import DefinitionError, UsageError
from pipelines.core.planning.analysis import check_schemas
from pipelines.core.planning.plan import make_plan

EVENTS = StructType([StructField("user", StringType()), StructField("n", LongType())])


def ident(df):
    return df


def _pipeline(**changes) -> Pipeline:
    base = Pipeline(
        name="p",
        sources=[Source("events", format="json", path="in/{date}", schema=EVENTS)],
        stages=[Map("cleaned", input="events", fn=ident),
                Reduce("totals", input="cleaned", keys=["user"], aggs=[agg.sum_("n", "total")])],
        sinks=[Sink("out", input="totals", table="totals", mode="append")],
        params={"region": "eu"},
    )
    return dataclasses.replace(base, **changes)


def _error(**changes) -> DefinitionError:
    with pytest.raises(DefinitionError) as err:
        make_plan(_pipeline(**changes), "2026-11-26")
    return err.value


def describe_make_plan():
    def it_orders_stages_and_renders_templates():
        plan = make_plan(_pipeline(), "2026-11-26", {"region": "us"})
        assert plan.order == ("cleaned", "totals")
        assert plan.sources["events"].path == "in/2026-11-26"
        assert plan.params["region"] == "us"

    def it_names_an_unknown_input_and_suggests_the_closest():
        err = _error(stages=[Map("cleaned", input="event", fn=ident)])
        assert (err.pipeline, err.stage, err.key) == ("p", "cleaned", "event")
        assert "did you mean 'events'" in err.message

    def it_rejects_a_cycle_naming_its_path():
        err = _error(stages=[Map("a", input="b", fn=ident), Map("b", input="a", fn=ident)],
                     sinks=[Sink("out", input="a", table="t", mode="append")])
        assert err.stage in ("a", "b") and "cycle: " in err.message

    def it_rejects_duplicate_names():
        err = _error(stages=[Map("events", input="events", fn=ident)],
                     sinks=[Sink("out", input="events", table="t", mode="append")])
        assert err.stage == "events" and "duplicate name" in err.message

    def it_rejects_an_unknown_parameter_and_a_bad_date():
        with pytest.raises(UsageError) as err:
            make_plan(_pipeline(), "2026-11-26", {"regoin": "x"})
        assert err.value.key == "regoin" and "did you mean 'region'" in err.value.message
        with pytest.raises(UsageError) as err:
            make_plan(_pipeline(), "26/11/2026")
        assert err.value.key == "date"

    def it_rejects_an_unknown_placeholder():
        err = _error(sources=[Source("events", format="json", path="in/{day}", schema=EVENTS)])
        assert err.key == "day" and err.stage == "events"

    def it_rejects_bad_stage_parameters():
        assert "salt must be" in _error(stages=[
            Map("cleaned", input="events", fn=ident),
            Reduce("totals", input="cleaned", keys=["user"], aggs=[agg.sum_("n")],
                   salt="lots")]).message
        assert _error(sinks=[Sink("out", input="totals", table="t", mode="upsert")]).sink == "out"
        assert "needs 'keys'" in _error(
            sinks=[Sink("out", input="totals", table="t", mode="merge")]).message
        assert "does not accept" in _error(stages=[
            Map("cleaned", input="events", fn=ident, args={"x": 1}),
            Reduce("totals", input="cleaned", keys=["user"], aggs=[agg.sum_("n")])]).message
        assert "only row-level" in _error(stages=[
            Map("cleaned", input="events", fn=ident, checks=[e.unique("user", severity="drop")]),
            Reduce("totals", input="cleaned", keys=["user"], aggs=[agg.sum_("n")])]).message
        too_many = [e.not_null("user", severity="drop") for _ in range(63)]
        error = _error(stages=[
            Map("cleaned", input="events", fn=ident, checks=too_many),
            Reduce("totals", input="cleaned", keys=["user"], aggs=[agg.sum_("n")])])
        assert (error.stage, error.message) == ("cleaned", "at most 62 checks may drop rows")
        # a sink's checks join those of the stage it reads: one gate, one set of flag bits
        error = _error(sinks=[Sink("out", input="totals", table="t", mode="append",
                                   checks=too_many[:40])], stages=[
            Map("cleaned", input="events", fn=ident),
            Reduce("totals", input="cleaned", keys=["user"], aggs=[agg.sum_("n")],
                   checks=too_many[:30])])
        assert (error.stage, error.message) == ("totals", "at most 62 checks may drop rows")
        error = _error(sinks=[Sink("out", input="totals", table="t", mode="append",
                                   stats_columns=[])])
        assert (error.sink, error.key) == ("out", "stats_columns")
        error = _error(sinks=[Sink("out", input="totals", table="t", mode="append",
                                   partition_by=["user"], stats_columns=["user", "total"])])
        assert (error.sink, error.key, error.column) == ("out", "stats_columns", "user")


def describe_check_schemas():
    def it_names_a_statistics_column_the_sink_does_not_get(spark):
        plan = make_plan(_pipeline(sinks=[Sink("out", input="totals", table="t", mode="append",
                                               stats_columns=["user", "amount"])]),
                         "2026-11-26")
        with pytest.raises(DefinitionError) as err:
            check_schemas(spark, plan)
        assert (err.value.sink, err.value.column) == ("out", "amount")

    def it_names_the_stage_and_column_spark_cannot_resolve(spark):
        def bad(df):
            return df.withColumn("x", F.col("amount") * 2)

        plan = make_plan(_pipeline(stages=[
            Map("cleaned", input="events", fn=bad),
            Reduce("totals", input="cleaned", keys=["user"], aggs=[agg.sum_("n", "total")])]),
            "2026-11-26")
        with pytest.raises(DefinitionError) as err:
            check_schemas(spark, plan)
        assert (err.value.stage, err.value.column) == ("cleaned", "amount")

    def it_names_a_reduce_key_that_does_not_exist(spark):
        plan = make_plan(_pipeline(stages=[
            Map("cleaned", input="events", fn=ident),
            Reduce("totals", input="cleaned", keys=["usr"], aggs=[agg.sum_("n")])]),
            "2026-11-26")
        with pytest.raises(DefinitionError) as err:
            check_schemas(spark, plan)
        assert (err.value.stage, err.value.column) == ("totals", "usr")

    def it_checks_the_sink_contract_and_check_columns(spark):
        wrong = StructType([StructField("user", StringType()), StructField("total", StringType())])
        plan = make_plan(_pipeline(sinks=[Sink("out", input="totals", table="t",
                                                mode="append", schema=wrong)]), "2026-11-26")
        with pytest.raises(DefinitionError) as err:
            check_schemas(spark, plan)
        assert (err.value.sink, err.value.column) == ("out", "total")
        plan = make_plan(_pipeline(stages=[
            Map("cleaned", input="events", fn=ident, checks=[e.not_null("nope")]),
            Reduce("totals", input="cleaned", keys=["user"], aggs=[agg.sum_("n")])]),
            "2026-11-26")
        with pytest.raises(DefinitionError) as err:
            check_schemas(spark, plan)
        assert (err.value.stage, err.value.column) == ("cleaned", "nope")

    def it_names_the_stage_whose_function_raises_while_planning(spark):
        def broken(df):
            raise KeyError("no such lookup table")

        plan = make_plan(_pipeline(stages=[
            Map("cleaned", input="events", fn=broken),
            Reduce("totals", input="cleaned", keys=["user"], aggs=[agg.sum_("n")])]),
            "2026-11-26")
        with pytest.raises(DefinitionError) as err:
            check_schemas(spark, plan)
        assert (err.value.stage, err.value.key) == ("cleaned", "fn")
        assert "broken raised KeyError" in err.value.message

    def it_refuses_a_join_whose_sides_share_a_column(spark):
        plan = make_plan(_pipeline(stages=[
            Map("cleaned", input="events", fn=ident),
            Join("both", left="cleaned", right="events", on=["user"])],
            sinks=[Sink("out", input="both", table="t", mode="append")]), "2026-11-26")
        with pytest.raises(DefinitionError) as err:
            check_schemas(spark, plan)
        assert (err.value.stage, err.value.column) == ("both", "n")


def describe_render_plan():
    def _joined() -> Pipeline:
        users = Source("users", format="json", path="users/{date}", schema=EVENTS)
        return _pipeline(sources=[*_pipeline().sources, users],
                         stages=[Join("joined", "events", "users", ["user"], broadcast="none")],
                         sinks=[Sink("out", input="joined", table="joined", mode="append")])

    def it_names_the_sizes_of_aqes_skew_split_for_a_join():
        from pipelines.core.config.settings import SaltSettings
        from pipelines.core.planning.render import render_plan

        salting = SaltSettings(min_hot_bytes=4 * 2**20, skew_factor=5.0,
                               target_bytes_per_salt=12 * 2**20)
        text = render_plan(make_plan(_joined(), "2026-11-26"), "wh", salting)
        assert ("salting: AQE splits skewed partitions (salting.auto_join: aqe): a partition "
                "over 4 MiB (salting.min_hot_bytes) and 5.0x the median, into pieces of 12 MiB "
                "(salting.target_bytes_per_salt); a hash join when the right side's partitions "
                "are at most a piece; with 'sample' or AQE off, detected hot keys of the left "
                "side on user") in text
        small = render_plan(make_plan(_joined(), "2026-11-26"), "wh",
                            SaltSettings(min_hot_bytes=1536, target_bytes_per_salt=1))
        assert "a partition over 1.5 KiB (salting.min_hot_bytes)" in small
        assert "into pieces of 1 MiB" in small  # the floor skew_conf keeps

    def it_says_when_joins_sample_their_hot_keys_or_salting_is_off():
        from pipelines.core.config.settings import SaltSettings
        from pipelines.core.planning.render import render_plan

        plan = make_plan(_joined(), "2026-11-26")
        sampled = render_plan(plan, "wh", SaltSettings(auto_join="sample"))
        off = render_plan(plan, "wh", SaltSettings(enabled=False))
        assert ("salting: hot keys of the left side on user, detected from a sample "
                "(salting.auto_join: sample)") in sampled
        assert "salting: off (salting.enabled: false)" in off  # broadcast="none"

    def it_gives_the_json_plan_the_text_plans_salting_notes():
        from pipelines.core.config.settings import SaltSettings
        from pipelines.core.planning.render import render_plan

        plan = make_plan(_joined(), "2026-11-26")
        for salting in (SaltSettings(), SaltSettings(enabled=False),
                        SaltSettings(auto_join="sample")):
            note = {s["name"]: s["salting"] for s in plan.to_dict(salting)["stages"]}["joined"]
            assert note in render_plan(plan, "wh", salting)
        off = plan.to_dict(SaltSettings(enabled=False))["stages"][0]["salting"]
        assert off == "salting: off (salting.enabled: false)"

"""Running part of a pipeline (--select) and reusing unchanged staged stages."""

from __future__ import annotations

import pytest

from pipelines.core.config.registry import find_pipeline
from pipelines.core.errors import UsageError
from pipelines.core.planning.plan import make_plan
from pipelines.demo.catalog_data import write_catalog
from pipelines.demo.orders_data import generate
from tests.helpers import cli, delta_version

DAY = "2026-11-25"
KEEP = ("--conf", "keep_staging=true")
TABLES = ("dim_product", "fact_category_sales", "top_products")


def _plan(*selectors):
    return make_plan(find_pipeline("product_sales", ["pipelines"]), DAY, select=selectors)


def describe_selecting_part_of_a_pipeline():
    def it_keeps_a_sink_and_exactly_what_it_needs():
        plan = _plan("dim_product")
        assert (list(plan.sinks), list(plan.order), list(plan.sources)) == (
            ["dim_product"], ["product_dim"], ["products"])
        assert plan.whole == (9, 3) and plan.selected == ("dim_product",)

    def it_takes_a_stages_own_sinks_or_everything_downstream_with_a_plus():
        assert list(_plan("category_sales").sinks) == ["fact_category_sales"]
        with pytest.raises(UsageError) as err:
            _plan("sales_lines")  # feeds no sink itself
        assert err.value.key == "sales_lines"
        downstream = _plan("sales_lines+")
        assert sorted(downstream.sinks) == ["fact_category_sales", "top_products"]
        assert "product_dim" in downstream.order  # needed by the join upstream

    def it_refuses_an_unknown_node_naming_the_closest():
        with pytest.raises(UsageError) as err:
            _plan("top_product")
        assert err.value.key == "top_product"
        assert "did you mean 'top_products'" in str(err.value)


@pytest.fixture
def star(spark, warehouse):
    generate(spark, warehouse, DAY, rows=800, customers=50, seed=9)
    write_catalog(spark, warehouse, DAY, seed=9)
    return warehouse


def _versions(warehouse):
    return {t: delta_version(warehouse, t) for t in TABLES}


def _stages(out):
    return {s["name"]: s for s in out["stages"]}


def describe_a_selected_run():
    def it_publishes_only_the_selection_and_reuses_the_staged_stages(capsys, star):
        code, first, err = cli(capsys, "run", "product_sales", "--date", DAY, *KEEP,
                               warehouse=star)
        assert code == 0, err
        before = _versions(star)
        code, out, err = cli(capsys, "run", "product_sales", "--date", DAY, "--select",
                             "top_products", "--force", *KEEP, warehouse=star)
        assert code == 0, err
        assert [o["sink"] for o in out["outputs"]] == ["top_products"]
        stages = _stages(out)
        assert stages["best_sellers"]["reused_from"] == first["generation"]
        assert stages["sales_lines"]["rows_out"] is None  # not computed: nothing reads it
        after = _versions(star)
        assert after["top_products"] == before["top_products"] + 1
        assert {t: after[t] for t in TABLES[:2]} == {t: before[t] for t in TABLES[:2]}

        # a whole run after it is never skipped: the selected run published one sink only
        code, full, err = cli(capsys, "run", "product_sales", "--date", DAY, *KEEP,
                              warehouse=star)
        assert code == 0, err
        assert full["generation"] == out["generation"] + 1
        assert "published only top_products" in full["message"]
        assert {n for n, s in _stages(full).items() if s["reused_from"]} == {
            "product_dim", "category_sales", "best_sellers"}
        assert len(full["outputs"]) == 3

        # the same selection again: already covered, skipped before Spark is asked
        code, again, _ = cli(capsys, "run", "product_sales", "--date", DAY, "--select",
                             "dim_product", *KEEP, warehouse=star)
        assert (code, again["status"]) == (0, "skipped"), again["message"]

        # --recompute reads nothing staged
        code, fresh, err = cli(capsys, "run", "product_sales", "--date", DAY, "--select",
                               "top_products", "--force", "--recompute", *KEEP, warehouse=star)
        assert code == 0, err
        assert not any(s["reused_from"] for s in fresh["stages"])

    def it_plans_what_a_run_would_reuse_and_recompute(capsys, star):
        assert cli(capsys, "run", "product_sales", "--date", DAY, *KEEP, warehouse=star)[0] == 0
        code, plan, _ = cli(capsys, "plan", "product_sales", "--date", DAY, "--select",
                            "fact_category_sales", *KEEP, warehouse=star)
        assert code == 0
        assert plan["selected"] == ["fact_category_sales"]
        assert plan["reuse"]["category_sales"] == "reuse generation 1"
        assert plan["reuse"]["sales_lines"] == "skip (only reused stages read it)"
        # other settings change what every stage computes: nothing is reused
        code, plan, _ = cli(capsys, "plan", "product_sales", "--date", DAY, "--select",
                            "fact_category_sales", *KEEP, "--conf", "salting.skew_factor=3",
                            warehouse=star)
        assert set(plan["reuse"].values()) == {"compute"}

    @pytest.mark.slow  # three more runs: make test-slow
    def it_reuses_nothing_once_a_succeeded_run_removed_its_staging(capsys, star):
        assert cli(capsys, "run", "product_sales", "--date", DAY, warehouse=star)[0] == 0
        code, out, _ = cli(capsys, "run", "product_sales", "--date", DAY, "--select",
                           "dim_product", "--force", warehouse=star)
        assert code == 0
        assert _stages(out)["product_dim"]["reused_from"] is None

"""diff and promote for both reference pipelines, every sink mode they have (a partition
overwrite with its replace_where, a merge, a dimension with history, a whole-table
overwrite): a staged backfill diffs clean against its promotion, and promoting publishes
exactly the staged tables."""

from __future__ import annotations

import pytest

from pipelines.demo.catalog_data import write_catalog
from pipelines.demo.orders_data import generate
from tests.helpers import cli, delta_rows

pytestmark = pytest.mark.slow

DATES = ["2026-11-24", "2026-11-25"]
TABLES = {
    "daily_revenue": ["fact_daily_revenue", "customer_totals"],
    "product_sales": ["dim_product", "fact_category_sales", "top_products"],
}


@pytest.fixture(scope="module")
def landed(spark, tmp_path_factory):
    warehouse = str(tmp_path_factory.mktemp("reference") / "wh")
    for date in DATES:
        generate(spark, warehouse, date, rows=600, customers=40, seed=5)
        write_catalog(spark, warehouse, date, seed=5)
    return warehouse


def describe_the_reference_pipelines():
    @pytest.mark.parametrize("pipeline", sorted(TABLES))
    def it_promotes_a_staged_backfill_that_then_diffs_clean(landed, capsys, pipeline):
        canary = f"{landed}/_canary"
        code, _, err = cli(capsys, "backfill", pipeline, "--start", DATES[0], "--end", DATES[1],
                           "--staging", warehouse=landed)
        assert code == 0, err
        code, promoted, err = cli(capsys, "promote", pipeline, "--start", DATES[0], "--end",
                                  DATES[1], warehouse=landed)
        assert code == 0, err
        assert [r["status"] for r in promoted["runs"]] == ["succeeded"] * 2
        for table in TABLES[pipeline]:
            assert delta_rows(landed, table) == delta_rows(canary, table), table
        for date in DATES:
            code, found, err = cli(capsys, "diff", pipeline, "--date", date, warehouse=landed)
            assert code == 0, err
            assert {s["sink"]: (s["added"], s["removed"], s["changed"]) for s in found["sinks"]} \
                == {s: (0, 0, 0) for s in TABLES[pipeline]}


    @pytest.mark.parametrize("pipeline", sorted(TABLES))
    def it_diffs_a_canary_of_every_sink_mode(landed, capsys, pipeline):
        for date in DATES:  # production (already there when promoted: then skipped)
            assert cli(capsys, "run", pipeline, "--date", date, warehouse=landed)[0] == 0
        code, _, err = cli(capsys, "run", pipeline, "--date", DATES[1], "--canary", "--sample",
                           "0.5", warehouse=landed)
        assert code == 0, err
        code, found, err = cli(capsys, "diff", pipeline, "--date", DATES[1],
                               "--max-changed-share", "100", "--max-mean-shift", "100",
                               warehouse=landed)
        assert code == 0, found and found.get("breaches")
        assert sorted(s["sink"] for s in found["sinks"]) == sorted(TABLES[pipeline])

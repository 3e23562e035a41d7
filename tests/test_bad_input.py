"""Bad input: one clear line, the documented exit code, and every table left as it was."""

from __future__ import annotations

import os
import shutil

import pytest

from pipelines.demo.orders_data import generate
from tests.helpers import DATE, cli

LATER = "2026-11-27"


@pytest.fixture(scope="module")
def published_once(spark, tmp_path_factory):
    """A warehouse where DATE already ran, and LATER has FX rates and a few orders."""
    from pipelines.core.interfaces.cli import main

    warehouse = str(tmp_path_factory.mktemp("bad") / "wh")
    generate(spark, warehouse, DATE, rows=400, customers=50, seed=5)
    assert main(["run", "daily_revenue", "--date", DATE, "--env", "test",
                 "--conf", f"warehouse={warehouse}"]) == 0
    generate(spark, warehouse, LATER, rows=10, customers=50, seed=5)
    return warehouse


@pytest.fixture
def published(published_once, tmp_path):
    copy = str(tmp_path / "wh")
    shutil.copytree(published_once, copy)
    return copy


def _landing(warehouse: str, date: str) -> str:
    return f"{warehouse}/landing/orders/date={date}"


def _replace_landing(warehouse: str, date: str, lines: list[str]) -> None:
    folder = _landing(warehouse, date)
    for name in os.listdir(folder):
        os.remove(os.path.join(folder, name))
    with open(os.path.join(folder, "part-0.json"), "w") as fh:
        fh.write("\n".join(lines) + "\n")


GOOD = ('{"order_id":"O1","customer_id":"C000010","order_ts":"2026-11-27T10:00:00",'
        '"product":"P1","quantity":1,"amount":5.5,"currency":"USD"}')


def describe_bad_input():
    def it_exits_5_when_the_input_for_the_date_is_missing(spark, published, capsys,
                                                         delta_versions):
        before = delta_versions(published)
        code, out, err = cli(capsys, "run", "daily_revenue", "--date", "2026-12-01",
                             warehouse=published)
        assert code == 5
        assert out["source"] == "raw_orders" and out["kind"] == "input"
        problems = [line for line in err.splitlines() if not line[:8].replace(":", "").isdigit()]
        assert len(problems) == 1 and "input not found" in problems[0]  # beside progress lines
        assert delta_versions(published) == before

    def it_exits_5_on_a_malformed_json_line(spark, published, capsys, delta_versions):
        _replace_landing(published, LATER, [GOOD, '{"order_id": "O2", "amount": '])
        before = delta_versions(published)
        code, out, err = cli(capsys, "run", "daily_revenue", "--date", LATER,
                             warehouse=published)
        assert code == 5, err
        assert out["stage"] == "clean_orders" and out["source"] == "raw_orders"
        assert "malformed" in out["message"]
        assert delta_versions(published) == before

    def it_exits_5_on_a_column_of_the_wrong_type(spark, published, capsys, delta_versions):
        _replace_landing(published, LATER, [GOOD.replace('"amount":5.5', '"amount":"lots"')])
        before = delta_versions(published)
        code, out, _ = cli(capsys, "run", "daily_revenue", "--date", LATER, warehouse=published)
        assert code == 5
        assert out["kind"] == "input"
        # the file and the record as Spark parsed it (the bad decimal is its null)
        assert out["file"].endswith("part-0.json")
        assert out["key"].startswith("MALFORMED_RECORD_IN_PARSING") and "null" in out["record"]
        assert delta_versions(published) == before

    def it_exits_5_naming_file_column_and_both_types_when_parquet_differs(spark, warehouse,
                                                                         capsys):
        spark.createDataFrame([("eu", "12")], "region string, amount string").write.parquet(
            f"{warehouse}/landing/sales/{DATE}")
        code, out, err = cli(capsys, "run", "filtered_sales", "--date", DATE,
                             warehouse=warehouse)
        assert code == 5, err
        assert (out["column"], out["declared_type"]) == ("amount", "bigint")
        assert out["found_type"] == "string" and out["file"].endswith(".parquet")

    def it_exits_2_on_an_unknown_pipeline_with_a_suggestion(spark, warehouse, capsys):
        code, out, err = cli(capsys, "run", "daily_revenu", "--date", DATE, warehouse=warehouse)
        assert code == 2
        assert out["pipeline"] == "daily_revenu"
        assert "did you mean 'daily_revenue'" in err

    def it_exits_2_on_an_invalid_date(spark, warehouse, capsys):
        code, out, _ = cli(capsys, "run", "daily_revenue", "--date", "2026-13-01",
                           warehouse=warehouse)
        assert code == 2 and out["key"] == "date"

    def it_exits_2_on_a_broken_conf_file(spark, warehouse, capsys, tmp_path, monkeypatch):
        conf = tmp_path / "conf"
        conf.mkdir()
        (conf / "base.yaml").write_text("warehouse: [oops\n")
        monkeypatch.setenv("PIPELINES_CONF_DIR", str(conf))
        code, out, err = cli(capsys, "list", warehouse=warehouse, env="local")
        assert code == 2
        assert out["file"].endswith("base.yaml")
        assert err.startswith("error: cannot parse YAML")

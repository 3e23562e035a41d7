"""A join on a condition alone (a scalar subquery, a range lookup): a nested loop over a
broadcast side, the right one when small, else an inner join's left; refused when neither is."""

from __future__ import annotations

import json
import os

import pytest
from testpipes.above_average import ORDERS
from testpipes.above_average import pipeline as above_average

from pipelines import Join, Pipeline, Sink, Source
from pipelines.core.errors import DefinitionError
from pipelines.core.planning.plan import make_plan
from pipelines.core.planning.render import render_plan
from tests.helpers import DATE, cli, delta_rows

AMOUNTS = {"o1": 10.0, "o2": 20.0, "o3": 30.0, "o4": 100.0}


@pytest.fixture
def landed(tmp_path):
    warehouse = str(tmp_path / "wh")
    folder = f"{warehouse}/landing/avg/{DATE}"
    os.makedirs(folder)
    with open(f"{folder}/part-0.json", "w") as fh:
        fh.writelines(json.dumps({"order_id": k, "amount": v}) + "\n" for k, v in AMOUNTS.items())
    return warehouse


def _expected() -> list[tuple]:
    average = sum(AMOUNTS.values()) / len(AMOUNTS)
    return sorted((k, v, average) for k, v in AMOUNTS.items() if v > average)


def _decision(out: dict, stage: str) -> dict:
    return next(s for s in out["stages"] if s["name"] == stage)["salting"]


def describe_a_join_on_a_condition_alone():
    def it_broadcasts_a_one_row_right_side_and_gives_the_answer(spark, landed, capsys):
        code, out, err = cli(capsys, "run", "above_average", "--date", DATE, warehouse=landed)
        assert code == 0, err
        assert (_decision(out, "above")["decision"], _decision(out, "above").get("side")) == (
            "broadcast", None)
        assert delta_rows(landed, "above_average") == _expected()

    def it_broadcasts_an_inner_joins_small_left_when_the_right_is_large(spark, landed, capsys):
        code, out, err = cli(capsys, "run", "above_average_flipped", "--date", DATE,
                             "--conf", "salting.broadcast_max_bytes=64", warehouse=landed)
        assert code == 0, err
        assert _decision(out, "above")["side"] == "left"
        rows = delta_rows(landed, "above_average", "order_id", "amount", "avg_amount")
        assert rows == _expected()

    def it_refuses_a_join_with_neither_side_small_naming_the_stage(spark, landed, capsys):
        code, out, err = cli(capsys, "run", "above_average", "--date", DATE,
                             "--conf", "salting.broadcast_max_bytes=1", warehouse=landed)
        assert code == 2, err
        assert (out["kind"], out["stage"], out["key"]) == ("definition", "above", "condition")
        assert "over salting.broadcast_max_bytes (1 bytes" in out["message"]

    def it_says_in_the_plan_how_it_joins(spark, landed, capsys):
        code, _, err = cli(capsys, "plan", "above_average", "--date", DATE, warehouse=landed)
        assert code == 0, err
        rendered = render_plan(make_plan(above_average, DATE), landed)
        assert ("join   inner on the condition l.amount > r.avg_amount (a nested loop over a "
                "broadcast side)") in rendered


def _pipeline(join: Join) -> Pipeline:
    return Pipeline(name="p", sources=[
        Source("a", format="json", path="in/a", schema=ORDERS),
        Source("b", format="json", path="in/b", schema=ORDERS)], stages=[join],
        sinks=[Sink("out", input=join.name, table="out", mode="append")])


def describe_what_the_plan_refuses():
    @pytest.mark.parametrize(("join", "key"), [
        (Join("j", "a", "b"), "on"),
        (Join("j", "a", "b", condition="l.amount < r.amount", how="right"), "how"),
        (Join("j", "a", "b", condition="l.amount < r.amount", how="full"), "how"),
        (Join("j", "a", "b", condition="l.amount < r.amount", broadcast="none"), "broadcast"),
    ])
    def it_refuses_what_a_nested_loop_cannot_honor(join, key):
        with pytest.raises(DefinitionError) as refused:
            make_plan(_pipeline(join), DATE)
        assert (refused.value.stage, refused.value.key) == ("j", key)

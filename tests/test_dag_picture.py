"""The DAG picture draws every stage kind: both reference pipelines and every TPC-H example
render, and each kind a pipeline can declare has a colour."""

from __future__ import annotations

import pkgutil
import typing

import pytest

import examples.tpch
from pipelines.core.config.registry import find_pipeline
from pipelines.core.declare.spec import Stage
from pipelines.core.planning.plan import make_plan
from pipelines.core.planning.render import KIND_COLOURS, plan_svg

TPCH = sorted(m.name for m in pkgutil.iter_modules(examples.tpch.__path__)
              if m.name.startswith("q"))


def describe_the_dag_picture():
    def it_has_a_colour_for_every_stage_kind():
        kinds = {t.kind for t in typing.get_args(Stage)}
        assert kinds | {"source", "sink"} <= set(KIND_COLOURS)

    @pytest.mark.parametrize("name", ["daily_revenue", "product_sales"])
    def it_draws_the_reference_pipelines(name):
        svg = plan_svg(make_plan(find_pipeline(name, ["pipelines"]), "2026-11-26"))
        assert svg.startswith("<svg") and svg.count("<rect") >= 5

    @pytest.mark.parametrize("name", TPCH)
    def it_draws_every_tpch_example(name):
        svg = plan_svg(make_plan(find_pipeline(name, ["examples.tpch"]), "2026-11-26"))
        assert svg.startswith("<svg") and "</svg>" in svg

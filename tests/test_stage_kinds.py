"""Every stage kind describes itself: its name in the plan, the DAG and the ledger, one line
of plan text, the SQL templates the plan checks, whether it keeps rows one by one. A test
walks every kind of ``Stage`` through each, so a new kind cannot ship half-handled."""

from __future__ import annotations

import dataclasses
import typing

import pytest

from pipelines import Filter, Join, Latest, Map, Reduce, Select, Sql, Top, Union, WithColumns, agg
from pipelines.core.declare.spec import Stage
from pipelines.core.planning.render import KIND_COLOURS
from transforms.orders import convert_to_usd

# one declared example of every kind
EXAMPLES = {
    Map: Map("m", input="a", fn=convert_to_usd),
    Reduce: Reduce("r", input="a", keys=["k"], aggs=[agg.sum_("v", "total")]),
    Join: Join("j", "a", "b", ["k"], condition="r.x <= l.y"),
    Filter: Filter("f", input="a", where="day = '{date}'"),
    Select: Select("s", input="a", columns={"k": "k", "doubled": "v * 2"}),
    WithColumns: WithColumns("w", input="a", columns={"v2": "v + 1"}, rename={"k": "key"},
                             drop=["x"]),
    Top: Top("t", input="a", n=3, by=["v DESC"], per=["k"]),
    Latest: Latest("l", input="a", keys=["k"], by="ts"),
    Union: Union("u", inputs=["a", "b"]),
    Sql: Sql("q", inputs=["a"], query="SELECT k FROM {a}\n WHERE day = '{date}'"),
}
KINDS = typing.get_args(Stage)


def describe_every_stage_kind():
    def it_has_an_example_here():
        assert set(EXAMPLES) == set(KINDS)

    @pytest.mark.parametrize("kind", KINDS, ids=[k.__name__ for k in KINDS])
    def it_names_itself_and_has_a_colour_in_the_dag(kind):
        assert kind.kind == kind.__name__.lower()
        assert kind.kind in KIND_COLOURS
        assert "kind" not in {f.name for f in dataclasses.fields(kind)}  # not declared data

    @pytest.mark.parametrize("kind", KINDS, ids=[k.__name__ for k in KINDS])
    def it_describes_itself_in_one_line(kind):
        text = EXAMPLES[kind].describe()
        assert text and "\n" not in text

    @pytest.mark.parametrize("kind", KINDS, ids=[k.__name__ for k in KINDS])
    def it_lists_its_templates_by_declared_field(kind):
        stage = EXAMPLES[kind]
        fields = {f.name for f in dataclasses.fields(stage)}
        for field, text in stage.templates():
            assert field in fields and isinstance(text, str)

    def it_says_which_kinds_keep_rows_one_by_one():
        assert {k for k in KINDS if k.row_wise} == {Map, Filter}

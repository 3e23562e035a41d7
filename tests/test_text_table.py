"""Rows printed by `pipelines table` read as SQL shows them: aligned columns, numbers to the
right, null/true/false and ISO dates, never Python reprs such as None, True or Decimal(...)."""

from __future__ import annotations

import datetime as dt
import decimal

from pipelines.core.interfaces.text_table import text_table
from tests.test_report import _golden


def describe_text_table():
    def it_renders_known_rows_as_its_golden_text():
        rows = [
            {"id": 1, "name": "alice", "amount": decimal.Decimal("12.50"), "vip": True,
             "day": dt.date(2026, 12, 1), "seen": dt.datetime(2026, 12, 1, 2, 30),
             "tags": ["a", "b"], "note": None},
            {"id": 20000, "name": "bob\nsmith", "amount": None, "vip": False,
             "day": dt.date(2026, 12, 2), "seen": None, "tags": [], "note": "x" * 60},
        ]
        _golden("table.txt", text_table(rows) + "\n")

    def it_says_when_there_are_no_rows():
        assert text_table([]) == "(no rows)"

    def it_writes_no_python_reprs():
        text = text_table([{"a": None, "b": True, "c": decimal.Decimal("1.5"), "d": 2.0}])
        for repr_ in ("None", "True", "Decimal"):
            assert repr_ not in text

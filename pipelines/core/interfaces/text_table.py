"""Rows as an aligned text table, values written as SQL shows them (``null``, ``true``,
ISO dates), never as Python reprs."""

from __future__ import annotations

import datetime as dt
import decimal
import json
from collections.abc import Sequence
from typing import Any

__all__ = ["cell", "text_table"]

MAX_WIDTH = 40  # a longer value is cut with an ellipsis; --json has it whole


def cell(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, (dt.date, decimal.Decimal)):
        return str(value)
    if isinstance(value, float):
        return repr(value) if value != int(value) or abs(value) >= 1e16 else f"{value:.1f}"
    if isinstance(value, (dict, list, tuple)):
        return json.dumps(value, default=cell, ensure_ascii=False)
    if isinstance(value, bytes):
        return "0x" + value.hex()
    return str(value)


def _cut(text: str) -> str:
    text = text.replace("\n", "\\n")
    return text if len(text) <= MAX_WIDTH else text[:MAX_WIDTH - 1] + "…"


def text_table(rows: Sequence[dict[str, Any]]) -> str:
    """A header, a rule and one line per row; numbers right-aligned."""
    if not rows:
        return "(no rows)"
    columns = list(rows[0])
    cells = [[_cut(cell(r.get(c))) for c in columns] for r in rows]
    numeric = [all(isinstance(r.get(c), (int, float, decimal.Decimal))
                   and not isinstance(r.get(c), bool) or r.get(c) is None for r in rows)
               for c in columns]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(columns)]

    def line(values: Sequence[str]) -> str:
        return " | ".join(v.rjust(w) if num else v.ljust(w)
                          for v, w, num in zip(values, widths, numeric, strict=True)).rstrip()

    return "\n".join([line(columns), "-+-".join("-" * w for w in widths),
                      *(line(row) for row in cells)])

"""A backfill runs many dates in one session, each its own run with one generation; with
--parallel N, N dates at once; with a budget, it starts no date that would take it past the
core-hours or cost allowed, and says which dates it did not start (exit 8)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers import cli, delta_rows

DATES = ["2026-11-23", "2026-11-24", "2026-11-25", "2026-11-26"]


def _land(warehouse: str) -> None:
    for n, date in enumerate(DATES):
        folder = Path(warehouse) / "landing" / "events" / date
        folder.mkdir(parents=True)
        (folder / "part-0.json").write_text(json.dumps({"user": f"u{n}", "n": n + 1}) + "\n")


def describe_backfill():
    def it_runs_dates_in_parallel_each_once(spark, warehouse, capsys):
        _land(warehouse)
        code, out, err = cli(capsys, "backfill", "two_sinks", "--start", DATES[0], "--end",
                             DATES[-1], "--parallel", "2", warehouse=warehouse)
        assert code == 0, [r.get("error") for r in out["runs"]]
        assert [(r["date"], r["status"], r["generation"]) for r in out["runs"]] == [
            (d, "succeeded", 1) for d in DATES]
        assert delta_rows(warehouse, "user_totals", "user", "total") == [
            ("u0", 1), ("u1", 2), ("u2", 3), ("u3", 4)]
        _, history, _ = cli(capsys, "history", "two_sinks", warehouse=warehouse)
        assert sorted(r["date"] for r in history["runs"]) == DATES

    def it_stops_before_the_budget_and_names_what_it_did_not_start(spark, warehouse, capsys):
        _land(warehouse)
        code, out, err = cli(capsys, "backfill", "two_sinks", "--start", DATES[0], "--end",
                             DATES[-1], "--budget-core-hours", "0.0001", warehouse=warehouse)
        assert code == 8, err
        assert [r["date"] for r in out["runs"]] == DATES[:1]
        assert out["not_started"] == DATES[1:]
        assert out["stopped_by"].startswith("core-hour budget 0.0001: ")
        assert out["used"]["core_seconds"] > 0.36
        _, history, _ = cli(capsys, "history", "two_sinks", warehouse=warehouse)
        assert [r["date"] for r in history["runs"]] == DATES[:1]

    def it_refuses_a_parallelism_below_one(spark, warehouse, capsys):
        code, out, _ = cli(capsys, "backfill", "two_sinks", "--start", DATES[0], "--end",
                           DATES[0], "--parallel", "0", warehouse=warehouse)
        assert (code, out["key"]) == (2, "parallel")

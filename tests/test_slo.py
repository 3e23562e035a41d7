"""Service-level indicators from the run ledger equal the values computed by hand, and a
breached objective is listed with its own exit code (7)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from pipelines.core.declare.objectives import Objectives
from pipelines.core.errors import DefinitionError
from pipelines.core.records.ledger import RunRecord
from pipelines.core.records.slo import breaches, indicators
from tests.helpers import DATE, cli

NOW = dt.datetime(2026, 12, 6, 12, 0)


def _run(n: int, status: str, seconds: float, *, date: str = "2026-12-01", rows: int = 100,
         retries: int = 0, started_hours_ago: float = 24) -> RunRecord:
    started = NOW - dt.timedelta(hours=started_hours_ago)
    stages = [{"name": "s", "materialized": True, "rows_out": rows, "retries": retries}]
    return RunRecord(f"r{n}", "p", date, 1, 1, status, started,
                     started + dt.timedelta(seconds=seconds), seconds, "", "",
                     {"stages": stages})


def describe_indicators():
    runs = [_run(1, "failed", 30, retries=2, started_hours_ago=30),
            _run(2, "succeeded", 100, started_hours_ago=29),  # recovers r1's date
            _run(3, "succeeded", 200, date="2026-12-02"),
            _run(4, "succeeded", 300, date="2026-12-03", started_hours_ago=2),
            _run(5, "quality_failed", 10, date="2026-12-04", retries=1, started_hours_ago=1),
            _run(6, "succeeded", 50, date="2026-10-01", started_hours_ago=24 * 60)]  # outside

    def it_computes_each_indicator_as_by_hand():
        found = indicators("p", runs, days=30, now=NOW)
        assert (found.runs, found.succeeded, found.failed) == (5, 3, 2)
        assert found.success_rate == pytest.approx(3 / 5)
        assert (found.p50_seconds, found.p95_seconds, found.p99_seconds) == (200, 300, 300)
        assert found.rows_per_second == pytest.approx(300 / 600)
        assert found.retries_per_failure == pytest.approx(3 / 2)
        assert found.mttr_seconds == pytest.approx(3600 + 100)  # r1 started -> r2 finished
        assert found.last_success_age_seconds == pytest.approx(2 * 3600 - 300)

    def it_lists_each_breached_objective():
        objectives = Objectives(success_rate=0.9, p95_seconds=250, published_by="00:00")
        found = indicators("p", runs, days=30, now=NOW, objectives=objectives)
        assert breaches(found, objectives) == [
            "success rate 0.600 < objective 0.900",
            "P95 completion 300.0s > objective 250.0s",
            "published after 00:00 UTC for 2026-12-01, 2026-12-02, 2026-12-03"]


def describe_the_slo_command():
    def it_reads_real_runs_and_exits_7_on_a_breach(spark, warehouse, capsys):
        assert cli(capsys, "run", "watched", "--date", DATE, warehouse=warehouse)[0] == 5
        folder = Path(warehouse) / "landing" / "events" / DATE
        folder.mkdir(parents=True)
        (folder / "part-0.json").write_text('{"user": "a", "n": 1}\n')
        code, run, _ = cli(capsys, "run", "watched", "--date", DATE, warehouse=warehouse)
        assert code == 0
        code, out, _ = cli(capsys, "slo", "watched", warehouse=warehouse)
        found = out["indicators"]
        assert code == 7 and (found["runs"], found["succeeded"], found["failed"]) == (2, 1, 1)
        _, history, _ = cli(capsys, "history", "watched", warehouse=warehouse)
        recorded = {r["run_id"]: r["duration_s"] for r in history["runs"]}[run["run_id"]]
        assert found["success_rate"] == 0.5 and found["p95_seconds"] == recorded
        assert out["breaches"][0] == "success rate 0.500 < objective 0.900"

    def it_refuses_an_objective_out_of_range():
        import dataclasses

        from testpipes.watched import pipeline

        from pipelines.core.planning.plan import make_plan

        broken = dataclasses.replace(pipeline, objectives=Objectives(published_by="25:00"))
        with pytest.raises(DefinitionError) as err:
            make_plan(broken, DATE)
        assert err.value.key == "published_by"

    @pytest.mark.parametrize(("field", "value"), [
        ("success_rate", "0.99"), ("success_rate", {"min": 0.9}), ("success_rate", float("nan")),
        ("p95_seconds", float("nan")), ("p95_seconds", True), ("published_by", "6:00"),
        ("published_by", 600), ("cost_per_run", -1.0), ("cost_per_run", "0.5")])
    def it_refuses_an_objective_of_the_wrong_type(field, value):
        import dataclasses

        from testpipes.watched import pipeline

        from pipelines.core.planning.plan import make_plan

        broken = dataclasses.replace(pipeline, objectives=Objectives(**{field: value}))
        with pytest.raises(DefinitionError) as err:
            make_plan(broken, DATE)
        assert (err.value.key, err.value.exit_code) == (field, 2)

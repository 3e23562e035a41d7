"""`pipelines maintain` compacts and vacuums a pipeline's tables and the ledger, and refuses a
retention that would delete files a resumable run, rollback or time travel still needs."""

from __future__ import annotations

import json
from pathlib import Path

from pipelines.core.records.ledger import Ledger
from tests.helpers import cli, delta_rows, delta_version

DATES = ("2026-11-24", "2026-11-25", "2026-11-26")
NO_RETENTION = ("--conf", "maintenance.retain_hours=0", "--conf",
                "maintenance.time_travel_hours=0")


def _land(warehouse: str, date: str, n: int) -> None:
    folder = Path(warehouse) / "landing" / "events" / date
    folder.mkdir(parents=True)
    (folder / "part-0.json").write_text(json.dumps({"user": f"u{n}", "n": n}) + "\n")


def _data_files(warehouse: str, table: str) -> int:
    return len(list(Path(warehouse, "tables", table).glob("*.parquet")))


def describe_maintain():
    def it_compacts_and_vacuums_without_changing_what_the_tables_hold(spark, warehouse,
                                                                      capsys):
        for n, date in enumerate(DATES):
            _land(warehouse, date, n)
            assert cli(capsys, "run", "two_sinks", "--date", date, warehouse=warehouse)[0] == 0
        rows = delta_rows(warehouse, "user_totals")
        assert _data_files(warehouse, "user_totals") >= 3
        code, out, err = cli(capsys, "maintain", "two_sinks", *NO_RETENTION,
                             warehouse=warehouse)
        assert code == 0, err
        done = {t["table"]: t for t in out["tables"]}
        assert set(done) == {"user_totals", "user_latest", "_pipelines/ledger",
                             "_pipelines/quality_results"} - {"_pipelines/quality_results"} \
            or "_pipelines/quality_results" in done
        assert done["user_totals"]["files_removed"] >= 3 and done["user_totals"][
            "files_added"] == 1
        assert done["user_totals"]["files_deleted"] >= 3
        assert _data_files(warehouse, "user_totals") == 1
        assert delta_rows(warehouse, "user_totals") == rows  # read by delta-rs
        assert done["_pipelines/ledger"]["files_added"] == 1

    def it_refuses_to_delete_what_a_resumable_run_needs(spark, warehouse, capsys,
                                                        settings_for):
        _land(warehouse, DATES[0], 0)
        assert cli(capsys, "run", "two_sinks", "--date", DATES[0], warehouse=warehouse)[0] == 0
        Ledger(spark, settings_for(warehouse).warehouse_path).append(
            run_id="killed-1", pipeline="two_sinks", date=DATES[1], generation=1, attempt=1,
            event="started", status="running")
        before = delta_version(warehouse, "user_totals")
        code, out, err = cli(capsys, "maintain", "two_sinks", *NO_RETENTION,
                             warehouse=warehouse)
        assert out is not None, err
        assert (code, out["kind"], out["key"]) == (2, "usage", "killed-1")
        assert "killed-1 (died, 2026-11-25) still needs to resume" in out["message"]
        assert delta_version(warehouse, "user_totals") == before

    def it_refuses_a_retention_shorter_than_time_travel(spark, warehouse, capsys):
        code, out, _ = cli(capsys, "maintain", "two_sinks", "--conf",
                           "maintenance.retain_hours=24", warehouse=warehouse)
        assert (code, out["key"]) == (2, "maintenance.retain_hours")


def describe_the_ledger():
    def it_is_compacted_by_the_runs_once_it_gathers_many_files(spark, warehouse, capsys,
                                                               settings_for):
        for n, date in enumerate(DATES):
            _land(warehouse, date, n)
            assert cli(capsys, "run", "two_sinks", "--date", date, warehouse=warehouse)[0] == 0
        ledger = Ledger(spark, settings_for(warehouse).warehouse_path)
        before = [r.to_dict() for r in ledger.runs("two_sinks")]
        assert ledger.compact_if_due(max_files=100) == []
        assert ledger.compact_if_due(max_files=6) == [ledger.runs_path]  # two events a run
        from deltalake import DeltaTable

        assert len(DeltaTable(ledger.runs_path).file_uris()) == 1
        assert [r.to_dict() for r in ledger.runs("two_sinks")] == before

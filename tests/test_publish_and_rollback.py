"""A failure never leaves a half-truth: every sink's contract is checked before the first
commit, the ledger records each commit as it lands, a rerun completes a partial publish, and
rollback restores the tables of the warehouse it is pointed at, resumably."""

from __future__ import annotations

import json
import os
import shutil

import pipelines.core.execution.publisher as publisher_module
from pipelines.core import faults
from pipelines.core.errors import PublishError
from pipelines.core.records.ledger import Ledger
from tests.helpers import DATE, cli, delta_rows, delta_version


def _land(warehouse: str, rows: list[tuple[str, int]]) -> None:
    folder = f"{warehouse}/landing/events/{DATE}"
    os.makedirs(folder, exist_ok=True)
    with open(f"{folder}/part-0.json", "w") as fh:
        fh.write("\n".join(json.dumps({"user": u, "n": n}) for u, n in rows) + "\n")


def _run(capsys, warehouse, *args):
    return cli(capsys, "run", "two_sinks", "--date", DATE, *args, warehouse=warehouse)


def _totals(warehouse, name):
    return delta_rows(warehouse, name, "user", "total")


def describe_publishing_all_sinks():
    def it_checks_every_sinks_contract_before_the_first_commit(spark, warehouse, capsys):
        _land(warehouse, [("a", 1), ("b", 2)])
        spark.createDataFrame([("x", "not a number")], "user string, total string").write \
            .format("delta").save(f"{warehouse}/tables/user_latest")
        code, out, _ = _run(capsys, warehouse)
        assert (code, out["sink"], out["column"]) == (2, "user_latest", "total")
        assert delta_version(warehouse, "user_totals") is None

    def it_records_what_committed_when_a_later_sink_fails_and_a_rerun_completes_it(
            spark, warehouse, capsys, monkeypatch):
        _land(warehouse, [("a", 1), ("b", 2)])
        real = publisher_module.publish

        def second_fails(spark_, df, sink, *args, **kwargs):
            if sink.name == "user_latest":
                raise PublishError("storage refused the write", sink=sink.name)
            return real(spark_, df, sink, *args, **kwargs)

        monkeypatch.setattr(publisher_module, "publish", second_fails)
        code, failed, _ = _run(capsys, warehouse)
        assert (code, failed["sink"]) == (1, "user_latest")
        _, history, _ = cli(capsys, "history", "two_sinks", warehouse=warehouse)
        (record,) = history["runs"]
        assert record["status"] == "partially_published"
        assert [(o["table"], o["delta_version"]) for o in record["outputs"]] == [
            ("user_totals", delta_version(warehouse, "user_totals"))]

        monkeypatch.setattr(publisher_module, "publish", real)
        code, out, _ = _run(capsys, warehouse)
        assert (code, out["status"], out["generation"]) == (0, "succeeded", 1)
        assert {o["table"]: o["already_committed"] for o in out["outputs"]} == {
            "user_totals": True, "user_latest": False}
        assert _totals(warehouse, "user_totals") == [("a", 1), ("b", 2)]
        assert _totals(warehouse, "user_latest") == [("a", 1), ("b", 2)]


def describe_rollback():
    def it_restores_the_tables_of_the_warehouse_it_is_pointed_at(spark, tmp_path, capsys):
        original, copy = str(tmp_path / "original"), str(tmp_path / "copy")
        _land(original, [("a", 1)])
        _, run, _ = _run(capsys, original)
        shutil.copytree(original, copy)
        code, out, _ = cli(capsys, "rollback", run["run_id"], warehouse=copy)
        assert code == 0 and {t["path"] for t in out["tables"]} == {
            f"{copy}/tables/user_totals", f"{copy}/tables/user_latest"}
        assert delta_rows(copy, "user_totals") == []
        assert _totals(original, "user_totals") == [("a", 1)]
        _, shown, _ = cli(capsys, "show", run["run_id"], warehouse=original)
        assert shown["status"] == "succeeded"

    def it_finishes_a_rollback_that_was_interrupted_between_tables(spark, warehouse, capsys,
                                                                   monkeypatch):
        _land(warehouse, [("a", 1)])
        _, run, _ = _run(capsys, warehouse)
        real_point = faults.point

        def interrupted(name):
            if name == "before_restore:user_latest":
                raise RuntimeError("the rollback's machine went away")
            real_point(name)

        monkeypatch.setattr(faults, "point", interrupted)
        code, _, _ = cli(capsys, "rollback", run["run_id"], warehouse=warehouse)
        assert code == 1
        _, shown, _ = cli(capsys, "show", run["run_id"], warehouse=warehouse)
        assert shown["status"] == "rolling_back"
        assert [t["table"] for t in [shown["notes"]["restored"]]] == ["user_totals"]
        totals_version = delta_version(warehouse, "user_totals")

        monkeypatch.setattr(faults, "point", real_point)
        code, out, _ = cli(capsys, "rollback", run["run_id"], warehouse=warehouse)
        assert code == 0 and len(out["tables"]) == 2
        assert delta_version(warehouse, "user_totals") == totals_version
        assert delta_rows(warehouse, "user_latest") == []
        code, again, _ = _run(capsys, warehouse)
        assert (code, again["generation"]) == (0, 2)  # a new generation publishes again


def describe_runs_that_died():
    def it_shows_a_run_whose_lock_is_free_as_died(spark, warehouse, capsys, settings_for):
        _land(warehouse, [("a", 1)])
        Ledger(spark, settings_for(warehouse).warehouse_path).append(
            run_id="killed-1", pipeline="two_sinks", date=DATE, generation=1, attempt=1,
            event="started", status="running")
        _, history, _ = cli(capsys, "history", "two_sinks", warehouse=warehouse)
        assert [r["status"] for r in history["runs"]] == ["died"]


def describe_read_only_commands():
    def it_refuses_a_table_version_that_does_not_exist(spark, warehouse, capsys):
        _land(warehouse, [("a", 1)])
        _run(capsys, warehouse)
        code, out, _ = cli(capsys, "table", "user_totals", "--version", "99",
                           warehouse=warehouse)
        assert (code, out["key"]) == (2, "version")

    def it_refuses_the_history_of_an_unknown_pipeline(spark, warehouse, capsys):
        code, out, _ = cli(capsys, "history", "two_sink", warehouse=warehouse)
        assert (code, out["pipeline"]) == (2, "two_sink")
        assert "did you mean 'two_sinks'" in out["message"]

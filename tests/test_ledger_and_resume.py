"""The run ledger, resuming failed runs, the lock, retries and rollback."""

from __future__ import annotations

import json
import os
import time

import pytest

import pipelines.core.execution.generations as generations_module
import pipelines.core.execution.publisher as publisher_module
import pipelines.core.execution.runner as runner_module
from pipelines.core.config.settings import RetrySettings
from pipelines.core.errors import PublishError
from pipelines.core.execution.failures import is_transient, with_retries
from pipelines.core.planning.reuse import staged
from pipelines.core.records.ledger import Ledger
from pipelines.core.records.lock import PipelineLock
from tests.helpers import DATE, cli, table


def _land(warehouse: str, date: str, rows: list[tuple[str, int]]) -> None:
    folder = f"{warehouse}/landing/events/{date}"
    os.makedirs(folder, exist_ok=True)
    with open(f"{folder}/part-0.json", "w") as fh:
        fh.write("\n".join(json.dumps({"user": u, "n": n}) for u, n in rows) + "\n")


def _run(capsys, warehouse, *args, date=DATE):
    return cli(capsys, "run", "events_append", "--date", date, *args, warehouse=warehouse)


@pytest.fixture
def failing_publish(monkeypatch):
    """Make the next publish fail once, after the stages were materialized."""
    real = publisher_module.publish
    calls = {"n": 0}

    def flaky(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 1:
            raise PublishError("storage went away", sink="user_totals")
        return real(*args, **kwargs)

    monkeypatch.setattr(publisher_module, "publish", flaky)
    return calls


def describe_the_ledger():
    def it_records_runs_with_their_outputs_and_inputs(spark, warehouse, capsys):
        _land(warehouse, DATE, [("a", 1), ("b", 2)])
        _, run, _ = _run(capsys, warehouse)
        code, history, _ = cli(capsys, "history", "events_append", warehouse=warehouse)
        assert code == 0
        (record,) = history["runs"]
        assert record["run_id"] == run["run_id"] and record["status"] == "succeeded"
        assert record["outputs"][0]["delta_version"] == run["outputs"][0]["delta_version"]
        assert record["params"]["date"] == DATE
        assert record["inputs"]["events"]["fingerprint"]
        code, shown, _ = cli(capsys, "show", run["run_id"], warehouse=warehouse)
        assert code == 0 and shown["stages"][1]["rows_out"] == 2


    def it_writes_nothing_durable_before_the_start_is_recorded(spark, warehouse, capsys,
                                                               monkeypatch):
        # the `started` commit runs while the first stages compute; here it fails late
        real = Ledger.append

        def start_fails(self, **row):
            if row.get("event") == "started":
                time.sleep(0.5)
                raise OSError("ledger storage went away")
            return real(self, **row)

        monkeypatch.setattr(Ledger, "append", start_fails)
        _land(warehouse, DATE, [("a", 1), ("b", 2)])
        code, failed, _ = _run(capsys, warehouse)
        assert code == 1 and "ledger storage went away" in failed["message"]
        assert not os.path.exists(f"{warehouse}/_pipelines/staging/events_append/{DATE}")
        assert not os.path.exists(f"{warehouse}/tables/user_totals")
        monkeypatch.setattr(Ledger, "append", real)
        code, out, _ = _run(capsys, warehouse)
        assert code == 0 and out["status"] == "succeeded"
        assert sorted(tuple(r) for r in table(spark, warehouse, "user_totals").select(
            "user", "total").collect()) == [("a", 1), ("b", 2)]


def describe_resume():
    def it_continues_a_failed_run_from_its_materialized_stages(spark, warehouse, capsys,
                                                               failing_publish):
        _land(warehouse, DATE, [("a", 1), ("a", 2), ("b", 5)])
        code, failed, _ = _run(capsys, warehouse)
        assert code == 1 and failed["sink"] == "user_totals"
        code, out, _ = _run(capsys, warehouse)
        assert code == 0
        assert (out["generation"], out["attempt"]) == (1, 2)
        assert {s["name"]: s["resumed"] for s in out["stages"]}["per_user"] is True
        assert sorted(tuple(r) for r in table(spark, warehouse, "user_totals").select(
            "user", "total").collect()) == [("a", 3), ("b", 5)]

    def it_refuses_to_mix_data_when_an_input_changed(spark, warehouse, capsys,
                                                     failing_publish):
        _land(warehouse, DATE, [("a", 1)])
        assert _run(capsys, warehouse)[0] == 1
        _land(warehouse, DATE, [("a", 1), ("late", 9)])
        code, out, err = _run(capsys, warehouse)
        assert code == 2 and out["kind"] == "resume-conflict" and out["source"] == "events"
        assert "--force" in err
        code, out, _ = _run(capsys, warehouse, "--force")
        assert code == 0 and out["generation"] == 2
        assert table(spark, warehouse, "user_totals").count() == 2


def describe_rerunning_a_succeeded_date():
    def it_skips_it_while_code_configuration_and_input_files_are_unchanged(spark, warehouse,
                                                                          capsys):
        _land(warehouse, DATE, [("a", 1)])
        assert _run(capsys, warehouse)[0] == 0
        code, out, _ = _run(capsys, warehouse)
        assert (code, out["status"], out["generation"]) == (0, "skipped", 1)
        assert "same code, configuration, parameters and inputs" in out["message"]

    def it_publishes_a_new_generation_when_the_code_changed(spark, warehouse, capsys,
                                                            monkeypatch):
        _land(warehouse, DATE, [("a", 1)])
        _, first, _ = _run(capsys, warehouse)
        for module in (runner_module, generations_module):  # the run's and the skip's check
            monkeypatch.setattr(module, "code_hash", lambda _pipeline: "fixed-code")
        code, out, _ = _run(capsys, warehouse)
        assert (code, out["status"], out["generation"]) == (0, "succeeded", 2)
        assert out["message"] == f"generation 2: code changed since run {first['run_id']}"

    def it_publishes_a_new_generation_when_an_input_file_changed(spark, warehouse, capsys):
        _land(warehouse, DATE, [("a", 1)])
        _, first, _ = _run(capsys, warehouse)
        _land(warehouse, DATE, [("a", 1), ("late", 9)])
        code, out, _ = _run(capsys, warehouse)
        assert (code, out["status"], out["generation"]) == (0, "succeeded", 2)
        assert "input events (files) changed" in out["message"]


def describe_staging_folders():
    def it_resumes_only_from_a_folder_whose_write_completed(spark, warehouse):
        path = f"{warehouse}/_pipelines/staging/p/{DATE}/g1/stage"
        spark.createDataFrame([(1, "a")], "id int, v string").write.parquet(path)
        assert staged(spark, path)
        os.remove(f"{path}/_SUCCESS")  # as a write killed before its job commit leaves it
        assert not staged(spark, path)
        assert not staged(spark, f"{warehouse}/nowhere")

    def it_ignores_a_completed_folder_of_an_attempt_whose_start_was_never_recorded(
            spark, warehouse, capsys):
        # a completed staging folder the ledger records no attempt for (a reset ledger, a
        # copied warehouse): it is not this run's to reuse
        _land(warehouse, DATE, [("a", 1), ("b", 2)])
        stale = f"{warehouse}/_pipelines/staging/events_append/{DATE}/g1/per_user"
        spark.createDataFrame([("stale", 99)], "user string, total long").write.parquet(stale)
        code, out, _ = _run(capsys, warehouse)
        assert code == 0 and (out["generation"], out["attempt"]) == (1, 1)
        assert {s["name"]: s["resumed"] for s in out["stages"]}["per_user"] is False
        assert sorted(tuple(r) for r in table(spark, warehouse, "user_totals").select(
            "user", "total").collect()) == [("a", 1), ("b", 2)]


def describe_the_lock():
    def it_refuses_a_second_run_with_exit_code_4(spark, warehouse, capsys, settings_for):
        _land(warehouse, DATE, [("a", 1)])
        settings = settings_for(warehouse)
        with PipelineLock(settings.lock_path, "events_append", run_id="other"):
            code, out, err = _run(capsys, warehouse)
        assert code == 4 and out["holder"]["run_id"] == "other"
        assert _run(capsys, warehouse)[0] == 0  # released on exit from the holder

    def it_is_taken_before_spark_starts(spark, warehouse, capsys, monkeypatch):
        import pipelines.core.interfaces.cli_commands as commands

        _land(warehouse, DATE, [("a", 1)])
        holders, real = [], commands._spark

        def starting(settings):
            holders.append(PipelineLock.holder(settings.lock_path, "events_append"))
            return real(settings)

        monkeypatch.setattr(commands, "_spark", starting)
        assert _run(capsys, warehouse)[0] == 0
        assert holders and holders[0] is not None and holders[0]["date"] == DATE

    def it_is_released_when_a_run_fails(spark, warehouse, capsys, settings_for):
        code, _, _ = _run(capsys, warehouse, date="2026-01-01")  # no input: exit 5
        assert code == 5
        PipelineLock(settings_for(warehouse).lock_path, "events_append").acquire().release()


def describe_retries():
    def it_retries_transient_failures_with_backoff_and_not_deterministic_ones():
        attempts, sleeps = [], []

        from delta.exceptions import ConcurrentAppendException

        def flaky():
            attempts.append(1)
            if len(attempts) < 3:
                raise ConcurrentAppendException.__new__(ConcurrentAppendException)
            return "ok"

        settings = RetrySettings(max_attempts=4, base_delay_s=1.0, max_delay_s=1.5)
        assert with_retries(flaky, settings, what="t", sleep=sleeps.append) == "ok"
        assert len(attempts) == 3 and len(sleeps) == 2
        assert 0.5 <= sleeps[0] <= 1.0 and 0.75 <= sleeps[1] <= 1.5  # capped, jittered
        assert not is_transient(ValueError("[MALFORMED_RECORD_IN_PARSING] bad json"))
        # words in a message decide nothing: only classes and error conditions do
        assert not is_transient(ValueError("cannot reach host: Connection refused"))
        assert not is_transient(RuntimeError("SparkOutOfMemoryError: ExecutorLostFailure"))
        assert is_transient(ConnectionResetError("peer reset"))
        with pytest.raises(ValueError):
            with_retries(lambda: (_ for _ in ()).throw(ValueError("x")), settings, what="t",
                         sleep=sleeps.append)


def describe_a_transient_failure():
    def it_retries_the_stage_and_succeeds(spark, warehouse, capsys, monkeypatch):
        from pipelines.core import faults

        _land(warehouse, DATE, [("a", 1), ("b", 2)])
        real, hits = faults.point, []

        def refused_once(name):
            if name == "stage_write:per_user" and not hits:
                hits.append(name)  # a real java.net.ConnectException, through Py4J
                spark.sparkContext._jvm.java.net.Socket("127.0.0.1", 1)
            real(name)

        monkeypatch.setattr(faults, "point", refused_once)
        code, out, _ = _run(capsys, warehouse)
        assert code == 0 and hits
        assert {s["name"]: s["retries"] for s in out["stages"]}["per_user"] == 1
        assert sorted(tuple(r) for r in table(spark, warehouse, "user_totals").select(
            "user", "total").collect()) == [("a", 1), ("b", 2)]


def describe_rollback():
    def it_restores_the_tables_a_run_published(spark, warehouse, capsys):
        _land(warehouse, DATE, [("a", 1)])
        _land(warehouse, "2026-11-27", [("b", 2)])
        assert _run(capsys, warehouse)[0] == 0
        _, second, _ = _run(capsys, warehouse, date="2026-11-27")
        assert table(spark, warehouse, "user_totals").count() == 2
        code, out, _ = cli(capsys, "rollback", second["run_id"], warehouse=warehouse)
        assert code == 0 and out["tables"][0]["table"] == "user_totals"
        assert [r["user"] for r in table(spark, warehouse, "user_totals").collect()] == ["a"]
        _, shown, _ = cli(capsys, "show", second["run_id"], warehouse=warehouse)
        assert shown["status"] == "rolled_back"

    def it_publishes_again_when_the_rolled_back_date_runs_again(spark, warehouse, capsys):
        _land(warehouse, DATE, [("a", 1), ("b", 2)])
        _, first, _ = _run(capsys, warehouse)
        assert cli(capsys, "rollback", first["run_id"], warehouse=warehouse)[0] == 0
        assert table(spark, warehouse, "user_totals").count() == 0
        code, out, _ = _run(capsys, warehouse)
        assert (code, out["status"], out["generation"]) == (0, "succeeded", 2)
        assert out["message"] == "generation 2: generation 1 was rolled back"
        assert out["outputs"][0]["already_committed"] is False
        assert sorted(tuple(r) for r in table(spark, warehouse, "user_totals").select(
            "user", "total").collect()) == [("a", 1), ("b", 2)]

    def it_refuses_to_roll_back_under_later_commits(spark, warehouse, capsys):
        _land(warehouse, DATE, [("a", 1)])
        _land(warehouse, "2026-11-27", [("b", 2)])
        _, first, _ = _run(capsys, warehouse)
        code, later, _ = _run(capsys, warehouse, date="2026-11-27")
        assert code == 0
        code, out, _ = cli(capsys, "rollback", first["run_id"], warehouse=warehouse)
        assert (code, out["run_id"]) == (1, later["run_id"])
        assert f"roll back run {later['run_id']} first" in out["message"]

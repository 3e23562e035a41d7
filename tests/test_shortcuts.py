"""A green exit means a right answer: every shortcut the framework takes (skip, stage reuse,
resume, parallel backfill, scd2 regeneration, rollback) leaves the tables a clean
computation of the same state would, or is refused with what changed."""

from __future__ import annotations

import datetime as dt
import threading
import time
from types import SimpleNamespace

import pytest
from chispa import assert_df_equality

from pipelines.core.declare.spec import Sink
from pipelines.core.delta.sinks import TxnId, publish
from pipelines.core.execution.backfill import run_backfill
from pipelines.core.records.lock import PipelineLock
from pipelines.core.records.results import RunResult
from tests.shortcut_world import DATES, SINKS, World

D0, D1 = DATES


@pytest.fixture
def world(tmp_path, spark):
    return World(tmp_path).build()


def _agrees(world: World, *dates: str) -> None:
    for date in dates:
        for sink in SINKS:
            assert world.published(sink, date) == world.expected(sink, date), (sink, date)


def _ok(result):
    code, out, err = result
    assert code == 0, err[-2000:]
    return out


def describe_the_oracle():
    def it_agrees_with_a_clean_recompute_run(world):
        _ok(world.run(D0, "--recompute"))
        _agrees(world, D0)


def describe_a_succeeded_date_run_again():
    @pytest.mark.parametrize("edit", [
        "factor",            # a constant in a helper module the Map function imports
        "offset",            # a constant of the Map function's own module
        "bonus",             # the schema module's declaration
        "mult",              # a run parameter
        "file0",             # a landing file rewritten with the same name, size and mtime
        "rates_recreated",   # a Delta source dropped and created again (version 0 again)
        "rates_new_version",  # a Delta source's new commit
    ])
    def it_computes_again_after_an_edit_one_import_away(world, edit):
        _ok(world.run(D0, "--conf", "keep_staging=true"))
        world.edit(edit)
        out = _ok(world.run(D0, "--conf", "keep_staging=true"))
        assert (out["status"], out["generation"]) == ("succeeded", 2), out.get("message")
        assert _reused(out)["per_user"] is None
        _agrees(world, D0)

    def it_is_skipped_when_nothing_it_depends_on_changed(world):
        first = _ok(world.run(D0))
        world.fresh_process()
        out = _ok(world.run(D0))
        assert out["status"] == "skipped"
        assert f"already succeeded in run {first['run_id']}" in out["message"]
        assert "same code, configuration, parameters and inputs" in out["message"]

    def it_says_what_changed(world):
        first = _ok(world.run(D0))
        world.edit("mult")
        world.edit("rates_recreated")
        out = _ok(world.run(D0))
        assert out["message"] == (
            "generation 2: parameters (mult: 1 -> 2), input rates "
            f"(another table: dropped and created again) changed since run {first['run_id']}")

    def it_reuses_a_staged_stage_only_while_everything_it_depends_on_is_unchanged(world):
        _ok(world.run(D0, "--conf", "keep_staging=true"))
        forced = _ok(world.run(D0, "--force", "--conf", "keep_staging=true"))
        assert _reused(forced)["per_user"] == 1
        world.edit("factor")
        out = _ok(world.run(D0, "--conf", "keep_staging=true"))
        assert _reused(out)["per_user"] is None
        _agrees(world, D0)


def _reused(out):
    return {s["name"]: s.get("reused_from") for s in out["stages"]}


def _runs(world):
    """The ledger's runs of the world's pipeline, oldest first."""
    code, history, err = world.cli("history", "shortcuts")
    assert code == 0, err
    return history["runs"]


def describe_resuming_a_failed_attempt():
    def it_completes_the_attempt_when_nothing_changed(world):
        code, out, _ = world.run(D0, env={"PIPELINES_FAIL": "before_publish:totals"})
        assert (code, out["sink"], out["committed"]) == (1, "totals", ["daily"])
        assert _runs(world)[-1]["status"] == "partially_published"
        out = _ok(world.run(D0))
        assert (out["generation"], out["attempt"]) == (1, 2)
        _agrees(world, D0)

    @pytest.mark.parametrize(("edit", "key"), [("mult", "parameters"), ("factor", "code"),
                                                ("conf", "configuration")])
    def it_refuses_when_code_configuration_or_parameters_changed(world, edit, key):
        world.run(D0, env={"PIPELINES_FAIL": "before_publish:totals"})
        world.edit(edit)
        code, out, err = world.run(D0)
        assert (code, out["kind"], out["key"]) == (2, "resume-conflict", key), err
        out = _ok(world.run(D0, "--force"))
        _agrees(world, D0)

    @pytest.mark.parametrize("edit", ["rates_recreated", "file0"])
    def it_refuses_when_an_input_changed(world, edit):
        world.run(D0, env={"PIPELINES_FAIL": "before_publish:totals"})
        world.edit(edit)
        code, out, err = world.run(D0)
        source = "rates" if edit.startswith("rates") else "events"
        assert (code, out["kind"], out["source"]) == (2, "resume-conflict", source), err

    def it_refuses_a_pinned_version_of_a_table_created_again_before_reading_it(world):
        world.edit("rates_new_version")  # the attempt pins rates at version 1
        world.run(D0, env={"PIPELINES_FAIL": "before_publish:totals"})
        world.edit("rates_recreated")  # version 0 only, another table
        code, out, err = world.run(D0)
        assert (code, out["kind"], out["source"]) == (2, "resume-conflict", "rates"), err

    def it_records_the_parameters_each_attempt_ran_with(world):
        world.run(D0, env={"PIPELINES_FAIL": "before_publish:totals"})
        world.edit("mult")
        _ok(world.run(D0, "--force"))
        assert [r["params"]["mult"] for r in _runs(world)] == ["1", "2"]


def describe_rollback():
    def it_rolls_back_the_generation_of_a_superseded_attempt(world):
        world.run(D0, env={"PIPELINES_FAIL": "before_publish:totals"})
        failed = _runs(world)[-1]
        _ok(world.run(D0))  # the second attempt completes the generation
        out = _ok(world.cli("rollback", failed["run_id"]))
        assert sorted(t["table"] for t in out["tables"]) == ["daily", "totals"]
        assert all(world.published(sink, D0) == [] for sink in SINKS)
        out = _ok(world.run(D0))
        assert (out["status"], out["generation"]) == ("succeeded", 2)
        _agrees(world, D0)

    def it_names_the_later_run_to_roll_back_first(world):
        first = _ok(world.run(D0))
        second = _ok(world.run(D0, "--force"))
        code, out, _ = world.cli("rollback", first["run_id"])
        assert (code, out["run_id"]) == (1, second["run_id"])


def describe_the_timeout():
    def it_lets_a_commit_in_flight_complete_then_ends_with_exit_6(world):
        _ok(world.run(D1))  # warm: the stages of the next run take a few seconds
        # the first sink's commit starts before the timeout and is held past it
        code, out, err = world.run(D0, "--timeout", "8",
                                   env={"PIPELINES_DELAY": "before_publish:daily@10000"})
        assert (code, out["kind"], out["committed"]) == (6, "timeout", ["daily"]), err
        assert "committed before it: daily (a plain rerun completes the rest)" in out["message"]
        run = _runs(world)[-1]
        assert run["status"] == "partially_published"
        assert [o["table"] for o in run["outputs"]] == ["daily"]
        _ok(world.run(D0))
        _agrees(world, D0)

    @pytest.mark.parametrize("value", ["0", "-5", "nan"])
    def it_refuses_a_value_that_is_not_positive(world, value):
        code, out, _ = world.run(D0, "--timeout", value)
        assert (code, out["key"]) == (2, "timeout")
        assert world.published("daily", D0) == []


def describe_checks_before_the_first_commit():
    def it_refuses_duplicate_merge_keys_before_any_sink_commits(spark, warehouse, capsys):
        from tests.helpers import cli

        _land_events(warehouse, [("a", 1), ("a", 2), ("b", 3)])
        code, out, err = cli(capsys, "run", "ordered_sinks", "--date", D0, warehouse=warehouse)
        assert (code, out["sink"], out["kind"]) == (3, "dup_users", "quality"), err
        _, history, _ = cli(capsys, "history", "ordered_sinks", warehouse=warehouse)
        assert history["runs"][0]["outputs"] in (None, [])

    def it_refuses_rows_outside_replace_where_before_any_sink_commits(spark, warehouse,
                                                                         capsys):
        from tests.helpers import cli

        _land_events(warehouse, [("a", 1), ("b", 3)])
        code, out, err = cli(capsys, "run", "ordered_sinks", "--date", D0,
                             "--param", "day=2020-01-01", warehouse=warehouse)
        assert (code, out["sink"], out["key"]) == (2, "by_day", f"day = '{D0}'"), err
        _, history, _ = cli(capsys, "history", "ordered_sinks", warehouse=warehouse)
        assert history["runs"][0]["outputs"] in (None, [])


def _land_events(warehouse: str, rows: list[tuple[str, int]]) -> None:
    import json
    import os

    folder = f"{warehouse}/landing/events/{D0}"
    os.makedirs(folder, exist_ok=True)
    with open(f"{folder}/part-0.json", "w") as fh:
        fh.write("".join(json.dumps({"user": u, "n": n}) + "\n" for u, n in rows))


def describe_a_regenerated_scd2_date():
    SINK = Sink("dim", input="x", table="dim", mode="scd2", keys=["id"])
    HISTORY = "id int, price int, valid_from date, valid_to date, is_current boolean"

    def _load(spark, path, rows, date, generation=1):
        txn = TxnId.for_sink("p", "dim", date, generation, f"run-{date}-{generation}")
        publish(spark, spark.createDataFrame(rows, "id int, price int"), SINK, path, txn,
                pipeline="p", date=date)

    def it_leaves_the_dimension_as_a_clean_load_up_to_that_date(spark, tmp_path):
        regenerated, clean = str(tmp_path / "a"), str(tmp_path / "b")
        first = [(1, 10), (2, 20)]
        _load(spark, regenerated, first, "2026-01-01")
        _load(spark, regenerated, [(1, 11), (2, 20), (3, 5)], "2026-01-02")
        # the corrected second day: product 1 back at its old price, product 3 absent
        corrected = [(1, 10), (2, 20)]
        _load(spark, regenerated, corrected, "2026-01-02", generation=2)
        _load(spark, clean, first, "2026-01-01")
        _load(spark, clean, corrected, "2026-01-02")
        table = spark.read.format("delta").load
        assert_df_equality(table(regenerated), table(clean), ignore_row_order=True)
        assert_df_equality(table(regenerated), spark.createDataFrame(
            [(1, 10, dt.date(2026, 1, 1), None, True), (2, 20, dt.date(2026, 1, 1), None, True)],
            HISTORY), ignore_row_order=True, ignore_nullable=True)

    def it_reapplies_a_changed_date_over_the_versions_it_closed(spark, tmp_path):
        regenerated, clean = str(tmp_path / "a"), str(tmp_path / "b")
        _load(spark, regenerated, [(1, 10), (2, 20)], "2026-01-01")
        _load(spark, regenerated, [(1, 11), (2, 20)], "2026-01-02")
        _load(spark, regenerated, [(1, 12), (2, 21), (4, 1)], "2026-01-02", generation=2)
        _load(spark, clean, [(1, 10), (2, 20)], "2026-01-01")
        _load(spark, clean, [(1, 12), (2, 21), (4, 1)], "2026-01-02")
        table = spark.read.format("delta").load
        assert_df_equality(table(regenerated), table(clean), ignore_row_order=True)

    def it_is_idempotent_when_the_same_generation_is_published_again(spark, tmp_path):
        path = str(tmp_path / "a")
        _load(spark, path, [(1, 10)], "2026-01-01")
        _load(spark, path, [(1, 11)], "2026-01-01", generation=2)
        before = spark.read.format("delta").load(path).collect()
        _load(spark, path, [(1, 11)], "2026-01-01", generation=2)
        assert spark.read.format("delta").load(path).collect() == before


def describe_a_parallel_backfill():
    def it_commits_order_dependent_sinks_in_date_order(spark, settings_for, tmp_path):
        """The later dates finish computing first; their commits still wait their turn."""
        dates = ["2026-01-01", "2026-01-02", "2026-01-03"]
        merge = SimpleNamespace(sinks={"s": SimpleNamespace(mode="merge")})
        committed: list[str] = []
        lock = threading.Lock()

        def run(plan, before_publish):
            time.sleep({"2026-01-01": 0.6, "2026-01-02": 0.3, "2026-01-03": 0.0}[plan.date])
            before_publish()
            with lock:
                committed.append(plan.date)
            return RunResult("r", "p", plan.date, 1, 1, "succeeded", 0, "")

        plans = {d: SimpleNamespace(date=d, sinks=merge.sinks) for d in dates}
        settings = settings_for(str(tmp_path / "wh"))
        run_backfill(spark, settings, plans, run=run, lock=PipelineLock(str(tmp_path), "p"),
                     parallel=3)
        assert committed == dates

    def it_lets_order_independent_sinks_commit_as_they_finish(spark, settings_for, tmp_path):
        dates = ["2026-01-01", "2026-01-02", "2026-01-03"]  # the first runs alone
        committed: list[str] = []

        def run(plan, before_publish):
            time.sleep(0.6 if plan.date == dates[1] else 0.0)
            before_publish()
            committed.append(plan.date)
            return RunResult("r", "p", plan.date, 1, 1, "succeeded", 0, "")

        append = {"s": SimpleNamespace(mode="append")}
        plans = {d: SimpleNamespace(date=d, sinks=append) for d in dates}
        run_backfill(spark, settings_for(str(tmp_path / "wh")), plans, run=run,
                     lock=PipelineLock(str(tmp_path), "p"), parallel=2)
        assert committed == [dates[0], dates[2], dates[1]]

"""Exactly-once outputs under crashes: SIGKILL the driver at many points, rerun, compare.

Slow (a JVM per killed run): ``make test-slow``. Each kill point runs the reference pipeline
in a child process that kills itself at that point (``PIPELINES_FAULT``), then reruns the
same date in this process and compares every output table with a clean run (chispa), and
checks that no sink got more than one commit from the run.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from chispa import assert_df_equality

from pipelines.demo.orders_data import generate
from tests.helpers import DATE, cli, delta_rows, delta_version, table

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[1]
OUTPUTS = ("fact_daily_revenue", "customer_totals", "clean_orders_quarantine")

KILL_POINTS = [
    "during_ledger_start@300",
    "after_start",
    "before_stage:clean_orders",
    "during_stage:clean_orders@1500",
    "after_stage:clean_orders",
    "before_stage:orders_enriched",
    "before_stage:daily_revenue",
    "during_stage:daily_revenue@800",
    "after_stage:daily_revenue",
    "before_stage:customer_latest",
    "after_stage:customer_latest",
    "before_publish",
    "before_publish:fact_daily_revenue",
    "during_publish:fact_daily_revenue@400",
    "during_publish:fact_daily_revenue@1500",
    "after_publish:fact_daily_revenue",
    "before_publish:customer_totals",
    "during_publish:customer_totals@600",
    "after_publish:customer_totals",
    "before_publish:clean_orders_quarantine",
    "during_publish:clean_orders_quarantine@700",
    "after_publish:clean_orders_quarantine",
    "before_ledger_finish",
    "during_ledger_finish@300",
]
REPORT: dict[str, int] = {"kill_points": 0, "killed": 0, "runs_compared": 0, "differences": 0}


def _child(warehouse: str, env_extra: dict[str, str], *args: str) -> subprocess.Popen:
    env = {**os.environ, "PYSPARK_PYTHON": sys.executable, **env_extra}
    cmd = [sys.executable, "-m", "pipelines", "run", "daily_revenue", "--date", DATE,
           "--env", "test", "--conf", f"warehouse={warehouse}", *args]
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


@pytest.fixture(scope="module")
def pristine(spark, tmp_path_factory):
    """Inputs only (landing, customers, fx_rates), and the tables of a clean run."""
    base = str(tmp_path_factory.mktemp("pristine") / "wh")
    generate(spark, base, DATE, rows=2000, customers=100, hot_share=0.5, seed=21,
             bad_share=0.01)
    clean = str(tmp_path_factory.mktemp("clean") / "wh")
    shutil.copytree(base, clean)
    return base, clean


def _outputs(spark, warehouse: str) -> dict:
    out = {}
    for name in OUTPUTS:
        df = table(spark, warehouse, name)
        out[name] = df.drop("run_id") if "run_id" in df.columns else df
    return out


def _commits_by_run(spark, warehouse: str, name: str) -> int:
    from delta.tables import DeltaTable

    history = DeltaTable.forPath(spark, f"{warehouse}/tables/{name}").history()
    return history.where("userMetadata IS NOT NULL").count()


def _independent(warehouse: str, name: str) -> tuple[list[tuple], int]:
    """The table's rows (less run_id) and its commits that carry a run id, as delta-rs, an
    engine independent of Spark's Delta, reads them."""
    from deltalake import DeltaTable

    delta = DeltaTable(f"{warehouse}/tables/{name}")
    data = delta.to_pyarrow_table()
    columns = sorted(c for c in data.column_names if c != "run_id")
    rows = sorted((tuple(r[c] for c in columns) for r in data.select(columns).to_pylist()),
                  key=repr)
    by_run = sum(1 for c in delta.history() if c.get("userMetadata"))
    return rows, by_run


def describe_crashes():
    @pytest.mark.parametrize("point", KILL_POINTS)
    def it_leaves_every_output_as_a_clean_run_would(spark, pristine, tmp_path, capsys, point):
        base, clean = pristine
        if not (Path(clean) / "tables" / "fact_daily_revenue").exists():
            code, _, err = cli(capsys, "run", "daily_revenue", "--date", DATE,
                               "--conf", "quality.drop_threshold=0.05", warehouse=clean)
            assert code == 0, err
        warehouse = str(tmp_path / "wh")
        shutil.copytree(base, warehouse)
        name, _, delay = point.partition("@")
        child = _child(warehouse, {"PIPELINES_FAULT": point},
                       "--conf", "quality.drop_threshold=0.05")
        out, err = child.communicate(timeout=900)
        REPORT["kill_points"] += 1
        if child.returncode == -9:
            REPORT["killed"] += 1
        else:  # a timed kill may come after the region ended; then the run simply finished
            assert delay and child.returncode == 0, err[-2000:]
        code, result, err = cli(capsys, "run", "daily_revenue", "--date", DATE,
                                "--conf", "quality.drop_threshold=0.05", warehouse=warehouse)
        assert code == 0, err
        expected, actual = _outputs(spark, clean), _outputs(spark, warehouse)
        for table_name in OUTPUTS:
            REPORT["runs_compared"] += 1
            try:
                assert_df_equality(actual[table_name], expected[table_name],
                                   ignore_row_order=True, ignore_nullable=True)
            except AssertionError:
                REPORT["differences"] += 1
                raise
            assert _commits_by_run(spark, warehouse, table_name) == 1, table_name
            rows, by_run = _independent(warehouse, table_name)
            assert (rows, by_run) == (_independent(clean, table_name)[0], 1), table_name


def describe_a_sink_that_keeps_failing():
    @pytest.mark.parametrize("sink", OUTPUTS)
    def it_records_the_sinks_that_committed_and_a_rerun_completes_the_rest(
            spark, pristine, tmp_path, capsys, monkeypatch, sink):
        base, clean = pristine
        if not (Path(clean) / "tables" / "fact_daily_revenue").exists():
            assert cli(capsys, "run", "daily_revenue", "--date", DATE, "--conf",
                       "quality.drop_threshold=0.05", warehouse=clean)[0] == 0
        warehouse = str(tmp_path / "wh")
        shutil.copytree(base, warehouse)
        monkeypatch.setenv("PIPELINES_FAIL", f"before_publish:{sink}")
        code, failed, err = cli(capsys, "run", "daily_revenue", "--date", DATE,
                                "--conf", "quality.drop_threshold=0.05", warehouse=warehouse)
        assert (code, failed["sink"]) == (1, sink), err
        _, history, _ = cli(capsys, "history", "daily_revenue", warehouse=warehouse)
        (record,) = history["runs"]
        # sinks publish one after another (publish_threads: 1), in this order
        before = OUTPUTS[:OUTPUTS.index(sink)]
        assert record["status"] == ("partially_published" if before else "failed")
        assert [(o["table"], o["delta_version"]) for o in record["outputs"]] == [
            (name, delta_version(warehouse, name)) for name in before]
        assert delta_version(warehouse, sink) is None or delta_rows(warehouse, sink) == []

        monkeypatch.delenv("PIPELINES_FAIL")
        code, out, err = cli(capsys, "run", "daily_revenue", "--date", DATE,
                             "--conf", "quality.drop_threshold=0.05", warehouse=warehouse)
        assert (code, out["generation"]) == (0, 1), err
        assert {o["table"]: o["already_committed"] for o in out["outputs"]} == {
            name: name in before for name in OUTPUTS}
        for name in OUTPUTS:
            assert _independent(warehouse, name) == (_independent(clean, name)[0], 1), name


def describe_a_killed_rollback():
    def it_is_finished_by_running_it_again(spark, pristine, tmp_path, capsys):
        base, _ = pristine
        warehouse = str(tmp_path / "wh")
        shutil.copytree(base, warehouse)
        code, run, err = cli(capsys, "run", "daily_revenue", "--date", DATE,
                             "--conf", "quality.drop_threshold=0.05", warehouse=warehouse)
        assert code == 0, err
        env = {**os.environ, "PIPELINES_FAULT": "before_restore:customer_totals"}
        child = subprocess.run(
            [sys.executable, "-m", "pipelines", "rollback", run["run_id"], "--env", "test",
             "--conf", f"warehouse={warehouse}"], cwd=ROOT, env=env, capture_output=True,
            text=True, timeout=900)
        assert child.returncode == -9, child.stderr[-2000:]
        code, out, err = cli(capsys, "rollback", run["run_id"], warehouse=warehouse)
        assert code == 0, err
        assert {t["table"] for t in out["tables"]} == set(OUTPUTS)
        for name in OUTPUTS:  # as before the run: created empty by its first publish
            assert table(spark, warehouse, name).count() == 0, name


def describe_a_killed_backfill():
    def it_completes_every_date_once_when_run_again(spark, tmp_path, capsys):
        warehouse = str(tmp_path / "wh")
        dates = ["2026-11-25", "2026-11-26"]
        for i, date in enumerate(dates):
            folder = Path(warehouse) / "landing" / "events" / date
            folder.mkdir(parents=True)
            (folder / "part-0.json").write_text(f'{{"user": "u{i}", "n": {i + 1}}}\n')
        args = ["backfill", "events_append", "--start", dates[0], "--end", dates[1],
                "--env", "test", "--conf", f"warehouse={warehouse}",
                "--conf", "pipeline_packages=[pipelines,testpipes]"]
        env = {**os.environ, "PIPELINES_FAULT": f"backfill_date:{dates[1]}",
               "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'tests' / 'fixtures'}"}
        child = subprocess.run([sys.executable, "-m", "pipelines", *args], cwd=ROOT, env=env,
                               capture_output=True, text=True, timeout=900)
        assert child.returncode == -9, child.stderr[-2000:]
        code, out, err = cli(capsys, "backfill", "events_append", "--start", dates[0],
                             "--end", dates[1], warehouse=warehouse)
        assert code == 0, err
        assert [r["status"] for r in out["runs"]] == ["skipped", "succeeded"]
        rows = sorted(tuple(r) for r in table(spark, warehouse, "user_totals").select(
            "day", "user", "total").collect())
        assert rows == [(dates[0], "u0", 1), (dates[1], "u1", 2)]


def describe_two_runs_at_once():
    def it_lets_exactly_one_proceed(spark, pristine, tmp_path):
        base, _ = pristine
        warehouse = str(tmp_path / "wh")
        shutil.copytree(base, warehouse)
        hold = {"PIPELINES_DELAY": "after_start@20000"}  # keep the lock while the other starts
        first = _child(warehouse, hold, "--conf", "quality.drop_threshold=0.05")
        time.sleep(1)
        second = _child(warehouse, hold, "--conf", "quality.drop_threshold=0.05", "--json")
        codes = sorted([first.wait(timeout=900), second.wait(timeout=900)])
        assert codes == [0, 4]
        REPORT["concurrent_pairs"] = REPORT.get("concurrent_pairs", 0) + 1


def teardown_module(module):
    print("\nFAULT-INJECTION REPORT " + json.dumps(REPORT))

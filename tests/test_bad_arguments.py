"""Option values that would be dropped or misread are refused before anything runs: exit 2,
the option named in the error's ``key``, nothing written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import DATE, cli


def _refused(capsys, warehouse, *args):
    code, out, err = cli(capsys, *args, warehouse=warehouse)
    assert code == 2, err
    assert not (Path(warehouse) / "tables").exists()
    return out


def describe_refused_arguments():
    @pytest.mark.parametrize("date", ["20261126", "2026-W48-4", "2026-11-26T00:00", "26-11-2026"])
    def it_takes_a_date_only_as_yyyy_mm_dd(capsys, warehouse, date):
        out = _refused(capsys, warehouse, "run", "events_append", "--date", date)
        assert out["key"] == "date"

    @pytest.mark.parametrize("value", [",", " , "])
    def it_refuses_a_selection_that_names_nothing(capsys, warehouse, value):
        out = _refused(capsys, warehouse, "run", "events_append", "--date", DATE,
                       "--select", value)
        assert out["key"] == "select"

    @pytest.mark.parametrize(("flag", "value"), [("--sample", "0.5"), ("--sample-by", "user"),
                                                 ("--sample-unit", "rows")])
    def it_refuses_sampling_options_without_canary(capsys, warehouse, flag, value):
        out = _refused(capsys, warehouse, "run", "events_append", "--date", DATE, flag, value)
        assert out["key"] == flag[2:]

    @pytest.mark.parametrize("flag", ["--budget-core-hours", "--budget-cost"])
    def it_refuses_a_budget_that_is_not_positive(capsys, warehouse, flag):
        out = _refused(capsys, warehouse, "backfill", "events_append", "--start", DATE,
                       "--end", DATE, flag, "-1")
        assert out["key"] == flag[2:]

    def it_names_the_key_of_a_conf_value_that_does_not_parse(capsys, warehouse):
        out = _refused(capsys, warehouse, "run", "events_append", "--date", DATE,
                       "--conf", "retries=[1,")
        assert (out["kind"], out["key"]) == ("config", "retries")


@pytest.mark.slow
def describe_a_warehouse_path_with_a_space():
    def it_starts_spark_and_logs_there(tmp_path):
        import os
        import subprocess
        import sys

        root = Path(__file__).resolve().parents[1]
        warehouse = tmp_path / "night runs" / "wh"
        folder = warehouse / "landing" / "events" / DATE
        folder.mkdir(parents=True)
        (folder / "part-0.json").write_text('{"user": "a", "n": 1}\n')
        env = {**os.environ, "PYTHONPATH": f"{root}{os.pathsep}{root / 'tests' / 'fixtures'}"}
        done = subprocess.run(
            [sys.executable, "-m", "pipelines", "run", "events_append", "--date", DATE,
             "--env", "test", "--conf", f"warehouse={warehouse}",
             "--conf", "pipeline_packages=[testpipes]"],
            cwd=root, env=env, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr[-2000:]
        (log,) = (warehouse / "_pipelines" / "logs").iterdir()
        assert log.stat().st_size > 0


def describe_an_analysis_error():
    def it_prints_the_framework_s_line_alone_and_logs_the_record(spark, warehouse, capsys):
        import os

        code, out, err = cli(capsys, "plan", "unknown_column", "--date", DATE,
                             warehouse=warehouse)
        assert (code, out["stage"], out["column"]) == (2, "big", "nn")
        assert err.count("\n") <= 1 and "QueryContextLogger" not in err, err[:500]
        log = os.environ.get("PIPELINES_SPARK_LOG")
        if log and os.path.exists(log):  # the record went to Spark's log file instead
            assert "UNRESOLVED_COLUMN" in Path(log).read_text(errors="replace")


def describe_the_table_command():
    def it_refuses_a_file_and_names_the_closest_tables(spark, warehouse, capsys):
        from tests.test_ledger_and_resume import _land

        _land(warehouse, DATE, [("a", 1)])
        assert cli(capsys, "run", "events_append", "--date", DATE, warehouse=warehouse)[0] == 0
        code, out, _ = cli(capsys, "table", "user_total", warehouse=warehouse)
        assert (code, out["key"]) == (2, "user_total") and "did you mean user_totals" in \
            out["message"]
        code, out, _ = cli(capsys, "table", f"landing/events/{DATE}/part-0.json",
                           warehouse=warehouse)
        assert (code, out["message"].endswith("is a file, not a Delta table")) == (2, True)


def describe_operating_commands():
    def it_does_not_call_objectives_met_without_runs(capsys, warehouse):
        from pipelines.core.interfaces.cli import main

        capsys.readouterr()
        code = main(["slo", "watched", "--env", "test", "--conf", f"warehouse={warehouse}",
                     "--conf", "pipeline_packages=[pipelines,testpipes]"])
        out = capsys.readouterr().out
        assert code == 0 and "objectives met" not in out
        assert "no runs in the last" in out

    def it_names_the_pushgateway_it_cannot_reach(capsys, warehouse):
        import socket

        with socket.socket() as probe:  # a port nothing listens on
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        code, out, err = cli(capsys, "metrics", "--push", f"http://ops:s3cret@127.0.0.1:{port}",
                             warehouse=warehouse)
        assert (code, out["key"]) == (1, "push"), err
        assert f"127.0.0.1:{port}" in out["message"] and "s3cret" not in json.dumps(out) + err

    def it_refuses_a_url_whose_password_holds_a_slash_without_printing_it(capsys, warehouse):
        code, out, err = cli(capsys, "metrics", "--push", "http://ops:pa/ss@127.0.0.1:9",
                             warehouse=warehouse)
        assert (code, out["key"]) == (1, "push"), err
        assert "pa/ss" not in json.dumps(out) + err and "'pa'" not in json.dumps(out) + err

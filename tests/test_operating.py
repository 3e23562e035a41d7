"""Operating a pipeline from cron and a shell: the run id in every Delta commit, one JSON
shape for run and show, PIPELINES_ENV, --timeout, and the cron wrapper from an empty
environment."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from pipelines.core.delta.tables import commit_info, current_version
from tests.helpers import DATE, cli

ROOT = Path(__file__).resolve().parents[1]


def _land(warehouse: str, date: str = DATE) -> None:
    folder = Path(warehouse) / "landing" / "events" / date
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "part-0.json").write_text('{"user": "a", "n": 1}\n{"user": "b", "n": 2}\n')


def describe_a_runs_records():
    def it_names_the_run_in_every_delta_commit_and_shares_one_json_shape(spark, warehouse,
                                                                       capsys):
        _land(warehouse)
        _, run, _ = cli(capsys, "run", "events_append", "--date", DATE, warehouse=warehouse)
        path = f"{warehouse}/tables/user_totals"
        tag = json.loads(commit_info(spark, path, current_version(spark, path))["userMetadata"])
        assert (tag["run_id"], tag["generation"]) == (run["run_id"], 1)
        _, shown, _ = cli(capsys, "show", run["run_id"], warehouse=warehouse)
        assert run["format"] == shown["format"] == "pipelines-run/1"
        for key in ("run_id", "pipeline", "date", "generation", "attempt", "status", "stages",
                    "outputs", "quality", "error"):
            assert key in run and key in shown


def describe_the_command_line():
    def it_takes_the_environment_from_pipelines_env(monkeypatch):
        from pipelines.core.interfaces.cli import build_parser

        monkeypatch.setenv("PIPELINES_ENV", "test")
        assert build_parser().parse_args(["list"]).env == "test"

    def it_ends_a_run_that_outlives_its_timeout_with_exit_6(spark, warehouse, capsys):
        _land(warehouse)
        code, out, _ = cli(capsys, "run", "events_append", "--date", DATE, "--timeout",
                           "0.001", warehouse=warehouse)
        assert (code, out["kind"]) == (6, "timeout")
        _, history, _ = cli(capsys, "history", "events_append", warehouse=warehouse)
        assert [r["status"] for r in history["runs"]] == ["failed"]


def describe_the_cron_wrapper():
    @pytest.mark.slow  # a fresh process or notebook kernel: make test-slow
    def it_runs_from_an_empty_environment_and_mails_one_line_when_a_night_fails(tmp_path):
        warehouse, logs = tmp_path / "wh", tmp_path / "logs"
        _land(str(warehouse))
        env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PIPELINES_HOME": str(ROOT),
               "PIPELINES_ENV": "test", "PIPELINES_DATE": DATE, "PIPELINES_LOGS": str(logs),
               "PYTHONPATH": str(ROOT / "tests" / "fixtures"), "SPARK_LOCAL_IP": "127.0.0.1"}
        flags = ["--conf", f"warehouse={warehouse}",
                 "--conf", "pipeline_packages=[pipelines,testpipes]"]
        script = str(ROOT / "deploy" / "cron_run.sh")
        night = subprocess.run([script, "events_append", *flags], env=env,
                               capture_output=True, text=True, timeout=300)
        assert (night.returncode, night.stderr) == (0, "")
        catch_up = subprocess.run([script, "events_append", *flags], env=env,
                                  capture_output=True, text=True, timeout=300)
        assert catch_up.returncode == 0
        kept = sorted(p.name for p in (logs / "events_append").glob(f"{DATE}.*.json"))
        assert len(kept) == 2  # one summary per run
        latest = json.loads((logs / "events_append" / f"{DATE}.json").read_text())
        assert latest["status"] == "succeeded"  # the catch-up's "skipped" did not replace it

        failed = subprocess.run([script, "events_append", *flags],
                                env={**env, "PIPELINES_DATE": "2026-01-01"},
                                capture_output=True, text=True, timeout=300)
        assert failed.returncode == 5
        (line,) = failed.stderr.splitlines()
        assert line.startswith("pipelines: events_append 2026-01-01 failed, exit 5")
        assert os.path.exists(line.rsplit("log ", 1)[1])

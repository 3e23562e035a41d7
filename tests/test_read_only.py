"""The commands that only read never start a JVM: history, show, table previews and the
decision to skip a date that already succeeded answer with no Java on the PATH."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import DATE, cli

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def published(spark, tmp_path_factory):
    """A warehouse where events_append ran once for DATE."""
    from pipelines.core.interfaces.cli import main

    warehouse = str(tmp_path_factory.mktemp("readonly") / "wh")
    folder = Path(warehouse) / "landing" / "events" / DATE
    folder.mkdir(parents=True)
    (folder / "part-0.json").write_text('{"user": "a", "n": 1}\n{"user": "b", "n": 2}\n')
    assert main(["run", "events_append", "--date", DATE, "--env", "test", "--conf",
                 f"warehouse={warehouse}", "--conf", "pipeline_packages=[pipelines,testpipes]"]
                ) == 0
    return warehouse


def _without_java(warehouse: str, *args: str) -> tuple[int, dict]:
    """``pipelines <args> --json`` in a child process that cannot start a JVM."""
    path = os.pathsep.join(p for p in os.environ.get("PATH", "").split(os.pathsep)
                           if not (Path(p) / "java").exists())
    env = {k: v for k, v in os.environ.items() if k not in ("JAVA_HOME", "SPARK_HOME")}
    env.update(PATH=path, PYTHONPATH=f"{ROOT}{os.pathsep}{ROOT / 'tests' / 'fixtures'}")
    done = subprocess.run(
        [sys.executable, "-m", "pipelines", *args, "--env", "test", "--json",
         "--conf", f"warehouse={warehouse}", "--conf", "pipeline_packages=[pipelines,testpipes]"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    return done.returncode, (json.loads(done.stdout) if done.stdout.strip() else {})


def describe_commands_that_only_read():
    def it_shows_history_and_a_run_without_java(published):
        code, history = _without_java(published, "history", "events_append")
        assert code == 0 and [r["status"] for r in history["runs"]] == ["succeeded"]
        run_id = history["runs"][0]["run_id"]
        code, shown = _without_java(published, "show", run_id)
        assert (code, shown["run_id"], shown["stages"][1]["rows_out"]) == (0, run_id, 2)

    def it_previews_a_table_at_any_version_without_java(published):
        code, out = _without_java(published, "table", "user_totals", "--where", "total > 1")
        assert code == 0 and [r["user"] for r in out["rows"]] == ["b"]
        code, out = _without_java(published, "table", "user_totals", "--version", "0")
        assert (code, out["version"], out["rows"]) == (0, 0, [])

    def it_decides_to_skip_a_date_that_already_succeeded_without_java(published):
        code, out = _without_java(published, "run", "events_append", "--date", DATE)
        assert (code, out["status"], out["generation"]) == (0, "skipped", 1)

    def it_names_a_bad_filter_as_a_usage_error(published, capsys):
        code, out, _ = cli(capsys, "table", "user_totals", "--where", "nope >", warehouse=published)
        assert (code, out["key"]) == (2, "where")

"""A run says what it does while it does it: one line per stage and publish on stderr, and a
last line accounting for the whole wall time; --quiet keeps stderr for problems."""

from __future__ import annotations

import json
import os
import re

import pytest

from tests.helpers import DATE, cli


def _land(warehouse: str) -> None:
    folder = f"{warehouse}/landing/events/{DATE}"
    os.makedirs(folder, exist_ok=True)
    with open(f"{folder}/part-0.json", "w") as fh:
        fh.write("\n".join(json.dumps({"user": u, "n": n}) for u, n in [("a", 1), ("b", 2)]))


def _lines(err: str) -> list[str]:
    """stderr's progress lines, without their time of day."""
    return [line[9:] for line in err.splitlines() if re.match(r"^\d\d:\d\d:\d\d ", line)]


def describe_progress_lines():
    def it_prints_each_stage_and_publish_and_where_the_time_went(spark, warehouse, capsys):
        _land(warehouse)
        code, out, err = cli(capsys, "run", "events_append", "--date", DATE,
                             warehouse=warehouse)
        lines = _lines(err)
        assert code == 0
        assert lines[0] == (f"events_append {DATE}: generation 1 attempt 1, 2 stages, 1 sinks")
        assert "stage per_user: started" in lines
        assert any(re.fullmatch(r"stage per_user: 2 rows in \d+\.\d\ds, not salted, "
                                r"0 of 0 checks passed", line) for line in lines)
        assert f"published user_totals v{out['outputs'][0]['delta_version']}: 2 rows " \
               "(append)" in lines
        last = lines[-1]
        assert last.startswith(f"events_append {DATE}: succeeded in ")
        for phase in ("decide", "plan", "sources", "stages", "publish", "ledger"):
            assert f"{phase} " in last and phase in out["phases"]
        total = sum(out["phases"].values())
        assert total <= out["duration_s"] + 0.01

    def it_is_silent_with_quiet(spark, warehouse, capsys):
        _land(warehouse)
        code, _, err = cli(capsys, "run", "events_append", "--date", DATE, "--quiet",
                           warehouse=warehouse)
        assert code == 0 and _lines(err) == []


def describe_a_fresh_process():
    def it_keeps_sparks_own_log_lines_in_a_file_off_the_terminal(warehouse):
        import subprocess
        import sys
        from pathlib import Path

        root = Path(__file__).resolve().parents[1]
        _land(warehouse)
        done = subprocess.run(
            [sys.executable, "-m", "pipelines", "run", "events_append", "--date", DATE,
             "--env", "test", "--conf", f"warehouse={warehouse}",
             "--conf", "pipeline_packages=[pipelines,testpipes]"],
            cwd=root, capture_output=True, text=True, timeout=300,
            env={**os.environ, "PYTHONPATH": f"{root}{os.pathsep}{root / 'tests' / 'fixtures'}"})
        assert done.returncode == 0, done.stderr
        others = [line for line in done.stderr.splitlines()
                  if not re.match(r"^\d\d:\d\d:\d\d ", line)
                  and not line.startswith("WARNING: Using incubator modules")]  # Java's own
        assert others == []
        logs = list(Path(warehouse, "_pipelines", "logs").glob("spark-*.log"))
        assert len(logs) == 1


def describe_on_a_terminal():
    def it_shows_sparks_live_bar_only_where_a_person_watches():
        import io

        from pipelines.core.execution.progress import log
        from pipelines.core.execution.session import live_progress

        class Terminal(io.StringIO):
            def isatty(self) -> bool:
                return True

        before = log.level
        try:
            log.setLevel("INFO")
            assert live_progress(Terminal()) and not live_progress(io.StringIO())
            log.setLevel("WARNING")  # --quiet
            assert not live_progress(Terminal())
        finally:
            log.setLevel(before)

    @pytest.mark.slow
    def it_draws_the_bar_in_a_real_pseudo_terminal(warehouse):
        import shlex
        import subprocess
        import sys
        from pathlib import Path

        root = Path(__file__).resolve().parents[1]
        _land(warehouse)
        command = shlex.join([
            sys.executable, "-m", "pipelines", "run", "events_append", "--date", DATE,
            "--env", "test", "--conf", f"warehouse={warehouse}",
            "--conf", "pipeline_packages=[pipelines,testpipes]"])
        done = subprocess.run(["script", "-qec", command, "/dev/null"], cwd=root,
                              capture_output=True, text=True, timeout=300,
                              env={**os.environ, "PYTHONPATH":
                                   f"{root}{os.pathsep}{root / 'tests' / 'fixtures'}"})
        assert done.returncode == 0, done.stdout
        assert re.search(r"\[Stage \d+:", done.stdout)  # Spark's console progress bar
        assert "stage per_user: started" in done.stdout

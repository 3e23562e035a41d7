"""Failures whose cause hides deep in Spark's stack get one line naming it, from Spark's error
conditions and the exception classes of the cause chain: a Python UDF that raises, a disk that
fills up, a damaged Delta log, an input with no rows and files that lost a declared column.
Tables are checked with an independent reader (delta-rs): nothing half-written."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import DATE, cli, delta_rows, delta_version


def _land(warehouse: str, rows: list[dict], name: str = "part-0.json") -> None:
    folder = f"{warehouse}/landing/g/{DATE}"
    os.makedirs(folder, exist_ok=True)
    with open(f"{folder}/{name}", "w") as fh:
        fh.write("".join(json.dumps(r) + "\n" for r in rows))


ROWS = [{"id": f"r{i}", "amount": float(i + 1), "cur": "EUR"} for i in range(5)]


def _error_lines(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("error")]


def describe_python_code_that_raises_on_an_executor():
    def it_names_the_stage_the_exception_and_the_line(spark, warehouse, capsys):
        _land(warehouse, [*ROWS, {"id": "z", "amount": 0.0, "cur": "EUR"}])
        code, out, err = cli(capsys, "run", "scored", "--date", DATE, warehouse=warehouse)
        assert code == 1
        assert (out["kind"], out["stage"], out["key"]) == ("user_code", "per_unit",
                                                           "ZeroDivisionError")
        assert out["file"].endswith("testpipes/maps.py") and out["function"] == "hundred_over"
        assert out["message"].startswith("the Python code of stage per_unit raised "
                                         "ZeroDivisionError: float division by zero at ")
        assert len(_error_lines(err)) == 1 and "Traceback" not in err
        assert err.rstrip().endswith(f"(full trace: {out['spark_log']})")
        trace = Path(out["spark_log"]).read_text()
        assert "Traceback" in trace and "in hundred_over" in trace
        assert delta_version(warehouse, "scores") is None


def describe_inputs_behind_a_failed_check():
    def it_names_an_empty_input_instead_of_the_row_count(spark, warehouse, capsys):
        _land(warehouse, [])
        code, out, _ = cli(capsys, "run", "guarded", "--date", DATE, warehouse=warehouse)
        assert code == 5
        assert (out["kind"], out["key"], out["source"], out["stage"]) == (
            "input", "EMPTY_INPUT", "rows", "checked")
        assert out["message"].startswith("input rows is empty: no rows in ")
        assert delta_version(warehouse, "guarded_rows") is None

    def it_names_a_column_the_files_lost_instead_of_the_null_check(spark, warehouse, capsys):
        _land(warehouse, [{"id": r["id"], "cur": r["cur"]} for r in ROWS])
        code, out, _ = cli(capsys, "run", "guarded", "--date", DATE, warehouse=warehouse)
        assert code == 5
        assert (out["key"], out["column"], out["declared_type"]) == (
            "SCHEMA_DRIFT", "amount", "double")
        assert "have no column 'amount'" in out["message"]
        assert "the files have: cur, id" in out["message"]

    def it_keeps_the_quality_error_when_the_inputs_are_sound(spark, warehouse, capsys):
        _land(warehouse, [*ROWS, {"id": "n", "amount": None, "cur": "EUR"}])
        code, out, _ = cli(capsys, "run", "guarded", "--date", DATE, warehouse=warehouse)
        assert (code, out["kind"]) == (3, "quality")


def describe_a_damaged_delta_log():
    def it_names_the_table_and_the_log_file(spark, warehouse, capsys):
        _land(warehouse, ROWS)
        assert cli(capsys, "run", "guarded", "--date", DATE, warehouse=warehouse)[0] == 0
        assert cli(capsys, "run", "guarded", "--date", DATE, "--force",
                   warehouse=warehouse)[0] == 0
        log = Path(warehouse, "tables", "guarded_rows", "_delta_log")
        (log / ".00000000000000000001.json.crc").unlink(missing_ok=True)
        (log / "00000000000000000001.json").write_text('{"add":{"path":"x.parquet","si')
        code, out, err = cli(capsys, "run", "guarded", "--date", DATE, "--force",
                             warehouse=warehouse)
        assert code == 5, err
        assert out["kind"] == "corrupt_table"
        assert out["table"] == f"{warehouse}/tables/guarded_rows"
        assert out["file"].endswith("_delta_log/00000000000000000001.json")
        assert len(_error_lines(err)) == 1


@pytest.fixture
def small_disk(warehouse):
    """The sink's table folder on a 1 MiB file system of its own."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root (CI runs as root)")
    folder = Path(warehouse, "tables", "guarded_rows")
    folder.mkdir(parents=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(folder)], check=True)
    try:
        yield folder
    finally:
        # lazily: Spark may still hold a file of the failed write open
        subprocess.run(["umount", "--lazy", str(folder)], check=False)


def describe_a_full_disk():
    def it_says_disk_full_naming_where_and_publishes_nothing(spark, warehouse, small_disk,
                                                             capsys):
        pad = "x" * 2000  # about 6 MB of rows that compress badly
        rows = [{"id": f"r{i}-{os.urandom(8).hex()}{pad[: 1 + i % 7]}",
                 "amount": float(i), "cur": os.urandom(600).hex()} for i in range(5000)]
        _land(warehouse, rows)
        code, out, err = cli(capsys, "run", "guarded", "--date", DATE, warehouse=warehouse)
        assert code == 1, err
        assert (out["kind"], out["key"]) == ("disk_full", "ENOSPC")
        assert out["message"].startswith("disk full writing ")
        assert str(small_disk) in out["file"]
        assert delta_rows(warehouse, "guarded_rows") == []  # the schema-only commit of the contract
        assert delta_version(warehouse, "guarded_rows") == 0  # check, and no data commit
        history = cli(capsys, "history", "guarded", warehouse=warehouse)[1]
        assert [r["status"] for r in history["runs"]] == ["failed"]



def describe_storage_that_refuses_access():
    @pytest.mark.parametrize(("point", "named"), [
        ("before_stage:checked", {"stage": "checked"}),
        ("stage_write:checked", {"stage": "checked", "source": "rows"}),
        ("before_publish:clean", {"sink": "clean", "table": "guarded_rows"}),
        ("after_publish:clean", {"sink": "clean", "table": "guarded_rows"}),
        ("after_start", {"table": "{ledger}"}),
    ])
    def it_names_the_pipeline_and_where_it_was_refused(point, named, spark, warehouse, capsys,
                                                       monkeypatch):
        _land(warehouse, ROWS)
        monkeypatch.setenv("PIPELINES_FAIL", point)
        code, out, err = cli(capsys, "run", "guarded", "--date", DATE, warehouse=warehouse)
        assert code == 1, err
        assert (out["kind"], out["key"], out["pipeline"]) == ("permission", "EACCES", "guarded")
        ledger = f"{warehouse}/_pipelines/ledger"
        assert {k: out.get(k) for k in named} == {
            k: v.format(ledger=ledger) for k, v in named.items()}
        assert "permission denied" in out["message"]
        assert len(_error_lines(err)) == 1

    def it_says_what_published_when_the_ledger_refuses_the_record_and_a_rerun_records_it(
            spark, warehouse, capsys, monkeypatch):
        _land(warehouse, ROWS)
        monkeypatch.setenv("PIPELINES_FAIL", "before_ledger_finish")
        code, out, err = cli(capsys, "run", "guarded", "--date", DATE, warehouse=warehouse)
        assert code == 1, err
        assert (out["kind"], out["table"]) == ("permission", f"{warehouse}/_pipelines/ledger")
        assert out["committed"] == ["clean"]
        assert out["message"].startswith("published clean, but the ledger could not record")
        monkeypatch.delenv("PIPELINES_FAIL")
        code, out, err = cli(capsys, "run", "guarded", "--date", DATE, warehouse=warehouse)
        assert code == 0, err
        assert [o["already_committed"] for o in out["outputs"]] == [True]
        assert len(delta_rows(warehouse, "guarded_rows")) == len(ROWS)


@pytest.fixture
def small_warehouse(tmp_path):
    """A whole warehouse (landing files, staging, ledger, Spark's log) on a 6 MiB disk."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root (CI runs as root)")
    folder = tmp_path / "small"
    folder.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=6m", "tmpfs", str(folder)], check=True)
    try:
        yield str(folder / "wh")
    finally:
        subprocess.run(["umount", "--lazy", str(folder)], check=False)


@pytest.mark.slow  # a fresh process: Spark's own log is on the full disk too
def describe_a_full_disk_under_the_whole_warehouse():
    def it_prints_one_line_and_records_the_run_as_failed(small_warehouse, capsys):
        pad = "x" * 2000  # about 3 MB of rows that compress badly: the staged copy overflows
        _land(small_warehouse, [{"id": f"r{i}-{os.urandom(8).hex()}{pad[: 1 + i % 7]}",
                                 "amount": float(i), "cur": os.urandom(600).hex()}
                                for i in range(2500)])
        root = Path(__file__).resolve().parents[1]
        env = {**os.environ, "PYTHONPATH": f"{root}/tests/fixtures:{root}",
               "PIPELINES_CONF_DIR": f"{root}/conf"}
        args = ["--env", "test", "--conf", f"warehouse={small_warehouse}",
                "--conf", "pipeline_packages=[pipelines,testpipes]"]
        done = subprocess.run([sys.executable, "-m", "pipelines", "run", "guarded", "--date",
                               DATE, *args, "--json"], capture_output=True, text=True,
                              env=env, timeout=600, cwd=root)
        assert done.returncode == 1, done.stderr[-3000:]
        out = json.loads(done.stdout)
        assert (out["kind"], out["key"], out["stage"]) == ("disk_full", "ENOSPC", "checked")
        assert out["message"].startswith(f"disk full writing {small_warehouse}/_pipelines/"
                                         "staging/guarded/")
        problems = [line for line in done.stderr.splitlines()
                    if not line[:8].replace(":", "").isdigit()
                    and not line.startswith("WARNING: Using incubator modules")]
        assert len(problems) == 1 and problems[0].startswith("error: disk full writing "), \
            done.stderr[-3000:]
        history = subprocess.run([sys.executable, "-m", "pipelines", "history", "guarded",
                                  *args, "--json"], capture_output=True, text=True, env=env,
                                 timeout=120, cwd=root)
        assert [r["status"] for r in json.loads(history.stdout)["runs"]] == ["failed"]

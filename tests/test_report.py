"""Each run leaves a report worth opening: an HTML page with pictures drawn inline (no script,
no network) of where the time went, rows per stage, task durations of keyed stages with their
hot keys, the quality verdicts and trends over the pipeline's last runs; and its metrics in
Prometheus' text format, one series per pipeline rather than per night."""

from __future__ import annotations

import json
import os
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from pipelines.core.records.metrics import render_prometheus
from pipelines.core.records.report import render_html
from tests.helpers import DATE

GOLDEN = Path(__file__).resolve().parent / "golden"


class _Page(HTMLParser):
    """The page's charts (by title), table cells and sections."""

    def __init__(self) -> None:
        super().__init__()
        self.charts: list[str] = []
        self.cells: list[str] = []
        self.sections: list[str] = []
        self.scripts = 0
        self._in: list[str] = []

    def handle_starttag(self, tag, attrs):
        self._in.append(tag)
        self.scripts += tag == "script" or any(k == "src" for k, _ in attrs)
        if tag == "h2":
            self.sections.append(dict(attrs).get("id", ""))

    def handle_endtag(self, tag):
        if self._in:
            self._in.pop()

    def handle_data(self, data):
        if self._in[-2:] == ["svg", "title"]:
            self.charts.append(data)
        elif self._in and self._in[-1] == "td":
            self.cells.append(data.strip())


def _page(text: str) -> _Page:
    page = _Page()
    page.feed(text)
    return page


def _golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        path.parent.mkdir(exist_ok=True)
        path.write_text(text)
    assert text == path.read_text(), f"{name} changed; rerun with UPDATE_GOLDEN=1 to accept"


RUN = {
    "format": "pipelines-run/1", "run_id": "20261201T020000-abcdef12", "pipeline": "daily",
    "date": "2026-12-01", "generation": 2, "attempt": 1, "status": "succeeded", "exit_code": 0,
    "started_at": "2026-12-01T02:00:00+00:00", "duration_s": 42.5, "inputs": {},
    "phases": {"spark start": 10.0, "decide": 0.5, "stages": 20.0, "publish": 8.0,
               "ledger": 2.0},
    "timeline": [{"name": "spark start", "start_s": 0.0, "duration_s": 10.0},
                 {"name": "decide", "start_s": 10.0, "duration_s": 0.5},
                 {"name": "stages", "start_s": 11.0, "duration_s": 20.0},
                 {"name": "publish", "start_s": 31.0, "duration_s": 8.0},
                 {"name": "ledger", "start_s": 39.5, "duration_s": 2.0}],
    "stages": [
        {"name": "clean", "kind": "Map", "materialized": False, "resumed": False,
         "rows_out": 2000000, "rows_dropped": 120, "duration_s": None, "start_s": None,
         "fused_into": "totals", "retries": 0, "salting": None, "skew": None},
        {"name": "totals", "kind": "Reduce", "materialized": True, "resumed": False,
         "rows_out": 1500, "rows_dropped": 0, "duration_s": 19.5, "start_s": 11.2,
         "fused_into": None, "retries": 0,
         "salting": {"decision": "salted", "columns": ["customer"], "hot_keys": [
             {"key": ["c-1"], "salts": 8, "estimated_rows": 900000, "share": 0.45}]},
         "skew": {"tasks": 16, "task_ms_box": [80.0, 110.0, 120.0, 130.0, 150.0, 170.0],
                  "task_max_over_median": 1.42, "task_cpu_max_over_median": 1.1}},
    ],
    "outputs": [{"sink": "totals", "table": "totals", "mode": "append", "delta_version": 3,
                 "rows_written": 1500, "already_committed": False}],
    "quality": [{"stage": "clean", "expectation": "not_null:id", "severity": "drop",
                 "success": False, "failing_rows": 120, "evaluated_rows": 2000120,
                 "observed_value": None, "samples": ["r-9"], "blocking": False}],
    "error": None, "report": None, "message": "",
    "cost": {"executor_cpu_seconds": 30.5, "executor_run_seconds": 40.0, "spark_stages": 12,
             "core_seconds": 85.0, "gb_seconds": 42.5, "cpu_utilization": 0.3588,
             "cost": 0.0935, "currency": "EUR", "core_hour_price": 3.6, "gb_hour_price": 0.72},
}


def describe_the_html_report():
    def it_renders_a_known_run_as_its_golden_page():
        _golden("report.html", render_html(RUN, history=[
            {**RUN, "run_id": "a", "date": "2026-11-30", "status": "failed",
             "duration_s": 30.0, "started_at": "2026-11-30T02:00:00+00:00"}]))

    def it_shows_numbers_as_people_read_them_not_python_reprs():
        page = _page(render_html(RUN))
        assert "2,000,000" in page.cells and "1,500" in page.cells
        assert not {"None", "True", "False"} & set(page.cells)
        assert page.scripts == 0  # nothing to fetch, nothing to run

    def it_escapes_what_the_data_says():
        run = {**RUN, "message": "<script>x</script>"}
        assert "<script>x" not in render_html(run)


def _land_hot(warehouse: str) -> None:
    folder = f"{warehouse}/landing/hot/{DATE}"
    os.makedirs(folder, exist_ok=True)
    rows = ([{"user": "hot", "n": i, "payload": "x" * 40} for i in range(3000)]
            + [{"user": f"k{i}", "n": i, "payload": "y"} for i in range(200)])
    with open(f"{folder}/part-0.json", "w") as fh:
        fh.write("\n".join(json.dumps(r) for r in rows) + "\n")


def _run_json(warehouse: str, *args: str) -> dict:
    import contextlib
    import io

    from pipelines.core.interfaces.cli import main

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["run", "hot_reduce", "--date", DATE, *args, "--json", "--env", "test",
                     "--conf", f"warehouse={warehouse}",
                     "--conf", "pipeline_packages=[pipelines,testpipes]"])
    assert code == 0, out.getvalue()
    return json.loads(out.getvalue())


@pytest.fixture(scope="module")
def two_runs(spark, tmp_path_factory):
    """Two runs of one date (the second forced), shared by the module's report tests."""
    warehouse = str(tmp_path_factory.mktemp("report") / "wh")
    _land_hot(warehouse)
    return _run_json(warehouse), _run_json(warehouse, "--force")


def describe_a_real_runs_report():
    def it_draws_time_rows_tasks_and_trends(two_runs):
        _, out = two_runs
        page = _page(Path(out["report"]).read_text())
        assert page.charts[:3] == ["run timeline", "rows per stage", "task durations"]
        assert page.sections == ["timeline", "rows", "tasks", "quality", "outputs", "trends"]
        assert len(page.charts) == 6  # and a trend each of duration, rows, quarantined share
        salting = next(s for s in out["stages"] if s["name"] == "per_user")["salting"]
        assert salting["decision"] == "salted" and "hot" in page.cells

    def it_places_each_phase_and_stage_in_time(two_runs):
        _, out = two_runs
        phases = [p["name"] for p in out["timeline"]]
        assert phases[:1] == ["spark start"] and "stages" in phases and "publish" in phases
        starts = [p["start_s"] for p in out["timeline"]]
        assert starts == sorted(starts)
        stage = next(s for s in out["stages"] if s["name"] == "per_user")
        window = next(p for p in out["timeline"] if p["name"] == "stages")
        assert window["start_s"] <= stage["start_s"] <= window["start_s"] + window["duration_s"]
        box = stage["skew"]["task_ms_box"]
        assert len(box) == 6 and box == sorted(box)

    def it_writes_metrics_prometheus_can_parse(two_runs):
        from prometheus_client.parser import text_string_to_metric_families

        _, out = two_runs
        text = (Path(out["report"]).parent / "metrics.prom").read_text()
        families = {f.name: f for f in text_string_to_metric_families(text)}
        assert families["pipelines_last_run_success"].samples[0].value == 1
        duration = families["pipelines_last_run_duration_seconds"].samples[0]
        assert duration.labels == {"pipeline": "hot_reduce"}
        labels = {k for f in families.values() for s in f.samples for k in s.labels}
        assert labels <= {"pipeline", "sink", "phase", "currency"}  # none per date or run
        written = families["pipelines_last_run_rows_written"].samples[0]
        assert (written.labels["sink"], written.value) == ("user_top", 201)


def describe_prometheus_text():
    def it_renders_a_known_run_as_its_golden_file():
        _golden("metrics.prom", render_prometheus(RUN))

    def it_names_units_by_convention():
        names = re.findall(r"^# TYPE (\S+)", render_prometheus(RUN), re.M)
        assert all(n.startswith("pipelines_") for n in names)
        assert "pipelines_last_run_duration_seconds" in names


@pytest.mark.slow
def describe_in_a_real_browser():
    def it_renders_every_chart_and_leaves_a_screenshot(two_runs):
        import shutil
        import struct
        import subprocess

        browser = shutil.which("chromium") or shutil.which("chromium-browser")
        assert browser, "headless Chromium is needed: make browser"
        _, out = two_runs
        url = Path(out["report"]).resolve().as_uri()
        flags = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                 "--window-size=1200,2400"]
        dom = subprocess.run([*flags, "--dump-dom", url], capture_output=True, text=True,
                             timeout=120, check=True).stdout
        page = _page(dom)
        assert page.charts == ["run timeline", "rows per stage", "task durations",
                               "duration", "rows produced", "quarantined share"]
        artifacts = Path(__file__).resolve().parents[1] / "test-artifacts"
        artifacts.mkdir(exist_ok=True)
        shot = artifacts / "report.png"
        shot.unlink(missing_ok=True)
        subprocess.run([*flags, f"--screenshot={shot}", url], capture_output=True,
                       timeout=120, check=True)
        png = shot.read_bytes()
        assert png[:8] == b"\x89PNG\r\n\x1a\n"
        assert struct.unpack(">II", png[16:24]) == (1200, 2400)
        assert len(png) > 30_000  # charts and tables, not a blank page (a few KB)

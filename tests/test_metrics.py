"""The ledger's metrics in Prometheus' format, written with prometheus_client: counters over
every run (`_total`) and gauges of each pipeline's latest run, labelled by pipeline and never
by date or run; written after each run for a node_exporter textfile collector, pushed to a
Pushgateway, or printed by `pipelines metrics` without a JVM."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from tests.helpers import DATE, cli
from tests.test_read_only import _without_java


def _families(text: str) -> dict:
    return {f.name: f for f in text_string_to_metric_families(text)}


def _value(families: dict, name: str, **labels: str) -> float:
    family = families[name.removesuffix("_total")]
    return next(s.value for s in family.samples if s.name == name and
                all(s.labels.get(k) == v for k, v in labels.items()))


def _land(warehouse: str) -> None:
    folder = Path(warehouse) / "landing" / "events" / DATE
    folder.mkdir(parents=True)
    (folder / "part-0.json").write_text('{"user": "a", "n": 1}\n{"user": "b", "n": 2}\n')


def describe_metrics_after_each_run():
    def it_counts_every_run_for_the_textfile_collector(spark, warehouse, tmp_path, capsys):
        textfiles = tmp_path / "textfile"
        conf = ("--conf", f"metrics.textfile_dir={textfiles}")
        assert cli(capsys, "run", "watched", "--date", DATE, *conf, warehouse=warehouse)[0] == 5
        _land(warehouse)
        assert cli(capsys, "run", "watched", "--date", DATE, *conf, warehouse=warehouse)[0] == 0
        families = _families((textfiles / "pipelines.prom").read_text())
        assert _value(families, "pipelines_runs_total", pipeline="watched",
                      status="succeeded") == 1
        assert _value(families, "pipelines_runs_total", pipeline="watched",
                      status="failed") == 1
        assert _value(families, "pipelines_rows_written_total", pipeline="watched",
                      sink="user_totals") == 2
        assert _value(families, "pipelines_last_run_success", pipeline="watched") == 1
        labels = {k for f in families.values() for s in f.samples for k in s.labels}
        assert labels <= {"pipeline", "status", "sink", "currency"}  # no date, no run id
        assert all(f.type in ("counter", "gauge") for f in families.values())


class _Gateway(BaseHTTPRequestHandler):
    """A stand-in Pushgateway on the loopback address: keeps what it is sent."""

    received: list[tuple[str, str, bytes]] = []

    def do_PUT(self) -> None:  # noqa: N802 - the handler's protocol
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append((self.command, self.path, body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def describe_the_metrics_command():
    def it_prints_and_pushes_without_java(spark, warehouse, capsys):
        _land(warehouse)
        assert cli(capsys, "run", "watched", "--date", DATE, warehouse=warehouse)[0] == 0
        server = HTTPServer(("127.0.0.1", 0), _Gateway)
        thread = threading.Thread(target=server.handle_request, daemon=True)
        thread.start()
        try:
            url = f"http://127.0.0.1:{server.server_port}"
            code, out = _without_java(warehouse, "metrics", "watched", "--push", url)
            thread.join(timeout=30)
        finally:
            server.server_close()
        assert (code, out["pipelines"], out["written"]) == (0, ["watched"], [url])
        families = _families(out["text"])
        assert _value(families, "pipelines_runs_total", pipeline="watched",
                      status="succeeded") == 1
        ((method, path, body),) = _Gateway.received
        assert (method, path) == ("PUT", "/metrics/job/pipelines")
        assert b"pipelines_runs_total" in body

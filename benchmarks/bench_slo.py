"""`pipelines slo` over a ledger of 1,000 runs: how long it answers, as a fresh process (cron's
case), without a JVM.

The ledger is made as runs make it: two commits per run (`started`, `finished`), so 2,000
commits of one row each and a checkpoint every 20, and after each run the compaction every
run does once the ledger holds 50 files (Ledger.compact_if_due, Spark's OPTIMIZE). The rows
are appended through delta-rs (a Spark append per row would take most of an hour).

    .venv/bin/python benchmarks/bench_slo.py [--runs 1000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

from _common import ROOT


def _ledger(warehouse: str, runs: int) -> None:
    import pyarrow as pa
    from deltalake import DeltaTable, write_deltalake

    from pipelines.core.config.settings import load_settings
    from pipelines.core.execution.session import get_spark
    from pipelines.core.records.ledger import Ledger

    spark = get_spark(load_settings("local", [f"warehouse={warehouse}"]))
    ledger = Ledger(spark, warehouse)
    ledger.append(run_id="seed", pipeline="daily_revenue", date="2026-01-01", generation=1,
                  attempt=1, event="started", status="running")
    schema = pa.schema(DeltaTable(ledger.runs_path).schema().to_arrow())
    compactions = 0
    start = dt.datetime(2026, 1, 1, 2, 0, tzinfo=dt.UTC)
    stages = json.dumps([{"name": "daily_revenue", "materialized": True, "rows_out": 20_000,
                          "retries": 0}])
    cost = json.dumps({"cost": {"executor_cpu_seconds": 40.0, "core_seconds": 90.0,
                                "cost": 0.0012, "currency": "USD"}})
    for i in range(runs):
        began = start + dt.timedelta(hours=6 * i)
        date = (began - dt.timedelta(days=1)).date().isoformat()
        status = "failed" if i % 25 == 7 else "succeeded"
        for event, when, state in (("started", began, "running"),
                                   ("finished", began + dt.timedelta(seconds=300 + i % 60),
                                    status)):
            row = {f.name: None for f in schema}
            row.update(run_id=f"run-{i:05d}", pipeline="daily_revenue", date=date,
                       generation=1, attempt=1, event=event, status=state, ts=when)
            if event == "finished":
                row.update(duration_s=300.0 + i % 60, stages=stages, notes=cost)
            table = pa.Table.from_pylist([row], schema=schema)
            write_deltalake(ledger.runs_path, table, mode="append")
        if i % 10 == 9:  # a checkpoint every 20 commits, as Spark's Delta writes them
            DeltaTable(ledger.runs_path).create_checkpoint()
        compactions += bool(ledger.compact_if_due())  # as each run does after its commit
    spark.stop()
    print(f"  the runs compacted the ledger {compactions} times")


def _slo(warehouse: str) -> float:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "pipelines", "slo", "daily_revenue",
                           "--days", "400", "--json", "--conf", f"warehouse={warehouse}"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    took = time.perf_counter() - started
    if done.returncode not in (0, 7):
        raise SystemExit(done.stderr)
    found = json.loads(done.stdout)["indicators"]
    print(f"  slo: {took:.2f}s, {found['runs']} runs in the window, success rate "
          f"{found['success_rate']:.3f}, cost per run {found['cost_per_run']}")
    return took


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        warehouse = os.path.join(tmp, "wh")
        began = time.perf_counter()
        _ledger(warehouse, args.runs)
        print(f"ledger of {args.runs} runs ({2 * args.runs + 1} commits) made in "
              f"{time.perf_counter() - began:.0f}s")
        times = [_slo(warehouse) for _ in range(args.repeats)]
        print(f"pipelines slo over {args.runs} runs, fresh process, no JVM: median "
              f"{statistics.median(times):.2f}s (target: about 1 s)")


if __name__ == "__main__":
    main()

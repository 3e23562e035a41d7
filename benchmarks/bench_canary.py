"""A canary on 1% of the input against a full run: the compute each costs, side by side.

``daily_revenue`` on ``--rows`` generated orders landing as ``--files`` JSON files, in one
Spark session (its start-up paid once, outside every side): a full run (``--force``), a
canary sampling 1% of the files (``--canary --sample 0.01``, the default unit) and one
sampling 1% of the customers (``--sample-by customer_id``, which reads every file), taking
turns, ``--repeats`` times each. Compute is the executor CPU time each run recorded (its cost
accounting); wall time is printed beside it.

    .venv/bin/python benchmarks/bench_canary.py [--rows 1000000] [--files 100] [--repeats 3]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import statistics
import tempfile

from _common import ROOT  # noqa: F401 - puts the project first on sys.path

DATE = "2026-11-26"


def _run(warehouse: str, *extra: str) -> dict:
    from pipelines.core.interfaces.cli import main

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["run", "daily_revenue", "--date", DATE, "--json", "--quiet",
                     "--conf", f"warehouse={warehouse}", *extra])
    if code != 0:
        raise SystemExit(f"run {' '.join(extra)} exited {code}")
    return json.loads(out.getvalue())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--files", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    from pipelines.core.config.settings import load_settings
    from pipelines.core.execution.session import get_spark
    from pipelines.demo.orders_data import generate

    warehouse = tempfile.mkdtemp(prefix="bench-canary-")
    settings = load_settings("local", [f"warehouse={warehouse}"])
    generate(get_spark(settings), warehouse, DATE, rows=args.rows, customers=20_000, seed=3,
             files=args.files)
    sides = {"full": ("--force",),
             "files 1%": ("--canary", "--sample", "0.01"),
             "keys 1%": ("--canary", "--sample", "0.01", "--sample-by", "customer_id")}
    _run(warehouse, *sides["full"])  # warm-up: the JVM's first compile of every query
    cpu: dict[str, list[float]] = {s: [] for s in sides}
    wall: dict[str, list[float]] = {s: [] for s in sides}
    for i in range(args.repeats):
        for side in (list(sides) if i % 2 == 0 else list(reversed(sides))):
            out = _run(warehouse, *sides[side])
            cpu[side].append(out["cost"]["executor_cpu_seconds"])
            wall[side].append(out["duration_s"])
            print(f"  {side:<10} executor CPU {cpu[side][-1]:6.1f}s, wall {wall[side][-1]:6.1f}s")
    full = statistics.median(cpu["full"])
    for side in ("files 1%", "keys 1%"):
        canary = statistics.median(cpu[side])
        print(f"{args.rows} orders in {args.files} files, medians of {args.repeats}: executor "
              f"CPU canary ({side}) / full = {canary / full:.3f} ({canary:.1f}s / {full:.1f}s; "
              f"target <= 0.10); wall {statistics.median(wall[side]):.1f}s / "
              f"{statistics.median(wall['full']):.1f}s")


if __name__ == "__main__":
    main()

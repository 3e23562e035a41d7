"""Read-only commands: wall time of each, this checkout against another one, side by side.

A warehouse gets one ``daily_revenue`` run (``--rows`` orders); then ``history``, ``show``,
``table --limit 5`` and a rerun of the succeeded date (a skip) run as fresh processes, as
cron or a person would, taking turns between this checkout and ``--baseline`` (another
checkout of the project, for instance an earlier commit in a ``git worktree``), ``--repeats``
times each. Prints the median per command and side, and their ratio.

    .venv/bin/python benchmarks/bench_read_commands.py --baseline /tmp/before
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATE = "2026-11-26"


def _pipelines(checkout: Path, warehouse: str, *args: str) -> tuple[float, str]:
    env = {**os.environ, "PIPELINES_CONF_DIR": str(checkout / "conf"),
           "PYTHONPATH": str(checkout), "SPARK_LOCAL_IP": "127.0.0.1"}
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "pipelines", *args, "--conf",
                           f"warehouse={warehouse}", "--json"], cwd=checkout, env=env,
                          capture_output=True, text=True, timeout=600)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{checkout}: pipelines {' '.join(args)} exited {done.returncode}: "
                         f"{done.stderr.strip().splitlines()[-1:]}")
    return elapsed, done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", type=Path, required=True,
                        help="another checkout of the project to compare with")
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    warehouse = tempfile.mkdtemp(prefix="bench-read-")
    _pipelines(ROOT, warehouse, "demo-data", "--date", DATE, "--rows", str(args.rows))
    _, out = _pipelines(ROOT, warehouse, "run", "daily_revenue", "--date", DATE)
    run_id = json.loads(out)["run_id"]
    commands = {
        "history daily_revenue": ("history", "daily_revenue"),
        "show RUN_ID": ("show", run_id),
        "table fact_daily_revenue --limit 5": ("table", "fact_daily_revenue", "--limit", "5"),
        "run (already succeeded: skipped)": ("run", "daily_revenue", "--date", DATE),
    }
    sides = {"this checkout": ROOT, "baseline": args.baseline.resolve()}
    times: dict[tuple[str, str], list[float]] = {}
    for repeat in range(args.repeats):
        for label, command in commands.items():
            order = list(sides.items()) if repeat % 2 == 0 else list(sides.items())[::-1]
            for side, checkout in order:
                elapsed, _ = _pipelines(checkout, warehouse, *command)
                times.setdefault((label, side), []).append(elapsed)
    print(f"{'command':<38} {'this checkout':>14} {'baseline':>10} {'ratio':>7}")
    for label in commands:
        new = statistics.median(times[(label, "this checkout")])
        old = statistics.median(times[(label, "baseline")])
        print(f"{label:<38} {new:>13.2f}s {old:>9.2f}s {new / old:>7.3f}")
    print(f"SUMMARY repeats={args.repeats} rows={args.rows} baseline={sides['baseline']}")


if __name__ == "__main__":
    main()

"""A/B of two settings on the reference pipeline: ``daily_revenue`` run through the framework
with ``--conf`` set A and set B, interleaved in one process, medians compared.

Usage: benchmarks/bench_conf_ab.py REPEATS A B [WAREHOUSE], where A and B are comma-separated
``key=value`` lists (empty string for the defaults), e.g. ``3 publish_threads=1
publish_threads=3``. The warehouse is generated (3,000,000 orders, as ``make bench``) when it
does not exist yet. The session keeps the framework's 1000 generated classes, as
``make bench``'s does.
"""

import importlib
import os
import sys

import bench_pipeline as bp
from _common import framework_codegen_cache, in_turn, median, plain_spark, timed

spark = plain_spark(spark__sql__codegen__cache__maxEntries=str(framework_codegen_cache()))
root = sys.argv[4] if len(sys.argv) > 4 else "/tmp/bench-conf-ab"
if not os.path.isdir(f"{root}/framework"):
    from pipelines.demo.orders_data import generate

    generate(spark, f"{root}/framework", bp.DATE, rows=3_000_000, customers=20_000,
             hot_share=0.5, seed=11, bad_share=0.001, files=8)


def run(extra: list[str]) -> None:
    cli = importlib.import_module("pipelines.core.interfaces.cli")
    args = ["run", "daily_revenue", "--date", bp.DATE, "--conf", f"warehouse={root}/framework",
            "--force"]
    for item in extra:
        args += ["--conf", item]
    if cli.main(args) != 0:
        raise RuntimeError(f"framework run failed with {extra}")


a_conf = [x for x in sys.argv[2].split(",") if x]
b_conf = [x for x in sys.argv[3].split(",") if x]
repeats = int(sys.argv[1])
run(a_conf)  # warm-up, not counted
run(b_conf)
ta: list[float] = []
tb: list[float] = []
for i in range(repeats):  # interleaved, so drift hits both alike; taking turns going first
    for times, conf in in_turn(i, [(ta, a_conf), (tb, b_conf)]):
        times.append(timed(lambda conf=conf: run(conf)))
    print(f"AB repeat {i}: A {ta[-1]:.1f} B {tb[-1]:.1f}", flush=True)
print(f"AB median A {median(ta):.1f} B {median(tb):.1f} ratio B/A {median(tb) / median(ta):.3f}")

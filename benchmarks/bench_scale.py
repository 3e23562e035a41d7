"""How a run grows with its input: ``daily_revenue`` from 1M to 50M orders in one session.

For each size of ``--sizes`` (millions of orders; default 1,5,20,50), generates a date's
orders (one JSON file per million orders) into a warehouse of its own and runs the
framework once (``pipelines run --force``), after a warm-up run at the smallest size.
Prints per size: wall time, time per million rows and its ratio to that at 5M (target: at
most 1.15 at the largest size), the driver JVM's heap (its peak during the run and what a
full collection leaves after it; in ``local`` mode the driver is also the executor), and
the bytes Spark spilled. At ``--hand-at`` (default the largest size) the hand-written job of
``bench_pipeline.py`` runs on the same data too, for the spill Spark alone needs.
Usage: benchmarks/bench_scale.py [--sizes 1,5,20,50] [--hand-at N]
"""

from __future__ import annotations

import argparse
import importlib
import shutil
import tempfile
import time

import bench_pipeline as bp
from _common import plain_spark

GB = 1024 ** 3


def spilled_bytes(spark, after_stage: int) -> tuple[int, int]:
    """(bytes spilled, highest stage id) over the stages after ``after_stage``."""
    gateway = spark.sparkContext._gateway
    stages = spark.sparkContext._jsc.sc().statusStore().stageList(
        None, False, False, gateway.new_array(gateway.jvm.double, 0), None)
    total, last = 0, after_stage
    for i in range(stages.size()):
        stage = stages.apply(i)
        if stage.stageId() > after_stage:
            total += int(stage.memoryBytesSpilled()) + int(stage.diskBytesSpilled())
            last = max(last, int(stage.stageId()))
    return total, last


def heap(spark) -> tuple[float, float]:
    """(peak heap GB since the last reset, heap GB left after a full collection)."""
    mf = spark.sparkContext._jvm.java.lang.management.ManagementFactory
    pools = mf.getMemoryPoolMXBeans()
    peak = sum(int(pools.get(i).getPeakUsage().getUsed()) for i in range(pools.size())
               if str(pools.get(i).getType()) == "Heap memory")
    spark.sparkContext._jvm.java.lang.System.gc()
    retained = int(mf.getMemoryMXBean().getHeapMemoryUsage().getUsed())
    for i in range(pools.size()):
        pools.get(i).resetPeakUsage()
    return peak / GB, retained / GB


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1,5,20,50")
    parser.add_argument("--hand-at", type=int, default=0)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    hand_at = args.hand_at or max(sizes)
    spark = plain_spark(spark__ui__retainedStages="100000")
    cli = importlib.import_module("pipelines.core.interfaces.cli")
    from pipelines.demo.orders_data import generate

    root = tempfile.mkdtemp(prefix="bench-scale-")
    last_stage = spilled_bytes(spark, -1)[1]
    results = []
    for n, millions in enumerate([sizes[0], *sizes]):  # the first: a warm-up, not reported
        wh = f"{root}/m{millions}"
        shutil.rmtree(wh, ignore_errors=True)
        generate(spark, wh, bp.DATE, rows=millions * 1_000_000, customers=20_000,
                 hot_share=0.5, seed=11, bad_share=0.001, files=max(2, millions))
        last_stage = spilled_bytes(spark, last_stage)[1]
        heap(spark)  # resets the peaks
        start = time.perf_counter()
        code = cli.main(["run", "daily_revenue", "--date", bp.DATE, "--conf", f"warehouse={wh}",
                         "--force", "--quiet"])
        wall = time.perf_counter() - start
        if code != 0:
            raise SystemExit(f"the run at {millions}M failed with exit code {code}")
        spill, last_stage = spilled_bytes(spark, last_stage)
        peak, retained = heap(spark)
        hand_spill = None
        if n and millions == hand_at:
            shutil.copytree(wh, f"{wh}-hand")
            bp.hand_written(spark, f"{wh}-hand")
            hand_spill, last_stage = spilled_bytes(spark, last_stage)
            heap(spark)
        if n:
            results.append((millions, wall, peak, retained, spill, hand_spill))
            print(f"{millions}M orders: {wall:.1f}s, {wall / millions:.2f}s per million, "
                  f"heap peak {peak:.2f} GB, after GC {retained:.2f} GB, spilled "
                  f"{spill / GB:.2f} GB" + ("" if hand_spill is None else
                                           f" (hand-written: {hand_spill / GB:.2f} GB)"),
                  flush=True)
        shutil.rmtree(wh, ignore_errors=True)
        shutil.rmtree(f"{wh}-hand", ignore_errors=True)
    base = next((r for r in results if r[0] == 5), results[0])
    largest = results[-1]
    ratio = (largest[1] / largest[0]) / (base[1] / base[0])
    print(f"sizes_m={','.join(str(r[0]) for r in results)} "
          f"s_per_million={','.join(f'{r[1] / r[0]:.2f}' for r in results)} "
          f"ratio_largest_over_{base[0]}m={ratio:.3f} "
          f"heap_after_gc_gb={','.join(f'{r[3]:.2f}' for r in results)} "
          f"heap_peak_gb={','.join(f'{r[2]:.2f}' for r in results)} "
          f"spilled_gb={','.join(f'{r[4] / GB:.2f}' for r in results)} "
          f"hand_spilled_gb_at_{hand_at}m="
          f"{next((r[5] for r in results if r[5] is not None), 0) / GB:.2f}")
    shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()

"""The skew report: task durations, shuffle bytes and CPU time of a stage's keyed tasks."""

from pyspark.sql import functions as F

from pipelines.core.execution.skew_probe import (
    SkewProbe,
    TaskSample,
    projected_makespan,
    task_stats,
)


def describe_task_stats():
    def it_gives_each_spread_as_max_over_median():
        # the third task waited for a core: three times as long, about the same CPU time
        stats = task_stats([TaskSample(100.0, 1000, 90.0), TaskSample(100.0, 1000, 90.0),
                            TaskSample(300.0, 1100, 99.0)])
        assert stats["task_max_over_median"] == 3.0
        assert stats["partition_max_over_median"] == 1.1
        assert stats["task_cpu_max_over_median"] == 1.1

    def it_projects_longest_first_onto_the_slots():
        assert projected_makespan([5, 4, 3, 3, 1], 2) == 8


def describe_skew_probe():
    def it_reports_the_keyed_stage_of_a_watched_action(spark):
        probe = SkewProbe(spark)
        df = spark.range(2000).select((F.col("id") % 10).alias("k")).groupBy("k").count()
        with probe.watch("grouped"):
            df.write.format("noop").mode("overwrite").save()
        report = probe.report("grouped")
        assert report is not None
        assert report["shuffle_bytes_max"] > 0
        assert report["task_cpu_max_over_median"] is not None

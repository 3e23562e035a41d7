"""Exploring a pipeline from a notebook with the very objects a nightly run uses.

    import pipelines
    ex = pipelines.load("daily_revenue", date="2026-11-26")
    ex                                  # the DAG, drawn inline (SVG)
    df = ex.run_stage("daily_revenue", sample=0.1)   # a DataFrame, nothing written
    ex.quality("clean_orders")          # verdicts of the stage's expectations (pandas)
    ex.skew("daily_revenue")            # hot keys found and task skew of the stage
    ex.table("fact_daily_revenue", version=1)        # any table, any Delta version
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pyspark.sql import DataFrame, SparkSession

from pipelines.core.config.registry import find_pipeline
from pipelines.core.config.settings import Settings, load_settings
from pipelines.core.delta.tables import read_delta, table_path
from pipelines.core.errors import UsageError
from pipelines.core.execution.skew_probe import SkewProbe
from pipelines.core.execution.stage_executor import build_stage
from pipelines.core.frames.sources import open_source
from pipelines.core.planning.plan import Plan, make_plan
from pipelines.core.quality.gate import QualityGate
from pipelines.core.salting import HotKeys

__all__ = ["Explorer"]

SAMPLE_SEED = 7


class Explorer:
    def __init__(self, spark: SparkSession, settings: Settings, plan: Plan) -> None:
        self.spark = spark
        self.settings = settings
        self.plan = plan
        self.probe = SkewProbe(spark)
        self._hot: dict[str, HotKeys] = {}

    @classmethod
    def open(cls, name: str, *, date: str | None = None, env: str = "local",
             conf: list[str] | None = None, spark: SparkSession | None = None) -> Explorer:
        from pipelines.core.execution.session import get_spark
        from pipelines.core.planning.analysis import check_schemas

        settings = load_settings(env, conf or [])
        pipeline = find_pipeline(name, settings.pipeline_packages)
        day = date or (dt.date.today() - dt.timedelta(days=1)).isoformat()
        plan = make_plan(pipeline, day)
        session = spark or get_spark(settings)
        plan.schemas.update(check_schemas(session, plan))
        return cls(session, settings, plan)

    # -- looking -------------------------------------------------------------------------
    def _repr_svg_(self) -> str:
        from pipelines.core.planning.render import plan_svg

        return plan_svg(self.plan)

    def dag(self) -> Any:
        """The DAG as an inline picture in Jupyter (the SVG text elsewhere)."""
        svg = self._repr_svg_()
        try:
            from IPython.display import SVG

            return SVG(svg)
        except ImportError:
            return svg

    def describe(self) -> str:
        from pipelines.core.planning.render import render_plan

        return render_plan(self.plan, self.settings.warehouse_path, self.settings.salting)

    # -- running ---------------------------------------------------------------------------
    def run_stage(self, stage: str, *, sample: float | None = None, salt: bool = True,
                  ) -> DataFrame:
        """The output of ``stage`` (and everything it needs), as a lazy DataFrame.

        Sources are read as a run would (Delta at its current version); ``sample`` keeps a
        deterministic fraction of every source. Nothing is written.
        """
        if stage not in self.plan.order:
            raise UsageError(f"unknown stage '{stage}' (stages: {', '.join(self.plan.order)})",
                             pipeline=self.plan.name, stage=stage)
        frames: dict[str, DataFrame] = {}
        needed = self._upstream(stage)
        for source in self.plan.sources.values():
            if source.name not in needed:
                continue
            df = open_source(self.spark, source, self.settings.warehouse_path,
                             pipeline=self.plan.name).frame
            frames[source.name] = df.sample(fraction=sample, seed=SAMPLE_SEED) if sample else df
        for name in self.plan.order:
            if name not in needed:
                continue
            node = self.plan.stage(name)
            frames[name], decision = build_stage(self.spark, self.settings, self.plan, node,
                                                 {i: frames[i] for i in node.inputs}, salt=salt)
            if decision.hot is not None:
                self._hot[name] = decision.hot
        return frames[stage]

    def _upstream(self, stage: str) -> set[str]:
        seen, todo = set(), [stage]
        while todo:
            ref = todo.pop()
            if ref in seen:
                continue
            seen.add(ref)
            if ref in self.plan.order:
                todo.extend(self.plan.stage(ref).inputs)
        return seen

    def run(self, *, force: bool = False) -> Any:
        """Run the whole pipeline for the explorer's date, exactly as ``pipelines run`` does."""
        from pipelines.core.execution.runner import Runner

        return Runner(self.spark, self.settings, self.plan, force=force).run()

    # -- inspecting ------------------------------------------------------------------------
    def quality(self, stage: str, *, sample: float | None = None) -> Any:
        """Verdicts of ``stage``'s expectations on its output (pandas DataFrame)."""
        import pandas as pd

        gate = QualityGate(stage, self.plan.gate_checks(stage), self.settings.quality)
        df = gate.prepare(self.run_stage(stage, sample=sample))
        df.write.format("noop").mode("overwrite").save()
        report = gate.evaluate(df, columns=df.columns)
        return pd.DataFrame([r.to_dict() for r in report.results])

    def skew(self, stage: str, *, sample: float | None = None) -> dict[str, Any]:
        """Hot keys found for ``stage`` and the task/partition skew of computing it."""
        df = self.run_stage(stage, sample=sample)
        with self.probe.watch(f"explore-{stage}"):
            df.write.format("noop").mode("overwrite").save()
        hot = self._hot.get(stage)
        return {"stage": stage, "salting": hot.to_dict() if hot else None,
                "tasks": self.probe.report(f"explore-{stage}")}

    def table(self, name: str, *, version: int | None = None) -> DataFrame:
        """A table the pipeline wrote (by sink name or table name), at any Delta version."""
        sink = self.plan.sinks.get(name)
        table = sink.table if sink else name
        return read_delta(self.spark, table_path(self.settings.warehouse_path, table), version)

    def history(self) -> Any:
        import pandas as pd

        from pipelines.core.records.ledger import Ledger

        runs = Ledger(self.spark, self.settings.warehouse_path).runs(self.plan.name)
        return pd.DataFrame([{k: v for k, v in r.to_dict().items()
                              if k in ("run_id", "date", "generation", "attempt", "status",
                                       "duration_s")} for r in runs])

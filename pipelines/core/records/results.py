"""What a run reports: plain data, rendered as JSON for ``--json`` and the ledger."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["StageResult", "RunResult", "RUN_FORMAT"]

# the --json document of `run` and `show`: one shape, versioned; a new field is added without
# changing the version, a renamed or removed one changes it
RUN_FORMAT = "pipelines-run/1"


@dataclass
class StageResult:
    name: str
    kind: str
    materialized: bool = False
    resumed: bool = False
    rows_out: int | None = None
    rows_dropped: int = 0
    duration_s: float | None = None
    start_s: float | None = None  # seconds from the run's start to the stage's computing
    fused_into: str | None = None  # computed inside this materialized stage's job
    retries: int = 0
    salting: dict[str, Any] | None = None
    skew: dict[str, Any] | None = None
    fingerprint: str | None = None  # what its output depends on (planning/stage_fingerprint)
    reused_from: int | None = None  # the generation whose staged result it read

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class RunResult:
    run_id: str
    pipeline: str
    date: str
    generation: int
    attempt: int
    status: str  # succeeded | skipped | failed | quality_failed
    exit_code: int
    started_at: str
    duration_s: float = 0.0
    inputs: dict[str, Any] = field(default_factory=dict)
    stages: list[StageResult] = field(default_factory=list)
    outputs: list[dict[str, Any]] = field(default_factory=list)
    quality: list[dict[str, Any]] = field(default_factory=list)
    error: dict[str, Any] | None = None
    report: str | None = None
    message: str = ""
    # seconds per phase of the run, in order (spark start, decide, plan, sources, stages,
    # publish, report, ledger); duration_s minus their sum is time in between
    phases: dict[str, float] = field(default_factory=dict)
    # the same phases placed in time: name, start_s (seconds from the run's start), duration_s
    timeline: list[dict[str, Any]] = field(default_factory=list)
    # executor CPU time, core- and GB-seconds held, and their price (execution/cost.py)
    cost: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        data = {"format": RUN_FORMAT, **asdict(self)}
        data["stages"] = [s.to_dict() for s in self.stages]
        return data

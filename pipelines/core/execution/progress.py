"""One line per step of a run, on the ``pipelines.progress`` logger (stderr): a run's start,
each stage's start and finish, each publish, the end with where the time went. Plain lines,
as cron logs want them; ``--quiet`` keeps errors only, ``--verbose`` adds debugging."""

from __future__ import annotations

import logging
from typing import Any

from pipelines.core.records.results import StageResult

__all__ = ["log", "stage_done", "published", "phases_text"]

log = logging.getLogger("pipelines.progress")


def stage_done(record: StageResult, checks: list[Any]) -> None:
    salting = (record.salting or {}).get("decision", "off")
    salted = {"salted": "salted", "broadcast": "broadcast join",
              "aqe_skew_join": "AQE skew split"}.get(salting, "not salted")
    passed = sum(1 for c in checks if c.success)
    dropped = f", {record.rows_dropped} quarantined" if record.rows_dropped else ""
    how = "resumed from its staged output" if record.resumed else (
        f"in {record.duration_s:.2f}s" if record.duration_s is not None else "")
    log.info("stage %s: %s rows%s %s, %s, %d of %d checks passed", record.name,
             record.rows_out, dropped, how, salted, passed, len(checks))


def published(out: dict[str, Any]) -> None:
    again = ", already committed" if out.get("already_committed") else ""
    log.info("published %s v%s: %s rows (%s%s)", out["table"], out["delta_version"],
             out["rows_written"], out["mode"], again)


def phases_text(phases: dict[str, float], total: float) -> str:
    parts = [f"{name} {seconds:.1f}s" for name, seconds in phases.items()]
    other = total - sum(phases.values())
    if other >= 0.05:
        parts.append(f"other {other:.1f}s")
    return ", ".join(parts)

"""A canary's sample of its inputs: deterministic (a hash of row content, never a random
draw), so a canary run and its rerun read the same rows.

Sampled by key (``by``), every source holding those columns keeps the same keys, so joins on
them stay whole and a reduce by them gives each kept key its exact result: the canary's rows
for a key can be compared with production's. Without ``by``, the file sources (the date's
landing data) are sampled by whole rows and Delta sources (dimensions) are read whole.
"""

from __future__ import annotations

from dataclasses import dataclass

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from pipelines.core.declare.spec import Source
from pipelines.core.errors import UsageError

__all__ = ["Sample", "BUCKETS"]

BUCKETS = 10_000


@dataclass(frozen=True)
class Sample:
    fraction: float
    by: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not 0 < self.fraction <= 1:
            raise UsageError(f"--sample must be in (0, 1], got {self.fraction:g}",
                             key="sample")

    def applies_to(self, source: Source, columns: list[str]) -> bool:
        if self.by:
            return all(c in columns for c in self.by)
        return source.format != "delta"

    def apply(self, frame: DataFrame, source: Source) -> DataFrame:
        """The rows of ``frame`` the sample keeps (``frame`` itself where it does not apply)."""
        if not self.applies_to(source, frame.columns):
            return frame
        columns = list(self.by) or frame.columns
        bucket = F.pmod(F.xxhash64(*[F.col(c) for c in columns]), F.lit(BUCKETS))
        return frame.where(bucket < F.lit(int(round(self.fraction * BUCKETS))))

    def to_dict(self) -> dict[str, object]:
        return {"fraction": self.fraction, "by": list(self.by)}

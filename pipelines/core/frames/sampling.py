"""A canary's sample of its inputs: deterministic (a hash of row content, never a random
draw), so a canary run and its rerun read the same rows.

Sampled by key (``by``), every source holding those columns keeps the same keys, so joins on
them stay whole and a reduce by them gives each kept key its exact result: the canary's rows
for a key can be compared with production's. Without ``by``, the file sources (the date's
landing data) are sampled and Delta sources (dimensions) are read whole: by whole files
(``unit="files"``, the default: the fraction of the files, at least one, chosen by a hash of
their names, and Spark reads no other file) or by rows (``unit="rows"``: every file is read).
"""

from __future__ import annotations

import hashlib
import math
import os
from dataclasses import dataclass

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from pipelines.core.declare.spec import Source
from pipelines.core.errors import UsageError

__all__ = ["Sample", "BUCKETS", "UNITS"]

BUCKETS = 10_000
UNITS = ("files", "rows")


@dataclass(frozen=True)
class Sample:
    fraction: float
    by: tuple[str, ...] = ()
    unit: str = "files"  # without ``by``: sample whole files or rows of the file sources

    def __post_init__(self) -> None:
        if not 0 < self.fraction <= 1:
            raise UsageError(f"--sample must be in (0, 1], got {self.fraction:g}",
                             key="sample")
        if self.unit not in UNITS:
            raise UsageError(f"--sample-unit must be one of {', '.join(UNITS)}, got "
                             f"'{self.unit}'", key="sample-unit")

    @property
    def by_files(self) -> bool:
        return not self.by and self.unit == "files"

    def file_filter(self, raw: DataFrame, source: Source) -> Column | None:
        """For a file source sampled by files: a condition on Spark's file metadata that
        keeps the chosen files of ``raw`` (the source as read, before its projection), which
        Spark applies when it lists them; None when files are not what is sampled."""
        if not self.by_files or source.format == "delta":
            return None
        names = sorted({os.path.basename(f) for f in raw.inputFiles()})
        keep = max(1, math.ceil(self.fraction * len(names)))
        chosen = sorted(names, key=lambda n: hashlib.sha256(n.encode()).hexdigest())[:keep]
        return F.col("_metadata.file_name").isin(chosen)

    def applies_to(self, source: Source, columns: list[str]) -> bool:
        if self.by:
            return all(c in columns for c in self.by)
        return source.format != "delta"

    def apply(self, frame: DataFrame, source: Source) -> DataFrame:
        """The rows of ``frame`` the sample keeps (``frame`` itself where it does not apply)."""
        if not self.applies_to(source, frame.columns) or self.by_files:
            return frame  # (files were chosen when the source was opened)
        columns = list(self.by) or frame.columns
        bucket = F.pmod(F.xxhash64(*[F.col(c) for c in columns]), F.lit(BUCKETS))
        return frame.where(bucket < F.lit(int(round(self.fraction * BUCKETS))))

    def to_dict(self) -> dict[str, object]:
        return {"fraction": self.fraction, "by": list(self.by),
                "unit": "keys" if self.by else self.unit}

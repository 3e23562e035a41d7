"""The warehouse's layout: every path the framework reads or writes comes from here.

```
<warehouse>/tables/<name>                         published Delta tables
<warehouse>/_pipelines/ledger                     run events (Delta)
<warehouse>/_pipelines/quality_results            every check of every run (Delta)
<warehouse>/_pipelines/staging/<p>/<date>/g<N>/<stage>   staged stages (resume points)
<warehouse>/_pipelines/reports/<p>/<date>/<run>   summary.json, report.html, metrics
<warehouse>/_pipelines/locks, .../logs            run locks, Spark's log (a local warehouse)
<warehouse>/_canary                               a canary's own warehouse, same layout
~/.local/state/pipelines/{locks,logs}             locks and logs of a remote warehouse
```
"""

from __future__ import annotations

import os

__all__ = ["PRIVATE", "CANARY_DIR", "tables_root", "private_root", "ledger_path",
           "quality_results_path", "staging_root", "staging_path", "report_folder",
           "local_locks", "host_state", "canary_root"]

PRIVATE = "_pipelines"  # the framework's own folder in a warehouse
CANARY_DIR = "_canary"  # a canary run's warehouse inside production's


def _join(root: str, *parts: str) -> str:
    return "/".join([root.rstrip("/"), *[p.strip("/") for p in parts]])


def tables_root(warehouse: str) -> str:
    return _join(warehouse, "tables")


def private_root(warehouse: str) -> str:
    return _join(warehouse, PRIVATE)


def ledger_path(warehouse: str) -> str:
    return _join(warehouse, PRIVATE, "ledger")


def quality_results_path(warehouse: str) -> str:
    return _join(warehouse, PRIVATE, "quality_results")


def staging_root(warehouse: str, pipeline: str, date: str) -> str:
    """The folder of a date's staged stages, one subfolder per generation."""
    return _join(warehouse, PRIVATE, "staging", pipeline, date)


def staging_path(warehouse: str, pipeline: str, date: str, generation: int, stage: str) -> str:
    return _join(staging_root(warehouse, pipeline, date), f"g{generation}", stage)


def report_folder(warehouse: str, pipeline: str, date: str, run_id: str) -> str:
    return _join(warehouse, PRIVATE, "reports", pipeline, date, run_id)


def local_locks(warehouse: str) -> str:
    """The lock folder of a warehouse on this host's disk."""
    return os.path.join(warehouse, PRIVATE, "locks")


def host_state(kind: str) -> str:
    """This host's folder for ``kind`` ("locks", "logs") of warehouses it cannot hold them in."""
    return os.path.expanduser(os.path.join("~/.local/state/pipelines", kind))


def canary_root(warehouse: str) -> str:
    return _join(warehouse, CANARY_DIR)

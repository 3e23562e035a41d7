"""Running the CLI in-process (same SparkSession) and reading tables back."""

from __future__ import annotations

import json
from typing import Any

from pipelines.core.interfaces.cli import main

DATE = "2026-11-26"


def cli(capsys: Any, *args: str, warehouse: str, env: str = "test") -> tuple[int, Any, str]:
    """Run ``pipelines <args> --json``; returns (exit code, parsed stdout, stderr)."""
    argv = [*args, "--env", env, "--conf", f"warehouse={warehouse}",
            "--conf", "pipeline_packages=[pipelines,testpipes]", "--json"]
    capsys.readouterr()
    code = main(argv)
    out, err = capsys.readouterr()
    data = json.loads(out) if out.strip() else None
    return code, data, err


def table(spark: Any, warehouse: str, name: str, version: int | None = None) -> Any:
    reader = spark.read.format("delta")
    if version is not None:
        reader = reader.option("versionAsOf", version)
    return reader.load(f"{warehouse}/tables/{name}")


# An independent reader: delta-rs reads the Delta log and Parquet files without Spark, so a
# test that asserts what a table holds does not trust the engine that wrote it.
def delta_version(warehouse: str, name: str) -> int | None:
    """The table's latest version as delta-rs reads it (None: no table there)."""
    from deltalake import DeltaTable
    from deltalake.exceptions import TableNotFoundError

    try:
        return DeltaTable(f"{warehouse}/tables/{name}").version()
    except TableNotFoundError:
        return None


def delta_rows(warehouse: str, name: str, *columns: str) -> list[tuple]:
    """The table's rows (``columns`` of them, or all), sorted, as delta-rs reads them."""
    from deltalake import DeltaTable

    data = DeltaTable(f"{warehouse}/tables/{name}").to_pyarrow_table()
    data = data.select(list(columns)) if columns else data
    return sorted((tuple(r.values()) for r in data.to_pylist()), key=repr)

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

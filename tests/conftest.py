"""One SparkSession (local[2], Delta, UI off, 4 shuffle partitions) for the whole suite."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
sys.path.insert(0, str(FIXTURES))
os.environ.setdefault("PIPELINES_CONF_DIR", str(ROOT / "conf"))
os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
os.environ.setdefault("PYSPARK_PYTHON", sys.executable)


@pytest.fixture(scope="session")
def spark():
    from pipelines.core.config.settings import load_settings
    from pipelines.core.execution.session import get_spark

    session = get_spark(load_settings("test", conf_dir=ROOT / "conf"))
    yield session
    session.stop()


@pytest.fixture
def warehouse(tmp_path: Path) -> str:
    return str(tmp_path / "wh")


@pytest.fixture
def settings_for():
    """settings_for(warehouse, *overrides) -> Settings of the test environment."""
    from pipelines.core.config.settings import load_settings

    def make(warehouse: str, *overrides: str, packages: str = "pipelines,testpipes"):
        pkgs = "[" + packages + "]"
        return load_settings("test", [f"warehouse={warehouse}", f"pipeline_packages={pkgs}",
                                      *overrides], conf_dir=ROOT / "conf")

    return make


@pytest.fixture
def delta_versions(spark):
    """delta_versions(warehouse) -> {table folder: latest version} for every table there."""
    from pipelines.core.delta.tables import current_version

    def versions(warehouse: str) -> dict[str, int | None]:
        root = Path(warehouse) / "tables"
        if not root.exists():
            return {}
        return {p.name: current_version(spark, str(p)) for p in sorted(root.iterdir())}

    return versions

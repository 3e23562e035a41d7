"""notebooks/explore.ipynb runs top to bottom on a fresh kernel, and is committed stripped."""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "explore.ipynb"


def describe_the_exploration_notebook():
    def it_is_committed_without_outputs():
        nb = nbformat.read(NOTEBOOK, as_version=4)
        assert all(not c.get("outputs") and not c.get("execution_count")
                   for c in nb.cells if c.cell_type == "code")

    @pytest.mark.slow  # a fresh process or notebook kernel: make test-slow
    def it_runs_every_cell_without_error(tmp_path, monkeypatch):
        monkeypatch.setenv("NOTEBOOK_WAREHOUSE", str(tmp_path / "wh"))
        monkeypatch.setenv("PIPELINES_ENV", "test")
        nb = nbformat.read(NOTEBOOK, as_version=4)
        NotebookClient(nb, timeout=900, kernel_name="python3",
                       resources={"metadata": {"path": str(NOTEBOOK.parent)}}).execute()
        outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
        assert not [o for o in outputs if o.output_type == "error"]
        pictures = [o for o in outputs if "image/svg+xml" in o.get("data", {})]
        assert len(pictures) == 2  # the DAGs of daily_revenue and product_sales
        assert os.path.isdir(tmp_path / "wh" / "tables" / "fact_daily_revenue")

"""Deprecated home of the aggregation vocabulary: import it as ``from pipelines import agg``.

The declarations moved into the framework (``pipelines.core.declare.aggregations``), since
``transforms/`` holds only user code that imports nothing from the framework. This module
keeps old imports working and warns once.
"""

from __future__ import annotations

import warnings

from pipelines.core.declare.aggregations import *  # noqa: F403
from pipelines.core.declare.aggregations import __all__  # noqa: F401

warnings.warn("transforms.aggregations is deprecated; use 'from pipelines import agg'",
              DeprecationWarning, stacklevel=2)

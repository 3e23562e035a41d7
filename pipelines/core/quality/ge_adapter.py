"""The one module that talks to Great Expectations.

* :func:`to_validation_result` turns our verdicts into GE's own result objects
  (``ExpectationSuiteValidationResult`` of ``ExpectationValidationResult``), the form the run
  report stores and notebooks show.
* :func:`validate_with_ge` validates a DataFrame with GE's own Spark engine: used for full
  suites loaded from JSON (``expect.suite_file``) and to check that our one-pass verdicts agree
  with GE's.

GE is imported lazily: it takes seconds to import and most runs never need its engine.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Sequence
from typing import Any

from pyspark.sql import DataFrame

from pipelines.core.declare.expectations import Expectation
from pipelines.core.errors import DefinitionError
from pipelines.core.quality.gate import CheckResult

__all__ = ["to_validation_result", "write_validation_result", "validate_with_ge",
           "load_suite_file", "GeVerdict"]


def to_validation_result(results: Sequence[CheckResult], suite_name: str) -> Any:
    """Our verdicts as a GE ``ExpectationSuiteValidationResult``."""
    from great_expectations.core import (
        ExpectationSuiteValidationResult,
        ExpectationValidationResult,
    )
    from great_expectations.expectations.expectation_configuration import (
        ExpectationConfiguration,
    )

    converted = []
    for r in results:
        result: dict[str, Any] = {"element_count": r.evaluated_rows,
                                  "observed_value": r.observed_value}
        if r.ge_type.startswith("expect_column_values") or "compound" in r.ge_type:
            result.update({
                "unexpected_count": r.failing_rows,
                "unexpected_percent": (100.0 * r.failing_rows / r.evaluated_rows
                                       if r.evaluated_rows else 0.0),
                "partial_unexpected_list": list(r.samples),
            })
            result.pop("observed_value")
        config = ExpectationConfiguration(
            type=r.ge_type, kwargs=dict(r.kwargs),
            meta={"severity": r.severity, "stage": r.stage, "name": r.expectation})
        converted.append(ExpectationValidationResult(success=r.success,
                                                     expectation_config=config, result=result))
    evaluated = len(converted)
    passed = sum(1 for r in results if r.success)
    return ExpectationSuiteValidationResult(
        success=all(r.success for r in results), results=converted, suite_name=suite_name,
        statistics={"evaluated_expectations": evaluated, "successful_expectations": passed,
                    "unsuccessful_expectations": evaluated - passed,
                    "success_percent": 100.0 * passed / evaluated if evaluated else 100.0})


class GeVerdict(dict):
    """name -> (success, unexpected_count or observed value), from GE's engine."""


def write_validation_result(results: Sequence[CheckResult], suite_name: str,
                            folder: str) -> str:
    """The results as GE's validation result JSON, ``ge_validation.json`` in ``folder``."""
    path = os.path.join(folder, "ge_validation.json")
    with open(path, "w") as fh:
        json.dump(to_validation_result(results, suite_name).to_json_dict(), fh, indent=2,
                  default=str)
    return path


def _context() -> Any:
    import great_expectations as gx

    return gx.get_context(mode="ephemeral")


def _suite(context: Any, name: str, checks: Sequence[Expectation]) -> Any:
    import great_expectations as gx

    suite = context.suites.add(gx.ExpectationSuite(name=name))
    for check in checks:
        cls = getattr(gx.expectations, check.ge_class)
        suite.add_expectation(cls(**check.ge_kwargs, meta={"name": check.name}))
    return suite


def load_suite_file(context: Any, path: str) -> Any:
    """A GE ``ExpectationSuite`` from its JSON file."""
    import great_expectations as gx

    try:
        with open(path) as fh:
            data = json.load(fh)
        data.pop("id", None)
        return context.suites.add(gx.ExpectationSuite(**data))
    except (OSError, ValueError, TypeError) as exc:
        raise DefinitionError(f"cannot load expectation suite: {exc}", file=path) from None


def _validate(context: Any, df: DataFrame, suite: Any) -> Any:
    source = context.data_sources.add_spark(name=f"pipelines_{uuid.uuid4().hex[:8]}",
                                            persist=False)
    asset = source.add_dataframe_asset(name="stage_output")
    batch = asset.add_batch_definition_whole_dataframe("whole").get_batch(
        batch_parameters={"dataframe": df})
    return batch.validate(suite, result_format="SUMMARY")


def validate_with_ge(df: DataFrame, checks: Sequence[Expectation] = (), *,
                     suite_path: str | None = None) -> GeVerdict:
    """Validate ``df`` with GE's own engine; returns name -> (success, count or value)."""
    context = _context()
    suite = (load_suite_file(context, suite_path) if suite_path
             else _suite(context, f"pipelines_{uuid.uuid4().hex[:8]}", checks))
    outcome = _validate(context, df, suite)
    verdict = GeVerdict()
    for r in outcome.results:
        cfg = r.expectation_config
        name = (cfg.meta or {}).get("name") or f"{cfg.type}:{cfg.kwargs.get('column', '')}"
        res = r.result or {}
        verdict[name] = (bool(r.success), res.get("unexpected_count",
                                                  res.get("observed_value")))
    return verdict

"""Finding pipelines: every module of the configured packages that defines ``pipeline``.

One module is one pipeline; its module name is the pipeline's CLI name.
"""

from __future__ import annotations

import dataclasses
import difflib
import importlib
import pkgutil
from collections.abc import Sequence
from types import ModuleType

from pipelines.core.declare.spec import Pipeline
from pipelines.core.errors import DefinitionError, UsageError

__all__ = ["discover", "find_pipeline"]

_SKIP = {"core", "api"}


def _import(name: str) -> ModuleType:
    try:
        return importlib.import_module(name)
    except DefinitionError:
        raise
    except Exception as exc:  # noqa: BLE001 - any error in user code is a definition error
        file = name.replace(".", "/") + ".py"
        raise DefinitionError(f"cannot import pipeline module {name}: {type(exc).__name__}: "
                              f"{exc}", file=file, pipeline=name.rsplit(".", 1)[-1]) from None


def _candidates(packages: Sequence[str]) -> dict[str, str]:
    """pipeline name -> module name, without importing the modules."""
    found: dict[str, str] = {}
    for package_name in packages:
        package = _import(package_name)
        for info in pkgutil.iter_modules(getattr(package, "__path__", [])):
            if info.ispkg or info.name.startswith("_") or info.name in _SKIP:
                continue
            found.setdefault(info.name, f"{package_name}.{info.name}")
    return found


def _load(name: str, module_name: str) -> Pipeline | None:
    module = _import(module_name)
    pipeline = getattr(module, "pipeline", None)
    if pipeline is None:
        return None
    if not isinstance(pipeline, Pipeline):
        raise DefinitionError(f"'pipeline' in {module_name} is a {type(pipeline).__name__}, "
                              "not a Pipeline", pipeline=name, file=module.__file__)
    if pipeline.name != name:
        raise DefinitionError(f"pipeline in module {module_name} is named '{pipeline.name}'; "
                              f"name it '{name}' after its module", pipeline=name,
                              file=module.__file__)
    return dataclasses.replace(pipeline, module=module_name)


def discover(packages: Sequence[str]) -> dict[str, Pipeline]:
    out = {}
    for name, module_name in sorted(_candidates(packages).items()):
        pipeline = _load(name, module_name)
        if pipeline is not None:
            out[name] = pipeline
    return out


def find_pipeline(name: str, packages: Sequence[str]) -> Pipeline:
    candidates = _candidates(packages)
    if name in candidates:
        pipeline = _load(name, candidates[name])
        if pipeline is not None:
            return pipeline
    close = difflib.get_close_matches(name, sorted(candidates), n=1)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    raise UsageError(f"unknown pipeline '{name}'{hint}; see 'pipelines list'", pipeline=name)

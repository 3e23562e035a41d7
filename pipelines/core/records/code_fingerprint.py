"""What a pipeline's results depend on in code, as one digest.

- **User modules**: the pipeline module and every module reachable from it (and from the
  modules its functions live in) by ``import`` statements, followed transitively: their
  source text as it is on disk now, whatever a long-lived process has loaded.
- **Third-party packages** those modules import: name and installed version.
- **The framework**: its version and the digest of its own source files.
- **Values functions close over**: for every function in the declaration, the plain values
  (numbers, strings, collections of them, dates) of the module globals it reads and of its
  closure cells, so a constant computed at import time (from the environment, a file) counts.

When the closure cannot be determined (a user module whose source cannot be read, or one that
imports by name at run time: ``importlib.import_module``, ``__import__``), the digest is
:data:`UNDETERMINED` plus a unique suffix: nothing is skipped or reused on it, and
:attr:`CodeFingerprint.undetermined` says why.
"""

from __future__ import annotations

import ast
import dataclasses
import datetime as dt
import decimal
import functools
import hashlib
import importlib.metadata
import importlib.util
import os
import sys
import sysconfig
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import CodeType, FunctionType, ModuleType
from typing import Any

__all__ = ["CodeFingerprint", "code_fingerprint", "declaration_text", "declared_text",
           "framework_digest", "UNDETERMINED"]

UNDETERMINED = "undetermined-"
_FRAMEWORK = ("pipelines.core",)
_FRAMEWORK_ROOT = Path(__file__).resolve().parents[1]  # pipelines/core
_PLAIN = (type(None), bool, int, float, complex, str, bytes, decimal.Decimal, dt.date,
          dt.datetime, dt.time, dt.timedelta)


@dataclass(frozen=True)
class CodeFingerprint:
    digest: str
    modules: tuple[str, ...]  # the user modules covered, by name
    packages: tuple[str, ...]  # third-party packages imported, as name==version
    undetermined: tuple[str, ...] = ()  # why the closure could not be determined

    @property
    def determined(self) -> bool:
        return not self.undetermined


def code_fingerprint(roots: Iterable[str], declared: Iterable[Any] = ()) -> CodeFingerprint:
    """The fingerprint of the modules ``roots`` (by name), everything they reach by import,
    the functions in ``declared`` (any declaration: their modules and the values they read)
    and the framework."""
    modules = set(r for r in roots if r)
    values: list[str] = []
    for obj in declared:
        for fn in _functions(obj):
            modules.add(getattr(fn, "__module__", "") or "")
            values.append(closed_over(fn))
    closure = _closure(tuple(sorted(m for m in modules if m)))
    digest = hashlib.sha256()
    for part in (framework_digest(), *closure.parts, *values):
        digest.update(part.encode())
        digest.update(b"\x1f")
    text = digest.hexdigest()[:16]
    if closure.undetermined:
        text = UNDETERMINED + uuid.uuid4().hex[:8]  # equal to nothing, not even itself
    return CodeFingerprint(text, closure.modules, closure.packages, closure.undetermined)


@dataclass(frozen=True)
class _Closure:
    parts: tuple[str, ...]
    modules: tuple[str, ...]
    packages: tuple[str, ...]
    undetermined: tuple[str, ...]


def _closure(roots: tuple[str, ...]) -> _Closure:
    seen: dict[str, str] = {}  # module -> digest of its source
    packages: set[str] = set()
    problems: list[str] = []
    todo = list(roots)
    while todo:
        name = todo.pop()
        if name in seen or _is_framework(name):
            continue
        kind, source, origin = _locate(name)
        if kind == "third_party":
            packages.add(_package_version(name))
            continue
        if kind != "user":
            continue
        if source is None:
            problems.append(f"the source of {name} ({origin}) cannot be read")
            seen[name] = ""
            continue
        seen[name] = hashlib.sha256(source.encode()).hexdigest()
        try:
            tree = ast.parse(source)
        except SyntaxError as exc:
            problems.append(f"{name} does not parse: {exc.msg}")
            continue
        imported, dynamic = _imports(tree, name, is_package=origin.endswith("__init__.py"))
        if dynamic:
            problems.append(f"{name} imports modules by name at run time ({dynamic})")
        todo.extend(imported)
    parts = tuple(f"{m}:{seen[m]}" for m in sorted(seen)) + tuple(sorted(packages))
    return _Closure(parts, tuple(sorted(seen)), tuple(sorted(packages)), tuple(problems))


def _is_framework(name: str) -> bool:
    return name == "pipelines" or any(name == f or name.startswith(f + ".") for f in _FRAMEWORK)


@functools.cache
def _library_dirs() -> tuple[str, ...]:
    paths = sysconfig.get_paths()
    dirs = {paths[k] for k in ("stdlib", "platstdlib", "purelib", "platlib") if k in paths}
    dirs |= {p for p in sys.path if p.rstrip("/").endswith(("site-packages", "dist-packages"))}
    return tuple(sorted(os.path.realpath(d) + os.sep for d in dirs))


def _locate(name: str) -> tuple[str, str | None, str]:
    """("user" | "third_party" | "library", source text, origin) of a module name, or
    ("missing", None, "") when no module has that name. A dotted name is looked up only
    under a user package: a library's submodules are never imported to find them."""
    top = name.partition(".")[0]
    if top in sys.stdlib_module_names or name in sys.builtin_module_names:
        return "library", None, ""
    if top != name:
        kind, _source, origin = _locate(top)
        if kind != "user":
            return kind, None, origin
    module = sys.modules.get(name)
    try:
        spec = module.__spec__ if module is not None else importlib.util.find_spec(name)
    except (ImportError, ValueError, AttributeError):
        spec = None
    if spec is None:
        return "missing", None, ""
    origin = spec.origin or ""
    if not origin and spec.submodule_search_locations:  # a namespace package: no source
        origin = next(iter(spec.submodule_search_locations), "")
        if not origin or os.path.realpath(origin).startswith(_library_dirs()):
            return "third_party", None, origin
        return "user", "", origin
    if origin in ("built-in", "frozen") or not origin:
        return ("library" if origin else "missing"), None, origin
    real = os.path.realpath(origin)
    if real.startswith(_library_dirs()):
        is_stdlib = real.startswith(os.path.realpath(sysconfig.get_paths()["stdlib"]) + os.sep)
        return ("library" if is_stdlib and "-packages" not in real else "third_party"), None, real
    return "user", _read_source(spec, origin), origin


def _read_source(spec: Any, origin: str) -> str | None:
    """The module's source as it is now: from its file, or its loader (a zip on --py-files)."""
    if origin.endswith(".py") and os.path.isfile(origin):
        try:
            return Path(origin).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return None
    loader = spec.loader
    try:
        return loader.get_source(spec.name) if loader is not None else None
    except (ImportError, OSError, AttributeError):
        return None


@functools.cache
def _distributions() -> Mapping[str, list[str]]:
    return importlib.metadata.packages_distributions()


def _package_version(name: str) -> str:
    top = name.partition(".")[0]
    dists = _distributions().get(top) or [top]
    versions = []
    for dist in sorted(set(dists)):
        try:
            versions.append(f"{dist}=={importlib.metadata.version(dist)}")
        except importlib.metadata.PackageNotFoundError:
            versions.append(f"{dist}==?")
    return ",".join(versions)


def _imports(tree: ast.AST, module: str, *, is_package: bool) -> tuple[list[str], str]:
    """Module names an ``import`` in ``tree`` may load, and the first dynamic import seen."""
    names: list[str] = []
    dynamic = ""
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                names.extend(".".join(parts[:i]) for i in range(1, len(parts) + 1))
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                try:
                    base = importlib.util.resolve_name("." * node.level + base, package)
                except (ImportError, ValueError):
                    continue
            if not base:
                continue
            parts = base.split(".")
            names.extend(".".join(parts[:i]) for i in range(1, len(parts) + 1))
            names.extend(f"{base}.{alias.name}" for alias in node.names if alias.name != "*")
        elif isinstance(node, ast.Call) and not dynamic:
            func = node.func
            called = (func.attr if isinstance(func, ast.Attribute)
                      else func.id if isinstance(func, ast.Name) else "")
            if called in ("import_module", "__import__"):
                dynamic = f"{called}, line {node.lineno}"
    # a `from package import name` whose name is an attribute, not a module, is "missing"
    return [n for n in names if n], dynamic


@functools.cache
def framework_digest() -> str:
    """The framework's version and the digest of its source files."""
    try:
        version = importlib.metadata.version("spark-pipelines-framework")
    except importlib.metadata.PackageNotFoundError:
        version = "?"
    digest = hashlib.sha256(version.encode())
    for path in sorted(_FRAMEWORK_ROOT.rglob("*.py")):
        digest.update(path.relative_to(_FRAMEWORK_ROOT).as_posix().encode())
        digest.update(path.read_bytes())
    return f"framework {version} {digest.hexdigest()[:16]}"


# ---------------------------------------------------------------------------------- values
def _functions(obj: Any, depth: int = 0) -> Iterable[FunctionType]:
    """Every plain function inside a declaration (dataclass fields, mappings, sequences)."""
    if depth > 8:
        return
    if isinstance(obj, FunctionType):
        yield obj
    elif isinstance(obj, functools.partial):
        yield from _functions(obj.func, depth + 1)
        yield from _functions(obj.args, depth + 1)
        yield from _functions(obj.keywords, depth + 1)
    elif dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        for f in dataclasses.fields(obj):
            yield from _functions(getattr(obj, f.name), depth + 1)
    elif isinstance(obj, Mapping):
        for value in obj.values():
            yield from _functions(value, depth + 1)
    elif isinstance(obj, (list, tuple, set, frozenset)):
        for value in obj:
            yield from _functions(value, depth + 1)


def _names(code: CodeType) -> set[str]:
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, CodeType):
            names |= _names(const)
    return names


def closed_over(fn: FunctionType) -> str:
    """The plain values ``fn`` reads from its module's globals and its closure cells, as text
    (functions it calls are followed, within their own modules' globals)."""
    out: list[str] = []
    seen: set[int] = set()

    def visit(f: FunctionType) -> None:
        if id(f) in seen:
            return
        seen.add(id(f))
        cells = [c.cell_contents for c in (f.__closure__ or ()) if _has_contents(c)]
        for name, value in zip(f.__code__.co_freevars, cells, strict=False):
            follow(f"{f.__qualname__}.{name}", value)
        for name in sorted(_names(f.__code__)):
            if name in f.__globals__:
                follow(f"{f.__module__}.{name}", f.__globals__[name])

    def follow(label: str, value: Any) -> None:
        if isinstance(value, FunctionType):
            visit(value)
        elif not isinstance(value, (ModuleType, type)):
            text = declared_text(value)
            if text is not None:
                out.append(f"{label}={text}")

    visit(fn)
    return "; ".join(out)


def _has_contents(cell: Any) -> bool:
    try:
        cell.cell_contents  # noqa: B018 - an empty cell raises
    except ValueError:
        return False
    return True


def declared_text(value: Any, depth: int = 0) -> str | None:
    """A stable text of a plain value (collections of plain values, dataclasses of them);
    None for anything else (objects, functions: their code is covered by their module)."""
    if depth > 6:
        return "..."
    if isinstance(value, _PLAIN):
        return repr(value)
    if isinstance(value, (list, tuple)):
        items = [declared_text(v, depth + 1) for v in value]
        return None if None in items else f"{type(value).__name__}[{', '.join(items)}]"  # type: ignore[arg-type]
    if isinstance(value, (set, frozenset)):
        items = [declared_text(v, depth + 1) for v in value]
        return None if None in items else "{" + ", ".join(sorted(items)) + "}"  # type: ignore[arg-type]
    if isinstance(value, Mapping):
        pairs = [(declared_text(k, depth + 1), declared_text(v, depth + 1))
                 for k, v in value.items()]
        if any(k is None or v is None for k, v in pairs):
            return None
        return "{" + ", ".join(f"{k}: {v}" for k, v in sorted(pairs)) + "}"
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = [(f.name, declared_text(getattr(value, f.name), depth + 1))
                  for f in dataclasses.fields(value)]
        return f"{type(value).__name__}(" + ", ".join(f"{n}={v}" for n, v in fields) + ")"
    return None


def declaration_text(obj: Any) -> str:
    """A stable text of a declaration: its fields, functions by module and name (their code
    and the values they read are :func:`code_fingerprint`'s), never by their address."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        fields = (f"{f.name}={declaration_text(getattr(obj, f.name))}"
                  for f in dataclasses.fields(obj))
        return f"{type(obj).__name__}({', '.join(fields)})"
    if isinstance(obj, FunctionType):
        return f"{obj.__module__}.{obj.__qualname__}"
    if isinstance(obj, functools.partial):
        return (f"partial({declaration_text(obj.func)}, {declaration_text(obj.args)}, "
                f"{declaration_text(obj.keywords)})")
    if isinstance(obj, Mapping):
        return "{" + ", ".join(f"{k!r}: {declaration_text(v)}"
                               for k, v in sorted(obj.items(), key=lambda kv: repr(kv[0]))) + "}"
    if isinstance(obj, (tuple, list)):
        return "[" + ", ".join(declaration_text(v) for v in obj) + "]"
    if isinstance(obj, (set, frozenset)):
        return "{" + ", ".join(sorted(declaration_text(v) for v in obj)) + "}"
    text = repr(obj)
    return text if " at 0x" not in text else type(obj).__qualname__

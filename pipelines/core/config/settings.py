"""Settings: ``conf/base.yaml`` overlaid by ``conf/<env>.yaml``, then ``--conf key=value``.

Validated on load: unknown keys and wrong types are rejected with the file and key named.
Strings may reference environment variables as ``${env:NAME}``; such values are secrets and
are never printed (see :meth:`Settings.redacted`).
"""

from __future__ import annotations

import dataclasses
import difflib
import hashlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_args, get_origin, get_type_hints
from urllib.parse import urlparse

import yaml

from pipelines.core.config.sections import (
    CostSettings,
    MaintenanceSettings,
    MetricsSettings,
    QualitySettings,
    RetrySettings,
    SaltSettings,
    SparkSettings,
)
from pipelines.core.errors import ConfigError, register_secret
from pipelines.core.layout import host_state, local_locks

__all__ = [
    "Settings",
    "SparkSettings",
    "SaltSettings",
    "CostSettings",
    "MetricsSettings",
    "MaintenanceSettings",
    "QualitySettings",
    "RetrySettings",
    "load_settings",
    "default_conf_dir",
]

_ENV_REF = re.compile(r"\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}")


@dataclass(frozen=True)
class Settings:
    env: str = "local"
    warehouse: str = "warehouse"
    pipeline_packages: list[str] = field(default_factory=lambda: ["pipelines"])
    # "sinks": stages that feed sinks or carry checks; "all": every stage
    materialize: str = "sinks"
    # keep a succeeded run's staged stages (removed by default): later runs of the date
    # (--select, a change to one stage) read those whose fingerprint is unchanged
    keep_staging: bool = False
    # sinks (and quarantine tables) published at once, each still one commit of its own; 1 on
    # this 2-core machine, where 3 threads measured no faster (executors are the bottleneck)
    publish_threads: int = 1
    lock_dir: str = ""  # empty: <warehouse>/_pipelines/locks
    input_warehouse: str = ""  # empty: sources are read from the warehouse
    timezone: str = "UTC"
    log_level: str = "INFO"
    spark: SparkSettings = field(default_factory=SparkSettings)
    salting: SaltSettings = field(default_factory=SaltSettings)
    quality: QualitySettings = field(default_factory=QualitySettings)
    retries: RetrySettings = field(default_factory=RetrySettings)
    cost: CostSettings = field(default_factory=CostSettings)
    metrics: MetricsSettings = field(default_factory=MetricsSettings)
    maintenance: MaintenanceSettings = field(default_factory=MaintenanceSettings)
    secrets: dict[str, str] = field(default_factory=dict)
    secret_keys: tuple[str, ...] = ()

    @property
    def warehouse_path(self) -> str:
        return _absolute(self.warehouse)

    @property
    def inputs_path(self) -> str:
        """Where sources are read: ``input_warehouse``, else the warehouse (a canary run
        writes to its own warehouse and reads production's)."""
        return _absolute(self.input_warehouse) if self.input_warehouse else self.warehouse_path

    @property
    def lock_path(self) -> str:
        """Where the pipelines' run locks live: ``lock_dir``, else the warehouse's
        ``_pipelines/locks`` when the warehouse is a local folder (``file://`` included), else
        a folder of this host named after the warehouse URI (a lock is an OS file lock: it
        excludes runs on one host)."""
        if self.lock_dir:
            return _absolute(self.lock_dir)
        warehouse = self.warehouse_path
        if warehouse.startswith("file:"):
            warehouse = urlparse(warehouse).path
        elif "://" in warehouse:
            digest = hashlib.sha256(warehouse.encode()).hexdigest()[:16]
            return os.path.join(host_state("locks"), digest)
        return local_locks(warehouse)

    def redacted(self) -> dict[str, Any]:
        """The settings as plain data, with every secret value replaced by ``***``."""
        data = dataclasses.asdict(self)
        data.pop("secret_keys")
        for dotted in self.secret_keys:
            node = data
            *parents, last = dotted.split(".") if not dotted.startswith("spark.conf.") else [
                "spark", "conf", dotted[len("spark.conf."):]
            ]
            for p in parents:
                node = node.get(p, {})
            if last in node:
                node[last] = "***"
        return data

    def fingerprint_data(self) -> dict[str, Any]:
        data = self.redacted()
        data.pop("env", None)
        return data


def _absolute(path: str) -> str:
    if "://" in path:
        return path
    return str(Path(path).expanduser().resolve())


def default_conf_dir() -> Path:
    env = os.environ.get("PIPELINES_CONF_DIR")
    if env:
        return Path(env)
    here = Path.cwd() / "conf"
    if here.is_dir():
        return here
    return Path(__file__).resolve().parents[3] / "conf"


def load_settings(
    env: str = "local",
    overrides: list[str] | tuple[str, ...] = (),
    *,
    conf_dir: str | Path | None = None,
) -> Settings:
    """Load and validate settings for ``env``; ``overrides`` are ``key=value`` strings."""
    folder = Path(conf_dir) if conf_dir else default_conf_dir()
    if not folder.is_dir():
        named = "PIPELINES_CONF_DIR" if not conf_dir and os.environ.get(
            "PIPELINES_CONF_DIR") else "conf_dir"
        raise ConfigError(f"configuration folder {folder} does not exist ({named}); it holds "
                          "base.yaml and <env>.yaml", file=str(folder), key=named)
    merged: dict[str, Any] = {}
    origins: dict[str, str] = {}
    base = folder / "base.yaml"
    if base.exists():
        _overlay(merged, _read_yaml(base), str(base), origins, "")
    env_file = folder / f"{env}.yaml"
    if env_file.exists():
        _overlay(merged, _read_yaml(env_file), str(env_file), origins, "")
    elif env != "local":
        raise ConfigError(
            f"no configuration for environment '{env}' (expected {env_file})",
            file=str(env_file),
            key="env",
        )
    for item in overrides:
        if "=" not in item:
            raise ConfigError(f"--conf expects key=value, got '{item}'", key=item)
        key, raw = item.split("=", 1)
        try:
            value = yaml.safe_load(raw) if raw else ""
        except yaml.YAMLError as exc:
            problem = getattr(exc, "problem", None) or type(exc).__name__
            raise ConfigError(f"--conf {key.strip()}: value {raw!r} does not parse ({problem})",
                              key=key.strip()) from None
        _overlay(merged, _nest(key.strip(), value), "--conf", origins, "")
    merged["env"] = env
    secret_keys: list[str] = []
    resolved = _resolve_env_refs(merged, origins, secret_keys, "")
    settings = _build(Settings, resolved, origins, "")
    _check_values(settings, origins)
    return dataclasses.replace(settings, secret_keys=tuple(secret_keys))


_CHOICES = (("materialize", ("sinks", "all")), ("salting.auto_join", ("aqe", "sample")),
            ("salting.reduce_coalesce", ("parallelism", "size")))
_AT_LEAST_ONE = (("salting.target_bytes_per_salt", "a positive number of bytes"),
                 ("publish_threads", "at least 1"))


def _setting(settings: Settings, key: str) -> Any:
    value: Any = settings
    for part in key.split("."):
        value = getattr(value, part)
    return value


def _check_values(settings: Settings, origins: dict[str, str]) -> None:
    """Settings with a fixed set of values, or a lower bound, checked naming their file."""
    for key, allowed in _CHOICES:
        value = _setting(settings, key)
        if value not in allowed:
            raise ConfigError(
                f"setting '{key}' must be {' or '.join(repr(a) for a in allowed)}, got "
                f"{_shown(value, origins, key)}", file=_origin(origins, key), key=key)
    for key in ("cost.core_hour", "cost.gb_hour", "maintenance.time_travel_hours"):
        if _setting(settings, key) < 0:
            raise ConfigError(f"setting '{key}' must be at least 0, got "
                              f"{_shown(_setting(settings, key), origins, key)}",
                              file=_origin(origins, key), key=key)
    keep, reach = settings.maintenance.retain_hours, settings.maintenance.time_travel_hours
    if keep < reach:
        key = "maintenance.retain_hours"
        raise ConfigError(f"setting '{key}' ({keep:g}) must be at least "
                          f"maintenance.time_travel_hours ({reach:g}): VACUUM would delete "
                          "files that rollback and time travel need", file=_origin(origins, key),
                          key=key)
    for key, what in _AT_LEAST_ONE:
        value = _setting(settings, key)
        if value < 1:
            raise ConfigError(f"setting '{key}' must be {what}, got "
                              f"{_shown(value, origins, key)}", file=_origin(origins, key),
                              key=key)


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" at line {mark.line + 1}" if mark else ""
        raise ConfigError(f"cannot parse YAML{line}: {getattr(exc, 'problem', exc)}",
                          file=str(path)) from None
    if not isinstance(data, dict):
        raise ConfigError("top level must be a mapping", file=str(path))
    return data


def _nest(dotted: str, value: Any) -> dict[str, Any]:
    if dotted.startswith("spark.conf."):
        return {"spark": {"conf": {dotted[len("spark.conf."):]: value}}}
    if dotted.startswith("secrets."):
        return {"secrets": {dotted[len("secrets."):]: value}}
    head, _, rest = dotted.partition(".")
    return {head: _nest(rest, value)} if rest else {head: value}


def _overlay(dst: dict[str, Any], src: dict[str, Any], origin: str, origins: dict[str, str],
             prefix: str) -> None:
    for key, value in src.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict) and isinstance(dst.get(key), dict):
            _overlay(dst[key], value, origin, origins, path + ".")
        else:
            dst[key] = dict(value) if isinstance(value, dict) else value
        origins[path] = origin
        if isinstance(value, dict):
            for sub in value:
                origins[f"{path}.{sub}"] = origin


def _resolve_env_refs(node: Any, origins: dict[str, str], secrets: list[str], path: str) -> Any:
    if isinstance(node, dict):
        return {k: _resolve_env_refs(v, origins, secrets, f"{path}{k}.") for k, v in node.items()}
    if isinstance(node, list):
        return [_resolve_env_refs(v, origins, secrets, path) for v in node]
    if isinstance(node, str) and _ENV_REF.search(node):
        key = path.rstrip(".")

        def sub(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in os.environ:
                raise ConfigError(
                    f"environment variable {name} is not set",
                    file=_origin(origins, key), key=key,
                )
            register_secret(os.environ[name], name)
            origins[f"{key}#env"] = name
            return os.environ[name]

        secrets.append(key)
        value = _ENV_REF.sub(sub, node)
        register_secret(value, origins[f"{key}#env"])
        return value
    return node


def _shown(value: Any, origins: dict[str, str], key: str) -> str:
    """A setting's value for an error message; one read from the environment is never shown."""
    variable = origins.get(f"{key}#env")
    if variable is not None:
        return f"the value of ${{env:{variable}}} (not shown)"
    return f"{type(value).__name__} {value!r}"


def _origin(origins: dict[str, str], key: str) -> str:
    while key:
        if key in origins:
            return origins[key]
        key = key.rpartition(".")[0]
    return "defaults"


def _build(cls: type, data: Any, origins: dict[str, str], prefix: str) -> Any:
    if not isinstance(data, dict):
        key = prefix.rstrip(".")
        raise ConfigError(f"'{key}' must be a mapping", file=_origin(origins, key), key=key)
    hints = get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls) if f.name != "secret_keys"]
    kwargs: dict[str, Any] = {}
    for key, value in data.items():
        dotted = f"{prefix}{key}"
        if key not in names:
            close = difflib.get_close_matches(str(key), names, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise ConfigError(f"unknown setting '{dotted}'{hint}",
                              file=_origin(origins, dotted), key=dotted)
        kwargs[key] = _coerce(hints[key], value, origins, dotted)
    return cls(**kwargs)


def _coerce(tp: Any, value: Any, origins: dict[str, str], dotted: str) -> Any:
    def bad(expected: str) -> ConfigError:
        return ConfigError(
            f"setting '{dotted}' must be {expected}, got {_shown(value, origins, dotted)}",
            file=_origin(origins, dotted), key=dotted,
        )

    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        return _build(tp, value, origins, dotted + ".")
    origin = get_origin(tp)
    if origin is list:
        if not isinstance(value, list):
            raise bad("a list")
        (item,) = get_args(tp)
        return [_coerce(item, v, origins, dotted) for v in value]
    if origin is dict:
        if not isinstance(value, dict):
            raise bad("a mapping")
        return {str(k): _scalar_str(v) for k, v in value.items()}
    if tp is bool:
        if not isinstance(value, bool):
            raise bad("true or false")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise bad("an integer")
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise bad("a number")
        return float(value)
    if tp is str:
        if isinstance(value, (dict, list)) or value is None:
            raise bad("a string")
        return str(value)
    return value


def _scalar_str(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)

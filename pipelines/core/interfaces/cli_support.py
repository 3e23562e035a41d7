"""What every command shares: parsing KEY=VALUE options, printing its document or text
(redacted), and the SparkSession, started only by the commands that need one."""

from __future__ import annotations

import argparse
import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

from pipelines.core.config.settings import Settings
from pipelines.core.errors import UsageError, redact

__all__ = ["_kv", "_emit", "_spark", "_dates"]


def _kv(items: Sequence[str], what: str) -> dict[str, str]:
    out = {}
    for item in items:
        if "=" not in item:
            raise UsageError(f"{what} expects KEY=VALUE, got '{item}'")
        k, v = item.split("=", 1)
        out[k.strip()] = v
    return out


def _emit(args: argparse.Namespace, data: Any, text: str) -> None:
    """Print the command's document (``--json``) or text, without environment values or
    URI credentials."""
    print(redact(json.dumps(data, indent=2, default=str) if args.json else text))


def _spark(settings: Settings) -> Any:
    from pipelines.core.execution.session import get_spark

    return get_spark(settings)


def _dates(start: str, end: str) -> list[str]:
    from pipelines.core.planning.plan import parse_date

    a, b = dt.date.fromisoformat(parse_date(start)), dt.date.fromisoformat(parse_date(end))
    if b < a:
        raise UsageError(f"--end {end} is before --start {start}")
    return [(a + dt.timedelta(days=i)).isoformat() for i in range((b - a).days + 1)]

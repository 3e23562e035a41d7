"""``pipelines table``: a Delta table's rows at any version, read by delta-rs without a JVM
(Spark only for a table feature delta-rs lacks); a name that is no table is refused with
the closest table names."""

from __future__ import annotations

import argparse
import difflib
import os
from typing import Any

from pipelines.core.config.settings import Settings
from pipelines.core.errors import ExitCode, UsageError
from pipelines.core.interfaces.cli_support import _emit, _spark

__all__ = ["cmd_table"]


def cmd_table(args: argparse.Namespace, settings: Settings) -> int:
    from pipelines.core.delta.reader import ReaderError, latest_version, read_rows
    from pipelines.core.delta.tables import table_path
    path = table_path(settings.warehouse_path, args.table)
    if os.path.isfile(path):
        raise UsageError(f"{args.table} is a file, not a Delta table", file=path,
                         key=args.table)
    try:
        latest = latest_version(path)
    except ReaderError:
        return _table_with_spark(args, settings, path)
    if latest is None:
        hint = _closest_tables(settings, args.table)
        raise UsageError(f"no Delta table {args.table} at {path}{hint}", file=path,
                         key=args.table)
    if args.version is not None and not 0 <= args.version <= latest:
        raise UsageError(f"table {args.table} has versions 0 to {latest}, not {args.version}",
                         key="version", file=path)
    try:
        rows = read_rows(path, version=args.version, where=args.where, limit=args.limit)
    except ReaderError:
        return _table_with_spark(args, settings, path)
    _emit_table(args, path, latest, rows)
    return ExitCode.OK


def _closest_tables(settings: Settings, name: str) -> str:

    from pipelines.core.delta.tables import tables_root

    root = tables_root(settings.warehouse_path)
    names = sorted(os.listdir(root)) if os.path.isdir(root) else []
    close = difflib.get_close_matches(name, names, n=3)
    return f" (did you mean {', '.join(close)}?)" if close else ""


def _table_with_spark(args: argparse.Namespace, settings: Settings, path: str) -> int:
    """A table delta-rs cannot read (a table feature it lacks), read by Spark instead."""
    from pipelines.core.delta.tables import current_version, read_delta

    spark = _spark(settings)
    latest = current_version(spark, path)
    df = read_delta(spark, path, args.version)
    if args.where:
        df = df.where(args.where)
    _emit_table(args, path, latest, [r.asDict(recursive=True)
                                     for r in df.limit(args.limit).collect()])
    return ExitCode.OK


def _emit_table(args: argparse.Namespace, path: str, latest: int | None,
                rows: list[dict[str, Any]]) -> None:
    from pipelines.core.interfaces.text_table import text_table

    shown = latest if args.version is None else args.version
    text = f"{args.table} v{shown} (latest v{latest}), {len(rows)} row(s) shown\n"
    text += text_table(rows)
    _emit(args, {"table": args.table, "path": path, "version": shown, "latest": latest,
                 "rows": rows}, text)



"""Checks of option values argparse cannot express: each refused with exit 2, naming the
option, before anything runs."""

from __future__ import annotations

import argparse

from pipelines.core.errors import UsageError

__all__ = ["check_run_arguments", "check_budget_arguments"]


def _positive(flag: str, value: float | None) -> None:
    if value is not None and not value > 0:  # NaN included
        raise UsageError(f"--{flag} must be a positive number, not {value:g}", key=flag)


def check_run_arguments(args: argparse.Namespace) -> None:
    """``run``: a positive ``--timeout``; sampling options only with ``--canary`` (never a
    production run that was meant to be a sample)."""
    _positive("timeout", args.timeout)
    sampling = {"--sample": args.sample, "--sample-by": args.sample_by or None,
                "--sample-unit": args.sample_unit}
    given = [flag for flag, value in sampling.items() if value is not None]
    if given and not args.canary:
        raise UsageError(f"{given[0]} samples a canary run: add --canary", key=given[0][2:])


def check_budget_arguments(args: argparse.Namespace) -> None:
    """``backfill``: positive budgets."""
    _positive("budget-core-hours", args.budget_core_hours)
    _positive("budget-cost", args.budget_cost)

"""Random sequences of edits and commands: after every command that exits 0, every table
holds for each date what a clean computation of the state it claims publishes.

An edit is one of :data:`tests.shortcut_world.EDITS` (a helper module's constant, the Map
function's module constant, the schema module, a parameter, a configuration value, a landing
file rewritten with the same name, size and mtime, a Delta source's new version or its
re-creation). A command is a plain run, ``--force``, ``--select`` of one sink, a failed
attempt (an injected storage failure before the second sink) then a plain rerun (a resume, or
``--force`` when the resume is refused), a rollback of a date's latest succeeded run, or a
parallel backfill of both dates. A run that exits 0, skipped or not, claims that its date's
tables equal a clean computation of the current state (:meth:`World.expected`, checked
against a real ``--recompute`` run in ``test_shortcuts``); a rollback or a failed attempt
leaves the date unclaimed until its next green run.

``SHORTCUT_SEQUENCES`` (default 200) sets how many sequences run; ``SHORTCUT_SEED`` the seed.
"""

from __future__ import annotations

import os
import random
from typing import Any

import pytest

from tests.shortcut_world import DATES, EDITS, SINKS, State, World

pytestmark = pytest.mark.slow

SEQUENCES = int(os.environ.get("SHORTCUT_SEQUENCES", "200"))
PER_WORLD = 10  # sequences on one warehouse before a fresh one
COMMANDS = ("run", "force", "select", "resume", "rollback", "backfill")
FAIL = {"PIPELINES_FAIL": "before_publish:totals"}


class Claims:
    """(sink, date) -> the state its table was last claimed to reflect (None: unknown)."""

    def __init__(self) -> None:
        self.states: dict[tuple[str, str], State | None] = {}

    def claim(self, date: str, state: State, sinks: tuple[str, ...] = SINKS) -> None:
        for sink in sinks:
            self.states[(sink, date)] = state

    def forget(self, date: str, sinks: tuple[str, ...] = SINKS) -> None:
        for sink in sinks:
            self.states[(sink, date)] = None

    def check(self, world: World, trail: list[str]) -> None:
        for (sink, date), state in sorted(self.states.items()):
            if state is None:
                continue
            assert world.published(sink, date) == world.expected(sink, date, state), (
                f"{sink} {date} after: {' | '.join(trail)}")


def _green_or_forced(world: World, date: str, trail: list[str], *args: str,
                     ) -> tuple[int, Any]:
    """Run; a resume refused (exit 2, what changed named) is followed by ``--force``."""
    code, out, err = world.run(date, *args)
    trail.append(f"run {date} {' '.join(args)} -> {code}")
    if code == 2 and out and out.get("kind") == "resume-conflict":
        code, out, err = world.run(date, *args, "--force")
        trail.append(f"run {date} {' '.join(args)} --force -> {code}")
    assert code == 0, f"{err[-1500:]}\n{' | '.join(trail)}"
    return code, out


def _step(world: World, claims: Claims, rng: random.Random, trail: list[str]) -> None:
    for _ in range(rng.choice((0, 1, 1, 2))):
        edit = rng.choice(EDITS)
        world.edit(edit)
        trail.append(f"edit {edit}")
    command, date = rng.choice(COMMANDS), rng.choice(DATES)
    if command == "run":
        _green_or_forced(world, date, trail)
        claims.claim(date, world.state)
    elif command == "force":
        _green_or_forced(world, date, trail, "--force")
        claims.claim(date, world.state)
    elif command == "select":
        sink = rng.choice(SINKS)
        _green_or_forced(world, date, trail, "--select", sink)
        claims.claim(date, world.state, (sink,))
    elif command == "resume":
        code, out, _ = world.run(date, env=FAIL)
        trail.append(f"run {date} (failing before totals) -> {code}")
        if code == 0:  # skipped: nothing to publish, so nothing failed
            assert out["status"] == "skipped"
            claims.claim(date, world.state)
            return
        claims.forget(date, ("daily",))
        if rng.random() < 0.5:
            edit = rng.choice(EDITS)
            world.edit(edit)
            trail.append(f"edit {edit}")
        _green_or_forced(world, date, trail)
        claims.claim(date, world.state)
    elif command == "rollback":
        code, history, _ = world.cli("history", "shortcuts")
        done = [r for r in (history or {}).get("runs", [])
                if r["date"] == date and r["status"] == "succeeded"]
        if not done:
            return
        code, out, err = world.cli("rollback", done[-1]["run_id"])
        trail.append(f"rollback {date} {done[-1]['run_id']} -> {code}")
        assert code in (0, 1), err
        if code == 0:
            claims.forget(date)
    else:
        code, out, err = world.cli("backfill", "shortcuts", "--start", DATES[0], "--end",
                                   DATES[-1], "--parallel", "2")
        trail.append(f"backfill -> {code}")
        for run in (out or {}).get("runs", []):
            if run.get("status") in ("succeeded", "skipped"):
                claims.claim(run["date"], world.state)
            else:
                _green_or_forced(world, run["date"], trail)
                claims.claim(run["date"], world.state)


def describe_random_edits_and_commands():
    @pytest.mark.parametrize("world_index", range(max(1, SEQUENCES // PER_WORLD)))
    def it_never_publishes_a_stale_answer_with_exit_0(spark, tmp_path, world_index):
        seed = int(os.environ.get("SHORTCUT_SEED", "20261207")) + world_index
        rng = random.Random(seed)
        world = World(tmp_path).build()
        claims, trail = Claims(), [f"seed {seed}"]
        for _ in range(PER_WORLD):
            _step(world, claims, rng, trail)
            claims.check(world, trail)


BACKFILL_DATES = ["2026-11-24", "2026-11-25", "2026-11-26"]


def _land_backfill(warehouse: str) -> None:
    import json
    from pathlib import Path

    for n, date in enumerate(BACKFILL_DATES):
        folder = Path(warehouse) / "landing" / "events" / date
        folder.mkdir(parents=True)
        (folder / "part-0.json").write_text("".join(
            json.dumps({"user": f"u{i}", "n": i + 10 * n}) + "\n" for i in range(3 + n)))


def describe_a_parallel_backfill_against_the_sequential_one():
    def it_leaves_every_table_the_same_in_20_repeats(spark, tmp_path, capsys):
        from tests.helpers import cli, delta_rows

        tables = ("user_totals", "user_latest")  # an append, a whole-table overwrite
        sequential = str(tmp_path / "sequential")
        _land_backfill(sequential)
        code, _, err = cli(capsys, "backfill", "two_sinks", "--start", BACKFILL_DATES[0],
                           "--end", BACKFILL_DATES[-1], warehouse=sequential)
        assert code == 0, err
        expected = {t: delta_rows(sequential, t) for t in tables}
        for repeat in range(20):
            warehouse = str(tmp_path / f"parallel{repeat}")
            _land_backfill(warehouse)
            code, _, err = cli(capsys, "backfill", "two_sinks", "--start", BACKFILL_DATES[0],
                               "--end", BACKFILL_DATES[-1], "--parallel", "2",
                               warehouse=warehouse)
            assert code == 0, err
            assert {t: delta_rows(warehouse, t) for t in tables} == expected, repeat

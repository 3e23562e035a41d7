"""A pipeline whose every dependency a test can edit, and what a clean run of it publishes.

The pipeline ``shortcuts`` lives in a package written to a temporary folder: its Map
function (module ``funcs``) reads a module constant and calls a helper in another module
(``lib``) that reads one of its own; the source's schema comes from a third (``schemas``); it
reads landing JSON files and a Delta table ``rates`` (written with delta-rs); a parameter and
a configuration value feed the result. Every one of these is an edit a test can make, and
:meth:`World.expected` computes, independently of the framework, what a clean computation of
the current state publishes for a date.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import sys
import uuid
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

DATES = ("2026-01-01", "2026-01-02")
USERS = ("a", "b", "c")
SINKS = ("daily", "totals")

_PIPELINE = '''\
from pipelines import Join, Map, Pipeline, Reduce, Sink, Source, agg
from {pkg} import funcs, schemas

pipeline = Pipeline(
    name="shortcuts",
    params={{"mult": "1"}},
    sources=[
        Source("events", format="json", path="landing/events/{{date}}", schema=schemas.EVENTS),
        Source("rates", format="delta", table="rates", schema=schemas.RATES),
    ],
    stages=[
        Map("adjusted", input="events", fn=funcs.adjust,
            args={{"date": "{{date}}", "mult": "{{mult}}"}}),
        Join("rated", left="adjusted", right="rates", on=["user"]),
        Map("weighted", input="rated", fn=funcs.weigh),
        Reduce("per_user", input="weighted", keys=["day", "user"],
               aggs=[agg.sum_("value", "total")]),
    ],
    sinks=[
        Sink("daily", input="per_user", table="daily", mode="overwrite_partitions",
             partition_by=["day"], replace_where="day = '{{date}}'"),
        Sink("totals", input="per_user", table="totals", mode="merge", keys=["day", "user"]),
    ],
)
'''

_FUNCS = '''\
from pyspark.sql import functions as F

from {pkg} import lib

OFFSET = {offset}


def adjust(df, date, mult):
    extra = F.col("bonus") if "bonus" in df.columns else F.lit(0)
    return df.select(F.lit(date).alias("day"), "user",
                     (lib.scaled(F.col("n") + extra) * int(mult) + OFFSET).alias("value"))


def weigh(df):
    return df.select("day", "user", (F.col("value") * F.col("rate")).alias("value"))
'''

_LIB = '''\
FACTOR = {factor}


def scaled(column):
    return column * FACTOR
'''

_SCHEMAS = '''\
from pyspark.sql.types import LongType, StringType, StructField, StructType

EVENTS = StructType([StructField("user", StringType()), StructField("n", LongType()){bonus}])
RATES = StructType([StructField("user", StringType()), StructField("rate", LongType())])
'''

RATE_VARIANTS = ({"a": 1, "b": 2, "c": 3}, {"a": 3, "b": 2, "c": 1})


@dataclass(frozen=True)
class State:
    """Everything the result depends on, as values a test toggles."""

    factor: int = 2
    offset: int = 0
    mult: int = 1
    bonus: bool = False  # the schema declares the ``bonus`` column
    drop_threshold: str = "0.1"  # a configuration value (no effect on the rows)
    files: tuple[int, ...] = (1, 1)  # per date: the digit every ``n`` in its file has
    rates: int = 0  # which RATE_VARIANTS the table holds


EDITS = ("factor", "offset", "mult", "bonus", "conf", "file0", "file1", "rates_new_version",
         "rates_recreated")


def edited(state: State, edit: str) -> State:
    """``state`` with one thing changed (each edit toggles between two values)."""
    if edit == "factor":
        return replace(state, factor=5 - state.factor)  # 2 <-> 3
    if edit == "offset":
        return replace(state, offset=7 - state.offset)  # 0 <-> 7
    if edit == "mult":
        return replace(state, mult=3 - state.mult)  # 1 <-> 2
    if edit == "bonus":
        return replace(state, bonus=not state.bonus)
    if edit == "conf":
        return replace(state, drop_threshold="0.2" if state.drop_threshold == "0.1" else "0.1")
    if edit in ("file0", "file1"):
        files = list(state.files)
        index = int(edit[-1])
        files[index] = 3 - files[index]  # 1 <-> 2: same size
        return replace(state, files=tuple(files))
    if edit in ("rates_new_version", "rates_recreated"):
        return replace(state, rates=1 - state.rates)
    raise ValueError(edit)


@dataclass
class World:
    """A warehouse and a package of pipeline code in ``root``, in ``state``."""

    root: Path
    state: State = field(default_factory=State)
    pkg: str = field(default_factory=lambda: f"swpkg_{uuid.uuid4().hex[:8]}")
    runs: int = 0

    @property
    def warehouse(self) -> str:
        return str(self.root / "wh")

    @property
    def code(self) -> Path:
        return self.root / "code" / self.pkg

    def build(self) -> World:
        """Write the code, the landing files and the rates table of ``state``."""
        (self.root / "code").mkdir(parents=True, exist_ok=True)
        if str(self.root / "code") not in sys.path:
            sys.path.insert(0, str(self.root / "code"))
        self.code.mkdir(exist_ok=True)
        (self.code / "__init__.py").write_text("")
        (self.code / "shortcuts.py").write_text(_PIPELINE.format(pkg=self.pkg))
        self._write_code(self.state)
        for index, date in enumerate(DATES):
            self._write_file(date, self.state.files[index], keep_mtime=False)
        self._write_rates(self.state.rates, recreate=True)
        return self

    def _write_code(self, state: State) -> None:
        (self.code / "funcs.py").write_text(_FUNCS.format(pkg=self.pkg, offset=state.offset))
        (self.code / "lib.py").write_text(_LIB.format(factor=state.factor))
        bonus = ', StructField("bonus", LongType())' if state.bonus else ""
        (self.code / "schemas.py").write_text(_SCHEMAS.format(bonus=bonus))

    def _write_file(self, date: str, digit: int, *, keep_mtime: bool) -> None:
        folder = Path(self.warehouse) / "landing" / "events" / date
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "part-0.json"
        before = path.stat() if path.exists() else None
        rows = [{"user": u, "n": digit, "bonus": 4} for u in USERS for _ in range(2)]
        path.write_text("".join(json.dumps(r) + "\n" for r in rows))
        if keep_mtime and before is not None:  # same name, size and modification time
            os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))

    def _write_rates(self, variant: int, *, recreate: bool) -> None:
        import pyarrow as pa
        from deltalake import write_deltalake

        path = Path(self.warehouse) / "tables" / "rates"
        if recreate and path.exists():
            shutil.rmtree(path)
        data = pa.table({"user": list(RATE_VARIANTS[variant]),
                         "rate": pa.array(list(RATE_VARIANTS[variant].values()), pa.int64())})
        write_deltalake(str(path), data, mode="overwrite")

    def edit(self, what: str) -> None:
        """Make one edit (see :data:`EDITS`) on disk and in ``state``."""
        new = edited(self.state, what)
        if what in ("factor", "offset", "bonus"):
            self._write_code(new)
        elif what in ("file0", "file1"):
            index = int(what[-1])
            self._write_file(DATES[index], new.files[index], keep_mtime=True)
        elif what in ("rates_new_version", "rates_recreated"):
            self._write_rates(new.rates, recreate=what == "rates_recreated")
        self.state = new

    # ------------------------------------------------------------------ running
    def fresh_process(self) -> None:
        """Forget the package's loaded modules, as a new process would not have them."""
        for name in [m for m in sys.modules if m == self.pkg or m.startswith(self.pkg + ".")]:
            del sys.modules[name]
        shutil.rmtree(self.code / "__pycache__", ignore_errors=True)
        import importlib

        importlib.invalidate_caches()

    def cli(self, *args: str, env: dict[str, str] | None = None) -> tuple[int, Any, str]:
        """``pipelines <args> --json`` in this process, as a new process would run it."""
        from pipelines.core.interfaces.cli import main

        self.fresh_process()
        argv = [*args, "--env", "test", "--conf", f"warehouse={self.warehouse}",
                "--conf", f"pipeline_packages=[{self.pkg}]",
                "--conf", f"quality.drop_threshold={self.state.drop_threshold}", "--json"]
        if args and args[0] in ("run", "backfill"):
            argv += ["--param", f"mult={self.state.mult}"]
        out, err = io.StringIO(), io.StringIO()
        saved = {k: os.environ.get(k) for k in (env or {})}
        os.environ.update(env or {})
        try:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                code = main(argv)
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
        self.runs += 1
        return code, json.loads(out.getvalue()) if out.getvalue().strip() else None, \
            err.getvalue()

    def run(self, date: str, *args: str, env: dict[str, str] | None = None,
            ) -> tuple[int, Any, str]:
        return self.cli("run", "shortcuts", "--date", date, *args, env=env)

    # ------------------------------------------------------------------ the oracle
    def expected(self, sink: str, date: str, state: State | None = None,
                 ) -> list[tuple[Any, ...]]:
        """The rows of ``date`` a clean computation of ``state`` publishes to ``sink`` (both
        sinks hold the same rows: (day, user, total))."""
        del sink
        state = state or self.state
        digit = state.files[DATES.index(date)]
        rates = RATE_VARIANTS[state.rates]
        rows = []
        for user in USERS:
            value = ((digit + (4 if state.bonus else 0)) * state.factor * state.mult
                     + state.offset) * rates[user]
            rows.append((date, user, 2 * value))
        return sorted(rows)

    def published(self, sink: str, date: str) -> list[tuple[Any, ...]]:
        """The rows of ``date`` in ``sink``'s table, read by delta-rs."""
        from deltalake import DeltaTable

        path = Path(self.warehouse) / "tables" / sink
        if not path.exists():
            return []
        data = DeltaTable(str(path)).to_pyarrow_table().to_pylist()
        return sorted((r["day"], r["user"], _plain(r["total"])) for r in data
                      if r["day"] == date)


def _plain(value: Any) -> Any:
    return int(value) if isinstance(value, (Decimal, float)) and value == int(value) else value

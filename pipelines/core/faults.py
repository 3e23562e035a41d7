"""Named crash points for fault-injection tests.

``PIPELINES_FAULT=<point>`` makes the process SIGKILL itself when it reaches ``<point>``;
``PIPELINES_FAULT=<point>@<ms>`` kills it that many milliseconds after entering a timed
region (used to die in the middle of a Delta commit). ``PIPELINES_DELAY=<point>@<ms>`` sleeps
at a point instead (to hold a lock while a test starts a second run), and
``PIPELINES_FAIL=<point>`` raises a permanent failure there (storage refusing a write, as a
``PermissionError``) on every pass. Unset, every call is a no-op.
"""

from __future__ import annotations

import errno
import os
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["point", "timer"]


def _target() -> tuple[str, int | None]:
    raw = os.environ.get("PIPELINES_FAULT", "")
    if "@" in raw:
        name, ms = raw.rsplit("@", 1)
        return name, int(ms)
    return raw, None


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def point(name: str) -> None:
    target, delay = _target()
    if target == name and delay is None:
        _die()
    if os.environ.get("PIPELINES_FAIL") == name:
        raise PermissionError(errno.EACCES, f"storage refused the write at {name}")
    pause = os.environ.get("PIPELINES_DELAY", "")
    if pause.rsplit("@", 1)[0] == name and "@" in pause:
        time.sleep(int(pause.rsplit("@", 1)[1]) / 1000.0)


@contextmanager
def timer(name: str) -> Iterator[None]:
    target, delay = _target()
    timer_thread = None
    if target == name and delay is not None:
        timer_thread = threading.Timer(delay / 1000.0, _die)
        timer_thread.daemon = True
        timer_thread.start()
    try:
        yield
    finally:
        if timer_thread is not None:
            timer_thread.cancel()

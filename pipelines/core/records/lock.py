"""One run per pipeline at a time: an OS file lock that dies with its holder.

``flock`` is released by the kernel when the holding process exits for any reason (including
SIGKILL), so a lock whose holder died is recovered by the next run without any clean-up. The
lock lives on the driver's local disk (``lock_dir``): schedule one pipeline from one host.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import time
from pathlib import Path
from types import TracebackType

from pipelines.core.errors import LockHeldError

__all__ = ["PipelineLock"]


class PipelineLock:
    def __init__(self, lock_dir: str, pipeline: str, *, run_id: str = "", date: str = "") -> None:
        self.path = Path(lock_dir) / f"{pipeline}.lock"
        self.pipeline = pipeline
        self.info = {"pipeline": pipeline, "run_id": run_id, "date": date,
                     "pid": os.getpid(), "host": socket.gethostname(), "since": time.time()}
        self._fd: int | None = None

    def acquire(self) -> PipelineLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read(fd)
            os.close(fd)
            who = f"pid {holder.get('pid')} run {holder.get('run_id')} date {holder.get('date')}"
            raise LockHeldError(f"another run of {self.pipeline} is active ({who})",
                                pipeline=self.pipeline, file=str(self.path),
                                holder=holder) from None
        self._fd = fd
        self._write()
        return self

    def update(self, **info: object) -> None:
        """Say more about the holder (the run id, once the run has one)."""
        self.info.update(info)
        if self._fd is not None:
            self._write()

    def _write(self) -> None:
        assert self._fd is not None
        os.ftruncate(self._fd, 0)
        os.lseek(self._fd, 0, os.SEEK_SET)
        os.write(self._fd, json.dumps(self.info).encode())
        os.fsync(self._fd)

    @staticmethod
    def holder(lock_dir: str, pipeline: str) -> dict[str, object] | None:
        """Who holds the pipeline's lock now, or None when nobody does (a run that died
        released it with its process)."""
        path = Path(lock_dir) / f"{pipeline}.lock"
        if not path.exists():
            return None
        fd = os.open(path, os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return _read(fd) or {"pipeline": pipeline}
        else:
            fcntl.flock(fd, fcntl.LOCK_UN)
            return None
        finally:
            os.close(fd)

    def release(self) -> None:
        if self._fd is not None:
            try:
                os.ftruncate(self._fd, 0)
                fcntl.flock(self._fd, fcntl.LOCK_UN)
            finally:
                os.close(self._fd)
                self._fd = None

    def __enter__(self) -> PipelineLock:
        return self.acquire()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.release()


def _read(fd: int) -> dict[str, object]:
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        data = os.read(fd, 4096)
        return json.loads(data) if data else {}
    except (OSError, ValueError):
        return {}

"""What a run's result depends on, in one definition used by the skip, reuse and resume.

A run depends on its **code** (:mod:`code_fingerprint`: the user modules reachable from the
pipeline, the values its functions close over, the framework's version and source), its
**configuration** (the effective settings, less where data lives and how a run is operated),
its **parameters** (resolved), and its **inputs**: each Delta source by its table id and
version (a table dropped and created again is another table, whatever its version), each file
source by a change token per file that a file system cannot fake: its content's digest on a
local disk, its ETag on an object store (else its checksum, else its size and modification
time, the weakest, for a file system that offers nothing better).
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from pyspark.sql import SparkSession

from pipelines.core.config.settings import Settings
from pipelines.core.declare.spec import Pipeline
from pipelines.core.delta.reader import ReaderError, table_identity
from pipelines.core.delta.tables import current_version, table_id
from pipelines.core.records.code_fingerprint import code_fingerprint, declaration_text

__all__ = ["code_hash", "config_hash", "files_fingerprint", "local_path", "local_files",
           "delta_identity", "input_changes", "params_text"]

# where the data lives and how a run is operated, not what it computes
_IGNORED_SETTINGS = ("env", "warehouse", "log_level", "retries", "lock_dir", "secrets", "timezone",
                     "pipeline_packages", "materialize", "keep_staging")


def code_hash(pipeline: Pipeline) -> str:
    """The pipeline's code fingerprint: its declaration, the user modules it reaches, the
    values its functions read and the framework (``undetermined-...`` matches nothing)."""
    found = code_fingerprint([pipeline.module], [pipeline])
    if not found.determined:
        return found.digest
    text = declaration_text(pipeline)
    return hashlib.sha256(f"{found.digest}\x1f{text}".encode()).hexdigest()[:16]


def config_hash(settings: Settings) -> str:
    data = settings.fingerprint_data()
    for key in _IGNORED_SETTINGS:
        data.pop(key, None)
    data.get("spark", {}).pop("master", None)
    data.get("spark", {}).pop("app_name", None)
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()[:16]


def params_text(params: Mapping[str, Any] | None) -> str:
    """Resolved parameters as the ledger records them, comparable across runs."""
    return json.dumps(dict(params or {}), sort_keys=True, default=str)


def local_path(path: str) -> str | None:
    """The local folder a path names (plain or ``file:``), None for other file systems."""
    if path.startswith("file:"):
        return urlparse(path).path
    return None if "://" in path else path


@functools.lru_cache(maxsize=4096)
def _content_digest(path: str, size: int, mtime_ns: int, ctime_ns: int, inode: int) -> str:
    """The digest of a file's bytes; cached on everything its status says, ctime included
    (which no program can set), so a file is read once per process while it is unchanged."""
    del size, mtime_ns, ctime_ns, inode  # the cache key
    digest = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as fh:
        for block in iter(functools.partial(fh.read, 1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def local_files(path: str) -> list[tuple[str, int, str]] | None:
    """(name relative to ``path``, size, content digest) of every file under a local
    ``path``, hidden ones included; None when ``path`` does not exist."""
    root = Path(path)
    if not root.exists():
        return None
    files = [root] if root.is_file() else [Path(folder) / name
                                           for folder, _dirs, names in os.walk(root)
                                           for name in names]
    found = []
    for full in files:
        stat = full.stat()
        name = "" if full == root else "/" + full.relative_to(root).as_posix()
        found.append((name, stat.st_size, _content_digest(
            str(full), stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino)))
    return found


def files_fingerprint(spark: SparkSession | None, path: str) -> str:
    """A change token of every file under ``path`` (names relative to it, so the same files
    moved with their warehouse keep their fingerprint). A local folder is read without Spark;
    other file systems are listed through Hadoop's, by ETag where the store gives one."""
    local = local_path(path)
    if local is not None:
        files = local_files(local) or []
        return _digest(f"{name}|{size}|{token}" for name, size, token in files)
    if spark is None:
        raise ValueError(f"listing {path} needs Spark's file systems")
    jvm: Any = spark.sparkContext._jvm
    hpath = jvm.org.apache.hadoop.fs.Path(path)
    fs = hpath.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())
    root = fs.makeQualified(hpath).toString().rstrip("/")
    entries = []
    it = fs.listFiles(hpath, True)
    while it.hasNext():
        status = it.next()
        name = status.getPath().toString().removeprefix(root)
        entries.append(f"{name}|{status.getLen()}|{_remote_token(fs, status)}")
    return _digest(entries)


def _remote_token(fs: Any, status: Any) -> str:
    try:
        etag = status.getEtag()  # S3A, ABFS and GCS statuses carry the store's ETag
        if etag:
            return f"etag:{etag}"
    except Exception:  # noqa: BLE001 - py4j raises when the status has no such method
        pass
    try:
        checksum = fs.getFileChecksum(status.getPath())
        if checksum is not None:
            return f"checksum:{checksum.toString()}"
    except Exception:  # noqa: BLE001 - a file system without checksums
        pass
    return f"mtime:{status.getModificationTime()}"


def delta_identity(spark: SparkSession | None, path: str) -> tuple[str | None, int | None]:
    """(table id, latest version) of the Delta table at ``path``; (None, None) when there is
    none. Read from its log by delta-rs; through Spark when delta-rs cannot read it."""
    try:
        return table_identity(path)
    except ReaderError:
        if spark is None:
            raise ValueError(f"reading the Delta log of {path} needs Spark") from None
    version = current_version(spark, path)
    return (None, None) if version is None else (table_id(spark, path), version)


def input_changes(recorded: Mapping[str, Any], now: Mapping[str, Any], *,
                  delta_versions: bool = True) -> list[str]:
    """What differs between two records of a run's inputs (source -> what was read), each as
    ``input NAME (why)``, for the sources in ``now`` (a selected part of a pipeline reads
    fewer). ``delta_versions``: a Delta source's new version counts (the skip), or only its
    identity (a resumed attempt reads the versions it pinned)."""
    changed = []
    for name in sorted(now):
        old, new = recorded.get(name) or {}, now.get(name) or {}
        if old.get("version") is not None or new.get("version") is not None:  # Delta
            if old.get("table_id") != new.get("table_id"):
                changed.append(f"input {name} (another table: dropped and created again)")
            elif delta_versions and old.get("version") != new.get("version"):
                changed.append(f"input {name} (v{old.get('version')} -> v{new.get('version')})")
        elif old.get("fingerprint") != new.get("fingerprint"):
            changed.append(f"input {name} (files)")
    return changed


def _digest(entries: Iterable[str]) -> str:
    return hashlib.sha256("\n".join(sorted(entries)).encode()).hexdigest()[:16]

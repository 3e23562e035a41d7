"""What a cluster needs: the code as a ``--py-files`` zip, the conf files, and the exact
``spark-submit`` flags for Delta."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import zipfile
from pathlib import Path
from typing import Any

from pipelines.core.config.settings import Settings, default_conf_dir
from pipelines.core.errors import redact
from pipelines.core.execution.session import DELTA_CONF, delta_package

__all__ = ["build_bundle", "submit_flags", "PACKAGES", "LOCAL_ONLY"]

PACKAGES = ("pipelines", "transforms", "schemas")
# files the packages read at run time, besides their modules
DATA_FILES = ("*.py", "*.j2", "*.properties")
# settings that describe the machine the package is built on, never a cluster: kept out of
# the production flags (a laptop's conf/local.yaml turns the UI off, binds the driver to a
# local address...); the cluster's own defaults or the conf files decide them there
LOCAL_ONLY = ("spark.ui.enabled", "spark.ui.showConsoleProgress", "spark.driver.host",
              "spark.driver.bindAddress", "spark.local.dir", "spark.master")


def _root() -> Path:
    """The project folder: the one holding the ``pipelines`` package."""
    import pipelines

    return Path(pipelines.__file__).resolve().parents[1]


def submit_flags(settings: Settings) -> list[str]:
    """``spark-submit`` flags for Delta and the settings' Spark conf, less :data:`LOCAL_ONLY`."""
    flags = ["--packages", delta_package()]
    for key, value in DELTA_CONF.items():
        flags += ["--conf", f"{key}={value}"]
    for key, value in settings.spark.conf.items():
        if key not in LOCAL_ONLY:
            flags += ["--conf", f"{key}={value}"]
    return flags


_ENV_REF = re.compile(r"\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}")


def shell_word(value: str) -> str:
    """``value`` as one shell word, a value read from the environment (``${env:X}`` in the
    configuration) written as a reference to the variable, expanded where the script runs:
    the bundle never holds the value itself."""
    text = redact(value)
    parts, last = [], 0
    for match in _ENV_REF.finditer(text):
        if match.start() > last:
            parts.append(shlex.quote(text[last:match.start()]))
        parts.append(f'"${{{match.group(1)}}}"')
        last = match.end()
    if last < len(text) or not parts:
        parts.append(shlex.quote(text[last:]))
    return "".join(parts)


def build_bundle(settings: Settings, out: str) -> dict[str, Any]:
    root = _root()
    out_dir = Path(out).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    bundle = out_dir / "pipelines_bundle.zip"
    with zipfile.ZipFile(bundle, "w", zipfile.ZIP_DEFLATED) as zf:
        for package in PACKAGES:
            paths = {p for pattern in DATA_FILES for p in (root / package).rglob(pattern)}
            for path in sorted(paths):
                if "__pycache__" not in path.parts:
                    zf.write(path, path.relative_to(root).as_posix())
    conf_out = out_dir / "conf"
    if conf_out.exists():
        shutil.rmtree(conf_out)
    shutil.copytree(default_conf_dir(), conf_out)
    shutil.copy(root / "submit.py", out_dir / "submit.py")
    flags = submit_flags(settings)
    script = out_dir / "submit.sh"
    script.write_text(
        "#!/usr/bin/env bash\n"
        "# spark-submit with the framework's bundle and Delta flags; pass --master etc. and the\n"
        "# pipelines arguments: ./submit.sh --master spark://host:7077 -- run daily_revenue"
        " --date D\n"
        "set -euo pipefail\nHERE=$(cd \"$(dirname \"$0\")\" && pwd)\n"
        "spark_args=(); while [ $# -gt 0 ] && [ \"$1\" != \"--\" ]; do spark_args+=(\"$1\");"
        " shift; done; [ $# -gt 0 ] && shift\n"
        "export PIPELINES_CONF_DIR=\"${PIPELINES_CONF_DIR:-$HERE/conf}\"\n"
        f"exec spark-submit \"${{spark_args[@]}}\" {' '.join(map(shell_word, flags))} \\\n"
        "  --py-files \"$HERE/pipelines_bundle.zip\" \"$HERE/submit.py\" \"$@\"\n")
    os.chmod(script, 0o755)
    kept_out = sorted(k for k in settings.spark.conf if k in LOCAL_ONLY)
    lines = [f"bundle   {bundle}", f"conf     {conf_out}", f"entry    {out_dir / 'submit.py'}",
             f"script   {script}", "flags    " + " ".join(map(shell_word, flags))]
    if kept_out:
        lines.append(f"kept out (local only, from --env {settings.env}): {', '.join(kept_out)}")
    return {"bundle": str(bundle), "conf": str(conf_out), "entry": str(out_dir / "submit.py"),
            "script": str(script), "flags": [redact(f) for f in flags], "kept_out": kept_out,
            "text": "\n".join(lines)}

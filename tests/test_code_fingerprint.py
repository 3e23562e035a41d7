"""What the code fingerprint covers: user modules reachable by import (transitively),
third-party packages by version, the framework, and the values functions read; a closure it
cannot determine matches nothing."""

from __future__ import annotations

import importlib
import sys
import uuid

import pytest

from pipelines.core.records.code_fingerprint import UNDETERMINED, code_fingerprint


@pytest.fixture
def package(tmp_path, monkeypatch):
    """write(module, text) -> writes ``<pkg>.<module>``; returns the package name."""
    name = f"cfpkg_{uuid.uuid4().hex[:8]}"
    root = tmp_path / name
    root.mkdir()
    (root / "__init__.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path))

    def write(module: str, text: str) -> str:
        (root / f"{module}.py").write_text(text.replace("PKG", name))
        for loaded in [m for m in sys.modules if m.startswith(name)]:
            del sys.modules[loaded]
        importlib.invalidate_caches()
        return f"{name}.{module}"

    write.name = name  # type: ignore[attr-defined]
    return write


def describe_the_code_fingerprint():
    def it_covers_modules_two_imports_away_and_third_party_versions(package):
        package("deep", "LIMIT = 3\n")
        package("helper", "from PKG import deep\n\ndef f(x):\n    return x + deep.LIMIT\n")
        root = package("pipe", "import json\nimport pyarrow\nfrom PKG.helper import f\n")
        found = code_fingerprint([root])
        name = package.name
        assert set(found.modules) == {name, f"{name}.pipe", f"{name}.helper", f"{name}.deep"}
        assert any(p.startswith("pyarrow==") for p in found.packages)
        assert not any(m.startswith(("json", "pipelines")) for m in found.modules)
        before = found.digest
        package("deep", "LIMIT = 4\n")
        assert code_fingerprint([root]).digest != before

    def it_covers_a_value_a_function_reads_that_its_source_does_not_show(package):
        module = package("fns", "import os\nRATE = int(os.environ.get('X', '1'))\n\n"
                                "def f(df):\n    return df * RATE\n")
        fn = importlib.import_module(module).f
        before = code_fingerprint([], [fn]).digest
        assert code_fingerprint([], [fn]).digest == before
        fn.__globals__["RATE"] = 2
        assert code_fingerprint([], [fn]).digest != before

    def it_refuses_to_determine_a_closure_with_imports_by_name(package):
        root = package("dyn", "import importlib\nmod = importlib.import_module('json')\n")
        found = code_fingerprint([root])
        assert found.digest.startswith(UNDETERMINED) and not found.determined
        assert "imports modules by name at run time (import_module, line 2)" in \
            found.undetermined[0]
        assert code_fingerprint([root]).digest != found.digest  # equal to nothing

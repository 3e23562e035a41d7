"""A value read from the environment never appears in any output, in any encoding JSON may
give it: quotes, backslashes and non-ASCII characters included."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipelines.core.errors import redact, register_secret
from tests.helpers import DATE, cli

SECRET = 'pä"ss\\wörd/€1'


def _fragments(value: str) -> list[str]:
    """The ways ``value`` can appear in text: as is and as JSON escapes it."""
    return [value, json.dumps(value)[1:-1], json.dumps(value, ensure_ascii=False)[1:-1]]


def describe_redaction():
    @pytest.mark.parametrize("ensure_ascii", [True, False])
    def it_hides_a_value_inside_json_text(ensure_ascii):
        register_secret(SECRET, "S")
        text = redact(json.dumps({"key": SECRET, "nested": [SECRET]}, ensure_ascii=ensure_ascii))
        assert not any(f in text for f in _fragments(SECRET))
        assert json.loads(text) == {"key": "${env:S}", "nested": ["${env:S}"]}

    def it_hides_a_url_password_that_holds_a_slash():
        assert redact("push to http://ops:pa/ss@gateway:9091 failed") == \
            "push to http://***@gateway:9091 failed"

    def it_keeps_the_value_out_of_a_run_s_output_ledger_and_report(spark, warehouse, capsys,
                                                                   monkeypatch):
        from tests.test_ledger_and_resume import _land

        monkeypatch.setenv("PIPELINES_TEST_SECRET", SECRET)
        _land(warehouse, DATE, [("a", 1)])
        code, out, err = cli(capsys, "run", "events_append", "--date", DATE, "--conf",
                             "spark.conf.spark.hadoop.fs.s3a.secret.key="
                             "${env:PIPELINES_TEST_SECRET}", warehouse=warehouse)
        assert code == 0, err
        texts = [json.dumps(out), err]
        code, history, _ = cli(capsys, "history", "events_append", warehouse=warehouse)
        texts.append(json.dumps(history, ensure_ascii=False))
        texts += [p.read_text(errors="replace") for p in Path(warehouse).rglob("*")
                  if p.is_file() and p.suffix in (".json", ".html", ".prom", ".log", ".txt")]
        assert not any(f in t for t in texts for f in _fragments(SECRET))

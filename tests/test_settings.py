"""Configuration: base + env + overrides, validated, secrets never printed."""

from __future__ import annotations

import pytest

from pipelines.core.config.settings import load_settings
from pipelines.core.errors import ConfigError


@pytest.fixture
def conf_dir(tmp_path):
    (tmp_path / "base.yaml").write_text("warehouse: /w\nspark:\n  conf:\n    a.b: '1'\n")
    (tmp_path / "dev.yaml").write_text("spark:\n  master: local[1]\n  conf:\n    c.d: '2'\n")
    return tmp_path


def describe_load_settings():
    def it_overlays_env_then_overrides(conf_dir):
        s = load_settings("dev", ["spark.conf.a.b=3", "salting.max_salt=9"], conf_dir=conf_dir)
        assert s.spark.master == "local[1]"
        assert s.spark.conf == {"a.b": "3", "c.d": "2"}
        assert s.salting.max_salt == 9

    def it_rejects_unknown_keys_naming_file_and_key(conf_dir):
        (conf_dir / "dev.yaml").write_text("sparkk:\n  master: x\n")
        with pytest.raises(ConfigError) as err:
            load_settings("dev", conf_dir=conf_dir)
        assert err.value.key == "sparkk"
        assert err.value.file.endswith("dev.yaml")
        assert "did you mean 'spark'" in err.value.message

    def it_rejects_wrong_types(conf_dir):
        with pytest.raises(ConfigError) as err:
            load_settings("dev", ["salting.max_salt=lots"], conf_dir=conf_dir)
        assert err.value.key == "salting.max_salt"
        assert err.value.file == "--conf"

    def it_rejects_fewer_than_one_publish_thread(conf_dir):
        with pytest.raises(ConfigError) as err:
            load_settings("dev", ["publish_threads=0"], conf_dir=conf_dir)
        assert (err.value.key, err.value.file) == ("publish_threads", "--conf")

    def it_rejects_a_piece_size_of_no_bytes(conf_dir):
        with pytest.raises(ConfigError) as err:
            load_settings("dev", ["salting.target_bytes_per_salt=0"], conf_dir=conf_dir)
        assert (err.value.key, err.value.file) == ("salting.target_bytes_per_salt", "--conf")

    @pytest.mark.parametrize("key", ["salting.auto_join", "salting.reduce_coalesce"])
    def it_rejects_an_unknown_salting_strategy(conf_dir, key):
        with pytest.raises(ConfigError) as err:
            load_settings("dev", [f"{key}=guess"], conf_dir=conf_dir)
        assert (err.value.key, err.value.file) == (key, "--conf")

    def it_reports_broken_yaml_with_the_file(conf_dir):
        (conf_dir / "dev.yaml").write_text("spark: [unclosed\n")
        with pytest.raises(ConfigError) as err:
            load_settings("dev", conf_dir=conf_dir)
        assert err.value.file.endswith("dev.yaml")

    def it_rejects_an_unknown_environment(conf_dir):
        with pytest.raises(ConfigError) as err:
            load_settings("nope", conf_dir=conf_dir)
        assert err.value.key == "env"

    def it_reads_secrets_from_the_environment_and_never_shows_them(conf_dir, monkeypatch):
        (conf_dir / "dev.yaml").write_text("spark:\n  conf:\n    fs.key: ${env:MY_KEY}\n")
        monkeypatch.setenv("MY_KEY", "s3cr3t")
        s = load_settings("dev", conf_dir=conf_dir)
        assert s.spark.conf["fs.key"] == "s3cr3t"
        assert "s3cr3t" not in repr(s.redacted())

    def it_names_a_missing_secret_variable(conf_dir, monkeypatch):
        (conf_dir / "dev.yaml").write_text("warehouse: ${env:NOT_SET_ANYWHERE}\n")
        monkeypatch.delenv("NOT_SET_ANYWHERE", raising=False)
        with pytest.raises(ConfigError) as err:
            load_settings("dev", conf_dir=conf_dir)
        assert err.value.key == "warehouse"
        assert "NOT_SET_ANYWHERE" in err.value.message


def describe_the_session_the_framework_starts():
    def it_keeps_the_classes_spark_generates_for_later_queries(spark):
        # static: set when the session starts (Spark's default keeps 100)
        assert spark.conf.get("spark.sql.codegen.cache.maxEntries") == "1000"

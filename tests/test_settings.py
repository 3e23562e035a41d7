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


def describe_what_the_environment_holds():
    def it_never_shows_an_environment_value_that_fails_validation(conf_dir, monkeypatch):
        (conf_dir / "dev.yaml").write_text("publish_threads: ${env:THREADS_SECRET}\n")
        monkeypatch.setenv("THREADS_SECRET", "hunter2-threads")
        with pytest.raises(ConfigError) as err:
            load_settings("dev", conf_dir=conf_dir)
        assert err.value.key == "publish_threads"
        assert "hunter2-threads" not in str(err.value)
        assert "${env:THREADS_SECRET}" in err.value.message

    def it_masks_environment_values_and_uri_credentials_wherever_errors_print_them(
            conf_dir, monkeypatch):
        from pipelines.core.errors import PipelineError

        (conf_dir / "dev.yaml").write_text("warehouse: ${env:WAREHOUSE_URI_SECRET}\n")
        monkeypatch.setenv("WAREHOUSE_URI_SECRET", "/data/private-warehouse-x1")
        settings = load_settings("dev", conf_dir=conf_dir)
        error = PipelineError(f"cannot write {settings.warehouse_path}/tables/t",
                              file=f"{settings.warehouse_path}/tables/t")
        assert "private-warehouse-x1" not in str(error)
        assert error.file == "${env:WAREHOUSE_URI_SECRET}/tables/t"
        leaked = PipelineError("no table at s3a://AKIAKEY:topsecret@bucket/wh/tables/t")
        assert leaked.message == "no table at s3a://***@bucket/wh/tables/t"

    def it_never_stores_them_in_the_ledger(spark, tmp_path, monkeypatch):
        from pipelines.core.errors import register_secret
        from pipelines.core.records.ledger import Ledger

        register_secret("ledger-secret-value-7", "LEDGER_SECRET")
        ledger = Ledger(spark, str(tmp_path / "wh"))
        ledger.append(run_id="r1", pipeline="p", date="2026-11-26", generation=1, attempt=1,
                      event="finished", status="failed",
                      error={"message": "denied for ledger-secret-value-7"},
                      outputs=[{"path": "s3a://KEY:SECRET@bucket/wh/tables/t"}])
        (run,) = ledger.runs("p")
        assert run.data["error"]["message"] == "denied for ${env:LEDGER_SECRET}"
        assert run.data["outputs"][0]["path"] == "s3a://***@bucket/wh/tables/t"


def describe_the_configuration_folder():
    def it_refuses_a_folder_that_does_not_exist(tmp_path, monkeypatch):
        monkeypatch.setenv("PIPELINES_CONF_DIR", str(tmp_path / "missing"))
        with pytest.raises(ConfigError) as err:
            load_settings("local")
        assert (err.value.key, err.value.file) == ("PIPELINES_CONF_DIR",
                                                   str(tmp_path / "missing"))

    def it_finds_the_projects_conf_folder_by_default(monkeypatch, tmp_path):
        from pipelines.core.config.settings import default_conf_dir

        monkeypatch.delenv("PIPELINES_CONF_DIR", raising=False)
        monkeypatch.chdir(tmp_path)  # no conf/ here: the project's own
        assert (default_conf_dir() / "base.yaml").is_file()


def describe_lock_folders():
    def it_keeps_a_local_warehouses_locks_in_it_also_when_named_by_a_file_uri(tmp_path):
        from pipelines.core.config.settings import Settings

        local = Settings(warehouse=f"file://{tmp_path}/wh")
        assert local.lock_path == f"{tmp_path}/wh/_pipelines/locks"

    def it_gives_a_remote_warehouse_one_absolute_lock_folder_on_this_host(tmp_path,
                                                                        monkeypatch):
        import os

        from pipelines.core.config.settings import Settings

        paths = set()
        for where in (tmp_path, tmp_path.parent):
            monkeypatch.chdir(where)
            paths.add(Settings(warehouse="s3a://bucket/wh").lock_path)
        (path,) = paths
        assert os.path.isabs(path) and "bucket" not in path


def describe_the_session_the_framework_starts():
    def it_keeps_the_classes_spark_generates_for_later_queries(spark):
        # static: set when the session starts (Spark's default keeps 100)
        assert spark.conf.get("spark.sql.codegen.cache.maxEntries") == "1000"

"""`pipelines package` builds what a cluster runs: the code (templates included) as a
--py-files zip, the conf files and a submit.sh whose flags carry the Delta and Spark settings
of production, never the settings that only make sense on the machine it was built on."""

from __future__ import annotations

import zipfile
from pathlib import Path

from pipelines.core.config.settings import load_settings
from pipelines.core.interfaces.packaging import LOCAL_ONLY, build_bundle

ROOT = Path(__file__).resolve().parents[1]


def describe_the_bundle():
    def it_keeps_local_only_settings_out_of_submit_sh(tmp_path):
        settings = load_settings("local", ["spark.conf.spark.driver.host=127.0.0.1"],
                                 conf_dir=ROOT / "conf")
        assert settings.spark.conf["spark.ui.enabled"] == "false"  # conf/local.yaml
        built = build_bundle(settings, str(tmp_path / "dist"))
        script = Path(built["script"]).read_text()
        assert built["kept_out"] == ["spark.driver.host", "spark.ui.enabled"]
        assert not any(key in script for key in LOCAL_ONLY)
        assert "spark.sql.shuffle.partitions=8" in script  # conf/base.yaml: a real setting
        assert "io.delta.sql.DeltaSparkSessionExtension" in script
        assert built["text"].splitlines()[-1] == (
            "kept out (local only, from --env local): spark.driver.host, spark.ui.enabled")

    def it_ships_the_files_the_code_reads_at_run_time(tmp_path):
        built = build_bundle(load_settings("local", conf_dir=ROOT / "conf"),
                             str(tmp_path / "dist"))
        names = set(zipfile.ZipFile(built["bundle"]).namelist())
        assert "pipelines/core/records/templates/report.html.j2" in names
        assert "pipelines/core/execution/log4j2.properties" in names
        assert not any("__pycache__" in n for n in names)

    def it_refers_to_a_secret_by_its_variable_never_its_value(tmp_path, monkeypatch):
        import subprocess

        secret = "it's \"s3cr3t\" $HOME"
        monkeypatch.setenv("BUNDLE_TEST_SECRET", secret)
        key = "spark.hadoop.fs.s3a.secret.key"
        built = build_bundle(load_settings("local", [f"spark.conf.{key}="
                                                     "${env:BUNDLE_TEST_SECRET}"],
                                           conf_dir=ROOT / "conf"), str(tmp_path / "dist"))
        script = Path(built["script"]).read_text()
        assert "s3cr3t" not in script and "s3cr3t" not in built["text"]
        assert f'{key}="${{BUNDLE_TEST_SECRET}}"' in script
        # where the script runs, the shell expands the variable into one word
        word = next(line for line in script.splitlines() if "exec spark-submit" in line)
        word = word[word.index(f"{key}="):].split(" ", 1)[0]
        expanded = subprocess.run(["bash", "-c", f"printf %s {word}"], capture_output=True,
                                  text=True, env={"BUNDLE_TEST_SECRET": secret}).stdout
        assert expanded == f"{key}={secret}"

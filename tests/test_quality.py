"""Quality checkpoints: warn, drop to quarantine, fail; nothing published after a failure."""

from __future__ import annotations

import json
import os

import pytest
from chispa import assert_df_equality
from pyspark import StorageLevel

from pipelines.core.config.settings import QualitySettings
from pipelines.core.declare import expectations as e
from pipelines.core.quality.gate import QualityGate
from tests.helpers import DATE, cli, table


def _land(warehouse: str, rows: list[dict]) -> None:
    folder = f"{warehouse}/landing/q/{DATE}"
    os.makedirs(folder, exist_ok=True)
    with open(f"{folder}/part-0.json", "w") as fh:
        fh.write("\n".join(json.dumps(r) for r in rows) + "\n")


GOOD = [{"id": f"r{i}", "amount": float(i), "cur": "EUR"} for i in range(10)]


def _run(capsys, warehouse, *conf):
    extra = [x for c in conf for x in ("--conf", c)]
    return cli(capsys, "run", "quality_gate", "--date", DATE, *extra, warehouse=warehouse)


def describe_severities():
    def it_records_a_warning_and_publishes(spark, warehouse, capsys):
        _land(warehouse, [*GOOD, {"id": "x-1", "amount": 1.0, "cur": "USD"}])
        code, out, _ = _run(capsys, warehouse)
        assert code == 0
        regex = next(q for q in out["quality"] if q["expectation"] == "regex:id")
        assert (regex["success"], regex["failing_rows"], regex["samples"]) == (False, 1, ["x-1"])
        assert table(spark, warehouse, "clean_rows").count() == 11

    def it_drops_failing_rows_to_a_quarantine_table(spark, warehouse, capsys):
        bad = [{"id": "r90", "amount": -5.0, "cur": "EUR"},
               {"id": "r91", "amount": 3.0, "cur": "XXX"},
               {"id": "r92", "amount": -1.0, "cur": "YYY"}]
        _land(warehouse, [*GOOD, *bad])
        code, out, err = _run(capsys, warehouse, "quality.drop_threshold=0.5")
        assert code == 0, err
        assert table(spark, warehouse, "clean_rows").count() == 10
        quarantine = table(spark, warehouse, "checked_quarantine").select(
            "pipeline", "date", "stage", "failed_expectations", "record")
        expected = spark.createDataFrame([
            ("quality_gate", DATE, "checked", ["between:amount"],
             '{"id":"r90","amount":-5.0,"cur":"EUR","day":"2026-11-26"}'),
            ("quality_gate", DATE, "checked", ["in_set:cur"],
             '{"id":"r91","amount":3.0,"cur":"XXX","day":"2026-11-26"}'),
            ("quality_gate", DATE, "checked", ["between:amount", "in_set:cur"],
             '{"id":"r92","amount":-1.0,"cur":"YYY","day":"2026-11-26"}'),
        ], "pipeline string, date string, stage string, failed_expectations array<string>, "
           "record string")
        assert_df_equality(quarantine, expected, ignore_row_order=True, ignore_nullable=True)
        # a rerun replaces whole partitions: no file of another pipeline or date is rewritten
        detail = spark.sql(f"DESCRIBE DETAIL delta.`{warehouse}/tables/checked_quarantine`")
        assert detail.head()["partitionColumns"] == ["pipeline", "date"]
        stage = next(s for s in out["stages"] if s["name"] == "checked")
        assert (stage["rows_out"], stage["rows_dropped"]) == (10, 3)

    def it_fails_when_a_drop_check_would_remove_too_many_rows(spark, warehouse, capsys,
                                                              delta_versions):
        _land(warehouse, [*GOOD, {"id": "r90", "amount": -5.0, "cur": "EUR"}])
        code, out, _ = _run(capsys, warehouse, "quality.drop_threshold=0.01")
        assert code == 3
        assert out["expectation"] == "between:amount" and out["failing_rows"] == 1
        assert delta_versions(warehouse) == {}

    def it_fails_the_run_and_publishes_nothing_on_a_blocking_failure(spark, warehouse, capsys,
                                                                     delta_versions):
        _land(warehouse, GOOD)
        assert _run(capsys, warehouse)[0] == 0
        before = delta_versions(warehouse)
        _land(warehouse, [*GOOD, {"id": None, "amount": 1.0, "cur": "EUR"}])
        code, out, err = cli(capsys, "run", "quality_gate", "--date", DATE, "--force",
                             warehouse=warehouse)
        assert code == 3
        assert (out["stage"], out["expectation"], out["failing_rows"]) == (
            "checked", "not_null:id", 1)
        assert "not_null:id failed on stage checked: 1 of 11 rows" in err
        assert delta_versions(warehouse) == before
        history = spark.read.format("delta").load(f"{warehouse}/_pipelines/quality_results")
        failed = history.where("expectation = 'not_null:id' AND success = 'false'")
        assert failed.select("failing_rows").collect() == [(1,)]  # recorded though failed

    def it_keeps_a_queryable_history_of_every_check(spark, warehouse, capsys):
        _land(warehouse, GOOD)
        _, out, _ = _run(capsys, warehouse, "quality.ge_results=true")
        history = spark.read.format("delta").load(f"{warehouse}/_pipelines/quality_results")
        rows = history.where(f"run_id = '{out['run_id']}'").collect()
        assert {r["expectation"] for r in rows} == {"not_null:id", "between:amount",
                                                    "in_set:cur", "regex:id"}
        report = os.path.dirname(out["report"])
        ge = json.load(open(f"{report}/ge_validation.json"))
        assert ge["success"] is True and len(ge["results"]) == 4


CHECKS = [
    e.not_null("id"), e.unique("id"), e.in_set("cur", ["EUR", "USD"]),
    e.between("amount", 0, 100), e.regex("id", r"^r\d+$"), e.row_count_between(1, 10),
    e.mean_between("amount", 0, 10), e.min_between("amount", 0, None),
    e.max_between("amount", None, 50), e.unique_together(["id", "cur"]),
]


def describe_agreement_with_great_expectations():
    @pytest.mark.parametrize("injected", ["clean", "dirty"])
    def it_gives_the_same_verdicts_as_ges_engine(spark, injected):
        from pipelines.core.quality.ge_adapter import validate_with_ge

        rows = [(f"r{i}", float(i), "EUR") for i in range(8)]
        if injected == "dirty":
            rows += [(None, 200.0, "XXX"), ("r1", -3.0, "USD"), ("bad id", 1.0, None)]
        df = spark.createDataFrame(rows, "id string, amount double, cur string")
        gate = QualityGate("s", CHECKS, QualitySettings())
        prepared = gate.prepare(df)
        prepared.write.format("noop").mode("overwrite").save()
        ours = {r.expectation: (r.success, r.failing_rows) for r in
                gate.evaluate(df, columns=df.columns).results}
        theirs = validate_with_ge(df, CHECKS)
        assert {k: v[0] for k, v in ours.items()} == {k: v[0] for k, v in theirs.items()}
        for check in CHECKS:
            if check.row_level or check.kind.startswith("unique"):
                assert ours[check.name][1] == theirs[check.name][1], check.name


def describe_uniqueness():
    def it_counts_every_row_of_a_duplicated_value(spark):
        from pipelines.core.quality.gate import _duplicates

        rows = [("a", "x"), ("b", "x"), ("b", "y"), ("c", None), ("c", None), (None, None),
                (None, None), ("d", "y")]
        df = spark.createDataFrame(rows, "id string, cur string")
        assert _duplicates(df, e.unique("id")) == (4, ("b", "c"))
        # together: ("c", null) twice is a duplicate, the all-null rows are skipped
        pair = _duplicates(df, e.unique_together(["id", "cur"]))
        assert pair == (2, ("{'id': 'c', 'cur': None}",))  # samples are plain values


def describe_merge_keys():
    """A merge sink's keys shown unique by the gate need no duplicate-key query before MERGE."""

    def _proven(spark, rows, checks, keys=("id",)):
        df = spark.createDataFrame(rows, "id string, cur string")
        gate = QualityGate("s", checks, QualitySettings(), key_sets=[keys])
        gate.prepare(df).write.format("noop").mode("overwrite").save()
        return gate.evaluate(df, columns=df.columns).unique_keys

    def it_counts_a_passed_uniqueness_check_on_exactly_the_keys_as_proof(spark):
        rows = [("a", "x"), ("b", "x"), (None, "y")]
        assert _proven(spark, rows, [e.unique("id")]) == {("id",): "unique:id"}
        together = [e.unique_together(["cur", "id"], name="pair")]
        assert _proven(spark, rows, together, keys=("id", "cur")) == {("id", "cur"): "pair"}

    def it_is_no_proof_when_two_rows_have_null_keys_which_merge_would_match(spark):
        rows = [("a", "x"), (None, "x"), (None, "y")]
        assert _proven(spark, rows, [e.unique("id")]) == {}

    def it_is_no_proof_when_the_check_failed_or_covers_other_columns(spark):
        rows = [("a", "x"), ("a", "y")]
        assert _proven(spark, rows, [e.unique("id", severity="warn")]) == {}
        assert _proven(spark, rows, [e.unique_together(["id", "cur"])]) == {}


def describe_full_suites():
    def it_validates_a_ge_suite_file_with_ges_engine(spark, tmp_path):
        from pipelines.core.quality.ge_adapter import validate_with_ge

        suite = {"name": "orders", "expectations": [
            {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "id"}},
            {"type": "expect_column_value_lengths_to_be_between",
             "kwargs": {"column": "id", "min_value": 2, "max_value": 3}},
        ]}
        path = tmp_path / "suite.json"
        path.write_text(json.dumps(suite))
        df = spark.createDataFrame([("r1",), ("r22",), ("long-id",)], "id string")
        verdict = validate_with_ge(df, suite_path=str(path))
        assert sorted(ok for ok, _ in verdict.values()) == [False, True]


def describe_audits():
    """Checks that need a query of their own over a stage's output (uniqueness) are reported
    with the others; a failed one stops the run, and nothing is published."""

    def _audited(capsys, warehouse):
        return cli(capsys, "run", "audited", "--date", DATE, "--force", warehouse=warehouse)

    def it_reports_the_audit_with_the_other_checks_in_declared_order(spark, warehouse, capsys):
        _land(warehouse, GOOD)
        code, out, _ = _audited(capsys, warehouse)
        assert code == 0
        assert [(q["expectation"], q["success"]) for q in out["quality"]] == [
            ("not_null:id", True), ("unique:id", True), ("in_set:cur", True)]
        assert table(spark, warehouse, "totals_by_cur").count() == 1

    def it_fails_the_run_and_publishes_nothing_when_an_audit_fails(spark, warehouse, capsys,
                                                                   delta_versions):
        _land(warehouse, GOOD)
        assert _audited(capsys, warehouse)[0] == 0
        before = delta_versions(warehouse)
        _land(warehouse, [*GOOD, {"id": "r3", "amount": 9.0, "cur": "USD"}])
        code, out, err = _audited(capsys, warehouse)
        assert code == 3
        assert (out["stage"], out["expectation"], out["failing_rows"], out["samples"]) == (
            "keyed", "unique:id", 2, ["r3"])
        assert "unique:id failed on stage keyed: 2 of 11 rows" in err
        assert delta_versions(warehouse) == before
        history = spark.read.format("delta").load(f"{warehouse}/_pipelines/quality_results")
        failed = history.where("expectation = 'unique:id' AND success = 'false'")
        assert failed.select("failing_rows").collect() == [(2,)]


def describe_cached_stages():
    """A checked stage that feeds only other stages is cached for the run, in the level
    DataFrame.cache() uses (Spark's columnar batches as they are), and freed at the end."""

    def it_caches_the_checked_stage_as_dataframe_cache_does_and_frees_it(
            spark, warehouse, capsys, monkeypatch):
        freed = []
        frame_type = type(spark.range(1))  # the session's DataFrame class (classic or Connect)
        unpersist = frame_type.unpersist

        def recording_unpersist(self, blocking=False):
            freed.append(self.storageLevel)
            return unpersist(self, blocking)

        monkeypatch.setattr(frame_type, "unpersist", recording_unpersist)
        _land(warehouse, GOOD)
        assert cli(capsys, "run", "audited", "--date", DATE, "--force",
                   warehouse=warehouse)[0] == 0
        assert freed == [StorageLevel.MEMORY_AND_DISK_DESER]

"""A canary run reads a deterministic sample of production's inputs and writes only under
<warehouse>/_canary, leaving every production file as it was; `pipelines diff` compares its
tables with production's over the keys it kept, and fails (exit 9) on a change."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from tests.helpers import DATE, cli, delta_rows, delta_version

USERS = 200


def _land(warehouse: str) -> None:
    folder = Path(warehouse) / "landing" / "events" / DATE
    folder.mkdir(parents=True)
    (folder / "part-0.json").write_text("".join(
        json.dumps({"user": f"u{i % USERS}", "n": i}) + "\n" for i in range(4 * USERS)))


def _production_files(warehouse: str) -> dict[str, str]:
    """Every file production has, by path, with the sha256 of its bytes."""
    root = Path(warehouse)
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()
            and not p.relative_to(root).parts[0] == "_canary"
            and "locks" not in p.parts}


def describe_a_canary():
    def it_samples_by_key_touches_no_production_file_and_diffs_clean(spark, warehouse,
                                                                    capsys):
        _land(warehouse)
        assert cli(capsys, "run", "scaled", "--date", DATE, warehouse=warehouse)[0] == 0
        before = _production_files(warehouse)
        code, out, err = cli(capsys, "run", "scaled", "--date", DATE, "--canary",
                             "--sample", "0.2", "--sample-by", "user", warehouse=warehouse)
        assert code == 0, err
        assert out["outputs"][0]["delta_version"] is not None
        assert _production_files(warehouse) == before  # byte for byte
        kept = delta_rows(f"{warehouse}/_canary", "scaled_totals", "user", "total")
        assert 0.1 * USERS < len(kept) < 0.3 * USERS
        production = dict(delta_rows(warehouse, "scaled_totals", "user", "total"))
        assert all(production[user] == total for user, total in kept)  # whole keys
        code, found, err = cli(capsys, "diff", "scaled", "--date", DATE, warehouse=warehouse)
        assert code == 0, err
        (sink,) = found["sinks"]
        assert (sink["added"], sink["removed"], sink["changed"]) == (0, 0, 0)
        assert sink["canary"] == sink["production"] == len(kept)
        assert sink["keys"] == ["user"] and found["sample"] == {
            "fraction": 0.2, "by": ["user"], "unit": "keys"}

    def it_finds_an_injected_change_and_exits_9(spark, warehouse, capsys):
        _land(warehouse)
        assert cli(capsys, "run", "scaled", "--date", DATE, warehouse=warehouse)[0] == 0
        assert cli(capsys, "run", "scaled", "--date", DATE, "--canary", "--sample", "0.2",
                   "--sample-by", "user", "--param", "factor=2", warehouse=warehouse)[0] == 0
        code, found, _ = cli(capsys, "diff", "scaled", "--date", DATE, warehouse=warehouse)
        (sink,) = found["sinks"]
        assert code == 9
        assert sink["changed"] == sink["canary"] > 0 and sink["added"] == sink["removed"] == 0
        assert sink["columns"]["total"]["mean_shift"] == 1.0  # every total doubled
        assert found["breaches"][0].startswith(f"totals: {sink['changed']} of ")
        code, _, _ = cli(capsys, "diff", "scaled", "--date", DATE, "--max-changed-share", "1",
                         "--max-mean-shift", "1", warehouse=warehouse)
        assert code == 0

    def it_refuses_a_sample_key_no_source_has(spark, warehouse, capsys):
        _land(warehouse)
        code, out, _ = cli(capsys, "run", "scaled", "--date", DATE, "--canary",
                           "--sample-by", "nope", warehouse=warehouse)
        assert (code, out["key"]) == (2, "sample-by")


def _land_files(warehouse: str, files: int) -> dict[str, int]:
    """``files`` JSON files of one user each (user ``u<i>`` has i+1 events of n=1)."""
    folder = Path(warehouse) / "landing" / "events" / DATE
    folder.mkdir(parents=True)
    for i in range(files):
        (folder / f"part-{i:02d}.json").write_text(
            "".join(json.dumps({"user": f"u{i}", "n": 1}) + "\n" for _ in range(i + 1)))
    return {f"u{i}": i + 1 for i in range(files)}


def describe_a_canary_sampled_by_files():
    def it_reads_only_the_chosen_files_whole(spark, warehouse, capsys):
        totals = _land_files(warehouse, 10)
        runs = []
        for _ in range(2):  # the same files each time
            code, out, err = cli(capsys, "run", "scaled", "--date", DATE, "--canary",
                                 "--sample", "0.25", warehouse=warehouse)
            assert code == 0, err
            runs.append(delta_rows(f"{warehouse}/_canary", "scaled_totals", "user", "total"))
        assert runs[0] == runs[1]
        assert len(runs[0]) == 3  # ceil(0.25 x 10) files, each one user's every event
        assert all(totals[user] == total for user, total in runs[0])
        code, found, _ = cli(capsys, "show", out["run_id"], warehouse=f"{warehouse}/_canary")
        assert found["notes"]["canary"] == {"fraction": 0.25, "by": [], "unit": "files"}

    def it_keeps_at_least_one_file(spark, warehouse, capsys):
        _land_files(warehouse, 4)
        code, _, err = cli(capsys, "run", "scaled", "--date", DATE, "--canary", "--sample",
                           "0.01", warehouse=warehouse)
        assert code == 0, err
        assert len(delta_rows(f"{warehouse}/_canary", "scaled_totals", "user")) == 1

    def it_samples_rows_of_every_file_when_asked(spark, warehouse, capsys):
        _land_files(warehouse, 10)
        code, _, err = cli(capsys, "run", "scaled", "--date", DATE, "--canary", "--sample",
                           "0.5", "--sample-unit", "rows", warehouse=warehouse)
        assert code == 0, err
        kept = delta_rows(f"{warehouse}/_canary", "scaled_totals", "user", "total")
        assert len(kept) > 3  # rows from most files, not three whole files


TWO_DATES = ["2026-11-25", "2026-11-26"]


def _land_two(warehouse: str) -> None:
    for n, date in enumerate(TWO_DATES):
        folder = Path(warehouse) / "landing" / "events" / date
        folder.mkdir(parents=True)
        (folder / "part-0.json").write_text(
            "".join(json.dumps({"user": f"u{i}", "n": i + 10 * n}) + "\n" for i in range(3)))


def describe_a_staged_backfill():
    def it_is_diffed_then_promoted_without_recomputing(spark, warehouse, capsys):
        _land_two(warehouse)
        code, _, err = cli(capsys, "backfill", "two_sinks", "--start", TWO_DATES[0], "--end",
                           TWO_DATES[1], "--staging", warehouse=warehouse)
        assert code == 0, err
        assert delta_version(warehouse, "user_totals") is None  # production untouched
        staged = delta_rows(f"{warehouse}/_canary", "user_totals", "user", "total")
        code, promoted, err = cli(capsys, "promote", "two_sinks", "--start", TWO_DATES[0],
                                  "--end", TWO_DATES[1], warehouse=warehouse)
        assert code == 0, err
        assert [(r["date"], r["status"], r["stages"]) for r in promoted["runs"]] == [
            (d, "succeeded", []) for d in TWO_DATES]  # published, nothing computed
        assert promoted["runs"][0]["message"].startswith("promoted from staged run ")
        assert delta_rows(warehouse, "user_totals", "user", "total") == staged
        assert delta_rows(warehouse, "user_latest", "user", "total") == delta_rows(
            f"{warehouse}/_canary", "user_latest", "user", "total")
        code, again, _ = cli(capsys, "run", "two_sinks", "--date", TWO_DATES[0],
                             warehouse=warehouse)
        assert (code, again["status"]) == (0, "skipped")  # its inputs and code recorded
        code, found, _ = cli(capsys, "diff", "two_sinks", "--date", TWO_DATES[1],
                             warehouse=warehouse)
        assert code == 0 and all(s["changed"] == s["added"] == s["removed"] == 0
                                 for s in found["sinks"])

    def it_refuses_to_promote_a_date_that_was_not_staged(spark, warehouse, capsys):
        code, out, _ = cli(capsys, "promote", "two_sinks", "--start", TWO_DATES[0], "--end",
                           TWO_DATES[0], warehouse=warehouse)
        assert (code, out["key"]) == (2, TWO_DATES[0])

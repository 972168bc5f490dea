"""Spark: the same findings as ``edi837 check -f json``, row for row, and bad files as rows.

One ``local[2]`` session serves the whole module (starting Spark costs seconds), and the
check of the shared data set is collected once.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

pytest.importorskip("pyspark", reason="pyspark not installed (pip install 'edi837[spark]')")

from pyspark.sql import Row, SparkSession  # noqa: E402

from edi837 import api  # noqa: E402
from edi837.ops import spark as edi_spark  # noqa: E402

pytestmark = pytest.mark.spark

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).parent / "fixtures"
FINDING_KEYS = [name for name, _ in edi_spark.FINDING_COLUMNS]
# A misrouted file whose first line is a patient's name: no error row may quote it.
PATIENT_FIRST = "NM1*IL*1*DOE*JANE****MI*123456789~N3*12 ELM ST~"


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen837", ROOT / "bench" / "gen837.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up while being built
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def spark() -> Iterator[SparkSession]:
    session = edi_spark.session("local[2]", "edi837-tests")
    yield session
    session.stop()


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """samples/, the 837P and envelope fixtures, 20 generated files and three bad files."""
    generated = tmp_path_factory.mktemp("generated")
    gen = _generator()
    for number in range(20):
        argv = ["--claims", str(3 + number % 7), "--seed", str(number)]
        argv += ["--out", str(generated / f"gen-{number:02d}.837")]
        if number % 5 == 0:
            argv.append("--clean")
        assert gen.main(argv) == 0
    bad = tmp_path_factory.mktemp("bad")
    (bad / "binary.837").write_bytes(bytes(range(256)) * 4)
    (bad / "patient-first.837").write_text(PATIENT_FIRST, encoding="ascii")
    (bad / "ack.999").write_bytes((FIXTURES / "envelope" / "clean-837p.x12.997").read_bytes())
    return [
        str(ROOT / "samples"),
        str(FIXTURES / "x837p"),
        str(FIXTURES / "envelope"),
        str(generated),
        str(bad),
    ]


@pytest.fixture(scope="module")
def files(inputs: list[str]) -> list[str]:
    return edi_spark.input_files(inputs)


@pytest.fixture(scope="module")
def spark_rows(spark: SparkSession, inputs: list[str]) -> list[Row]:
    return edi_spark.check_files(spark, inputs).collect()


@pytest.fixture(scope="module")
def check_json(files: list[str]) -> dict[str, Any]:
    run = subprocess.run(
        [sys.executable, "-m", "edi837", "check", "-f", "json", *files],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert run.returncode == 2, run.stderr  # findings and unreadable files in the set
    document: dict[str, Any] = json.loads(run.stdout)
    return document


def _sort_key(row: dict[str, Any]) -> tuple[Any, ...]:
    return tuple((value is None, value if value is not None else 0) for value in row.values())


def _flat(finding: dict[str, Any]) -> dict[str, Any]:
    flat = {key: finding.get(key) for key in FINDING_KEYS if not key.startswith("fix_")}
    fix = finding["fix"]
    flat["fix_applicability"] = fix["applicability"] if fix else None
    flat["fix_description"] = fix["description"] if fix else None
    return {key: flat[key] for key in FINDING_KEYS}


def test_columns_are_the_json_findings_plus_path_status_and_error(
    spark: SparkSession, inputs: list[str]
) -> None:
    frame = edi_spark.check_files(spark, inputs[:1])
    assert frame.columns == ["path", "file_status", "error", *FINDING_KEYS]


def test_findings_equal_check_json_row_for_row(
    spark_rows: list[Row], check_json: dict[str, Any]
) -> None:
    expected = sorted(
        (
            {"path": item["path"], **_flat(finding)}
            for item in check_json["files"]
            for finding in item["findings"]
        ),
        key=lambda r: (r["path"], r["segment_number"] or 0, _sort_key(r)),
    )
    got = sorted(
        (
            {"path": row["path"], **{key: row[key] for key in FINDING_KEYS}}
            for row in spark_rows
            if row["code"] is not None
        ),
        key=lambda r: (r["path"], r["segment_number"] or 0, _sort_key(r)),
    )
    # The set must exercise the comparison: findings in many files, of several rules.
    assert len({r["path"] for r in expected}) >= 5 and len({r["code"] for r in expected}) >= 4
    assert got == expected


def test_every_file_is_visible_with_the_status_check_gives(
    spark_rows: list[Row], check_json: dict[str, Any], files: list[str]
) -> None:
    statuses = {row["path"]: row["file_status"] for row in spark_rows}
    assert sorted(statuses) == sorted(files)
    assert statuses == {item["path"]: item["status"] for item in check_json["files"]}
    for row in spark_rows:
        if row["file_status"] != "findings":
            # A clean or unreadable file is one row whose finding columns are all null.
            assert [row[key] for key in FINDING_KEYS] == [None] * len(FINDING_KEYS)
            assert sum(r["path"] == row["path"] for r in spark_rows) == 1


def test_unreadable_and_non_837p_files_are_error_rows(
    spark_rows: list[Row], check_json: dict[str, Any]
) -> None:
    errors = {Path(r["path"]).name: r["error"] for r in spark_rows if r["file_status"] == "error"}
    assert "binary data" in errors["binary.837"]
    assert "no 837P transaction" in errors["ack.999"]
    assert "does not start with an ISA segment" in errors["patient-first.837"]
    assert "README.md" in errors
    for error in errors.values():
        assert "\n" not in error
        assert "DOE" not in error and "JANE" not in error
    # The reason is the one `edi837 check` gives.
    by_path = {item["path"]: item["error"] for item in check_json["files"]}
    for row in spark_rows:
        if row["file_status"] == "error":
            assert row["error"] == by_path[row["path"]]


def test_a_file_over_the_size_limit_is_an_error_row_naming_the_limit(
    spark: SparkSession,
) -> None:
    rows = edi_spark.check_files(
        spark, [str(ROOT / "samples" / "multi.837")], settings={"max_file_bytes": 1000}
    ).collect()
    assert len(rows) == 1
    assert rows[0]["file_status"] == "error"
    assert "over the Spark batch limit of 1,000 bytes" in rows[0]["error"]
    assert "max_file_bytes" in rows[0]["error"]


def test_a_file_removed_after_listing_does_not_fail_the_job(
    spark: SparkSession, tmp_path: Path
) -> None:
    for name in ("stays.837", "goes.837"):
        (tmp_path / name).write_bytes((ROOT / "samples" / "multi.837").read_bytes())
    frame = edi_spark.check_files(spark, [str(tmp_path)])
    os.remove(tmp_path / "goes.837")
    rows = frame.collect()
    assert {Path(r["path"]).name for r in rows} == {"stays.837"}
    assert {r["file_status"] for r in rows} == {"findings"}


def test_file_names_with_spaces_and_brackets_are_files_not_patterns(
    spark: SparkSession, tmp_path: Path
) -> None:
    named = tmp_path / "nightly run" / "claims[1] {a}.837"
    named.parent.mkdir()
    named.write_bytes((ROOT / "samples" / "clean-injection.837").read_bytes())
    for given in ([str(named)], [str(named.parent)], [str(named), str(named.parent)]):
        rows = edi_spark.check_files(spark, given).collect()
        # Named twice (itself and its folder), the file is still checked once.
        assert [(r["path"], r["file_status"]) for r in rows] == [(str(named), "ok")]


def test_bad_settings_fail_before_any_task(spark: SparkSession) -> None:
    with pytest.raises(api.OptionsError, match="NOPE-999"):
        edi_spark.check_files(spark, [str(ROOT / "samples")], settings={"select": ["NOPE-999"]})
    with pytest.raises(api.OptionsError, match="unknown Spark setting"):
        edi_spark.check_files(spark, [str(ROOT / "samples")], settings={"profiel": "medicare"})


def test_selected_rules_apply_on_the_executors(spark: SparkSession) -> None:
    rows = edi_spark.check_files(
        spark, [str(ROOT / "samples" / "multi.837")], settings={"select": ["NDC"]}
    ).collect()
    assert rows and {r["code"][:4] for r in rows} == {"NDC-"}


# -- run_batch and the claims table -------------------------------------------------------------


def test_run_batch_writes_findings_claims_and_the_summary_check_gives(
    spark: SparkSession, inputs: list[str], check_json: dict[str, Any], tmp_path: Path
) -> None:
    outdir = tmp_path / "out"
    summary = edi_spark.run_batch(inputs, outdir, master="local[2]", settings={})
    assert json.loads((outdir / "batch.json").read_text(encoding="utf-8")) == summary
    expected = check_json["summary"]
    assert summary["files"] == expected["files"]
    assert summary["claims"] == expected["claims"]
    assert summary["findings"] == expected["findings"]
    assert summary["errors"] == sum(f["status"] == "error" for f in check_json["files"])
    by_code: dict[str, int] = {}
    for item in check_json["files"]:
        for finding in item["findings"]:
            by_code[finding["code"]] = by_code.get(finding["code"], 0) + 1
    assert summary["by_code"] == by_code
    assert isinstance(summary["claims_per_second"], float) and summary["claims_per_second"] > 0

    findings = spark.read.parquet(str(outdir / "findings.parquet"))
    assert findings.columns == ["path", "file_status", "error", *FINDING_KEYS]
    assert findings.where("code IS NOT NULL").count() == sum(expected["findings"].values())
    lines = spark.read.parquet(str(outdir / "claims.parquet")).where("file_status = 'ok'")
    assert lines.count() == sum(item["service_lines"] for item in check_json["files"])


def test_run_batch_refuses_a_missing_input_before_starting(tmp_path: Path) -> None:
    with pytest.raises(api.OptionsError, match="no such file or folder"):
        edi_spark.run_batch(
            [str(tmp_path / "absent")], tmp_path / "out", master="local[1]", settings={}
        )
    assert not (tmp_path / "out").exists()


def test_claims_table_has_one_row_per_service_line_with_its_drug(spark: SparkSession) -> None:
    sample = ROOT / "samples" / "clean-injection.837"
    rows = edi_spark.claims(spark, [str(sample), str(ROOT / "samples" / "README.md")]).collect()
    errors = [r for r in rows if r["file_status"] == "error"]
    assert len(errors) == 1 and "ISA" in errors[0]["error"]
    lines = sorted((r for r in rows if r["file_status"] == "ok"), key=lambda r: r["line"])
    expected = [line for claim in api.claims(sample) for line in claim.lines]
    assert [r["procedure"] for r in lines] == [line.code for line in expected]
    assert [r["modifiers"] for r in lines] == [list(line.modifiers) for line in expected]
    assert [r["charge"] for r in lines] == [str(line.charge) for line in expected]
    assert [r["service_date"] for r in lines] == [line.service_date for line in expected]
    drug = next(r for r in lines if r["ndc"] is not None)
    assert (drug["procedure"], drug["ndc"], drug["drug_unit"]) == ("J1885", "00409379501", "ML")
    assert drug["drug_quantity"] == "1"
    # The J1885 drug line was given by the 96372 line of the same visit.
    injection = next(r for r in lines if r["procedure"] == "96372")
    assert drug["paired_line"] == injection["line"]
    assert [r["line"] for r in lines if r["paired_line"] is not None] == [drug["line"]]
    assert {r["claim"] for r in lines} == {"CLEAN0001"}
    assert {r["profile"] for r in lines} == {"medicare"}


def test_batch_engine_spark_runs_end_to_end_with_batch_exit_codes(
    spark: SparkSession, tmp_path: Path
) -> None:
    from click.testing import CliRunner

    from edi837.cli import main

    out = tmp_path / "out"
    samples = sorted(str(p) for p in (ROOT / "samples").glob("*.837"))
    run = CliRunner().invoke(
        main, ["batch", "--engine", "spark", "--master", "local[2]", "-o", str(out), *samples]
    )
    # missing-ndc.837 and multi.837 carry reject findings: exit 1, as the local engine gives.
    assert run.exit_code == 1, run.output
    summary = json.loads((out / "batch.json").read_text())
    assert summary["files"] == len(samples) and summary["errors"] == 0
    assert summary["findings"]["reject"] > 0
    assert (out / "findings.parquet").is_dir() and (out / "claims.parquet").is_dir()
    # An unreadable input among them makes it 2, and the others are still counted.
    bad = tmp_path / "not-x12.837"
    bad.write_text("hello\n")
    run = CliRunner().invoke(
        main,
        ["batch", "--engine", "spark", "--master", "local[2]", "-o", str(out), str(bad), *samples],
    )
    assert run.exit_code == 2, run.output
    assert json.loads((out / "batch.json").read_text())["files"] == len(samples) + 1


def test_batch_engine_spark_refuses_what_only_the_local_engine_does(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from edi837.cli import main

    sample = str(ROOT / "samples" / "clean-injection.837")
    for extra in (["--outputs", "report,fixed"], ["--ledger", str(tmp_path / "l.sqlite")]):
        run = CliRunner().invoke(
            main, ["batch", "--engine", "spark", "-o", str(tmp_path / "out"), *extra, sample]
        )
        assert run.exit_code == 2
        assert "not available with --engine spark" in run.output
        assert not (tmp_path / "out").exists()

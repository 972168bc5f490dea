"""A file's findings past a bound wait on disk, and every report reads them back unchanged.

``check -f json`` and ``-f csv`` keep at most ``finding_spool.KEEP`` findings of a file in
memory. Here the bound is lowered to a handful so that a generated file of a thousand claims
spills many batches, and the reports must be exactly those of the plain list.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from edi837 import api, finding_spool
from edi837.cli import main
from edi837.finding_spool import FindingSpool
from edi837.reports.text import file_lines
from tests.golden_findings import CASES, generate

CASE = next(case for case in CASES if case.name.startswith("injection"))


@pytest.fixture(scope="module")
def claims_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("spool") / "injection-1000.837"
    path.write_bytes(generate(CASE))
    return path


def test_a_spooled_result_is_the_plain_one(claims_file: Path) -> None:
    plain = api.check(claims_file)
    spooled = api.check(claims_file, keep_findings=5)
    findings = spooled.findings
    assert isinstance(findings, FindingSpool)
    assert len(plain.findings) > 20
    # Most of them wait on disk; fewer than the bound stay in memory.
    assert len(findings) - findings.spilled < 5
    assert findings.spilled > 0
    assert findings == plain.findings
    assert list(findings) == list(findings)  # a second pass reads the same findings
    assert findings[0] == plain.findings[0]
    assert findings[-1] == plain.findings[-1]
    assert findings[3:6] == plain.findings[3:6]
    assert spooled.to_dict() == plain.to_dict()
    # The text report matches consequences to their causes within one pass.
    assert list(file_lines(spooled)) == list(file_lines(plain))
    findings.close()
    assert len(findings) == 0


def test_index_past_the_end_is_an_index_error() -> None:
    spool = FindingSpool(keep=1)
    with pytest.raises(IndexError):
        spool[0]


def test_check_json_with_a_small_bound_writes_the_stored_findings(
    claims_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(finding_spool, "KEEP", 7)
    run = CliRunner().invoke(main, ["check", "-f", "json", str(claims_file)])
    assert run.exit_code == 1, run.output
    got = json.loads(run.stdout)
    want = json.loads(CASE.expected.read_text(encoding="utf-8"))
    assert got["summary"] == want["summary"]
    assert got["files"][0]["findings"] == want["files"][0]["findings"]


def test_check_csv_with_a_small_bound_is_the_unbounded_csv(
    claims_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    unbounded = CliRunner().invoke(main, ["check", "-f", "csv", str(claims_file)])
    monkeypatch.setattr(finding_spool, "KEEP", 3)
    bounded = CliRunner().invoke(main, ["check", "-f", "csv", str(claims_file)])
    assert bounded.exit_code == unbounded.exit_code == 1
    assert bounded.stdout.count("\n") > 20
    assert bounded.stdout == unbounded.stdout


def test_a_stream_input_spools_as_well() -> None:
    data = generate(CASE)
    plain = api.check(io.BytesIO(data), name="x.837")
    spooled = api.check(io.BytesIO(data), name="x.837", keep_findings=2)
    assert spooled.to_dict() == plain.to_dict()


def test_without_a_writable_temporary_folder_the_findings_stay_in_memory(
    claims_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def unwritable(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    plain = api.check(claims_file)
    monkeypatch.setattr("edi837.finding_spool.tempfile.TemporaryFile", unwritable)
    spooled = api.check(claims_file, keep_findings=5)
    assert isinstance(spooled.findings, FindingSpool)
    assert spooled.findings.spilled == 0
    assert spooled.to_dict() == plain.to_dict()

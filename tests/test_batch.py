"""``edi837 batch`` and ``edi837 ledger`` as an operator runs them, and the cut of large files."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from edi837 import api
from edi837.cli import main
from edi837.ops.batch import BatchOptions, merge_pieces, run_batch
from edi837.ops.cutting import pieces, scan
from edi837.ops.process import check_source
from edi837.reports.html import write_html
from edi837.source import Source

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples"
GENERATOR = ROOT / "bench" / "gen837.py"
PATIENT_VALUES = ("SAMPLEMAN", "SAMPLEPARENT", "DEMOWSKI", "TESTSUBJECT", "TESTMBI0002")


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def generate(target: Path, *options: str) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [sys.executable, str(GENERATOR), *options, "--out", str(target)],
        check=True,
        capture_output=True,
    )
    return target


def inbox(folder: Path, *names: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        shutil.copyfile(SAMPLES / name, folder / name)
    return folder


@pytest.fixture(scope="module")
def drop_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A concatenated drop file: 7 interchanges, claims with and without findings."""
    folder = tmp_path_factory.mktemp("drop")
    return generate(
        folder / "drop.837",
        "--claims",
        "120",
        "--interchanges",
        "7",
        "--control",
        "500",
        "--seed",
        "3",
    )


def test_a_cut_file_gives_the_same_findings_with_one_or_two_jobs_as_check(
    tmp_path: Path, drop_file: Path
) -> None:
    reports = {}
    for jobs in (1, 2):
        out = tmp_path / f"jobs{jobs}"
        # cut_size 0: every file with several interchanges is shared among the workers.
        result = run_batch([drop_file], BatchOptions(out, jobs=jobs, cut_size=0))
        assert result.outcomes[0].status == "done"
        reports[jobs] = json.loads((out / "drop.report.json").read_text())
    whole = api.check(drop_file, name=str(drop_file)).to_dict()
    findings = [f for f in api.check(drop_file).findings]
    assert findings, "the generated file is meant to have findings"
    assert {f.interchange for f in findings} != {"000000500"}  # not all in the first piece
    assert reports[1]["files"] == [whole]
    assert reports[2]["files"] == [whole]
    # The pieces' splits joined in file order are the split of the whole file.
    for kind in ("accepted", "rejected"):
        serial = (tmp_path / "jobs1" / f"drop.{kind}.837").read_bytes()
        assert (tmp_path / "jobs2" / f"drop.{kind}.837").read_bytes() == serial
    assert not [p for p in (tmp_path / "jobs2").iterdir() if p.name.startswith(".")]
    # The HTML page of the batch is the page check -f html draws for the file.
    page = io.StringIO()
    write_html([api.check(drop_file, name=str(drop_file), detail=True)], page)
    assert (tmp_path / "jobs2" / "batch.html").read_text() == page.getvalue()


def test_merged_pieces_equal_the_check_of_the_whole_file(drop_file: Path) -> None:
    engine = api.load_engine()
    layout = scan(drop_file)
    data = drop_file.read_bytes()
    parts = [
        (piece, check_source(Source(data[piece.start : piece.end], str(drop_file)), engine))
        for piece in pieces(drop_file, layout, 4)
    ]
    assert len(parts) == 4
    merged = merge_pieces(str(drop_file), parts)
    assert merged is not None
    whole = check_source(Source(drop_file, str(drop_file)), engine)
    assert merged.result.to_dict() == whole.result.to_dict()
    assert merged.claim_rows == whole.claim_rows
    assert merged.segments == whole.segments
    # The findings keep line numbers too (not in the JSON contract, shown by the text report).
    assert [f.line_number for f in merged.result.findings] == [
        f.line_number for f in whole.result.findings
    ]


def test_pieces_are_whole_interchanges_in_file_order(drop_file: Path) -> None:
    layout = scan(drop_file)
    assert layout.interchanges is not None
    assert [i.control for i in layout.interchanges] == [f"{500 + n:09d}" for n in range(7)]
    cut = pieces(drop_file, layout, 3)
    data = drop_file.read_bytes()
    assert len(cut) == 3
    assert cut[0].start == 0 and cut[-1].end == len(data)
    for before, after in zip(cut, cut[1:], strict=False):
        assert before.end == after.start
        assert data[after.start : after.start + 4] == b"ISA*"
        assert after.lines_before == data[: after.start].count(b"\n")


def test_batch_writes_outputs_summary_and_exit_codes(tmp_path: Path) -> None:
    source = inbox(tmp_path / "in", "clean-injection.837", "multi.837", "missing-ndc.837")
    out = tmp_path / "out"
    code, _, err = invoke("batch", str(source), "-o", str(out), "--jobs", "2")
    assert code == 1, err  # findings at reject
    summary = json.loads((out / "batch.json").read_text())
    assert summary["summary"]["files"] == 3
    assert summary["summary"]["claims"] == 6
    assert (
        summary["summary"]["findings"]["reject"] == 3
    )  # multi.837: ELM-003 gives way to CTP-002 on the same element
    assert summary["summary"]["codes"]["NDC-004"] >= 1
    assert summary["summary"]["claims_per_second"] > 0
    assert [Path(f["file"]).name for f in summary["files"]] == [
        "clean-injection.837",
        "missing-ndc.837",
        "multi.837",
    ]
    for name in ("clean-injection", "missing-ndc", "multi"):
        report = json.loads((out / f"{name}.report.json").read_text())
        assert (
            report["files"][0]
            == api.check(source / f"{name}.837", name=str(source / f"{name}.837")).to_dict()
        )
    assert (out / "multi.accepted.837").exists() and (out / "multi.rejected.837").exists()
    assert "<html" in (out / "batch.html").read_text().lower()
    assert (out / "edi837.sqlite").exists()
    assert err.splitlines()[-1].startswith("batch: 3 files (3 done)")
    # A run with nothing at or above --fail-on exits 0.
    clean = inbox(tmp_path / "clean", "clean-injection.837")
    assert invoke("batch", str(clean), "-o", str(tmp_path / "out2"), "--jobs", "1")[0] == 0


def test_an_unreadable_input_exits_2_and_the_others_are_processed(tmp_path: Path) -> None:
    source = inbox(tmp_path / "in", "clean-injection.837")
    (source / "broken.837").write_text("SAMPLEMAN,TERRY,1960-01-01\n")
    code, _, err = invoke("batch", str(source), "-o", str(tmp_path / "out"))
    assert code == 2
    (line,) = [ln for ln in err.splitlines() if "broken.837" in ln]
    assert "does not start with an ISA segment" in line
    assert "SAMPLEMAN" not in err  # the quoted start of a non-X12 file stays out of the log
    assert (tmp_path / "out" / "clean-injection.accepted.837").exists()


def test_duplicates_name_the_first_file_and_exit_1(tmp_path: Path) -> None:
    source = inbox(tmp_path / "in", "clean-injection.837")
    resent = (SAMPLES / "clean-injection.837").read_bytes().replace(b"CLEAN0001", b"CLEAN0002")
    (source / "resent.837").write_bytes(resent)
    code, _, err = invoke("batch", str(source), "-o", str(tmp_path / "out"))
    assert code == 1
    assert f"{source / 'resent.837'}: duplicate of clean-injection.837" in err
    assert not (tmp_path / "out" / "resent.report.json").exists()
    code, out, _ = invoke(
        "ledger", "--ledger", str(tmp_path / "out" / "edi837.sqlite"), "duplicates", "-f", "json"
    )
    assert code == 0
    (row,) = json.loads(out)
    assert row["duplicate_of"] == "clean-injection.837"


def test_rerun_skips_done_files_and_force_redoes_them(tmp_path: Path) -> None:
    source = inbox(tmp_path / "in", "clean-injection.837", "multi.837")
    out = tmp_path / "out"
    invoke("batch", str(source), "-o", str(out), "-j", "1")
    code, _, err = invoke("batch", str(source), "-o", str(out), "-j", "1")
    assert code == 1  # the skipped file's findings still count for the exit code
    assert "(2 skipped)" in err
    _, _, err = invoke("batch", str(source), "-o", str(out), "-j", "1", "--force")
    assert "(2 done)" in err
    _, claims, _ = invoke("ledger", "--ledger", str(out / "edi837.sqlite"), "claims", "-f", "json")
    assert len(json.loads(claims)) == 5  # redone, not doubled


def test_glob_outputs_and_verbose_lines(tmp_path: Path) -> None:
    source = inbox(tmp_path / "in", "clean-injection.837", "multi.837")
    shutil.copyfile(SAMPLES / "crlf.837", source / "crlf.x12")
    out = tmp_path / "out"
    code, _, err = invoke(
        "batch",
        str(source),
        "-o",
        str(out),
        "--glob",
        "*.837",
        "--outputs",
        "fixed,annotated",
        "-v",
    )
    assert code == 1
    lines = [ln for ln in err.splitlines() if not ln.startswith("batch:")]
    assert len(lines) == 2 and all(": done, " in ln for ln in lines)
    names = sorted(p.name for p in out.iterdir())
    assert "multi.fixed.837" in names and "multi.annotated.txt" in names
    assert not any(n.startswith("crlf") for n in names)
    assert not any(n.endswith(".report.json") for n in names)
    code, _, err = invoke("batch", str(source), "-o", str(out), "--outputs", "report,pdf")
    assert code == 2 and "pdf" in err


def test_two_inputs_with_one_name_do_not_overwrite_each_other(tmp_path: Path) -> None:
    inbox(tmp_path / "a", "clean-injection.837")
    inbox(tmp_path / "b", "multi.837")
    (tmp_path / "b" / "multi.837").rename(tmp_path / "b" / "clean-injection.837")
    out = tmp_path / "out"
    invoke("batch", str(tmp_path / "a"), str(tmp_path / "b"), "-o", str(out))
    reports = sorted(p.name for p in out.glob("*.report.json"))
    assert len(reports) == 2 and all(r.startswith("clean-injection-") for r in reports)


def test_no_patient_data_in_what_batch_prints_or_records(tmp_path: Path) -> None:
    source = inbox(tmp_path / "in", "multi.837", "clean-injection.837", "missing-ndc.837")
    out = tmp_path / "out"
    _, _, err = invoke("batch", str(source), "-o", str(out), "-v", "-j", "2")
    ledger = str(out / "edi837.sqlite")
    texts = [err, (out / "batch.json").read_text()]
    for what in ("files", "claims", "duplicates", "stats"):
        for fmt in ("text", "json"):
            texts.append(invoke("ledger", "--ledger", ledger, what, "-f", fmt)[1])
    for value in PATIENT_VALUES:
        assert any(value in (SAMPLES / n).read_text() for n in ("multi.837", "clean-injection.837"))
        assert all(value not in text for text in texts), value


def test_ledger_command_reports_files_and_stats(tmp_path: Path) -> None:
    source = inbox(tmp_path / "in", "multi.837")
    out = tmp_path / "out"
    invoke("batch", str(source), "-o", str(out))
    ledger = str(out / "edi837.sqlite")
    code, text, _ = invoke("ledger", "--ledger", ledger, "stats")
    assert code == 0
    routed = api.split(source / "multi.837", tmp_path / "split")
    assert "files: 1 done" in text
    assert f"claims: {routed.accepted} accepted, {routed.rejected} rejected" in text
    code, text, _ = invoke("ledger", "--ledger", ledger, "files", "-f", "json")
    (row,) = json.loads(text)
    assert (row["status"], row["claims"], row["reject"]) == ("done", 4, 2)
    assert sorted(Path(p).name for p in row["outputs"]) == [
        "multi.accepted.837",
        "multi.rejected.837",
        "multi.report.json",
    ]
    code, _, err = invoke("ledger", "--ledger", str(tmp_path / "none.sqlite"), "files")
    assert code == 2 and "no ledger" in err


def test_spark_engine_without_pyspark_says_how_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "pyspark", None)  # import pyspark raises ImportError
    source = inbox(tmp_path / "in", "multi.837")
    code, _, err = invoke("batch", str(source), "-o", str(tmp_path / "out"), "--engine", "spark")
    assert code == 2
    assert len(err.strip().splitlines()) == 1
    assert "pip install 'edi837[spark]'" in err

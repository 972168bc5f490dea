"""The ledger and process_file: one row per file, skips, duplicates, reruns after a crash."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from edi837 import api
from edi837.engine import Engine
from edi837.ops.ledger import MIGRATIONS, Ledger, LedgerError
from edi837.ops.process import process_file

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples"
GENERATOR = ROOT / "bench" / "gen837.py"

#: Names and member ids of the samples (NM1 element values) that must never leak.
PATIENT_VALUES = ("SAMPLEMAN", "SAMPLEPARENT", "DEMOWSKI", "TESTSUBJECT", "TESTMBI0002")


def generate(target: Path, *options: str) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [sys.executable, str(GENERATOR), *options, "--out", str(target)],
        check=True,
        capture_output=True,
    )
    return target


@pytest.fixture(scope="module")
def engine() -> Engine:
    return api.load_engine()


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    with Ledger(tmp_path / "state" / "edi837.sqlite") as opened:
        yield opened


def copy(name: str, folder: Path, as_name: str | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / (as_name or name)
    shutil.copyfile(SAMPLES / name, target)
    return target


def test_a_processed_file_has_its_outputs_and_one_row(
    tmp_path: Path, engine: Engine, ledger: Ledger
) -> None:
    source = copy("multi.837", tmp_path / "in")
    out = tmp_path / "out"
    outcome = process_file(source, out, engine=engine, ledger=ledger)
    assert outcome.status == "done"
    assert outcome.claims == 4
    assert (
        outcome.findings_by_severity["reject"] == 2
    )  # ELM-003 gives way to CTP-002 on the same element
    names = sorted(p.name for p in outcome.outputs)
    assert names == ["multi.accepted.837", "multi.rejected.837", "multi.report.json"]
    report = json.loads((out / "multi.report.json").read_text())
    assert report["files"] == [api.check(source, engine=engine, name=str(source)).to_dict()]
    assert ledger.file_status(outcome.sha256) == "done"
    claims = ledger.claims()
    assert len(claims) == 4
    split = api.split(source, tmp_path / "again", engine=engine)
    assert [c["status"] for c in claims].count("rejected") == split.rejected
    (interchange,) = ledger.interchanges()
    assert interchange["control"] == "000000103"
    assert interchange["sender"] == "ZZ:EDI837TESTSUB"
    assert interchange["groups"] == ["103"]


def test_report_is_the_check_json_document(tmp_path: Path, engine: Engine, ledger: Ledger) -> None:
    source = copy("missing-ndc.837", tmp_path / "in")
    process_file(
        source, tmp_path / "out", engine=engine, ledger=ledger, outputs=frozenset({"report"})
    )
    report = json.loads((tmp_path / "out" / "missing-ndc.report.json").read_text())
    expected = api.check(source, engine=engine, name=str(source)).to_dict()
    assert report["version"] == 2
    assert report["files"] == [expected]
    assert report["summary"]["findings"]["reject"] == 1
    assert not (tmp_path / "out" / "missing-ndc.rejected.837").exists()


def test_a_done_file_is_skipped_and_force_redoes_it_without_doubling_rows(
    tmp_path: Path, engine: Engine, ledger: Ledger
) -> None:
    source = copy("multi.837", tmp_path / "in")
    first = process_file(source, tmp_path / "out", engine=engine, ledger=ledger)
    again = process_file(source, tmp_path / "out", engine=engine, ledger=ledger)
    assert again.status == "skipped"
    assert again.claims == first.claims
    forced = process_file(source, tmp_path / "out", engine=engine, ledger=ledger, force=True)
    assert forced.status == "done"
    assert len(ledger.files()) == 1
    assert len(ledger.claims()) == 4
    assert len(ledger.interchanges()) == 1


def test_same_sender_and_isa13_in_another_file_is_a_duplicate(
    tmp_path: Path, engine: Engine, ledger: Ledger
) -> None:
    first = copy("multi.837", tmp_path / "in")
    # Same envelope (sender, ISA13), other content: a resubmission under a used control number.
    second = tmp_path / "in" / "resent.837"
    second.write_bytes(first.read_bytes().replace(b"SAMPLEMAN", b"OTHERNAME"))
    assert process_file(first, tmp_path / "out", engine=engine, ledger=ledger).status == "done"
    outcome = process_file(second, tmp_path / "out", engine=engine, ledger=ledger)
    assert outcome.status == "duplicate"
    assert outcome.duplicate_of == "multi.837"
    assert outcome.outputs == []
    assert not (tmp_path / "out" / "resent.report.json").exists()
    assert ledger.duplicates()[0]["duplicate_of"] == "multi.837"
    assert len(ledger.claims()) == 4  # nothing recorded for the duplicate's claims


def test_same_content_under_another_name_is_a_duplicate(
    tmp_path: Path, engine: Engine, ledger: Ledger
) -> None:
    first = copy("clean-injection.837", tmp_path / "in")
    second = copy("clean-injection.837", tmp_path / "in", "copy.837")
    process_file(first, tmp_path / "out", engine=engine, ledger=ledger)
    outcome = process_file(second, tmp_path / "out", engine=engine, ledger=ledger)
    assert (outcome.status, outcome.duplicate_of) == ("duplicate", "clean-injection.837")


def test_unreadable_input_is_an_error_row_with_one_line(
    tmp_path: Path, engine: Engine, ledger: Ledger
) -> None:
    bad = tmp_path / "in" / "bad.837"
    bad.parent.mkdir()
    bad.write_bytes(b"this is not X12 at all\n")
    outcome = process_file(bad, tmp_path / "out", engine=engine, ledger=ledger)
    assert outcome.status == "error"
    assert outcome.error is not None and "\n" not in outcome.error
    assert str(bad) in outcome.error
    assert ledger.file_status(outcome.sha256) == "error"
    # The report says why; nothing else is written for a file that cannot be read.
    assert [p.name for p in outcome.outputs] == ["bad.report.json"]
    missing = process_file(
        tmp_path / "in" / "gone.837", tmp_path / "out", engine=engine, ledger=ledger
    )
    assert missing.status == "error" and missing.error is not None


def test_rerun_after_a_crash_finishes_in_progress_and_cleans_temporaries(
    tmp_path: Path, engine: Engine, ledger: Ledger
) -> None:
    source = copy("multi.837", tmp_path / "in")
    out = tmp_path / "out"
    # As a kill between the first output and the ledger commit leaves things: the row is
    # in progress, one output published, another still a hidden temporary file.
    done = process_file(
        source, tmp_path / "reference", engine=engine, ledger=Ledger(tmp_path / "r.sqlite")
    )
    ledger.begin_file(done.sha256, source, source.stat().st_size)
    out.mkdir()
    shutil.copyfile(tmp_path / "reference" / "multi.report.json", out / "multi.report.json")
    (out / ".multi.accepted.837.edi837-tmp-abc123").write_bytes(b"ISA*half")
    assert [row["sha256"] for row in ledger.in_progress()] == [done.sha256]
    outcome = process_file(source, out, engine=engine, ledger=ledger)
    assert outcome.status == "done"
    assert ledger.in_progress() == []
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in done.outputs)
    for produced in done.outputs:
        assert (out / produced.name).read_bytes() == produced.read_bytes()
    assert len(ledger.claims()) == 4


def test_no_patient_data_in_outcomes_or_ledger(
    tmp_path: Path, engine: Engine, ledger: Ledger
) -> None:
    texts = []
    for name in ("multi.837", "clean-injection.837", "missing-ndc.837"):
        outcome = process_file(
            copy(name, tmp_path / "in"), tmp_path / "out", engine=engine, ledger=ledger
        )
        texts.append(json.dumps(outcome.to_dict()))
    texts.append(
        json.dumps([ledger.files(), ledger.claims(), ledger.interchanges(), ledger.stats()])
    )
    dump = "\n".join(sqlite3.connect(ledger.path).iterdump())
    for value in PATIENT_VALUES:
        assert (
            value in (SAMPLES / "multi.837").read_text()
            or value in (SAMPLES / "clean-injection.837").read_text()
        )
        assert all(value not in text for text in texts), value
        assert value not in dump, value


def test_schema_is_versioned_and_a_newer_ledger_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "edi837.sqlite"
    with Ledger(path) as ledger:
        assert ledger.schema_version == len(MIGRATIONS) == 2
        assert ledger.journal_mode == "wal"
    with Ledger(path) as ledger:  # reopening applies nothing twice
        assert ledger.schema_version == 2
    db = sqlite3.connect(path)
    db.execute("PRAGMA user_version=99")
    db.close()
    with pytest.raises(LedgerError, match="newer"):
        Ledger(path)


def test_interchanges_of_a_concatenated_file_are_each_recorded(
    tmp_path: Path, engine: Engine, ledger: Ledger
) -> None:
    source = generate(
        tmp_path / "in" / "drop.837", "--claims", "9", "--interchanges", "3", "--control", "40"
    )
    outcome = process_file(source, tmp_path / "out", engine=engine, ledger=ledger)
    assert [i.control for i in outcome.interchanges] == ["000000040", "000000041", "000000042"]
    assert [i["groups"] for i in ledger.interchanges()] == [["40"], ["41"], ["42"]]
    assert len(ledger.claims()) == 9

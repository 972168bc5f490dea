"""Acknowledgements: TA1, 999 (005010X231A1) and 277CA (005010X214) answering 837P files.

pyx12 is the outside judge twice over: every 999 and 277CA produced from every file of
``samples/``, the test fixtures and the readable corpus files must pass its ``x12valid`` with
pyx12's own 999 and 277 maps (the TA1, which pyx12 only reads inside a functional group, is
checked for its fixed layout), and pyx12's own 999 for each corpus file must take the same
accept/reject decision per transaction set as ours, except for the deliberate differences
that ``docs/acks.md`` names, file by file. The claims the 277CA rejects are exactly those
``edi837 split`` rejects. Golden files pin the whole output of four typical cases; run with
``EDI837_UPDATE_GOLDEN=1`` to rewrite them after a deliberate change.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from edi837 import api
from edi837.acks import build_acks, write_acks
from edi837.acks import docs as ack_docs
from edi837.acks.mapping import ACKS
from edi837.cli import main
from edi837.engine import Engine
from edi837.rules import default_registry
from edi837.x12.reader import X12SyntaxError, read_segments
from tests.corpus import CORPUS
from tests.x12valid import X12VALID, verdict

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"
GOLDEN = FIXTURES / "acks"
SAMPLES = ROOT / "samples"
NOW = datetime(2025, 3, 18, 10, 30)
UPDATE = os.environ.get("EDI837_UPDATE_GOLDEN") == "1"


@pytest.fixture(scope="module")
def engine() -> Engine:
    return api.load_engine()


def corpus_files() -> list[Path]:
    if not CORPUS.is_dir():
        return []
    return sorted(
        p for p in CORPUS.rglob("*") if p.is_file() and p.name not in ("MANIFEST.tsv", "SOURCES.md")
    )


LOCAL_FILES = (
    sorted(SAMPLES.glob("*.837"))
    + sorted(FIXTURES.rglob("*.837"))
    + sorted((FIXTURES / "envelope").glob("*.x12"))
)


def label(path: Path) -> str:
    return f"{path.parent.name}/{path.name}"


def segments(data: bytes) -> list[list[str]]:
    """The segments of an acknowledgement as element lists (delimiters from its ISA)."""
    return [seg.elements for seg in read_segments(data)]


def acks_of(path: Path, engine: Engine, **options: object) -> dict[str, bytes]:
    return build_acks(path, engine=engine, now=NOW, **options).files  # type: ignore[arg-type]


# -- golden files ----------------------------------------------------------------------------

GOLDEN_CASES = {
    # a clean file: 999 IK5 A, 277CA with its claim accepted (A2:20)
    "clean-injection": (SAMPLES / "clean-injection.837", {"999", "277ca"}),
    # SE01 of transaction 0001 is wrong: IK5 R with IK502 4; the 277CA answers only 0002
    "wrong-se01": (GOLDEN / "wrong-se01.837", {"999", "277ca"}),
    # no NDC on a Medicaid drug line: the 999 accepts, the 277CA rejects the claim (A6:218)
    "missing-ndc": (SAMPLES / "missing-ndc.837", {"999", "277ca"}),
    # IEA02 differs from ISA13: TA1 R with note 001 and no 999
    "iea-mismatch": (GOLDEN / "iea-mismatch.837", {"ta1"}),
}


@pytest.mark.parametrize("name", sorted(GOLDEN_CASES))
def test_golden_acknowledgements(name: str, engine: Engine, tmp_path: Path) -> None:
    source, kinds = GOLDEN_CASES[name]
    written = write_acks(source, tmp_path, engine=engine, now=NOW, name=name)
    assert {p.suffix[1:] for p in written} == kinds
    for path in written:
        golden = GOLDEN / path.name
        if UPDATE:
            shutil.copyfile(path, golden)
        assert path.read_bytes() == golden.read_bytes(), f"{path.name} differs from its golden"


def test_clean_file_is_accepted_everywhere(engine: Engine) -> None:
    files = acks_of(SAMPLES / "clean-injection.837", engine)
    ack = segments(files["999"])
    assert ["IK5", "A"] in ack and ["AK9", "A", "1", "1", "1"] in ack
    statuses = [s[1] for s in segments(files["277ca"]) if s[0] == "STC"]
    assert statuses[-1] == "A2:20"
    assert "ta1" not in files  # ISA14 is 0 and the envelope is sound


def test_wrong_se01_rejects_only_its_transaction(engine: Engine) -> None:
    files = acks_of(GOLDEN / "wrong-se01.837", engine)
    ack = segments(files["999"])
    assert ack[ack.index(["AK2", "837", "0001", "005010X222A1"]) + 1] == ["IK5", "R", "4"]
    assert ["AK9", "P", "2", "2", "1"] in ack
    answered = [s[2] for s in segments(files["277ca"]) if s[0] == "TRN" and s[1] == "2"]
    # 0001 held MULTI0001 and MULTI0002; only the claims of 0002 are answered.
    assert "MULTI0001" not in answered and "MULTI0002" not in answered
    assert {"MULTI0003", "MULTI0004"} <= set(answered)


def test_missing_ndc_under_medicaid_is_a_277ca_rejection(engine: Engine) -> None:
    files = acks_of(SAMPLES / "missing-ndc.837", engine)
    assert ["IK5", "A"] in segments(files["999"])
    claim = segments(files["277ca"])
    trn = claim.index(["TRN", "2", "MISSNDC01"])
    stc = claim[trn + 1]
    assert stc[0] == "STC" and stc[1] == "A6:218" and stc[3] == "U" and stc[4] == "168"
    # The line the finding is about: SVC with its own STC.
    assert ["SVC", "HC:J1885:JZ", "8", "", "", "", "", "2"] in claim


def test_iea_mismatch_is_a_ta1_rejection(engine: Engine) -> None:
    files = acks_of(GOLDEN / "iea-mismatch.837", engine)
    assert set(files) == {"ta1"}
    assert ["TA1", "000000101", "250317", "0930", "R", "001"] in segments(files["ta1"])


# -- pyx12 validates every acknowledgement ---------------------------------------------------

TA1_LAYOUT = re.compile(r"^TA1(.)\d{9}\1\d{6}\1\d{4}\1[AER]\1\d{3}$")
VALIDATED = {"acknowledgements": 0, "ta1": 0}


@pytest.fixture(scope="module", autouse=True)
def report() -> Iterator[None]:
    yield
    print(
        f"\nacks: {VALIDATED['acknowledgements']} 999/277CA validated by pyx12, "
        f"{VALIDATED['ta1']} TA1 checked for layout; differential {DIFFERENTIAL}"
    )


def check_ta1(data: bytes) -> None:
    found = read_segments(data)
    assert [s.id for s in found] == ["ISA", "TA1", "IEA"] * (len(found) // 3)
    for seg in found:
        if seg.id == "TA1":
            assert TA1_LAYOUT.match(seg.text), seg.text
        if seg.id == "ISA":
            assert len(seg.text) == 105  # 106 with its terminator
    VALIDATED["ta1"] += 1


def validate(path: Path, engine: Engine, workdir: Path) -> None:
    folder = workdir / "acks"
    folder.mkdir(parents=True)
    try:
        written = write_acks(path, folder, engine=engine, now=NOW)
    except X12SyntaxError:
        # Not an 837P 5010 file, or not X12: nothing is acknowledged and nothing is written.
        assert not any(folder.iterdir())
        return
    assert written, "an 837P file gets at least one acknowledgement"
    for ack in written:
        if ack.suffix == ".ta1":
            check_ta1(ack.read_bytes())
            continue
        assert verdict(ack, workdir / "pyx12") == "OK", ack.read_text()
        VALIDATED["acknowledgements"] += 1


@pytest.mark.parametrize("path", LOCAL_FILES, ids=label)
def test_acknowledgements_of_local_files_pass_pyx12(
    path: Path, engine: Engine, tmp_path: Path
) -> None:
    validate(path, engine, tmp_path)


@pytest.mark.corpus
@pytest.mark.parametrize("path", corpus_files(), ids=label)
def test_acknowledgements_of_corpus_files_pass_pyx12(
    path: Path, engine: Engine, tmp_path: Path
) -> None:
    validate(path, engine, tmp_path)


def test_other_delimiters_still_validate(engine: Engine, tmp_path: Path) -> None:
    code, out, err = invoke(
        "ack", str(SAMPLES / "multi.837"), "-o", str(tmp_path), "--delimiters", "|^!{"
    )
    assert code == 0, err
    data = (tmp_path / "multi.277ca").read_bytes()
    assert data.startswith(b"ISA|00|") and b"!\n" in data
    for kind in ("999", "277ca"):
        assert verdict(tmp_path / f"multi.{kind}", tmp_path / "pyx12") == "OK"


# -- the split decides -----------------------------------------------------------------------


def claim_ids(path: Path) -> list[str]:
    return [seg.element(1) for seg in read_segments(path.read_bytes()) if seg.id == "CLM"]


@pytest.mark.parametrize(
    "path",
    [p for p in LOCAL_FILES if p.parent.name != "envelope"]
    + [pytest.param(p, marks=pytest.mark.corpus) for p in corpus_files()],
    ids=label,
)
def test_the_277ca_accepts_exactly_the_claims_split_accepts(
    path: Path, engine: Engine, tmp_path: Path
) -> None:
    try:
        result = api.split(path, tmp_path, name="out", engine=engine)
    except X12SyntaxError:
        with pytest.raises(X12SyntaxError):
            build_acks(path, engine=engine, now=NOW)
        return
    accepted = set(claim_ids(result.accepted_path)) if result.accepted else set()
    files = build_acks(path, engine=engine, now=NOW).files
    answers = segments(files["277ca"]) if "277ca" in files else []
    said_accepted = {
        answers[i][2]
        for i, seg in enumerate(answers)
        if seg[:2] == ["TRN", "2"] and answers[i + 1][1].startswith("A2")
    }
    assert said_accepted == accepted


# -- differential against pyx12's own 999 ----------------------------------------------------

# Files where pyx12's 999 and ours take a different decision, each for a reason that
# docs/acks.md explains under the same heading.
DELIBERATE = {
    "x222a1-examples/oxygen.edi": "errors confined to claims",
    "x222a1-examples/wheelchair.edi": "errors confined to claims",
    "linuxforhealth/demo.drug.example10.1.837": "no pyx12 map",
    "linuxforhealth/demo.drug.example10.2.837": "no pyx12 map",
    "linuxforhealth/demo.drug.example10.3.837": "no pyx12 map",
    "imsweb/x12_bad_first_line.txt": "pyx12 cannot read the envelope",
    "staedi/sample837-original.edi": "pyx12 cannot read the envelope",
}
DIFFERENTIAL = {"files": 0, "agree": 0, "deliberate": 0, "transactions": 0}


def decisions(data: str) -> dict[tuple[str, str], bool]:
    """Accepted (IK5 A or E, in a group not rejected by AK9) per (GS06, ST02)."""
    found: dict[tuple[str, str], bool] = {}
    group = st = ""
    for text in data.replace("\n", "").split("~"):
        element = text.strip().split("*")
        if element[0] == "AK1":
            group = element[2]
        elif element[0] == "AK2":
            st = element[2]
        elif element[0] == "IK5":
            found[(group, st)] = element[1] in ("A", "E")
        elif element[0] == "AK9" and element[1] == "R":
            found = {k: (v and k[0] != group) for k, v in found.items()}
            found[(group, "*")] = False
    return found


def pyx12_999(path: Path, workdir: Path) -> dict[tuple[str, str], bool] | None:
    workdir.mkdir(parents=True, exist_ok=True)
    copy = workdir / path.name
    shutil.copyfile(path, copy)
    subprocess.run([str(X12VALID), copy.name], cwd=workdir, capture_output=True, check=False)
    for candidate in (copy.with_suffix(".997"), workdir / f"{copy.name}.997"):
        if candidate.is_file():
            text = candidate.read_text(encoding="latin-1")
            return decisions(text) if "ST*999" in text else None
    return None


def ours(path: Path, engine: Engine) -> dict[tuple[str, str], bool] | None:
    """Our decision per transaction set; a TA1 R rejects every set of the interchange."""
    try:
        files = build_acks(path, engine=engine, now=NOW).files
    except X12SyntaxError:
        return None
    if "999" in files:
        return decisions(files["999"].decode())
    if b"*R*" in files.get("ta1", b""):
        return {("*", "*"): False}
    return None


def same(
    mine: dict[tuple[str, str], bool] | None, theirs: dict[tuple[str, str], bool] | None
) -> bool:
    if mine is None or theirs is None:
        return mine is None and (theirs is None or not any(k[1] != "*" for k in theirs))
    if set(mine) == {("*", "*")}:  # a TA1 rejection: pyx12 must reject every set too
        return not any(theirs.values())
    return all(theirs.get(key) == value for key, value in mine.items() if key[1] != "*")


@pytest.mark.corpus
@pytest.mark.parametrize("path", corpus_files(), ids=label)
def test_accept_reject_decisions_agree_with_pyx12(
    path: Path, engine: Engine, tmp_path: Path
) -> None:
    mine = ours(path, engine)
    theirs = pyx12_999(path, tmp_path)
    if mine is None and theirs is not None:
        # A 4010 or non-837P file: pyx12 answers with a 997 (no ST*999), we answer nothing.
        theirs = None
    DIFFERENTIAL["files"] += 1
    DIFFERENTIAL["transactions"] += len([k for k in (mine or {}) if k[1] != "*"])
    name = label(path)
    if same(mine, theirs):
        assert name not in DELIBERATE, f"{name} now agrees with pyx12: drop it from DELIBERATE"
        DIFFERENTIAL["agree"] += 1
        return
    assert name in DELIBERATE, f"{name}: ours {mine}, pyx12 {theirs}"
    page = (ROOT / "docs" / "acks.md").read_text(encoding="utf-8")
    assert DELIBERATE[name] in page and path.name in page
    DIFFERENTIAL["deliberate"] += 1


# -- mapping, documentation, privacy ---------------------------------------------------------


def test_every_rule_code_has_an_acknowledgement_mapping() -> None:
    codes = {rule.code for rule in default_registry()}
    assert sorted(codes - set(ACKS)) == []
    assert sorted(set(ACKS) - codes) == []


def test_docs_acks_table_is_up_to_date() -> None:
    page = ack_docs.PAGE.read_text(encoding="utf-8")
    assert ack_docs.render(page) == page, "run: python -m edi837.acks.docs"


def test_no_patient_data_in_a_999(engine: Engine, tmp_path: Path) -> None:
    text = (SAMPLES / "clean-injection.837").read_text()
    name = "TESTPATIENT" + "X" * 60  # NM103 too long: an element error on the patient's NM1
    source = tmp_path / "long-name.837"
    source.write_text(text.replace("NM1*IL*1*TESTPATIENT*", f"NM1*IL*1*{name}*"))
    files = acks_of(source, engine)
    ack = segments(files["999"])
    ik4 = [s for s in ack if s[0] == "IK4"]
    assert ik4 and all(len(s) < 5 for s in ik4)  # no IK404
    assert b"TESTPATIENT" not in files["999"]


def test_a_ta1_is_sent_when_asked_for(engine: Engine, tmp_path: Path) -> None:
    text = (SAMPLES / "clean-injection.837").read_text()
    source = tmp_path / "asks.837"
    source.write_text(text.replace("*000000101*0*T*", "*000000101*1*T*"))
    files = acks_of(source, engine)
    assert ["TA1", "000000101", "250317", "0930", "A", "000"] in segments(files["ta1"])
    assert {"999", "277ca"} <= set(files)


def test_responder_envelope(engine: Engine) -> None:
    files = acks_of(SAMPLES / "crlf.837", engine, control_number=41)
    isa = files["999"].split(b"~")[0].decode()
    assert isa.split("*")[6].strip() == "EDI837TESTRCV"  # sender and receiver swapped
    assert isa.split("*")[8].strip() == "EDI837TESTSUB"
    assert isa.split("*")[13:16] == ["000000041", "0", "T"]
    assert isa.split("*")[9:11] == ["250318", "1030"]
    assert b"~\r\n" in files["999"]  # the input's line ends
    assert files["277ca"].split(b"~")[0].split(b"*")[13] == b"000000043"  # 999 used 41, 42


# -- command line ----------------------------------------------------------------------------


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_ack_command_writes_the_types_asked_for(tmp_path: Path) -> None:
    code, out, err = invoke(
        "ack", str(SAMPLES / "missing-ndc.837"), "-o", str(tmp_path), "--types", "999"
    )
    assert code == 0, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["missing-ndc.999"]
    assert "missing-ndc.999" in out


def test_an_acknowledgement_is_never_acknowledged(tmp_path: Path) -> None:
    code, _, err = invoke("ack", str(SAMPLES / "clean-injection.837"), "-o", str(tmp_path))
    assert code == 0, err
    answers = tmp_path / "answers"
    code, _, err = invoke("ack", str(tmp_path / "clean-injection.999"), "-o", str(answers))
    assert code == 2
    assert "no 837P transaction" in err and "Traceback" not in err
    assert not answers.exists() or not any(answers.iterdir())


def test_bad_input_is_one_line_and_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.837"
    bad.write_text("this is not X12")
    code, _, err = invoke("ack", str(bad), "-o", str(tmp_path / "out"))
    assert code == 2
    assert len([line for line in err.splitlines() if "bad.837" in line]) == 1
    assert "Traceback" not in err


def test_unknown_type_is_a_usage_error(tmp_path: Path) -> None:
    code, _, err = invoke("ack", str(SAMPLES / "multi.837"), "--types", "997")
    assert code == 2 and "unknown acknowledgement type" in err


def test_delimiters_that_occur_in_the_data_are_refused(tmp_path: Path) -> None:
    text = (SAMPLES / "clean-injection.837").read_text()
    source = tmp_path / "apostrophe.837"
    source.write_text(text.replace("NM1*IL*1*TESTPATIENT*", "NM1*IL*1*O'TESTPATIENT*"))
    out = tmp_path / "out"
    code, _, err = invoke("ack", str(source), "-o", str(out), "--delimiters", "*:'^")
    assert code == 2
    assert "contains one of the delimiters" in err and "TESTPATIENT" not in err
    assert not any(out.iterdir())  # nothing half-written

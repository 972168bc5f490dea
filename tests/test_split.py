"""``edi837 split``: accepted and rejected interchanges a clearinghouse can send on and return.

Each output is re-read with the project's own envelope checker and loop builder (no ENV or HL
finding), its HL tree and trailer counts are checked directly, and the claims of the two outputs
together must be the claims of the input, segment for segment and with the same billing
provider, subscriber and patient levels. pyx12's ``x12valid`` is the outside judge.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from edi837.cli import main
from edi837.x12.reader import SegmentReader, read_segments
from edi837.x837p.builder import UnitReader
from edi837.x837p.model import Party
from tests.x12valid import X12VALID, verdict

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples"
MULTI = SAMPLES / "multi.837"
CLEAN = SAMPLES / "clean-injection.837"
MIXED = ROOT / "tests" / "fixtures" / "split" / "mixed.837"
GENERATOR = ROOT / "bench" / "gen837.py"


def invoke(*args: str, input: bytes | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), input=input)
    return result.exit_code, result.stdout, result.stderr


def split(source: Path, folder: Path, *options: str) -> str:
    code, out, err = invoke("split", str(source), "-d", str(folder), *options)
    # Exit code 1 tells a script that claims were returned.
    assert code == (1 if " rejected -> " in out else 0), err
    return out


def generate(target: Path, *options: str) -> Path:
    subprocess.run(
        [sys.executable, str(GENERATOR), *options, "--out", str(target)],
        check=True,
        capture_output=True,
    )
    return target


def outputs(folder: Path, name: str) -> tuple[Path, Path]:
    return folder / f"{name}.accepted.837", folder / f"{name}.rejected.837"


# -- what a claim is, wherever it is written -----------------------------------------------


@dataclass(frozen=True)
class ClaimRecord:
    """A claim with everything that must survive the split unchanged."""

    envelope: tuple[str, str, str]  # ISA13, GS06, ST02
    context: tuple[str, ...]  # its 2000A/2000B/2000C levels, HL numbers and HL04 aside
    segments: tuple[str, ...]  # its 2300 loop and everything nested in it


def _without_hl_numbers(text: str) -> str:
    elements = text.split("*")
    if elements[0] == "HL":
        for position in (1, 2, 4):
            if position < len(elements):
                elements[position] = ""
    return "*".join(elements)


def _party(party: Party | None) -> tuple[str, ...]:
    if party is None:
        return ("(none)",)
    return tuple(_without_hl_numbers(seg.text) for seg in party.all_segments())


def claims_of(path: Path) -> dict[str, ClaimRecord]:
    found: dict[str, ClaimRecord] = {}
    with open(path, "rb") as stream:
        for unit in UnitReader(SegmentReader(stream, str(path))):
            claim = unit.claim
            if claim is None:
                continue
            assert claim.id not in found, f"{path.name}: claim {claim.id} twice"
            envelope = claim.envelope
            found[claim.id] = ClaimRecord(
                (envelope.interchange, envelope.group, envelope.transaction),
                _party(claim.billing) + _party(claim.subscriber) + _party(claim.patient),
                tuple(seg.text for seg, _ in unit.segments),
            )
    return found


# -- what makes an output a valid interchange ------------------------------------------------


def structure_findings(path: Path) -> list[str]:
    """Envelope and HL findings of the project's own reader on ``path``."""
    found = []
    with open(path, "rb") as stream:
        for unit in UnitReader(SegmentReader(stream, str(path))):
            found += [
                f"{f.code} {f.message}" for f in unit.findings if f.code.startswith(("ENV-", "HL-"))
            ]
    return found


def hl_problems(path: Path) -> list[str]:
    """HL01 from 1 per transaction set, HL02 naming the right parent, HL04 matching children."""
    problems: list[str] = []
    parents = {"20": "", "22": "20", "23": "22"}
    levels: list[tuple[str, str, str, str]] = []

    def settle() -> None:
        for index, (number, parent, code, children) in enumerate(levels, start=1):
            if number != str(index):
                problems.append(f"HL01 {number} where {index} was due")
            expected = parents.get(code)
            if expected == "":
                if parent:
                    problems.append(f"HL {number}: a billing provider level has parent {parent}")
            elif not any(n == parent and c == expected for n, _, c, _ in levels[: index - 1]):
                problems.append(f"HL {number} (level {code}): no level-{expected} parent {parent}")
            has = any(p == number for _, p, _, _ in levels)
            if children != ("1" if has else "0"):
                problems.append(f"HL {number}: HL04 {children} but children: {has}")

    for seg in read_segments(path.read_bytes()):
        if seg.id == "ST":
            levels = []
        elif seg.id == "HL":
            levels.append((seg[1], seg[2], seg[3], seg[4]))
        elif seg.id == "SE":
            settle()
    return problems


def trailer_problems(path: Path) -> list[str]:
    """SE01, GE01 and IEA01 count what the output holds; trailers repeat their control numbers."""
    problems: list[str] = []
    isa = gs = st = ""
    groups = transactions = segments = 0
    for seg in read_segments(path.read_bytes()):
        segments += 1
        if seg.id == "ISA":
            isa, groups = seg[13], 0
        elif seg.id == "GS":
            gs, transactions, groups = seg[6], 0, groups + 1
        elif seg.id == "ST":
            st, segments, transactions = seg[2], 1, transactions + 1
        elif seg.id == "SE" and (seg[1], seg[2]) != (str(segments), st):
            problems.append(f"{seg.text} closes ST {st} of {segments} segments")
        elif seg.id == "GE" and (seg[1], seg[2]) != (str(transactions), gs):
            problems.append(f"{seg.text} closes GS {gs} of {transactions} transaction sets")
        elif seg.id == "IEA" and (seg[1], seg[2]) != (str(groups), isa):
            problems.append(f"{seg.text} closes ISA {isa} of {groups} groups")
    return problems


def assert_valid_output(path: Path) -> None:
    assert structure_findings(path) == [], path.name
    assert hl_problems(path) == [], path.name
    assert trailer_problems(path) == [], path.name


def assert_same_claims(source: Path, accepted: Path, rejected: Path) -> None:
    """The two outputs hold exactly the input's claims, each with its context and envelope."""
    before = claims_of(source)
    kept = claims_of(accepted) if accepted.exists() else {}
    returned = claims_of(rejected) if rejected.exists() else {}
    assert not set(kept) & set(returned)
    assert {**kept, **returned} == before


def rejected_by_check(source: Path, fail_on: str, *options: str) -> set[str]:
    """The claims ``check`` reports a finding at or above ``fail_on`` for."""
    code, out, _ = invoke("check", str(source), "-f", "json", *options)
    assert code in (0, 1)
    rank = {"warning": 1, "deny-risk": 2, "reject": 3}
    findings = [
        f for f in json.loads(out)["files"][0]["findings"] if rank[f["severity"]] >= rank[fail_on]
    ]
    # Every finding of these inputs is inside a claim, so the claims decide the split alone.
    assert all(f["claim"] for f in findings)
    return {f["claim"] for f in findings}


def x12valid(path: Path, workdir: Path) -> str:
    """pyx12's verdict on a copy of ``path``."""
    return verdict(path, workdir)


# -- the samples -----------------------------------------------------------------------------


def test_multi_sends_the_claim_with_reject_findings_back(tmp_path: Path) -> None:
    out = split(MULTI, tmp_path)
    accepted, rejected = outputs(tmp_path, "multi")
    assert out.splitlines() == [
        f"3 claims accepted -> {accepted}",
        f"1 claim rejected -> {rejected}",
    ]
    assert set(claims_of(accepted)) == {"MULTI0001", "MULTI0002", "MULTI0003"}
    assert set(claims_of(rejected)) == {"MULTI0004"}
    assert_same_claims(MULTI, accepted, rejected)
    for path in (accepted, rejected):
        assert_valid_output(path)
    # Control numbers are the input's; the rejected file holds only the transaction set that
    # had a rejected claim.
    segments = read_segments(rejected.read_bytes())
    assert [seg[13] for seg in segments if seg.id == "ISA"] == ["000000103"]
    assert [seg[6] for seg in segments if seg.id == "GS"] == ["103"]
    assert [seg[2] for seg in segments if seg.id == "ST"] == ["0002"]


@pytest.mark.parametrize("sample", ["clean-injection", "crlf", "newline-terminated"])
def test_a_file_with_every_claim_accepted_is_written_back_unchanged(
    tmp_path: Path, sample: str
) -> None:
    source = SAMPLES / f"{sample}.837"
    out = split(source, tmp_path)
    accepted, rejected = outputs(tmp_path, sample)
    assert out.splitlines() == [
        f"1 claim accepted -> {accepted}",
        f"no claim rejected; {sample}.rejected.837 not written",
    ]
    assert not rejected.exists()
    # Delimiters, line ends and the layout around segments are the input's.
    assert accepted.read_bytes() == source.read_bytes()


def test_outputs_keep_the_encoding_of_the_input(tmp_path: Path) -> None:
    source = tmp_path / "wide.837"
    source.write_bytes(MULTI.read_text().encode("utf-16"))  # with a byte order mark
    split(source, tmp_path)
    split(MULTI, tmp_path)
    for wide, narrow in zip(outputs(tmp_path, "wide"), outputs(tmp_path, "multi"), strict=True):
        assert wide.read_bytes().startswith(b"\xff\xfe")
        assert wide.read_bytes().decode("utf-16") == narrow.read_text()


def test_no_claim_accepted_leaves_the_accepted_file_out(tmp_path: Path) -> None:
    source = tmp_path / "in" / "multi.837"
    source.parent.mkdir()
    # Every claim gets a hyphenated NDC, as MULTI0004 already has.
    text = MULTI.read_text().replace("N4*00003029305", "N4*00003-0293-05")
    text = text.replace("N4*60505075100", "N4*60505-0751-00").replace(
        "N4*00009307301", "N4*00009-3073-01"
    )
    source.write_text(text)
    out = split(source, tmp_path)
    accepted, rejected = outputs(tmp_path, "multi")
    assert out.splitlines() == [
        "no claim accepted; multi.accepted.837 not written",
        f"4 claims rejected -> {rejected}",
    ]
    assert not accepted.exists()
    assert rejected.read_bytes() == source.read_bytes()


def test_several_interchanges_and_groups_keep_only_what_has_claims(tmp_path: Path) -> None:
    code, out, err = invoke("split", str(MIXED), "-d", str(tmp_path))
    assert code == (1 if " rejected -> " in out else 0)
    assert (
        "transaction 3001 is an 835 (005010X221A1), not a 5010 837P (005010X222A1); skipped"
    ) in err
    accepted, rejected = outputs(tmp_path, "mixed")
    assert set(claims_of(accepted)) == {"MULTI0001", "MULTI0002", "MULTI0003", "CLEAN0001"}
    assert set(claims_of(rejected)) == {"MULTI0004"}
    assert_same_claims(MIXED, accepted, rejected)

    def envelope(path: Path) -> list[str]:
        return [
            f"{seg.id} {seg[13] if seg.id == 'ISA' else seg[6] if seg.id == 'GS' else seg[2]}"
            for seg in read_segments(path.read_bytes())
            if seg.id in ("ISA", "GS", "ST")
        ]

    assert envelope(accepted) == [
        "ISA 000000201",
        "GS 201",
        "ST 0001",
        "GS 203",
        "ST 0002",
        "ISA 000000202",
        "GS 204",
        "ST 0001",
    ]
    assert envelope(rejected) == ["ISA 000000201", "GS 203", "ST 0002"]
    for path in (accepted, rejected):
        assert_valid_output(path)
        assert b"BPR*" not in path.read_bytes()  # the 835 went to neither


# -- generated files -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """300 claims with the generator's deliberate problems in a few of them."""
    folder = tmp_path_factory.mktemp("generated")
    return generate(folder / "gen300.837", "--claims", "300", "--seed", "5")


@pytest.mark.parametrize("fail_on", ["reject", "deny-risk", "warning"])
def test_generated_file_splits_on_the_findings_of_each_claim(
    generated: Path, tmp_path: Path, fail_on: str
) -> None:
    out = split(generated, tmp_path, "--fail-on", fail_on)
    accepted, rejected = outputs(tmp_path, "gen300")
    expected = rejected_by_check(generated, fail_on)
    assert expected and len(expected) < 300
    assert set(claims_of(rejected)) == expected
    assert len(claims_of(accepted)) == 300 - len(expected)
    assert_same_claims(generated, accepted, rejected)
    for path in (accepted, rejected):
        assert_valid_output(path)
    assert f"{len(expected)} claim{'s' if len(expected) > 1 else ''} rejected" in out


def test_fail_on_changes_the_split(generated: Path, tmp_path: Path) -> None:
    split(generated, tmp_path / "reject")
    split(generated, tmp_path / "warning", "--fail-on", "warning")
    strict = set(claims_of(outputs(tmp_path / "reject", "gen300")[1]))
    lenient = set(claims_of(outputs(tmp_path / "warning", "gen300")[1]))
    # Modifier 25 on the 96372 line is a deny risk: rejected only under --fail-on warning.
    assert strict < lenient


@pytest.mark.skipif(not X12VALID.exists(), reason="pyx12's x12valid is not installed in .venv")
def test_both_outputs_pass_x12valid_when_the_input_does(tmp_path: Path) -> None:
    source = generate(tmp_path / "clean60.837", "--claims", "60", "--seed", "11", "--clean")
    # Under the Medicare profile JW/JZ is required, which some commercial claims lack.
    split(source, tmp_path, "--profile", "medicare")
    accepted, rejected = outputs(tmp_path, "clean60")
    assert claims_of(accepted) and claims_of(rejected)
    assert any(seg.id == "HL" and seg[3] == "23" for seg in read_segments(rejected.read_bytes()))
    workdir = tmp_path / "x12valid"
    workdir.mkdir()
    assert x12valid(source, workdir) == "OK"
    assert x12valid(accepted, workdir) == "OK"
    assert x12valid(rejected, workdir) == "OK"


# -- hierarchical levels ---------------------------------------------------------------------


def _subscriber_with_own_and_dependant_claims(folder: Path) -> Path:
    """multi.837 with a claim of the subscriber herself (MULTI0005) before her child's claim.

    MULTI0002 (the child's, under 2000C) and MULTI0004 get a hyphenated NDC; MULTI0004's unit
    is corrected, so pyx12 accepts the file.
    """
    text = MULTI.read_text()
    own = text[text.index("CLM*MULTI0001") : text.index("HL*3*1*22*1")]
    text = text.replace("HL*4*3*23*0", own.replace("MULTI0001", "MULTI0005") + "HL*4*3*23*0")
    text = text.replace("SE*62*0001", f"SE*{62 + own.count('~')}*0001")
    text = text.replace("N4*60505075100", "N4*60505-0751-00").replace("30*MG", "30*ME")
    source = folder / "family.837"
    source.write_text(text)
    return source


def _levels_before(path: Path, claim_id: str) -> list[str]:
    """The HL segments of the transaction set up to the claim, as written."""
    levels: list[str] = []
    for seg in read_segments(path.read_bytes()):
        if seg.id == "ST":
            levels = []
        elif seg.id == "HL":
            levels.append(seg.text)
        elif seg.id == "CLM" and seg[1] == claim_id:
            return levels
    raise AssertionError(f"{claim_id} not in {path.name}")


def test_a_patient_claim_carries_its_subscriber_and_patient_levels(tmp_path: Path) -> None:
    source = _subscriber_with_own_and_dependant_claims(tmp_path)
    assert structure_findings(source) == []
    split(source, tmp_path)
    accepted, rejected = outputs(tmp_path, "family")
    assert set(claims_of(accepted)) == {"MULTI0001", "MULTI0003", "MULTI0005"}
    assert set(claims_of(rejected)) == {"MULTI0002", "MULTI0004"}
    assert_same_claims(source, accepted, rejected)
    # The child's claim: billing provider 1, her parent as subscriber 2 (with a child here),
    # the child as patient 3 under 2.
    assert _levels_before(rejected, "MULTI0002") == ["HL*1**20*1", "HL*2*1*22*1", "HL*3*2*23*0"]
    # The parent's own claim stayed behind: here she has no child level below her.
    assert _levels_before(accepted, "MULTI0005") == [
        "HL*1**20*1",
        "HL*2*1*22*0",
        "HL*3*1*22*0",
    ]
    for path in (accepted, rejected):
        assert_valid_output(path)
    if X12VALID.exists():
        workdir = tmp_path / "x12valid"
        workdir.mkdir()
        assert x12valid(source, workdir) == "OK"
        assert x12valid(accepted, workdir) == "OK"
        assert x12valid(rejected, workdir) == "OK"


# -- findings outside claims -----------------------------------------------------------------


def test_findings_outside_claims_reject_every_claim_of_their_level(tmp_path: Path) -> None:
    source = tmp_path / "levels.837"
    text = MULTI.read_text()
    # A subscriber gender code outside the guide's list (2010BA of HL 3, MULTI0002's parent)
    # and, in the second transaction set, an SE01 that does not count its segments.
    text = text.replace("DMG*D8*19850611*M", "DMG*D8*19850611*X")
    text = text.replace("SE*56*0002", "SE*55*0002")
    source.write_text(text)
    out = split(source, tmp_path)
    accepted, rejected = outputs(tmp_path, "levels")
    assert set(claims_of(accepted)) == {"MULTI0001"}
    assert set(claims_of(rejected)) == {"MULTI0002", "MULTI0003", "MULTI0004"}
    assert_same_claims(source, accepted, rejected)
    lines = out.splitlines()
    assert lines[:2] == [f"1 claim accepted -> {accepted}", f"3 claims rejected -> {rejected}"]
    assert "  1 claim of subscriber level HL 3: ELM-003 at segment 41" in lines
    assert "  2 claims of transaction set 0002: ENV-008 at segment 120" in lines
    # The outputs carry a recounted SE01 all the same.
    for path in (accepted, rejected):
        assert_valid_output(path)


def test_ignored_findings_do_not_reject(tmp_path: Path) -> None:
    source = tmp_path / "levels.837"
    source.write_text(MULTI.read_text().replace("SE*56*0002", "SE*55*0002"))
    split(source, tmp_path, "--ignore", "ENV-008,NDC,CTP,ELM")
    accepted, rejected = outputs(tmp_path, "levels")
    assert len(claims_of(accepted)) == 4 and not rejected.exists()


# -- inputs, names and errors ----------------------------------------------------------------


def test_standard_input_needs_a_name_or_is_called_stdin(tmp_path: Path) -> None:
    code, out, _ = invoke("split", "-", "-d", str(tmp_path), input=MULTI.read_bytes())
    assert code == 1 and f"-> {tmp_path / 'stdin.accepted.837'}" in out
    code, out, _ = invoke(
        "split", "-", "-d", str(tmp_path), "--name", "batch7", input=MULTI.read_bytes()
    )
    assert code == 1
    assert outputs(tmp_path, "batch7")[1].read_bytes() == outputs(tmp_path, "stdin")[1].read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "batch7.accepted.837",
        "batch7.rejected.837",
        "stdin.accepted.837",
        "stdin.rejected.837",
    ]


def test_an_output_of_an_earlier_split_that_is_not_due_is_removed(tmp_path: Path) -> None:
    source = tmp_path / "claims.837"
    source.write_bytes(MULTI.read_bytes())
    split(source, tmp_path)
    source.write_bytes(CLEAN.read_bytes())
    out = split(source, tmp_path)
    accepted, rejected = outputs(tmp_path, "claims")
    assert out.splitlines()[1] == (
        "no claim rejected; claims.rejected.837 not written "
        "(the one of an earlier split was removed)"
    )
    assert not rejected.exists() and accepted.read_bytes() == CLEAN.read_bytes()


def test_bad_input_is_one_line_and_writes_nothing(tmp_path: Path) -> None:
    code, _, err = invoke("split", str(SAMPLES / "README.md"), "-d", str(tmp_path))
    assert code == 2
    problems = [line for line in err.splitlines() if "note:" not in line]
    assert problems == [
        f"{SAMPLES / 'README.md'}: segment 1 (byte 0): the file does not start with an ISA "
        "segment; an X12 interchange must begin with ISA"
    ]
    assert list(tmp_path.iterdir()) == []


def test_a_file_without_837p_is_bad_input(tmp_path: Path) -> None:
    lines = MIXED.read_text().splitlines()
    isa, iea = lines[0], "IEA*1*000000201~"
    remittance = lines[lines.index("GE*1*201~") + 1 : lines.index("GE*1*202~") + 1]
    source = tmp_path / "remit.835"
    source.write_text("\n".join([isa, *remittance, iea]) + "\n")
    code, out, err = invoke("split", str(source), "-d", str(tmp_path))
    assert code == 2 and out == ""
    assert "no 837P transaction in the file" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["remit.835"]


def test_usage_errors(tmp_path: Path) -> None:
    code, _, err = invoke("split", str(MULTI), "--name", "../elsewhere", "-d", str(tmp_path))
    assert code == 2 and "--name must be a file name" in err
    code, _, err = invoke("split")
    assert code == 2 and "Missing argument" in err
    code, _, err = invoke("split", str(MULTI), "--fail-on", "never")
    assert code == 2
    code, _, err = invoke("split", str(tmp_path / "absent.837"), "-d", str(tmp_path))
    assert code == 2 and "no such file" in err

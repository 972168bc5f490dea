"""Envelope checks ENV-001 to ENV-011: what each must report and what it must leave alone.

Most cases are edits of ``fixtures/envelope/clean-837p.x12`` (a complete 837P that pyx12's
``x12valid`` accepts), so each case shows exactly one thing going wrong, and the expected
findings are the complete list: a case also proves that nothing else is reported.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from edi837.findings import Applicability, EditKind, Finding, Severity
from edi837.x12.envelope import EnvelopeChecker, transaction_kind
from edi837.x12.reader import SegmentReader, read_segments
from edi837.x837p.builder import UnitReader
from tests.corpus import CORPUS

FIXTURES = Path(__file__).parent / "fixtures" / "envelope"
CLEAN = (FIXTURES / "clean-837p.x12").read_text(encoding="ascii")
SEVERAL = (FIXTURES / "several-documents.x12").read_text(encoding="ascii")

R = "reject"
W = "warning"


def check(text: str | bytes) -> tuple[list[Finding], EnvelopeChecker]:
    """The envelope and 837P header findings (ENV-*) of a document, as the reader reports them.

    The X12 envelope checker and the 837P header checker (fed by the loop tracker) run
    together in the unit reader; the other parser codes (element and loop checks) are left out.
    """
    raw = text.encode("latin-1") if isinstance(text, str) else text
    reader = UnitReader(SegmentReader(io.BytesIO(raw)))
    found = [f for unit in reader for f in unit.findings if f.code.startswith("ENV-")]
    return found, reader.envelope


def summary(found: list[Finding]) -> list[tuple[str, str, str | None, str | None]]:
    return sorted((f.code, f.severity.value, f.segment_id, f.element) for f in found)


def edited(*edits: tuple[str, str], base: str = CLEAN) -> str:
    text = base
    for old, new in edits:
        assert text.count(old) == 1, f"{old!r} must occur once in the base document"
        text = text.replace(old, new)
    return text


# A second transaction set for the group of the clean document, given its ST02.
def second_transaction(st02: str) -> str:
    return (
        f"ST*837*{st02}*005010X222A1~\n"
        "BHT*0019*00*ENV0202*20250401*1200*CH~\n"
        "NM1*41*2*EXAMPLE SUBMITTER*****46*ENVTESTSUB~\n"
        "PER*IC*SAMPLE CONTACT*TE*5555550100~\n"
        "NM1*40*2*EXAMPLE RECEIVER*****46*ENVTESTRCV~\n"
        "HL*1**20*0~\n"
        f"SE*7*{st02}~\n"
    )


@dataclass(frozen=True)
class Case:
    name: str
    text: str
    expected: list[tuple[str, str, str | None, str | None]]


CASES = [
    # ENV-001: the ISA is fixed-width.
    Case(
        "ENV-001 ISA02 one space short",
        edited(("*00*          *00*", "*00*         *00*")),
        [("ENV-001", R, "ISA", "ISA02")],
    ),
    Case(
        "ENV-001 ISA06 one space too long",
        edited(("*ZZ*ENVTESTSUB     *", "*ZZ*ENVTESTSUB      *")),
        [("ENV-001", R, "ISA", "ISA06")],
    ),
    Case(
        "ENV-001 ISA13 with eight digits",
        edited(("*000000201*0*T", "*00000201*0*T"), ("IEA*1*000000201", "IEA*1*00000201")),
        [("ENV-001", R, "ISA", "ISA13")],
    ),
    Case(
        "ENV-001 ISA09 with a four-digit year",
        edited(("*250401*1200*^", "*20250401*1200*^")),
        [("ENV-001", R, "ISA", "ISA09")],
    ),
    # ENV-002: four distinct delimiters, none of them inside data.
    Case(
        "ENV-002 repetition separator equals component separator",
        edited(("*1200*^*00501*", "*1200*:*00501*")),
        [("ENV-002", R, "ISA", "ISA11")],
    ),
    Case(
        "ENV-002 ISA11 keeps the 4010 'U' in a 00501 interchange",
        edited(("*1200*^*00501*", "*1200*U*00501*")),
        [("ENV-002", W, "ISA", "ISA11")],
    ),
    Case(
        "ENV-002 component separator inside GS02",
        edited(("GS*HC*ENVTESTSUB*", "GS*HC*ENV:TESTSUB*")),
        [("ENV-002", R, "GS", "GS02")],
    ),
    Case(
        "ENV-002 repetition separator inside ISA06",
        edited(("*ZZ*ENVTESTSUB     *", "*ZZ*ENVTEST^SUB    *")),
        [("ENV-002", R, "ISA", "ISA06")],
    ),
    Case(
        "ENV-002 segment terminator inside ISA08",
        edited(("*ZZ*ENVTESTRCV     *", "*ZZ*ENVTEST~RCV    *")),
        [("ENV-002", R, "ISA", "ISA08")],
    ),
    Case(
        "ENV-002 a letter as component separator, which ISA05 and ISA07 then contain",
        edited(("*0*T*:~", "*0*T*Z~")),
        [
            ("ENV-002", R, "ISA", "ISA05"),
            ("ENV-002", R, "ISA", "ISA07"),
            ("ENV-002", R, "ISA", "ISA16"),
            ("ENV-002", R, "N3", "N301"),  # the Z of SAMPLE PLAZA
        ],
    ),
    Case(
        "ENV-002 a repetition separator in a claim segment is reported once",
        edited(("N3*100 SAMPLE PLAZA~", "N3*100 SAMPLE^PLAZA~")),
        [("ENV-002", R, "N3", "N301")],
    ),
    # ENV-004: versions, only for transaction sets meant as 837P.
    Case(
        "ENV-004 ISA12 00401 around an 837P group",
        edited(("*^*00501*", "*^*00401*")),
        [("ENV-004", R, "ISA", "ISA12")],
    ),
    Case(
        "ENV-004 GS01 HP around an 837",
        edited(("GS*HC*", "GS*HP*")),
        [("ENV-004", R, "GS", "GS01")],
    ),
    Case(
        "ENV-004 GS08 and ST03 without the A1 errata",
        edited(
            ("*X*005010X222A1~", "*X*005010X222~"), ("*0201*005010X222A1~", "*0201*005010X222~")
        ),
        [("ENV-004", R, "GS", "GS08")],
    ),
    Case(
        "ENV-004 ST03 absent is a warning",
        edited(("ST*837*0201*005010X222A1~", "ST*837*0201~")),
        [("ENV-004", W, "ST", "ST03")],
    ),
    Case(
        "ENV-004 ST03 names another guide than GS08",
        edited(("ST*837*0201*005010X222A1~", "ST*837*0201*005010X223A2~")),
        [("ENV-004", R, "ST", "ST03")],
    ),
    Case(
        "ENV-004 ST01 835 in a group declared 837P",
        edited(("ST*837*0201", "ST*835*0201")),
        [("ENV-004", R, "ST", "ST01")],
    ),
    Case("ENV-004 not raised for an 835, an 837I or a 4010 837P", SEVERAL, []),
    # ENV-005: ISA13 = IEA02, and the interchange is closed.
    Case(
        "ENV-005 IEA02 differs from ISA13",
        edited(("IEA*1*000000201", "IEA*1*000000202")),
        [("ENV-005", R, "IEA", "IEA02")],
    ),
    Case(
        "ENV-005 ISA13 not digits",
        edited(("*000000201*0*T", "*00000020A*0*T"), ("IEA*1*000000201", "IEA*1*00000020A")),
        [("ENV-005", R, "ISA", "ISA13")],
    ),
    Case(
        "ENV-005 no IEA at the end of the file",
        edited(("IEA*1*000000201~\n", "")),
        [("ENV-005", R, "ISA", None)],
    ),
    Case(
        "ENV-005 no IEA before the next ISA",
        edited(("IEA*1*000000201~\n", "")) + CLEAN,
        [("ENV-005", R, "ISA", None)],
    ),
    Case(
        "ENV-005 IEA without an ISA",
        CLEAN + "IEA*1*000000201~\n",
        [("ENV-005", R, "IEA", None)],
    ),
    Case(
        "ENV-005 GS after the IEA",
        CLEAN + "GS*HC*ENVTESTSUB*ENVTESTRCV*20250401*1200*202*X*005010X222A1~\nGE*0*202~\n",
        [("ENV-005", R, "GS", None)],
    ),
    # ENV-006: GS06 = GE02, and the group is closed.
    Case(
        "ENV-006 GE02 differs from GS06",
        edited(("GE*1*201", "GE*1*202")),
        [("ENV-006", R, "GE", "GE02")],
    ),
    Case(
        "ENV-006 GS06 not numeric",
        edited(("*1200*201*X*", "*1200*2A1*X*"), ("GE*1*201", "GE*1*2A1")),
        [("ENV-006", R, "GS", "GS06")],
    ),
    Case(
        "ENV-006 no GE before the IEA",
        edited(("GE*1*201~\n", "")),
        [("ENV-006", R, "GS", None)],
    ),
    Case(
        "ENV-006 GE without a GS",
        edited(("GE*1*201~\n", "GE*1*201~\nGE*1*201~\n")),
        [("ENV-006", R, "GE", None)],
    ),
    Case(
        "ENV-006 ST between GE and IEA",
        edited(("GE*1*201~\n", "GE*1*201~\nST*835*0202*005010X221A1~\nSE*2*0202~\n")),
        [("ENV-006", R, "ST", None)],
    ),
    # ENV-007: ST02 = SE02, unique in the group, every segment inside a transaction set.
    Case(
        "ENV-007 SE02 differs from ST02",
        edited(("SE*23*0201", "SE*23*0202")),
        [("ENV-007", R, "SE", "SE02")],
    ),
    Case(
        "ENV-007 ST02 too short",
        edited(("ST*837*0201*", "ST*837*201*"), ("SE*23*0201", "SE*23*201")),
        [("ENV-007", R, "ST", "ST02")],
    ),
    Case(
        "ENV-007 ST02 used twice in one group",
        edited(("GE*1*201~\n", second_transaction("0201") + "GE*2*201~\n")),
        [("ENV-007", R, "ST", "ST02")],
    ),
    Case(
        "ENV-007 the same ST02 in two groups is fine",
        edited(
            ("IEA*1*", "IEA*2*"),
            (
                "GE*1*201~\n",
                "GE*1*201~\nGS*HC*ENVTESTSUB*ENVTESTRCV*20250401*1200*202*X*005010X222A1~\n"
                + second_transaction("0201")
                + "GE*1*202~\n",
            ),
        ),
        [],
    ),
    Case(
        "ENV-007 no SE before the GE",
        edited(("SE*23*0201~\n", "")),
        [("ENV-007", R, "ST", None)],
    ),
    Case(
        "ENV-007 SE without an ST",
        edited(("GE*1*201~\n", "SE*2*0202~\nGE*1*201~\n")),
        [("ENV-007", R, "SE", None)],
    ),
    Case(
        "ENV-007 a segment between SE and GE",
        edited(("GE*1*201~\n", "REF*EI*999999991~\nGE*1*201~\n")),
        [("ENV-007", R, "REF", None)],
    ),
    Case(
        "ENV-007 a DOS end-of-file mark after the IEA",
        CLEAN + "\x1a",
        [("ENV-007", R, "\x1a", None)],
    ),
    Case(
        "ENV-007 an interchange acknowledgment between ISA and GS is fine",
        edited(("GS*HC*", "TA1*000000101*250401*1200*A*000~\nGS*HC*")),
        [],
    ),
    # ENV-008: SE01 counts ST to SE.
    Case(
        "ENV-008 SE01 one short",
        edited(("SE*23*0201", "SE*22*0201")),
        [("ENV-008", R, "SE", "SE01")],
    ),
    Case(
        "ENV-008 SE01 one too many",
        edited(("SE*23*0201", "SE*24*0201")),
        [("ENV-008", R, "SE", "SE01")],
    ),
    Case(
        "ENV-008 SE01 not a number",
        edited(("SE*23*0201", "SE*XX*0201")),
        [("ENV-008", R, "SE", "SE01")],
    ),
    # ENV-009: GE01 and IEA01 counts.
    Case(
        "ENV-009 GE01 counts two transaction sets in a group of one",
        edited(("GE*1*201", "GE*2*201")),
        [("ENV-009", R, "GE", "GE01")],
    ),
    Case(
        "ENV-009 IEA01 counts no group",
        edited(("IEA*1*000000201", "IEA*0*000000201")),
        [("ENV-009", R, "IEA", "IEA01")],
    ),
    Case(
        "ENV-009 GE01 right for two transaction sets",
        edited(("GE*1*201~\n", second_transaction("0202") + "GE*2*201~\n")),
        [],
    ),
    # ENV-010: BHT.
    Case(
        "ENV-010 BHT01 not 0019",
        edited(("BHT*0019*", "BHT*0020*")),
        [("ENV-010", R, "BHT", "BHT01")],
    ),
    Case(
        "ENV-010 BHT02 13 is not an 837 purpose",
        edited(("BHT*0019*00*", "BHT*0019*13*")),
        [("ENV-010", R, "BHT", "BHT02")],
    ),
    Case(
        "ENV-010 BHT04 30 February",
        edited(("*ENV0201*20250401*", "*ENV0201*20250230*")),
        [("ENV-010", R, "BHT", "BHT04")],
    ),
    Case(
        "ENV-010 BHT04 in YYMMDD",
        edited(("*ENV0201*20250401*", "*ENV0201*250401*")),
        [("ENV-010", R, "BHT", "BHT04")],
    ),
    Case(
        "ENV-010 BHT05 hour 24",
        edited(("*20250401*1200*CH~", "*20250401*2400*CH~")),
        [("ENV-010", R, "BHT", "BHT05")],
    ),
    Case(
        "ENV-010 BHT06 not CH or RP",
        edited(("*1200*CH~", "*1200*31~")),
        [("ENV-010", R, "BHT", "BHT06")],
    ),
    Case(
        "ENV-010 reissue, reporting, time with seconds are fine",
        edited(
            ("BHT*0019*00*ENV0201*20250401*1200*CH~", "BHT*0019*18*ENV0201*20250401*120059*RP~")
        ),
        [],
    ),
    Case(
        "ENV-010 no BHT",
        edited(("BHT*0019*00*ENV0201*20250401*1200*CH~\n", ""), ("SE*23*", "SE*22*")),
        [("ENV-010", R, "HL", None)],
    ),
    Case(
        "ENV-010 BHT after the submitter name",
        edited(
            ("BHT*0019*00*ENV0201*20250401*1200*CH~\n", ""),
            ("PER*IC*", "BHT*0019*00*ENV0201*20250401*1200*CH~\nPER*IC*"),
        ),
        [("ENV-010", R, "BHT", None)],
    ),
    # ENV-011: 1000A and 1000B.
    Case(
        "ENV-011 submitter without PER",
        edited(("PER*IC*SAMPLE CONTACT*TE*5555550100~\n", ""), ("SE*23*", "SE*22*")),
        [("ENV-011", R, "NM1", None)],
    ),
    Case(
        "ENV-011 PER after the receiver instead of the submitter",
        edited(
            ("PER*IC*SAMPLE CONTACT*TE*5555550100~\n", ""),
            ("46*ENVTESTRCV~\n", "46*ENVTESTRCV~\nPER*IC*SAMPLE CONTACT*TE*5555550100~\n"),
        ),
        [("ENV-011", R, "NM1", None)],
    ),
    Case(
        "ENV-011 no receiver",
        edited(("NM1*40*2*EXAMPLE RECEIVER*****46*ENVTESTRCV~\n", ""), ("SE*23*", "SE*22*")),
        [("ENV-011", R, "HL", None)],
    ),
    Case(
        "ENV-011 no submitter",
        edited(
            ("NM1*41*2*EXAMPLE SUBMITTER*****46*ENVTESTSUB~\n", ""),
            ("PER*IC*SAMPLE CONTACT*TE*5555550100~\n", ""),
            ("SE*23*", "SE*21*"),
        ),
        [("ENV-011", R, "HL", None)],
    ),
    Case(
        "ENV-011 header without any HL is checked at SE",
        "\n".join(
            line
            for line in CLEAN.splitlines()
            if line.startswith(("ISA", "GS", "ST", "BHT", "NM1*41", "PER", "SE", "GE", "IEA"))
        )
        + "\n",
        [("ENV-008", R, "SE", "SE01"), ("ENV-011", R, "SE", None)],
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_envelope_case(case: Case) -> None:
    found, _ = check(case.text)
    assert summary(found) == sorted(case.expected), "\n".join(f.message for f in found)


def test_clean_document_has_no_findings() -> None:
    found, checker = check(CLEAN)
    assert found == []
    assert (checker.interchanges, checker.groups, checker.transactions) == (1, 1, 1)


@pytest.mark.parametrize(
    "layout",
    [
        pytest.param(lambda t: t.replace("~\n", "~\r\n"), id="CRLF"),
        pytest.param(lambda t: t.replace("~\n", "~"), id="one line"),
        pytest.param(lambda t: t.replace("~\n", "~\r"), id="CR"),
        pytest.param(lambda t: t.replace("~\n", "\n"), id="newline terminator"),
        pytest.param(lambda t: t.replace("~\n", "\r\n"), id="CRLF terminator"),
        pytest.param(lambda t: t.replace("~\n", "~\n\n"), id="blank lines"),
    ],
)
def test_consistent_layouts_are_not_findings(layout: Callable[[str], str]) -> None:
    found, _ = check(layout(CLEAN))
    assert summary(found) == []


def test_env003_mixed_line_breaks_reported_once_where_the_style_changes() -> None:
    lines = CLEAN.split("\n")
    # Segments 2-7 follow an LF; from segment 8 on they follow a CRLF, and one LF comes back.
    text = "\n".join(lines[:6]) + "\n" + "\r\n".join(lines[6:20]) + "\n" + "\r\n".join(lines[20:])
    found, _ = check(text)
    assert summary(found) == [("ENV-003", W, "HL", None)]
    (finding,) = found
    assert finding.segment_number == 8
    assert finding.fix is None
    assert "CRLF" in finding.message and "LF" in finding.message


def test_env003_crlf_line_in_a_newline_terminated_file() -> None:
    text = CLEAN.replace("~\n", "\n").replace("DMG*D8*19800101*F\n", "DMG*D8*19800101*F\r\n")
    found, _ = check(text)
    assert summary(found) == [("ENV-003", W, "DMG", None)]


def test_env001_pad_fix_is_unsafe_and_concrete() -> None:
    found, _ = check(edited(("*ZZ*ENVTESTSUB     *", "*ZZ*ENVTESTSUB    *")))
    (finding,) = found
    assert finding.message.startswith("ISA06 is 14 characters, must be 15")
    assert finding.fix is not None
    assert finding.fix.applicability is Applicability.UNSAFE
    (edit,) = finding.fix.edits
    assert edit.kind is EditKind.REPLACE
    assert (edit.segment_number, edit.element) == (1, "ISA06")
    assert edit.new == "ENVTESTSUB     "


def test_env001_control_number_width_has_no_fix() -> None:
    found, _ = check(
        edited(("*000000201*0*T", "*00000201*0*T"), ("IEA*1*000000201", "IEA*1*00000201"))
    )
    assert [f.fix for f in found] == [None]


def test_env001_file_not_starting_with_isa() -> None:
    checker = EnvelopeChecker()
    found: list[Finding] = []
    for seg in read_segments(CLEAN)[1:]:
        found += checker.feed(seg)
    found += checker.finish()
    first = [f for f in found if f.code == "ENV-001"]
    assert [(f.segment_id, f.segment_number) for f in first] == [("GS", 2)]
    assert "ISA" in first[0].message
    # The GS and everything after it are outside any interchange.
    assert ("ENV-005", "GS") in {(f.code, f.segment_id) for f in found}


def test_env001_nothing_fed() -> None:
    found = EnvelopeChecker().finish()
    assert [(f.code, f.severity) for f in found] == [("ENV-001", Severity.REJECT)]


def test_env008_finding_is_located_and_has_no_fix() -> None:
    text = edited(("SE*23*0201", "SE*22*0201"))
    (finding,) = check(text)[0]
    assert finding.segment_number == 25
    assert finding.line_number == 25
    assert finding.byte_offset == text.index("SE*22*0201")
    assert finding.interchange == "000000201"
    assert finding.transaction == "0201"
    assert finding.loop == "ST_LOOP"
    assert finding.fix is None
    assert "SE01 is '22'" in finding.message and "23 segments" in finding.message
    assert finding.segment_text == "SE*22*0201"
    assert (finding.column, finding.width) == (3, 2)


def test_version_finding_found_at_st_is_located_on_the_isa() -> None:
    (finding,) = check(edited(("*^*00501*", "*^*00401*")))[0]
    assert (finding.segment_id, finding.segment_number, finding.byte_offset) == ("ISA", 1, 0)
    assert finding.loop == "ISA_LOOP"
    assert finding.transaction is None
    assert "00401" in finding.message and "00501" in finding.message


def test_isa12_reported_once_per_interchange() -> None:
    text = edited(
        ("*^*00501*", "*^*00401*"), ("GE*1*201~\n", second_transaction("0202") + "GE*2*201~\n")
    )
    assert summary(check(text)[0]) == [("ENV-004", R, "ISA", "ISA12")]


def test_header_findings_carry_their_loops() -> None:
    text = edited(
        ("NM1*41*2*EXAMPLE SUBMITTER*****46*ENVTESTSUB~\n", ""),
        ("PER*IC*SAMPLE CONTACT*TE*5555550100~\n", ""),
        ("NM1*40*2*EXAMPLE RECEIVER*****46*ENVTESTRCV~\n", ""),
        ("BHT*0019*00*ENV0201*20250401*1200*CH~\n", ""),
        ("SE*23*", "SE*19*"),
    )
    found, _ = check(text)
    assert sorted((f.code, f.loop) for f in found) == [
        ("ENV-010", "HEADER"),
        ("ENV-011", "1000A"),
        ("ENV-011", "1000B"),
    ]
    assert {f.segment_number for f in found} == {4}  # the first HL


def test_state_follows_the_envelopes() -> None:
    checker = EnvelopeChecker()
    seen: dict[int, tuple[str, str, str, str, str, bool, str]] = {}
    for seg in read_segments(SEVERAL):
        assert checker.feed(seg) == []
        seen[seg.number] = (
            seg.id,
            checker.interchange,
            checker.group,
            checker.transaction,
            checker.version,
            checker.is_837p,
            checker.transaction_kind,
        )
    assert checker.finish() == []
    p837 = "837P (005010X222A1)"
    assert seen[3] == ("ST", "000000301", "301", "0301", "005010X222A1", True, p837)
    assert seen[9] == ("NM1", "000000301", "301", "0301", "005010X222A1", True, p837)
    # A trailer still belongs to the envelope it closes.
    assert seen[10] == ("SE", "000000301", "301", "0301", "005010X222A1", True, p837)
    assert seen[11] == ("GE", "000000301", "301", "", "005010X222A1", False, "")
    assert seen[13][3:] == ("3001", "005010X221A1", False, "835 (005010X221A1)")
    assert seen[19][3:] == ("4001", "005010X223A2", False, "837I (005010X223A2)")
    assert seen[26] == ("IEA", "000000301", "", "", "", False, "")
    assert seen[29][1:] == (
        "000000302",
        "304",
        "5001",
        "004010X098A1",
        False,
        "837P 4010 (004010X098A1)",
    )
    assert (checker.interchanges, checker.groups, checker.transactions) == (2, 4, 4)


@pytest.mark.parametrize(
    ("st01", "version", "kind"),
    [
        ("837", "005010X222A1", "837P (005010X222A1)"),
        ("837", "005010X223A2", "837I (005010X223A2)"),
        ("837", "005010X224A2", "837D (005010X224A2)"),
        ("835", "005010X221A1", "835 (005010X221A1)"),
        ("837", "004010X098A1", "837P 4010 (004010X098A1)"),
        ("278", "004010X094A1", "278 4010 (004010X094A1)"),
        ("837", "005010", "837 (005010)"),
        ("837", "", "837"),
        ("835", "005010X222A1", "835 (005010X222A1)"),
    ],
)
def test_transaction_kind(st01: str, version: str, kind: str) -> None:
    assert transaction_kind(st01, version) == kind


def test_non_envelope_segments_return_a_fresh_empty_list() -> None:
    checker = EnvelopeChecker()
    segments = read_segments(CLEAN)
    for seg in segments[:12]:
        checker.feed(seg)
    first = checker.feed(segments[12])
    first.append(Finding("X", Severity.WARNING, "caller's own list"))
    assert checker.feed(segments[13]) == []


# -- the shared corpus -----------------------------------------------------------------------


def corpus_findings(relative: str) -> list[Finding]:
    return check((CORPUS / relative).read_bytes())[0]


without_corpus = pytest.mark.skipif(
    not CORPUS.is_dir(), reason=f"shared corpus not found at {CORPUS}"
)


@pytest.mark.parametrize(
    "relative",
    [
        *(
            f"x222a1-examples/{p.name}"
            for p in sorted((CORPUS / "x222a1-examples").glob("*.edi"))
            if CORPUS.is_dir()
        ),
        "uhin/837.edi",
    ],
)
@pytest.mark.corpus
@without_corpus
def test_corpus_guide_examples_have_clean_envelopes(relative: str) -> None:
    assert corpus_findings(relative) == []


@pytest.mark.corpus
@without_corpus
def test_corpus_file_without_iea() -> None:
    found = corpus_findings("pyx12/x12testdata_fail_no_IEA.txt")
    assert ("ENV-005", "ISA") in {(f.code, f.segment_id) for f in found}


@pytest.mark.corpus
@without_corpus
def test_corpus_bad_first_line_names_the_short_element() -> None:
    found = corpus_findings("imsweb/x12_bad_first_line.txt")
    assert ("ENV-001", "ISA02") in {(f.code, f.element) for f in found}


@pytest.mark.corpus
@without_corpus
def test_corpus_two_transactions_with_one_control_number() -> None:
    found = corpus_findings("imsweb/x12_multiple_st.txt")
    codes = {(f.code, f.element) for f in found}
    assert ("ENV-007", "ST02") in codes
    assert ("ENV-009", "GE01") in codes


@pytest.mark.corpus
@without_corpus
def test_corpus_835_and_278_beside_an_837_are_not_version_errors() -> None:
    checker = EnvelopeChecker()
    kinds = set()
    found: list[Finding] = []
    data = (CORPUS / "pyx12" / "x12testdata_mult_isa.txt").read_bytes()
    for seg in SegmentReader(io.BytesIO(data)):
        found += checker.feed(seg)
        if seg.id == "ST":
            kinds.add(checker.transaction_kind)
    found += checker.finish()
    assert not [f for f in found if f.code == "ENV-004"]
    assert {"835 4010 (004010X091A1)", "278 4010 (004010X094A1)"} <= kinds


def test_env002_names_the_element_and_the_place_never_the_value() -> None:
    found, _ = check(
        edited(
            ("N3*100 SAMPLE PLAZA~", "N3*100 SAMPLE^PLAZA~"),
            ("GS*HC*ENVTESTSUB*", "GS*HC*ENVTEST:SUB*"),
        )
    )
    messages = {f.element: f.message for f in found if f.code == "ENV-002"}
    assert set(messages) == {"N301", "GS02"}
    assert "character 11 of 16" in messages["N301"] and "SAMPLE" not in messages["N301"]
    assert "character 8 of 11" in messages["GS02"] and "ENVTEST" not in messages["GS02"]


def test_env012_an_indented_run_is_one_warning_with_a_safe_edit_per_segment() -> None:
    lines = CLEAN.split("\n")
    text = "\n".join(lines[:5] + ["  " + line for line in lines[5:9]] + lines[9:])
    found, _ = check(text)
    assert summary(found) == [("ENV-012", W, lines[5][:3].rstrip("*"), None)]
    (finding,) = found
    assert finding.segment_number == 6 and "segments 6 to 9" in finding.message
    assert finding.fix is not None and finding.fix.applicability is Applicability.SAFE
    edits = finding.fix.edits
    assert [(e.kind, e.segment_number, e.old, e.new) for e in edits] == [
        (EditKind.REPLACE_LEAD, number, "\n  ", "\n") for number in range(6, 10)
    ]


def test_env012_indentation_everywhere_is_reported_in_parts_per_transaction() -> None:
    found, _ = check(CLEAN.replace("~\n", "~\n   "))
    # Every segment after the ISA is indented: one run up to the ST, one in the transaction
    # from the ST on, each a single warning.
    assert summary(found) == [("ENV-012", W, "GS", None), ("ENV-012", W, "ST", None)]


def test_env013_an_unterminated_iea_is_a_warning() -> None:
    text = CLEAN.rstrip("\n")
    assert text.endswith("~")
    found, _ = check(text[:-1])
    assert summary(found) == [("ENV-013", W, "IEA", None)]
    # A file whose terminator is the line break may simply end.
    newline = CLEAN.replace("~\n", "\n").rstrip("\n")
    assert check(newline)[0] == []


def test_fix_removes_indentation_and_keeps_every_segment(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from edi837.cli import main

    source = tmp_path / "indented.x12"
    source.write_text(CLEAN.rstrip("\n").replace("~\n", "~\n\t  ") + "\n", encoding="ascii")
    out = tmp_path / "fixed.x12"
    log = tmp_path / "fix.log"
    result = CliRunner().invoke(
        main, ["fix", str(source), "-o", str(out), "--select", "ENV-012", "--log", str(log)]
    )
    assert result.exit_code == 0, result.output
    assert out.read_text(encoding="ascii") == CLEAN
    result = CliRunner().invoke(main, ["check", "--select", "ENV", str(out)])
    assert result.exit_code == 0 and "ENV-012" not in result.stdout

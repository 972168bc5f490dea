"""The loop builder: claim units with their context, the runs between them, skipped sets."""

from __future__ import annotations

import tracemalloc
from collections.abc import Iterator
from itertools import chain
from pathlib import Path

from edi837 import api
from edi837.findings import Severity
from edi837.source import Source
from edi837.x12.reader import read_segments
from edi837.x12.segment import Delimiters, Segment
from edi837.x837p.builder import Unit, UnitReader
from edi837.x837p.model import Envelope
from edi837.x837p.tracker import UNKNOWN


def units_of(path: Path) -> tuple[list[Unit], UnitReader]:
    reader = UnitReader(read_segments(path.read_bytes()))
    return list(reader), reader


def test_a_file_is_cut_into_claims_and_the_runs_between_them(x837p_fixtures: Path) -> None:
    path = x837p_fixtures / "claims.837"
    units, reader = units_of(path)
    assert [unit.kind for unit in units] == [
        "segments", "segments", "claim", "segments", "claim", "segments",
    ]  # fmt: skip
    every = [seg.text for unit in units for seg, _ in unit.segments]
    assert every == [seg.text for seg in read_segments(path.read_bytes())]
    assert [seg.id for seg, _ in units[2].segments][:2] == ["CLM", "HI"]
    assert units[3].segments[0][0].text == "HL*3*1*22*1"  # the next HL ends the claim
    assert units[5].segments[0][0].id == "SE"
    summary = reader.summary
    assert (summary.interchanges, summary.transactions, summary.claims) == (1, 1, 2)
    assert (summary.service_lines, summary.skipped) == (5, 0)
    assert all(not unit.findings for unit in units)


def test_a_claim_carries_its_lines_and_its_context(x837p_fixtures: Path) -> None:
    units, _ = units_of(x837p_fixtures / "claims.837")
    claim = units[2].claim
    assert claim is not None
    assert claim.id == "FIX0001"
    assert claim.envelope == Envelope("000000201", "201", "0001", "005010X222A1")
    assert claim.billing_provider is not None and claim.billing_provider.npi == "1999999901"
    assert claim.billing is not None and claim.billing.loop("2010AB") is not None
    assert claim.payer_id == "EXMCR"
    assert claim.claim_filing_indicator == "MB"
    assert claim.patient is None  # SBR02 18: the subscriber is the patient
    assert claim.rendering is not None and claim.rendering.npi == "1999999919"
    assert claim.supervising is not None and claim.supervising.npi == "1999999927"
    assert [line.code for line in claim.lines] == ["99213", "96372", "J1885"]
    injection, drug = claim.lines[1], claim.lines[2]
    assert injection.rendering is not None and injection.rendering.npi == "1999999935"
    assert claim.rendering_npi(injection) == "1999999935"
    assert drug.drug is not None and (drug.drug.ndc, drug.drug.unit) == ("00409379501", "ML")
    assert drug.supervising is not None and drug.supervising.npi == "1999999943"
    assert [loop.loop_id for loop in drug.loops] == ["2410", "2420D"]
    assert [loop.loop_id for loop in claim.loops] == ["2310B", "2310D"]
    assert [seg.id for seg in claim.segments()] == [seg.id for seg, _ in units[2].segments]


def test_a_claim_under_a_patient_level_has_the_patient(x837p_fixtures: Path) -> None:
    units, _ = units_of(x837p_fixtures / "claims.837")
    claim = units[4].claim
    assert claim is not None and claim.id == "FIX0002"
    assert claim.patient is not None
    patient = claim.patient.loop("2010CA")
    assert patient is not None and patient.first("NM1") is not None
    assert patient.first("NM1").element(3) == "SAMPLECHILD"  # type: ignore[union-attr]
    assert claim.subscriber is not None and claim.claim_filing_indicator == "CI"
    assert claim.billing is units[2].claim.billing  # type: ignore[union-attr]
    assert claim.rendering is None
    assert [line.service_date_text for line in claim.lines] == ["20250315", "20250315-20250316"]


def test_findings_carry_the_claim_and_the_line(x837p_fixtures: Path) -> None:
    units, _ = units_of(x837p_fixtures / "line-problems.837")
    (claim_unit,) = [unit for unit in units if unit.kind == "claim"]
    found = {(f.code, f.segment_number): f for f in claim_unit.findings}
    assert all(f.claim == "PROB0001" for f in found.values())
    assert all((f.interchange, f.transaction) == ("000000203", "0001") for f in found.values())
    assert found["STR-005", 22].line == 1
    assert found["STR-005", 23].line == 3  # the line numbered 3, which has no service date
    assert found["ELM-003", 39].line == 4
    total = found["STR-004", 18]
    assert (total.line, total.element, total.severity) == (None, "CLM02", Severity.REJECT)
    assert "100" in total.message and "75" in total.message


def test_a_loop_closed_by_the_next_unit_reports_into_its_own_claim(
    x837p_fixtures: Path,
) -> None:
    text = (x837p_fixtures / "claims.837").read_text()
    # The last line of the last claim loses its service date; only the SE shows it.
    units = list(UnitReader(read_segments(text.replace("DTP*472*RD8*20250315-20250316~\n", ""))))
    claim = units[4]
    assert [(f.code, f.claim, f.line) for f in claim.findings] == [("STR-005", "FIX0002", 2)]
    assert [f.code for f in units[5].findings] == ["ENV-008"]  # SE01 no longer fits


def test_transactions_that_are_not_837p_are_skipped_with_a_notice(x837p_fixtures: Path) -> None:
    units, reader = units_of(x837p_fixtures / "mixed-transactions.837")
    skipped = [unit for unit in units if unit.kind == "skipped"]
    assert [unit.notice for unit in skipped] == [
        "transaction 0001 is an 835 (005010X221A1), not a 5010 837P (005010X222A1); skipped",
        "transaction 0003 is an 837P 4010 (004010X098A1), not a 5010 837P (005010X222A1); skipped",
    ]
    assert [seg.id for seg, _ in skipped[0].segments] == [
        "ST", "BPR", "TRN", "N1", "N1", "LX", "CLP", "SE",
    ]  # fmt: skip
    loops = [placement.loop_id for _, placement in skipped[0].segments]
    assert loops == ["ST_LOOP"] + [UNKNOWN] * 6 + ["ST_LOOP"]
    assert all(not unit.findings for unit in skipped)
    (claim_unit,) = [unit for unit in units if unit.kind == "claim"]
    assert claim_unit.claim is not None and claim_unit.claim.id == "MIXED001"
    summary = reader.summary
    assert (summary.transactions, summary.skipped, summary.claims) == (1, 2, 1)


def test_a_source_reads_a_path_bytes_or_a_stream_alike(x837p_fixtures: Path) -> None:
    path = x837p_fixtures / "claims.837"
    by_path = [unit.kind for unit in Source(path).units()]
    by_bytes = [unit.kind for unit in Source(path.read_bytes()).units()]
    with path.open("rb") as stream:
        by_stream = [unit.kind for unit in Source(stream).units()]
    assert by_path == by_bytes == by_stream
    assert by_path == ["segments", "segments", "claim", "segments", "claim", "segments"]
    assert [claim.id for claim in api.claims(path)] == [
        unit.claim.id for unit in Source(path).units() if unit.claim is not None
    ]


HEAD = [
    "ISA*00*          *00*          *ZZ*EDI837TESTSUB  *ZZ*EDI837TESTRCV  "
    "*250317*0930*^*00501*000000201*0*T*:",
    "GS*HC*A*B*20250317*0930*1*X*005010X222A1",
    "ST*837*0001*005010X222A1",
    "HL*1**20*1",
    "NM1*85*2*CLINIC*****XX*1999999901",
    "N3*1 MAIN ST",
    "N4*ANYTOWN*PA*17101",
    "REF*EI*999999991",
]
CLAIM = [
    "HL*{n}*1*22*0",
    "SBR*P*18*******MB",
    "NM1*IL*1*PERSON{n}*ALEX****MI*ID{n}",
    "NM1*PR*2*PAYER*****PI*PAYER1",
    "CLM*C{n}*35***11:B:1*Y*A*Y*Y",
    "HI*ABK:J069",
    "LX*1",
    "SV1*HC:96372*35*UN*1***1",
    "DTP*472*D8*2025{day:04d}",
]


def generated(claims: int) -> Iterator[Segment]:
    """An 837P of ``claims`` claims, made segment by segment as it is read."""
    texts = chain(
        HEAD,
        (text.format(n=n, day=101 + n % 28) for n in range(2, claims + 2) for text in CLAIM),
        ["SE*1*0001", "GE*1*1", "IEA*1*000000201"],
    )
    offset = 0
    for number, text in enumerate(texts, start=1):
        yield Segment(text, Delimiters(), number, offset, number, "\n" if number > 1 else "")
        offset += len(text) + 2


def test_memory_stays_flat_as_the_file_grows() -> None:
    def peak(claims: int) -> int:
        tracemalloc.start()
        try:
            reader = UnitReader(generated(claims))
            for unit in reader:
                assert unit.kind != "claim" or unit.claim is not None
            assert reader.summary.claims == claims
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    peak(10)  # the guide's tables are built once per process; leave them out of the count
    small, large = peak(1500), peak(4500)
    assert large < small * 1.1

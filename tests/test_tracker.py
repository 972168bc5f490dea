"""The loop tracker: where each segment goes, what it reports, and that it carries on."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from edi837.findings import Applicability, EditKind, Finding, Severity
from edi837.x12.reader import read_segments
from edi837.x12.segment import Segment
from edi837.x837p.tracker import UNKNOWN, LoopTracker, Placement

# (segment id, loop id) for every segment of fixtures/x837p/claims.837, as pyx12 places them.
CLAIMS_LOOPS = [
    ("ISA", "ISA_LOOP"), ("GS", "GS_LOOP"), ("ST", "ST_LOOP"), ("BHT", "HEADER"),
    ("NM1", "1000A"), ("PER", "1000A"), ("NM1", "1000B"),
    ("HL", "2000A"), ("PRV", "2000A"),
    ("NM1", "2010AA"), ("N3", "2010AA"), ("N4", "2010AA"), ("REF", "2010AA"),
    ("NM1", "2010AB"), ("N3", "2010AB"), ("N4", "2010AB"),
    ("HL", "2000B"), ("SBR", "2000B"),
    ("NM1", "2010BA"), ("N3", "2010BA"), ("N4", "2010BA"), ("DMG", "2010BA"),
    ("NM1", "2010BB"),
    ("CLM", "2300"), ("HI", "2300"), ("NM1", "2310B"), ("PRV", "2310B"), ("NM1", "2310D"),
    ("LX", "2400"), ("SV1", "2400"), ("DTP", "2400"),
    ("LX", "2400"), ("SV1", "2400"), ("DTP", "2400"), ("NM1", "2420A"),
    ("LX", "2400"), ("SV1", "2400"), ("DTP", "2400"), ("LIN", "2410"), ("CTP", "2410"),
    ("NM1", "2420D"),
    ("HL", "2000B"), ("SBR", "2000B"), ("NM1", "2010BA"), ("NM1", "2010BB"),
    ("HL", "2000C"), ("PAT", "2000C"),
    ("NM1", "2010CA"), ("N3", "2010CA"), ("N4", "2010CA"), ("DMG", "2010CA"),
    ("CLM", "2300"), ("HI", "2300"),
    ("LX", "2400"), ("SV1", "2400"), ("DTP", "2400"),
    ("LX", "2400"), ("SV1", "2400"), ("DTP", "2400"), ("LIN", "2410"), ("CTP", "2410"),
    ("SE", "ST_LOOP"), ("GE", "GS_LOOP"), ("IEA", "ISA_LOOP"),
]  # fmt: skip


def place_all(path: Path) -> tuple[list[tuple[Segment, Placement]], list[Finding]]:
    tracker = LoopTracker()
    placed = [(seg, tracker.place(seg)) for seg in read_segments(path.read_bytes())]
    return placed, tracker.finish()


def findings_of(placed: list[tuple[Segment, Placement]]) -> list[Finding]:
    return [finding for _, placement in placed for finding in placement.findings]


def test_each_segment_lands_in_the_loop_pyx12_gives_it(x837p_fixtures: Path) -> None:
    placed, end = place_all(x837p_fixtures / "claims.837")
    assert [(seg.id, placement.loop_id) for seg, placement in placed] == CLAIMS_LOOPS
    assert findings_of(placed) == [] and end == []


def test_paths_nest_the_levels_the_way_pyx12_does(x837p_fixtures: Path) -> None:
    placed, _ = place_all(x837p_fixtures / "claims.837")
    by_text = {seg.text: placement for seg, placement in placed}
    assert by_text["CTP****1*ML"].path == (
        "ISA_LOOP", "GS_LOOP", "ST_LOOP", "DETAIL", "2000A", "2000B", "2300", "2400", "2410",
    )  # fmt: skip
    assert by_text["CLM*FIX0002*60***11:B:1*Y*A*Y*Y"].path[-3:] == ("2000B", "2000C", "2300")
    assert by_text["SE*60*0001"].path == ("ISA_LOOP", "GS_LOOP", "ST_LOOP")


@dataclass
class Node:
    loop: str
    children: list[Node | str] = field(default_factory=list)

    def loops(self) -> list[Node]:
        return [child for child in self.children if isinstance(child, Node)]

    def shape(self) -> list[tuple[str, int]]:
        return [(child.loop, len(child.loops())) for child in self.loops()]


def test_opened_lets_a_writer_rebuild_the_loop_tree(x837p_fixtures: Path) -> None:
    placed, _ = place_all(x837p_fixtures / "claims.837")
    # Rebuild the tree the way a streaming writer would: keep the open nodes above
    # ``opened``, open a node for each loop id after it, and put the segment in the last one.
    root = Node("")
    stack = [root]
    for seg, placement in placed:
        del stack[placement.opened + 1 :]
        for loop_id in placement.path[placement.opened :]:
            node = Node(loop_id)
            stack[-1].children.append(node)
            stack.append(node)
        stack[-1].children.append(seg.id)

    assert root.shape() == [("ISA_LOOP", 1)]
    (isa,) = root.loops()
    (gs,) = isa.loops()
    (st,) = gs.loops()
    assert st.shape() == [("HEADER", 2), ("DETAIL", 1)]
    (billing,) = st.loops()[1].loops()
    # 2000A holds its two name loops and the two subscribers.
    assert billing.shape() == [("2010AA", 0), ("2010AB", 0), ("2000B", 3), ("2000B", 3)]
    first_claim = billing.loops()[2].loops()[-1]
    assert first_claim.shape() == [
        ("2310B", 0), ("2310D", 0), ("2400", 0), ("2400", 1), ("2400", 2),
    ]  # fmt: skip
    patient = billing.loops()[3].loops()[-1]
    assert patient.loop == "2000C"
    assert patient.shape() == [("2010CA", 0), ("2300", 2)]


def test_a_segment_that_continues_its_loop_opens_nothing(x837p_fixtures: Path) -> None:
    placed, _ = place_all(x837p_fixtures / "claims.837")
    lx = [placement for seg, placement in placed if seg.id == "LX"]
    assert all(p.opens_loop and p.opened == p.path.index("2400") for p in lx)
    sv1 = [placement for seg, placement in placed if seg.id == "SV1"]
    assert all(not p.opens_loop and p.opened == len(p.path) for p in sv1)
    first_hl = next(p for seg, p in placed if seg.id == "HL")
    assert first_hl.opened == first_hl.path.index("DETAIL")  # the wrapper loop opens too


def test_hierarchy_problems(x837p_fixtures: Path) -> None:
    placed, _ = place_all(x837p_fixtures / "hl-problems.837")
    found = [(f.code, f.severity, f.segment_number, f.element, f.loop) for f in findings_of(placed)]
    assert found == [
        # HL 2's HL04 says "no child" but a patient level follows: settled by HL 3.
        ("HL-003", Severity.REJECT, 14, "HL04", "2000B"),
        # SBR02 18 (the subscriber is the patient), yet a 2000C follows.
        ("HL-004", Severity.REJECT, 15, "SBR02", "2000B"),
        ("HL-001", Severity.WARNING, 29, "HL01", "2000B"),  # 3 → 5 is a gap
        ("HL-001", Severity.REJECT, 38, "HL01", "2000B"),  # 5 again
        ("HL-002", Severity.REJECT, 38, "HL02", "2000B"),  # parent 9 is not the 2000A (1)
    ]


def test_the_hl04_fix_is_a_safe_edit_of_that_hl(x837p_fixtures: Path) -> None:
    placed, _ = place_all(x837p_fixtures / "hl-problems.837")
    finding = next(f for f in findings_of(placed) if f.code == "HL-003")
    hl = next(seg for seg, _ in placed if seg.number == finding.segment_number)
    assert hl.text == "HL*2*1*22*0"
    assert finding.fix is not None
    assert finding.fix.applicability == Applicability.SAFE
    (edit,) = finding.fix.edits
    assert (edit.kind, edit.segment_number, edit.element, edit.old, edit.new) == (
        EditKind.REPLACE, hl.number, "HL04", "0", "1",
    )  # fmt: skip
    # The finding is reported when the next HL shows that a child level exists.
    reported_at = next(seg for seg, p in placed if finding in p.findings)
    assert reported_at.text.startswith("HL*3*2*23")


def test_service_line_and_segment_problems(x837p_fixtures: Path) -> None:
    placed, end = place_all(x837p_fixtures / "line-problems.837")
    found = [(f.code, f.segment_number, f.element, f.loop) for f in findings_of(placed)]
    assert found == [
        ("STR-005", 22, "DTP03", "2400"),  # 20250230 is no date
        ("STR-003", 23, "LX01", "2400"),  # the second line is numbered 3
        ("STR-001", 27, None, "2410"),  # a second 2410 in one line
        ("STR-005", 23, None, "2400"),  # line 2 ended without DTP*472
        ("STR-002", 31, None, "2400"),  # SV1 after DTP*472
        ("SEG-001", 32, None, "2400"),  # ZZZ
        ("SEG-002", 33, None, "2400"),  # NM1*XX fits nowhere
        ("ELM-001", 35, "SV103", "2400"),
        ("ELM-005", 35, "SV103", "2400"),  # SV104 without its unit, P0304
        ("ELM-004", 36, "DTP04", "2400"),
        ("ELM-002", 37, "REF02", "2400"),
        ("ELM-003", 39, "CTP05-1", "2410"),
    ]
    assert end == []
    assert all(f.severity == Severity.REJECT for f in findings_of(placed))
    located = next(f for f in findings_of(placed) if f.code == "ELM-003")
    data = (x837p_fixtures / "line-problems.837").read_bytes()
    offset = data.index(b"CTP****1*MG")
    line = data[:offset].count(b"\n") + 1
    assert (located.segment_id, located.byte_offset, located.line_number) == ("CTP", offset, line)


def test_the_tracker_carries_on_after_a_segment_it_cannot_place(x837p_fixtures: Path) -> None:
    placed, _ = place_all(x837p_fixtures / "line-problems.837")
    after = [(seg.id, p.loop_id, p.opens_loop) for seg, p in placed if seg.number >= 32]
    assert after == [
        ("ZZZ", "2400", False),
        ("NM1", "2400", False),
        ("LX", "2400", True),
        ("SV1", "2400", False),
        ("DTP", "2400", False),
        ("REF", "2400", False),
        ("LIN", "2410", True),
        ("CTP", "2410", False),
        ("SE", "ST_LOOP", False),
        ("GE", "GS_LOOP", False),
        ("IEA", "ISA_LOOP", False),
    ]


def test_required_segments_missing_from_a_loop_are_reported() -> None:
    text = (
        "ISA*00*          *00*          *ZZ*EDI837TESTSUB  *ZZ*EDI837TESTRCV  "
        "*250317*0930*^*00501*000000201*0*T*:~GS*HC*A*B*20250317*0930*1*X*005010X222A1~"
        "ST*837*0001*005010X222A1~HL*1**20*1~NM1*85*2*CLINIC*****XX*1999999901~N4*A*PA*17101~"
    )
    tracker = LoopTracker()
    for seg in read_segments(text):
        tracker.place(seg)
    found = [(f.code, f.loop, f.segment_number) for f in tracker.finish()]
    assert ("SEG-003", "2010AA", 5) in found  # N3 and REF*EI/SY missing from 2010AA
    assert ("SEG-003", "2000A", 4) in found  # no 2000B subscriber level
    messages = " ".join(f.message for f in tracker.finish())
    assert messages == ""  # everything was closed once


def test_segments_of_a_transaction_that_is_not_an_837p_are_not_placed() -> None:
    text = (
        "ISA*00*          *00*          *ZZ*EDI837TESTSUB  *ZZ*EDI837TESTRCV  "
        "*250317*0930*^*00501*000000201*0*T*:~GS*HP*A*B*20250317*0930*1*X*005010X221A1~"
        "ST*835*0001*005010X221A1~BPR*I*35*C~N1*PR*PAYER~SE*4*0001~GE*1*1~IEA*1*000000201~"
    )
    tracker = LoopTracker()
    segs = read_segments(text)
    placed = [tracker.place(segs[0]), tracker.place(segs[1])]
    placed += [tracker.skip(seg) for seg in segs[2:]]
    assert [p.loop_id for p in placed] == [
        "ISA_LOOP", "GS_LOOP", "ST_LOOP", UNKNOWN, UNKNOWN, "ST_LOOP", "GS_LOOP", "ISA_LOOP",
    ]  # fmt: skip
    assert [p.opened for p in placed[2:6]] == [2, 3, 4, 3]
    assert all(not p.findings for p in placed)
    assert tracker.finish() == []


def test_segment_repeats_beyond_the_guide_are_reported() -> None:
    text = (
        "ISA*00*          *00*          *ZZ*EDI837TESTSUB  *ZZ*EDI837TESTRCV  "
        "*250317*0930*^*00501*000000201*0*T*:~GS*HC*A*B*20250317*0930*1*X*005010X222A1~"
        "ST*837*0001*005010X222A1~BHT*0019*00*1*20250317*0930*CH~"
        "NM1*41*2*SUBMITTER*****46*SUBMITTER1~PER*IC*A*TE*5555550100~PER*IC*B*TE*5555550101~"
        "PER*IC*C*TE*5555550102~BHT*0019*00*1*20250317*0930*CH~"
    )
    tracker = LoopTracker()
    found = [f for seg in read_segments(text) for f in tracker.place(seg).findings]
    assert [(f.code, f.segment_number, f.loop) for f in found] == [
        ("SEG-002", 8, "1000A"),  # a third PER; the guide allows two
        ("ENV-010", 9, "HEADER"),  # BHT comes once, right after ST
        ("STR-001", 9, "HEADER"),  # a second BHT opens a second header
    ]


HEAD = (
    "ISA*00*          *00*          *ZZ*EDI837TESTSUB  *ZZ*EDI837TESTRCV  "
    "*250317*0930*^*00501*000000201*0*T*:~GS*HC*A*B*20250317*0930*1*X*005010X222A1~"
    "ST*837*0001*005010X222A1~BHT*0019*00*1*20250317*0930*CH~"
    "NM1*41*2*SUBMITTER*****46*SUBMITTER1~PER*IC*A*TE*5555550100~NM1*40*2*RECEIVER*****46*R1~"
    "HL*1**20*1~NM1*85*2*CLINIC*****XX*1999999901~N3*1 MAIN ST~"
    "N4*ANYTOWN*PA*17101~REF*EI*999999991~"
)
CLAIM = (
    "HL*{n}*1*22*0~SBR*P*18*******MB~NM1*IL*1*PERSON*ALEX****MI*ID{n}~"
    "NM1*PR*2*PAYER*****PI*PAYER1~CLM*C{n}*35***11:B:1*Y*A*Y*Y~HI*ABK:J069~LX*1~"
    "SV1*HC:96372*35*UN*1***1~DTP*472*D8*20250315~"
)


def test_the_state_does_not_grow_with_the_number_of_claims() -> None:
    def deepest(claims: int) -> int:
        tracker = LoopTracker()
        depth = 0
        text = HEAD + "".join(CLAIM.format(n=n) for n in range(2, claims + 2))
        for seg in read_segments(text):
            assert tracker.place(seg).findings == ()
            depth = max(depth, tracker.depth)
        return depth

    assert (
        deepest(1)
        == deepest(300)
        == len(("ISA_LOOP", "GS_LOOP", "ST_LOOP", "DETAIL", "2000A", "2000B", "2300", "2400"))
    )


def test_a_text_placed_cleanly_is_checked_again_under_new_separators(
    x837p_fixtures: Path,
) -> None:
    # The same interchange twice, the second declaring ">" as its component separator (ISA16):
    # there a claim's CLM05 "11:B:1" is one value, not the place of service, its qualifier
    # and the claim frequency, so claims that were clean in the first interchange are wrong
    # in the second, though their text is the same.
    first = (x837p_fixtures / "claims.837").read_bytes()
    isa16 = first.index(b"~") - 1
    second = first[:isa16] + b">" + first[isa16 + 1 :]
    tracker = LoopTracker()
    placed = [(seg, tracker.place(seg)) for seg in read_segments(first + second)]
    half = len(placed) // 2
    before = [(seg.text, placement) for seg, placement in placed[:half] if seg.id == "CLM"]
    after = [(seg.text, placement) for seg, placement in placed[half:] if seg.id == "CLM"]
    assert [text for text, _ in after] == [text for text, _ in before]
    assert all(placement.findings == () for _, placement in before)
    for _, placement in after:
        assert any((f.element or "").startswith("CLM05") for f in placement.findings)

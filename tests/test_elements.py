"""The element checks on their own: a segment against its guide slot, without the loop tracker."""

from __future__ import annotations

from edi837.x12.segment import Delimiters, Segment
from edi837.x837p.elements import ElementChecker, SlotElements
from edi837.x837p.guide import SegmentSlot, load_guide


def slot_of(loop_id: str, segment_id: str) -> SegmentSlot:
    return next(s for s in load_guide().loop(loop_id).segments if s.segment_id == segment_id)


def problems(slot: SegmentSlot, text: str) -> list[tuple[str, str]]:
    rules = SlotElements(slot, 0, frozenset())
    checker = ElementChecker(1)
    seg = Segment(text, Delimiters())
    checker.use(seg.delimiters)
    return [(code.code, ref) for code, ref, _ in checker.problems(seg, rules)]


def test_a_clean_segment_has_no_problem() -> None:
    assert problems(slot_of("2400", "SV1"), "SV1*HC:96372*35*UN*1***1") == []


def test_each_kind_of_element_problem_is_found_without_the_tracker() -> None:
    sv1 = slot_of("2400", "SV1")
    assert problems(sv1, "SV1*HC:96372*NaN*UN*1***1") == [("ELM-006", "SV102")]
    assert problems(sv1, "SV1*HC:96372*35*UN****1") == [
        ("ELM-001", "SV104"),
        ("ELM-005", "SV104"),
    ]
    assert problems(sv1, "SV1*HC:96372:025*35*UN*1***1") == [("ELM-002", "SV101-3")]
    per = slot_of("1000A", "PER")
    assert problems(per, "PER*IC*BILLING DESK*TE*6175550100*EX") == [("ELM-005", "PER06")]
    assert problems(per, "PER*IC*BILLING^DESK*TE*6175550100") == [("ENV-002", "PER02")]


def test_results_are_remembered_per_segment_text_and_dropped_with_new_separators() -> None:
    slot = slot_of("2400", "SV1")
    rules = SlotElements(slot, 0, frozenset())
    checker = ElementChecker(1)
    seg = Segment("SV1*HC:96372*NaN*UN*1***1", Delimiters())
    checker.use(seg.delimiters)
    first = checker.problems(seg, rules)
    assert checker.problems(seg, rules) is first
    checker.use(Delimiters(element="|"))
    assert checker.memo == [{}]

"""The 837P guide compiled from pyx12's map: loops, slots, qualifiers, elements."""

from __future__ import annotations

from typing import Any

import pytest

from edi837.x837p.guide import Guide, LoopDef, load_guide


@pytest.fixture(scope="module")
def guide() -> Guide:
    return load_guide()


def slot(loop: LoopDef, segment_id: str, code: str | None = None) -> Any:
    for candidate in loop.segments:
        if candidate.segment_id != segment_id:
            continue
        if code is None or (candidate.qualifier and code in candidate.qualifier.codes):
            return candidate
    raise AssertionError(f"no {segment_id}*{code} in {loop.id}")


def test_the_guide_is_compiled_once_per_process(guide: Guide) -> None:
    assert load_guide() is guide
    assert guide.compile_seconds > 0


def test_every_loop_and_segment_of_the_pyx12_map_is_in_the_guide(guide: Guide) -> None:
    import pyx12.map_if as map_if
    import pyx12.params

    root = map_if.load_map_file("837.5010.X222.A1.xml", pyx12.params.params())
    loops = segments = 0
    for node in root.loop_segment_iterator():
        if isinstance(node, map_if.loop_if):
            path = node.get_path().strip("/")
            ours = guide.loops[path]
            assert ours.id == node.id
            assert ours.usage == node.usage
            limit = node.get_max_repeat()
            assert ours.repeat == (None if limit >= map_if.MAXINT else limit)
            loops += 1
        elif isinstance(node, map_if.segment_if):
            segments += 1
    assert len(guide.loops) == loops
    assert sum(len(loop.segments) for loop in guide.loops.values()) == segments


def test_envelope_segments_have_pyx12s_loop_ids(guide: Guide) -> None:
    assert guide.envelope_loops["ISA"] == "ISA_LOOP"
    assert guide.envelope_loops["IEA"] == "ISA_LOOP"
    assert guide.envelope_loops["GS"] == "GS_LOOP"
    assert guide.envelope_loops["GE"] == "GS_LOOP"
    assert guide.envelope_loops["ST"] == "ST_LOOP"
    assert guide.envelope_loops["SE"] == "ST_LOOP"
    assert [loop.id for loop in guide.root.walk()][:5] == [
        "ISA_LOOP",
        "GS_LOOP",
        "ST_LOOP",
        "HEADER",
        "1000A",
    ]


def test_sibling_loops_are_told_apart_by_the_qualifier_of_their_first_segment(
    guide: Guide,
) -> None:
    def codes(loop_id: str) -> set[str]:
        qualifier = guide.loop(loop_id).qualifier
        assert qualifier is not None
        return set(qualifier.codes)

    assert codes("2010AA") == {"85"}
    assert codes("2010AB") == {"87"}
    assert guide.loop("2010AA").qualifier.ref == "NM101"  # type: ignore[union-attr]
    assert (codes("2000A"), codes("2000B"), codes("2000C")) == ({"20"}, {"22"}, {"23"})
    assert guide.loop("2000B").qualifier.ref == "HL03"  # type: ignore[union-attr]
    assert codes("2310B") == {"82"}
    assert codes("2310D") == {"DQ"}
    assert codes("2310A") == {"DN", "P3"}
    assert codes("2420A") == {"82"}
    assert codes("2420D") == {"DQ"}
    assert codes("2420H") == {"45"}
    assert guide.loop("DETAIL").qualifier is None  # a wrapper loop has no segment of its own
    pay_to = guide.loop("2010AB").qualifier
    assert pay_to is not None
    assert pay_to.matches(["NM1", "87", "2"], ":")
    assert not pay_to.matches(["NM1", "85", "2"], ":")


def test_repeated_segments_carry_their_qualifier(guide: Guide) -> None:
    line = guide.loop("2400")
    service_date = slot(line, "DTP", "472")
    assert service_date.usage == "R"
    assert service_date.max_use == 1
    assert service_date.qualifier.ref == "DTP01"
    assert slot(line, "DTP", "471").usage == "S"
    assert slot(guide.loop("2010AA"), "REF", "EI").usage == "R"
    assert slot(line, "REF", "6R").qualifier.ref == "REF01"
    assert slot(line, "SV1").qualifier.ref == "SV101-1"
    assert service_date.position > slot(line, "SV1").position > slot(line, "LX").position


def test_loop_repeat_limits(guide: Guide) -> None:
    assert guide.loop("2300").repeat == 100
    assert guide.loop("2400").repeat == 50
    assert guide.loop("2410").repeat == 1
    assert guide.loop("2420D").repeat == 1
    assert guide.loop("2000A").repeat is None
    assert [loop.parent.id for loop in guide.loops_named("2300")] == ["2000B", "2000C"]  # type: ignore[union-attr]


def test_element_definitions(guide: Guide) -> None:
    sv1 = slot(guide.loop("2400"), "SV1")
    procedure = sv1.element("SV101")
    assert procedure.is_composite and procedure.usage == "R"
    assert sv1.element("SV101-1").codes == frozenset({"ER", "HC", "IV", "WK"})
    assert sv1.element("SV101-2").data_type == "AN"
    assert (sv1.element("SV101-2").min_length, sv1.element("SV101-2").max_length) == (1, 48)
    charge = sv1.element("SV102")
    assert (charge.usage, charge.data_type, charge.codes) == ("R", "R", None)
    assert sv1.element("SV106").usage == "N"
    assert sv1.element("SV105").external_codes == "pos"
    ctp = slot(guide.loop("2410"), "CTP")
    assert ctp.element("CTP05-1").codes == frozenset({"F2", "GR", "ME", "ML", "UN"})
    assert slot(guide.loop("2300"), "CLM").element("CLM05").components is not None


def test_syntax_relations_come_from_the_map(guide: Guide) -> None:
    per = next(slot for slot in guide.loop("1000A").segments if slot.segment_id == "PER")
    assert [rule.note for rule in per.syntax] == ["P0304", "P0506", "P0708"]
    cur = next(slot for slot in guide.slots() if slot.segment_id == "CUR")
    assert "L101112" in [rule.note for rule in cur.syntax]
    # Every syntax note of pyx12's 837P map is compiled, none retyped.
    assert sum(len(slot.syntax) for slot in guide.slots()) == 535

"""The 837P implementation guide (005010X222A1) as plain lookup tables, compiled from pyx12.

pyx12 ships the guide as an XML map (``837.5010.X222.A1.xml``): loops with their usage and
repeat, segments with their position, usage and maximum use, elements with usage, length, data
type and code lists. This module reads that map once per process through pyx12's own map API
(:func:`pyx12.map_if.load_map_file`) and turns it into plain tables: a :class:`LoopDef` per loop
of the map, a :class:`SegmentSlot` per segment position, an :class:`ElementDef` per element.
Nothing of the guide is retyped here. Loading the map is most of the cost (about a quarter of a
second); the tables themselves compile in a few hundredths, and :func:`load_guide` does it once
per process (:mod:`edi837.x837p.guide_cache` keeps the tables for later processes).

The tables also carry what the loop tracker needs to place a segment the way pyx12 does: for
every loop, per segment id, the ordered list of :class:`ScanEntry` (a segment of the loop, or
the chain of child loops the segment opens) that pyx12's map walker would try, with the
qualifier that tells sibling slots apart (``NM101`` 85/87 for 2010AA/2010AB, ``HL03`` 20/22/23,
``DTP01``, ``REF01`` ...).

Loop ids repeat in the map (2300 sits under 2000B and under 2000C), so loops are keyed by their
path (``ISA_LOOP/GS_LOOP/ST_LOOP/DETAIL/2000A/2000B/2300``); :meth:`Guide.loops_named` finds
them by id.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from typing import Any

MAP_FILE = "837.5010.X222.A1.xml"

#: Data types whose length pyx12 measures without sign and decimal point (X12.6 numeric rule).
NUMERIC_TYPES = frozenset({"R", "N", "N0", "N1", "N2", "N3", "N4", "N5", "N6", "N7", "N8", "N9"})


@dataclass(frozen=True, slots=True)
class ElementDef:
    """One element (or one component of a composite) as the guide defines it.

    Attributes:
        ref: the reference in project notation: ``SV102`` or, for a component, ``SV101-2``.
        name: the guide's name for it.
        position: the element position in the segment (1-based).
        component: the component position inside a composite, else ``None``.
        usage: ``R`` required, ``S`` situational, ``N`` not used.
        data_type: X12 data type (``AN``, ``ID``, ``R``, ``N0``, ``DT``, ``TM`` ...); ``None``
            for a composite.
        min_length: minimum length (digits only for numeric types).
        max_length: maximum length.
        codes: the code list of an ``ID`` element, or ``None`` when the guide gives none.
        external_codes: the name of an external code list in pyx12's ``codes.xml`` (``pos``,
            ``states`` ...); not enforced by the tracker, kept for the rules.
        components: for a composite, its components in order; ``None`` for a simple element.
        data_element: the X12 data element number (``1250`` is a date format qualifier,
            ``1251`` the date or range it qualifies).
    """

    ref: str
    name: str
    position: int
    component: int | None
    usage: str
    data_type: str | None
    min_length: int
    max_length: int
    codes: frozenset[str] | None
    external_codes: str | None = None
    components: tuple[ElementDef, ...] | None = None
    data_element: str | None = None

    @property
    def is_composite(self) -> bool:
        """True for a composite element (``SV101``, ``CLM05``, ``HI01``)."""
        return self.components is not None


@dataclass(frozen=True, slots=True)
class SyntaxRule:
    """One X12 syntax relation between elements of a segment, as the map's syntax notes give it.

    Attributes:
        kind: ``P`` paired (if any is used, all are), ``R`` required (at least one is used),
            ``E`` exclusion (at most one is used), ``C`` conditional (if the first is used, all
            the others are), ``L`` list conditional (if the first is used, at least one of the
            others is).
        positions: the element positions it relates, in the note's order.
    """

    kind: str
    positions: tuple[int, ...]

    @property
    def note(self) -> str:
        """The syntax note as the standard writes it: ``P0506``, ``L101112``."""
        return self.kind + "".join(f"{position:02d}" for position in self.positions)


@dataclass(frozen=True, slots=True)
class Qualifier:
    """The element whose value tells sibling slots (or sibling loops) apart.

    pyx12 matches a data segment to a map segment by segment id and, when the map segment has
    a required ``ID`` element with a code list at position 01 (or ``HL03`` for HL), by that
    element's value.
    """

    ref: str
    element: int
    component: int | None
    codes: frozenset[str]

    def matches(self, elements: list[str], component_separator: str) -> bool:
        """True when the qualifying value of a split segment is one of ``codes``."""
        value = elements[self.element] if self.element < len(elements) else ""
        if self.component is not None:
            parts = value.split(component_separator)
            value = parts[self.component - 1] if self.component <= len(parts) else ""
        return value in self.codes


@dataclass(eq=False, slots=True)
class SegmentSlot:
    """One segment position in a loop: ``REF*EI`` in 2010AA, ``DTP*472`` in 2400.

    Attributes:
        loop: the :class:`LoopDef` that holds the slot.
        index: order of the slot in its loop (0-based, map order).
        position: pyx12's position number; a loop's segments must appear in ascending position.
        segment_id: ``NM1``, ``DTP``, ``SV1`` ...
        name: the guide's segment name.
        usage: ``R``, ``S`` or ``N``.
        max_use: the maximum number of repeats in one loop instance, ``None`` when unbounded.
        qualifier: the matching qualifier, ``None`` when any segment with this id matches.
        elements: the element definitions, in element order.
        path: pyx12's path of the slot (``/ISA_LOOP/.../2400/DTP[472]``).
        syntax: the segment's syntax relations between its elements.
    """

    loop: LoopDef = field(repr=False)
    index: int
    position: int
    segment_id: str
    name: str
    usage: str
    max_use: int | None
    qualifier: Qualifier | None
    elements: tuple[ElementDef, ...] = field(repr=False)
    path: str
    syntax: tuple[SyntaxRule, ...] = ()

    @property
    def label(self) -> str:
        """``DTP*472``-style label for messages; the plain id when the slot has no qualifier."""
        if self.qualifier is None or not self.qualifier.codes:
            return self.segment_id
        return f"{self.segment_id}*{'/'.join(sorted(self.qualifier.codes))}"

    def element(self, ref: str) -> ElementDef | None:
        """The definition of ``ref`` (``SV101-2`` or ``SV102``) in this slot."""
        for definition in self.elements:
            if definition.ref == ref:
                return definition
            for part in definition.components or ():
                if part.ref == ref:
                    return part
        return None


@dataclass(frozen=True, slots=True)
class ScanEntry:
    """One thing pyx12's walker tries when a segment arrives in a loop.

    Either ``slot`` is set (the segment belongs to this loop) or ``loops`` is (the segment opens
    these loops, outermost first; more than one only through a wrapper loop such as ``DETAIL``).
    ``qualifier`` is the qualifier of the slot that would take the segment.
    """

    position: int
    qualifier: Qualifier | None
    slot: SegmentSlot | None
    loops: tuple[LoopDef, ...]
    target: SegmentSlot


@dataclass(eq=False, slots=True)
class LoopDef:
    """One loop of the map: ``2300`` under 2000B is one, ``2300`` under 2000C another.

    Attributes:
        id: the loop id as pyx12 names it (``ISA_LOOP``, ``HEADER``, ``2010AA``, ``2420D``).
        name: the guide's name (``Billing Provider Name``).
        parent: the enclosing loop, ``None`` for ``ISA_LOOP``.
        position: pyx12's position number of the loop among its siblings.
        usage: ``R``, ``S`` or ``N``.
        repeat: the maximum number of instances per parent instance, ``None`` when unbounded.
        path: the ids from the outermost loop, e.g. ``("ISA_LOOP", ..., "2300", "2400")``.
        segments: the segment slots, in map order.
        children: the child loops, in map order.
        scan: per segment id, what pyx12's walker tries, in its order.
    """

    id: str
    name: str
    parent: LoopDef | None = field(repr=False)
    position: int
    usage: str
    repeat: int | None
    path: tuple[str, ...]
    segments: tuple[SegmentSlot, ...] = field(default=(), repr=False)
    children: tuple[LoopDef, ...] = field(default=(), repr=False)
    scan: dict[str, tuple[ScanEntry, ...]] = field(default_factory=dict, repr=False)

    @property
    def key(self) -> str:
        """The loop's path joined with ``/``; unique in the guide."""
        return "/".join(self.path)

    @property
    def opening(self) -> SegmentSlot | None:
        """The slot that opens an instance of this loop; ``None`` for a wrapper loop."""
        members = self.members()
        first = members[0] if members else None
        return first if isinstance(first, SegmentSlot) else None

    @property
    def qualifier(self) -> Qualifier | None:
        """The qualifier of the opening segment, which tells this loop from its siblings."""
        opening = self.opening
        return opening.qualifier if opening is not None else None

    def members(self) -> list[SegmentSlot | LoopDef]:
        """Segments and child loops in pyx12's scan order (by position; loops first on ties)."""
        order: dict[int, list[SegmentSlot | LoopDef]] = {}
        for loop in self.children:
            order.setdefault(loop.position, []).append(loop)
        for slot in self.segments:
            order.setdefault(slot.position, []).append(slot)
        return [member for position in sorted(order) for member in order[position]]

    def walk(self) -> Iterator[LoopDef]:
        """This loop and every loop nested in it, depth first in map order."""
        yield self
        for child in self.children:
            yield from child.walk()


@dataclass(eq=False)
class Guide:
    """The compiled 837P guide.

    Attributes:
        id: the transaction set id of the map (``837``).
        name: the map's name.
        root: the outermost loop (``ISA_LOOP``).
        loops: every loop, keyed by :attr:`LoopDef.key`.
        envelope_loops: the loop id pyx12 gives each envelope segment
            (``ISA``/``IEA`` → ``ISA_LOOP``, ``GS``/``GE`` → ``GS_LOOP``, ``ST``/``SE`` →
            ``ST_LOOP``).
        segment_ids: every segment id the guide knows.
        compile_seconds: how long loading the map and compiling the tables took.
    """

    id: str
    name: str
    root: LoopDef
    loops: dict[str, LoopDef]
    envelope_loops: dict[str, str]
    segment_ids: frozenset[str]
    compile_seconds: float = 0.0

    def loops_named(self, loop_id: str) -> list[LoopDef]:
        """Every loop definition with this id (``2300`` has two: under 2000B and 2000C)."""
        return [loop for loop in self.loops.values() if loop.id == loop_id]

    def loop(self, loop_id: str) -> LoopDef:
        """The first loop definition with this id; :class:`KeyError` when there is none."""
        for loop in self.loops.values():
            if loop.id == loop_id:
                return loop
        raise KeyError(loop_id)

    def slots(self) -> Iterator[SegmentSlot]:
        """Every segment slot of the guide, loop by loop in map order."""
        for loop in self.root.walk():
            yield from loop.segments


# --- compiling ------------------------------------------------------------------------------


def _ref(xid: str) -> str:
    """pyx12 writes components as ``SV101-01``; the project writes ``SV101-2``."""
    if "-" in xid:
        base, part = xid.split("-", 1)
        return f"{base}-{int(part)}" if part.isdecimal() else xid
    return xid


def _codes(node: Any) -> frozenset[str] | None:
    codes = [code for code in node.valid_codes if code is not None]
    return frozenset(codes) if codes else None


def _element_def(node: Any, position: int, component: int | None) -> ElementDef:
    return ElementDef(
        ref=_ref(node.id),
        name=node.name or "",
        position=position,
        component=component,
        usage=node.usage or "S",
        data_type=node.data_type,
        min_length=int(node.min_len),
        max_length=int(node.max_len),
        codes=_codes(node),
        external_codes=node.external_codes,
        data_element=node.data_ele,
    )


def _segment_elements(node: Any, map_if: Any) -> tuple[ElementDef, ...]:
    elements: list[ElementDef] = []
    for child in node.children:
        if isinstance(child, map_if.composite_if):
            parts = tuple(
                _element_def(part, child.seq, index)
                for index, part in enumerate(child.children, start=1)
            )
            elements.append(
                ElementDef(
                    ref=_ref(child.id),
                    name=child.name or "",
                    position=child.seq,
                    component=None,
                    usage=child.usage or "S",
                    data_type=None,
                    min_length=0,
                    max_length=0,
                    codes=None,
                    components=parts,
                )
            )
        else:
            elements.append(_element_def(child, child.seq, None))
    return tuple(elements)


def _match_qualifier(node: Any, map_if: Any) -> Qualifier | None:
    """The qualifier pyx12's ``segment_if.is_match`` compares, from the public node attributes.

    The order of the tests is pyx12's: a required ``ID`` element at 01 with codes; for ``ENT``
    an ``ID`` at 02; for ``CTX`` an ``AN`` component 01-1; an ``ID`` component at 01-1; for
    ``HL`` element 03.
    """
    children = node.children
    first = children[0] if children else None
    second = children[1] if len(children) > 1 else None
    third = children[2] if len(children) > 2 else None
    seg_id = node.id
    element_if = map_if.element_if
    composite_if = map_if.composite_if
    if (
        isinstance(first, element_if)
        and first.data_type == "ID"
        and first.usage == "R"
        and _codes(first)
    ):
        return Qualifier(f"{seg_id}01", 1, None, _codes(first) or frozenset())
    if seg_id == "ENT" and isinstance(second, element_if) and second.data_type == "ID":
        codes = _codes(second)
        if codes:
            return Qualifier(f"{seg_id}02", 2, None, codes)
    if isinstance(first, composite_if) and first.children:
        part = first.children[0]
        codes = _codes(part)
        if codes and (part.data_type == "ID" or (seg_id == "CTX" and part.data_type == "AN")):
            return Qualifier(f"{seg_id}01-1", 1, 1, codes)
    if seg_id == "HL" and isinstance(third, element_if):
        codes = _codes(third)
        if codes:
            return Qualifier("HL03", 3, None, codes)
    return None


def _syntax(node: Any) -> tuple[SyntaxRule, ...]:
    """The syntax relations pyx12 parsed from the segment's ``<syntax>`` notes."""
    rules = []
    for note in node.syntax:
        kind, *positions = note
        if kind in ("P", "R", "E", "C", "L") and len(positions) >= 2:
            rules.append(SyntaxRule(str(kind), tuple(int(p) for p in positions)))
    return tuple(rules)


def _max(value: Any) -> int | None:
    if value is None or str(value).strip() in (">1", "&gt;1"):
        return None
    number = int(value)
    return None if number >= 2147483647 else number


def _build_loop(node: Any, parent: LoopDef | None, map_if: Any) -> LoopDef:
    path = (parent.path if parent is not None else ()) + (node.id,)
    loop = LoopDef(
        id=node.id,
        name=node.name or "",
        parent=parent,
        position=int(node.pos),
        usage=node.usage or "S",
        repeat=_max(node.repeat),
        path=path,
    )
    slots: list[SegmentSlot] = []
    children: list[LoopDef] = []
    for child in node.childIterator():
        if isinstance(child, map_if.loop_if):
            children.append(_build_loop(child, loop, map_if))
        elif isinstance(child, map_if.segment_if):
            slots.append(
                SegmentSlot(
                    loop=loop,
                    index=len(slots),
                    position=int(child.pos),
                    segment_id=child.id,
                    name=child.name or "",
                    usage=child.usage or "S",
                    max_use=_max(child.max_use),
                    qualifier=_match_qualifier(child, map_if),
                    elements=_segment_elements(child, map_if),
                    path=child.get_path(),
                    syntax=_syntax(child),
                )
            )
    loop.segments = tuple(slots)
    loop.children = tuple(children)
    return loop


def _entries(loop: LoopDef) -> list[tuple[tuple[LoopDef, ...], SegmentSlot]]:
    """The ways a segment can open ``loop``.

    That is its opening slot or, for a wrapper loop (one whose first member is a loop, like
    ``DETAIL``), the openings of its child loops.
    """
    opening = loop.opening
    if opening is not None:
        return [((loop,), opening)]
    found: list[tuple[tuple[LoopDef, ...], SegmentSlot]] = []
    for child in loop.children:
        for chain, slot in _entries(child):
            found.append(((loop, *chain), slot))
    return found


def _compile_scan(loop: LoopDef) -> None:
    scan: dict[str, list[ScanEntry]] = {}
    for member in loop.members():
        if isinstance(member, SegmentSlot):
            scan.setdefault(member.segment_id, []).append(
                ScanEntry(member.position, member.qualifier, member, (), member)
            )
        else:
            for chain, slot in _entries(member):
                scan.setdefault(slot.segment_id, []).append(
                    ScanEntry(member.position, slot.qualifier, None, chain, slot)
                )
    loop.scan = {seg_id: tuple(entries) for seg_id, entries in scan.items()}


def compile_map(map_root: Any, map_if: Any) -> Guide:
    """Compile a loaded pyx12 map (``pyx12.map_if.map_if``) into a :class:`Guide`."""
    roots = [
        node
        for position in sorted(map_root.pos_map)
        for node in map_root.pos_map[position]
        if isinstance(node, map_if.loop_if)
    ]
    if len(roots) != 1:
        raise ValueError(f"expected one outermost loop in the map, found {len(roots)}")
    return assemble(str(map_root.id), str(map_root.name or ""), _build_loop(roots[0], None, map_if))


def assemble(guide_id: str, name: str, root: LoopDef) -> Guide:
    """The :class:`Guide` around a built loop tree: loop index, scan tables, envelope loops."""
    loops: dict[str, LoopDef] = {}
    segment_ids: set[str] = set()
    for loop in root.walk():
        loops[loop.key] = loop
        _compile_scan(loop)
        segment_ids.update(slot.segment_id for slot in loop.segments)
    envelope: dict[str, str] = {}
    # The envelope loops are the outer ones whose own segments are control segments; they
    # are the first three levels of every pyx12 transaction map.
    level = root
    for _ in range(3):
        for slot in level.segments:
            envelope[slot.segment_id] = level.id
        nested = [child for child in level.children if child.opening is not None]
        if not nested:
            break
        level = nested[0]
    return Guide(
        id=guide_id,
        name=name,
        root=root,
        loops=loops,
        envelope_loops=envelope,
        segment_ids=frozenset(segment_ids),
    )


@cache
def load_guide() -> Guide:
    """The 837P guide, compiled from pyx12's ``837.5010.X222.A1`` map once per process.

    This always reads pyx12's map; :func:`edi837.x837p.guide_cache.load_guide`, which the
    tracker uses, reads the tables a previous process compiled when they are still current.
    """
    started = time.perf_counter()
    import pyx12.map_if as map_if
    import pyx12.params

    map_root = map_if.load_map_file(MAP_FILE, pyx12.params.params())
    guide = compile_map(map_root, map_if)
    guide.compile_seconds = time.perf_counter() - started
    return guide

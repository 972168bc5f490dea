"""The streaming loop tracker: puts each segment of an 837P transaction in its loop.

:class:`LoopTracker` is a state machine over the compiled guide (:mod:`edi837.x837p.guide`). It
places segments the way pyx12's map walker does, so that on a valid file every segment lands
in the loop id pyx12's ``X12ContextReader`` gives it: from the current segment's position it
tries the rest of the current loop (its later segments, then the child loops they open), then
moves out one loop at a time and tries again from that loop's position. Sibling slots and loops
are told apart by their qualifier (``NM101``, ``HL03``, ``DTP01``, ``REF01`` ...).

Placing is all it decides; what it finds on the way is reported through the checkers that own
each kind of finding:

- its own, the placement findings of the rules catalogue §1.2: ``SEG-001`` unknown segment id;
  ``SEG-002`` segment not expected where it stands, or repeated more often than the guide
  allows; ``SEG-003`` a required segment or loop missing from a loop instance (reported when
  the instance closes, on its opening segment); ``STR-001`` loop repeats; ``STR-002`` segment
  order inside a loop; ``STR-003`` LX01 counts 1, 2, 3 ... in each claim; ``STR-005`` DTP*472
  (D8 or RD8) on every service line. (``STR-004``, CLM02 against the line charges, is the
  builder's, at claim end.)
- the hierarchy (:mod:`edi837.x837p.hierarchy`: HL-001 to HL-004, and the per-transaction cap
  that SEG-001, SEG-002, SEG-003, STR-001 and STR-002 share with them, so that a flood of one
  misplaced segment is 5,000 findings and a summary, not one per segment) gets every HL and
  2000B SBR;
- the element checks (:mod:`edi837.x837p.elements`: ELM-*) get each placed segment with its
  slot;
- the 837P header checker (:mod:`edi837.x837p.header`: ENV-004, ENV-010, ENV-011) gets the ISA,
  GS and ST of every transaction set and the header segments of each 837P one.

Every finding is built through its code class (:mod:`edi837.x837p.checks`).

Placing is a table lookup in the common case: each state (the slot of the previous segment)
learns, on first use, the move each segment id (and qualifier value) makes from it, and the
move of each segment text it placed without an element problem; only a segment not seen from
that state before walks the guide. A segment that cannot be placed stays in the current loop
(as pyx12 does) and the tracker carries on. Memory is bounded: the state is the stack of open
loop instances, a few counters, and size-capped memos keyed by segment text.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, replace

from edi837.findings import Finding, quote
from edi837.x12.segment import Segment
from edi837.x837p.checks import (
    SEG001,
    SEG002,
    SEG003,
    STR001,
    STR002,
    STR003,
    STR005,
)
from edi837.x837p.checks import finding_at as _finding
from edi837.x837p.elements import (
    MEMO_LIMIT,
    ElementChecker,
    Problem,
    SlotElements,
)
from edi837.x837p.guide import Guide, LoopDef, SegmentSlot
from edi837.x837p.guide_cache import load_guide
from edi837.x837p.header import HeaderChecker
from edi837.x837p.hierarchy import HierarchyChecker
from edi837.x837p.model import parse_date

#: Segment texts the tracker remembers the moves of, over all states, before it starts
#: afresh. Only texts without an element problem are kept, and those are no longer than their
#: slot's element lengths allow (a few hundred characters), so this bounds the memory to a few
#: megabytes on a file where few texts repeat.
KNOWN_LIMIT = 32_768

#: Loop id given to segments that no 837P loop can hold (inside a skipped, non-837P
#: transaction, or before any interchange).
UNKNOWN = "UNKNOWN"

# Envelope segments are checked by the envelope checker (ENV-*), not by the element tables.
_ENVELOPE_IDS = frozenset({"ISA", "IEA", "GS", "GE", "ST", "SE", "TA1"})
# The header checker owns BHT's elements (ENV-010) and the presence of 1000A with its PER and
# of 1000B (ENV-011), so those loops' required members are not SEG-003's.
_ENVELOPE_CHECKED = _ENVELOPE_IDS | {"BHT"}
_ENVELOPE_LOOPS = frozenset({"ISA_LOOP", "GS_LOOP", "ST_LOOP", "HEADER", "1000A"})

(
    _HOOK_NONE,
    _HOOK_HL,
    _HOOK_SBR,
    _HOOK_LX,
    _HOOK_DTP472,
    _HOOK_ST,
    _HOOK_SE,
    _HOOK_GE,
    _HOOK_IEA,
) = range(9)


@dataclass(frozen=True, slots=True)
class Placement:
    """Where one segment sits in the loop tree.

    Attributes:
        loop_id: the loop id pyx12 gives the segment (``2010AA``, ``2400``, ``ST_LOOP`` ...).
        path: the loop ids from the outermost (``("ISA_LOOP", "GS_LOOP", "ST_LOOP",
            "DETAIL", "2000A", "2000B", "2300", "2400")``).
        opened: the depth in ``path`` from which loop instances were newly opened by this
            segment; ``len(path)`` when the segment continues the current instance. A writer
            closes the open nodes deeper than ``opened`` and opens ``path[opened:]``.
        findings: structure and element findings reported at this segment (some may point at
            an earlier segment: a loop instance closed by this one, or an HL whose HL04 this
            one settles).
        slot: the guide slot the segment matched, ``None`` when it matched none.
    """

    loop_id: str
    path: tuple[str, ...]
    opened: int
    findings: tuple[Finding, ...] = ()
    slot: SegmentSlot | None = None

    @property
    def opens_loop(self) -> bool:
        """True when this segment opens a new instance of its loop."""
        return self.opened < len(self.path)


# --- runtime tables -------------------------------------------------------------------------

# What a segment does to the open loops, decided once per (previous slot, segment key):
# continue the loop at a level, open a new instance of the loop at a level, enter child loops
# below a level, or match nothing.
_CONTINUE, _REOPEN, _ENTER, _STRAY = range(4)


class _Move:
    """One learnt move, with what placing a segment by it needs precomputed.

    The move is ``action`` at the loop instance at depth ``level``, into ``slot``. ``keep`` is
    how many open loop instances stay open (the others close first); it is also the
    ``opened`` depth of the placement, so ``placement`` is the finding-free result. ``loops``
    are the instances the move opens. ``counted`` says whether the slot's uses in its loop
    instance matter: to a maximum use (SEG-002) or to a required slot's presence (SEG-003).

    The open loop instances are always those on the path of the previous segment's loop
    (``current``), so whether the move closes any of them (``closes``) is known with it.
    """

    __slots__ = ("action", "level", "slot", "loops", "keep", "closes", "counted", "placement")

    def __init__(
        self,
        action: int,
        level: int,
        slot: _SlotRT | None,
        loops: tuple[_LoopRT, ...],
        current: _LoopRT | None,
    ) -> None:
        self.action = action
        self.level = level
        self.slot = slot
        # The loop instances the move opens, outermost first: a new instance of the slot's
        # own loop for a reopening, the chain of child loops for an entry.
        self.loops = (slot.loop,) if action == _REOPEN and slot is not None else loops
        self.keep = level if action == _REOPEN else level + 1
        self.closes = current is not None and current.depth >= self.keep
        self.counted = slot is not None and (
            slot.max_use is not None or slot.index in slot.loop.required_indexes
        )
        self.placement = (
            slot.placement(self.keep)
            if slot is not None
            else Placement(UNKNOWN, (), 0, (), None)  # never returned: no slot is a stray
        )


_STRAY_MOVE = _Move(_STRAY, 0, None, (), None)
# Moves are cached per slot; the cap only matters for files full of unexpected qualifiers.
_MOVES_LIMIT = 512


class _Keyed:
    """The moves of one segment id whose placement depends on its qualifier value."""

    __slots__ = ("element", "component", "more", "moves")

    def __init__(self, keys: tuple[tuple[int, int], ...]) -> None:
        self.element, self.component = keys[0]
        self.more = keys[1:]
        self.moves: dict[str, _Move] = {}


class _SlotRT:
    """Runtime view of a :class:`SegmentSlot`: precompiled checks, moves and placements."""

    __slots__ = (
        "slot",
        "uid",
        "id",
        "index",
        "position",
        "max_use",
        "loop",
        "elements",
        "hook",
        "placements",
        "label",
        "limit",
        "moves",
    )

    def __init__(self, slot: SegmentSlot, uid: int, loop: _LoopRT) -> None:
        self.slot = slot
        self.uid = uid
        self.id = slot.segment_id
        self.index = slot.index
        self.position = slot.position
        self.max_use = slot.max_use
        # The maximum use as a number to compare with, however large when unbounded.
        self.limit = slot.max_use if slot.max_use is not None else sys.maxsize
        self.loop = loop
        self.label = slot.label
        self.hook = _HOOK_NONE
        self.moves: dict[str, _Move | _Keyed] = {}
        # Elements that a structure rule owns are left to that rule, so one problem is
        # reported once: HL02 (HL-002), HL04 (HL-003), DTP02/DTP03 of DTP*472 (STR-005).
        skip: frozenset[str] = frozenset()
        if slot.segment_id == "HL":
            self.hook = _HOOK_HL
            skip = frozenset({"HL02", "HL04"})
        elif slot.segment_id == "SBR" and loop.id == "2000B":
            self.hook = _HOOK_SBR
        elif slot.segment_id == "LX" and loop.id == "2400":
            self.hook = _HOOK_LX
        elif (
            slot.segment_id == "DTP"
            and loop.id == "2400"
            and slot.qualifier is not None
            and slot.qualifier.codes == frozenset({"472"})
        ):
            self.hook = _HOOK_DTP472
            skip = frozenset({"DTP02", "DTP03"})
        elif slot.segment_id == "ST":
            self.hook = _HOOK_ST
        elif slot.segment_id == "SE":
            self.hook = _HOOK_SE
        elif slot.segment_id == "GE":
            self.hook = _HOOK_GE
        elif slot.segment_id == "IEA":
            self.hook = _HOOK_IEA
        self.elements: SlotElements | None = None
        if slot.segment_id not in _ENVELOPE_CHECKED:
            # A separator inside an element is data the receiver will split (ENV-002); the
            # envelope checker looks for that in the envelope segments itself.
            self.elements = SlotElements(
                slot,
                uid,
                skip,
                extra=_service_date_problems if self.hook == _HOOK_DTP472 else None,
            )
        self.placements: list[Placement | None] = [None] * (len(loop.path) + 1)

    def placement(self, opened: int) -> Placement:
        """The shared finding-free placement of a segment in this slot."""
        cached = self.placements[opened]
        if cached is None:
            cached = Placement(self.loop.id, self.loop.path, opened, (), self.slot)
            self.placements[opened] = cached
        return cached


# A scan entry at runtime: (position, qualifier element, qualifier component, codes,
# slot in this loop or None, loops opened, target slot)
_Entry = tuple[
    int, int, int, "frozenset[str] | None", "_SlotRT | None", "tuple[_LoopRT, ...]", "_SlotRT"
]


class _LoopRT:
    """Runtime view of a :class:`LoopDef`: its scan table over runtime slots."""

    __slots__ = (
        "loop",
        "id",
        "key",
        "name",
        "position",
        "repeat",
        "limit",
        "path",
        "depth",
        "parent",
        "opening",
        "opening_q",
        "scan",
        "slots",
        "required_slots",
        "required_loops",
        "children",
        "checks_on_close",
        "required_indexes",
        "required_keys",
        "is_claim",
        "is_line",
    )

    def __init__(self, loop: LoopDef, parent: _LoopRT | None) -> None:
        self.loop = loop
        self.id = loop.id
        self.key = loop.key
        self.name = loop.name
        self.position = loop.position
        self.repeat = loop.repeat
        self.limit = loop.repeat if loop.repeat is not None else sys.maxsize
        self.path = loop.path
        self.depth = len(loop.path) - 1
        self.parent = parent
        self.opening: _SlotRT | None = None
        self.opening_q: tuple[int, int, frozenset[str] | None] = (0, 0, None)
        self.scan: dict[str, tuple[_Entry, ...]] = {}
        self.slots: tuple[_SlotRT, ...] = ()
        self.required_slots: tuple[_SlotRT, ...] = ()
        self.required_loops: tuple[_LoopRT, ...] = ()
        self.children: tuple[_LoopRT, ...] = ()
        self.checks_on_close = False
        self.required_indexes: frozenset[int] = frozenset()
        self.required_keys: frozenset[str] = frozenset()
        # A claim counts its service lines (STR-003); a service line needs its date (STR-005).
        self.is_claim = loop.id == "2300"
        self.is_line = loop.id == "2400"


class _Tables:
    """The guide's runtime tables, shared by every tracker over the same guide."""

    def __init__(self, guide: Guide) -> None:
        self.guide = guide
        self.loops: dict[int, _LoopRT] = {}
        self.slots: list[_SlotRT] = []
        for loop in guide.root.walk():
            parent = self.loops[id(loop.parent)] if loop.parent is not None else None
            self.loops[id(loop)] = _LoopRT(loop, parent)
        for loop in guide.root.walk():
            rt = self.loops[id(loop)]
            rt.slots = tuple(self._slot(slot, rt) for slot in loop.segments)
            rt.children = tuple(self.loops[id(child)] for child in loop.children)
        slot_rt = {id(s.slot): s for s in self.slots}
        keys: dict[str, set[tuple[int, int]]] = {}
        for loop in guide.root.walk():
            rt = self.loops[id(loop)]
            opening = loop.opening
            if opening is not None:
                rt.opening = slot_rt[id(opening)]
                rt.opening_q = _qual(opening)
            rt.scan = {
                seg_id: tuple(
                    (
                        entry.position,
                        *_qual(entry.target),
                        slot_rt[id(entry.slot)] if entry.slot is not None else None,
                        tuple(self.loops[id(chain)] for chain in entry.loops),
                        slot_rt[id(entry.target)],
                    )
                    for entry in entries
                )
                for seg_id, entries in loop.scan.items()
            }
            envelope = loop.id in _ENVELOPE_LOOPS
            rt.required_slots = tuple(
                s
                for s in rt.slots
                if s.slot.usage == "R"
                and s is not rt.opening
                and not envelope
                and s.hook != _HOOK_DTP472
            )
            rt.required_loops = tuple(
                child for child in rt.children if child.loop.usage == "R" and not envelope
            )
            rt.checks_on_close = bool(rt.required_slots or rt.required_loops or rt.id == "2400")
            rt.required_indexes = frozenset(slot.index for slot in rt.required_slots)
            rt.required_keys = frozenset(child.key for child in rt.required_loops)
            for slot in loop.segments:
                found = keys.setdefault(slot.segment_id, set())
                if slot.qualifier is not None:
                    found.add((slot.qualifier.element, slot.qualifier.component or 0))
        # The elements that decide where a segment goes, per segment id: every qualifier any
        # slot with that id uses. A segment's move is cached on (previous slot, id, values).
        self.keys: dict[str, tuple[tuple[int, int], ...]] = {
            seg_id: tuple(sorted(found)) for seg_id, found in keys.items()
        }
        self.isa = self.loops[id(guide.root)]
        self.gs = next(c for c in self.isa.children if c.id == "GS_LOOP")
        self.st = next(c for c in self.gs.children if c.id == "ST_LOOP")
        self.se = next(s for s in self.st.slots if s.id == "SE")
        self.unknown: dict[tuple[tuple[str, ...], int], Placement] = {}

    def _slot(self, slot: SegmentSlot, loop: _LoopRT) -> _SlotRT:
        rt = _SlotRT(slot, len(self.slots), loop)
        self.slots.append(rt)
        return rt


def _qual(slot: SegmentSlot) -> tuple[int, int, frozenset[str] | None]:
    q = slot.qualifier
    if q is None:
        return (0, 0, None)
    return (q.element, q.component or 0, q.codes)


_TABLES: dict[int, _Tables] = {}


def _tables(guide: Guide) -> _Tables:
    tables = _TABLES.get(id(guide))
    if tables is None or tables.guide is not guide:
        tables = _Tables(guide)
        _TABLES[id(guide)] = tables
    return tables


def _resolve(state: _SlotRT, seg: Segment) -> _Move:
    """pyx12's walk from the slot of the previous segment to the one that takes ``seg``.

    The walk tries the members of the current loop from the previous segment's position on
    (segments, and the child loops whose opening segment matches), then each enclosing loop
    from the position of the loop it leaves. The first match wins.
    """
    sid = seg.id
    rt: _LoopRT | None = state.loop
    pos = state.position
    current = state.loop
    while rt is not None:
        for entry in rt.scan.get(sid, ()):
            if entry[0] < pos or not _qualifies(seg, (entry[1], entry[2], entry[3])):
                continue
            slot = entry[4]
            if slot is None:
                return _Move(_ENTER, rt.depth, entry[6], entry[5], current)
            opening = rt.opening
            # pyx12 reads a segment that matches the loop's opening segment as a new
            # instance of the loop, even when a later slot of the loop would take it.
            if slot is opening or (
                opening is not None and opening.id == sid and _qualifies(seg, rt.opening_q)
            ):
                return _Move(_REOPEN, rt.depth, opening, (), current)
            return _Move(_CONTINUE, rt.depth, slot, (), current)
        pos = rt.position
        rt = rt.parent
    return _STRAY_MOVE


# --- the tracker ----------------------------------------------------------------------------


class _Frame:
    """One open loop instance.

    Attributes:
        rt: the loop.
        counts: uses of the loop's slots that have a maximum use or are required, by slot
            index (``None`` until one is used; the opening segment is not counted).
        loops: instances of child loops opened in this one, by loop key (``None`` until one).
        opener: the segment that opened the instance; ``None`` for the interchange or group
            assumed around a transaction whose ISA or GS is missing.
        lines: in a claim (2300), its service lines so far.
        has_472: in a service line (2400), whether its DTP*472 service date was seen.
    """

    __slots__ = ("rt", "counts", "loops", "opener", "lines", "has_472")

    rt: _LoopRT
    counts: dict[int, int] | None
    loops: dict[str, int] | None
    opener: Segment | None
    lines: int
    has_472: bool


def _frame(rt: _LoopRT, opener: Segment | None) -> _Frame:
    """A new instance of ``rt``.

    The attributes are set here rather than in ``__init__``: a loop opens at about every
    third segment, and this is measurably cheaper than a call through ``__init__``
    (:meth:`LoopTracker.place` does the same inline).
    """
    frame = _Frame()
    frame.rt = rt
    frame.counts = None
    frame.loops = None
    frame.opener = opener
    frame.lines = 0
    frame.has_472 = False
    return frame


class LoopTracker:
    """Places the segments of a file, one at a time, in the 837P guide's loops.

    Feed every segment in file order to :meth:`place` (or, inside a transaction that is not an
    837P, to :meth:`skip`), then call :meth:`finish` at the end of the input.
    """

    def __init__(self, guide: Guide | None = None) -> None:
        self.guide = guide if guide is not None else load_guide()
        self._t = _tables(self.guide)
        self._keys = self._t.keys
        self._frames: list[_Frame] = []
        self._state: _SlotRT | None = None
        self._foreign = False
        self._foreign_body = False
        self._elements = ElementChecker(len(self._t.slots))
        self._header = HeaderChecker()
        # Whether an 837P transaction's header is open (up to its first HL).
        self._in_header = False
        self._memo = self._elements.memo
        # Per state (the slot of the previous segment), the moves of segment texts already
        # placed from it without an element problem; valid for one set of separators.
        self._known: list[dict[str, _Move]] = [{} for _ in self._t.slots]
        # Texts remembered now, over every state (see KNOWN_LIMIT).
        self._known_count = 0
        self._hierarchy = HierarchyChecker()

    # -- public ------------------------------------------------------------------------------

    @property
    def depth(self) -> int:
        """Number of loop instances currently open."""
        return len(self._frames)

    @property
    def path(self) -> tuple[str, ...]:
        """The loop ids of the innermost open loop instance, from the outermost."""
        return self._frames[-1].rt.path if self._frames else ()

    def place(self, seg: Segment) -> Placement:
        """Place ``seg`` after the segments already placed; returns where it went."""
        if self._in_header:
            return self._place_in_header(seg)
        state = self._state
        if state is None:
            return self._unplaced(seg)
        # Most segments repeat a text already placed from the same state without an element
        # problem (the same NM1*PR, SV1, DTP*472 claim after claim): the text alone then names
        # the move, and one lookup replaces the qualifier's and the element memo's.
        known = self._known[state.uid]
        text = seg.text
        move = known.get(text)
        if move is not None:
            slot = move.slot
            problems: tuple[Problem, ...] = ()
        else:
            # A text new to this state (a subscriber's name, a claim id): its move by id and
            # qualifier, and its element checks, remembered by text in its slot.
            move = self._move(state, seg)
            slot = move.slot
            if slot is None:
                return self._unplaced(seg)
            rules = slot.elements
            if rules is None:
                problems = ()
            else:
                memo = self._memo[slot.uid]
                cached = memo.get(text)
                if cached is None:
                    cached = self._elements.check(seg, rules)
                    if len(memo) >= MEMO_LIMIT:
                        memo.clear()
                    memo[text] = cached
                problems = cached
            if not problems:
                if len(known) >= MEMO_LIMIT:
                    self._known_count -= len(known)
                    known.clear()
                known[text] = move
                self._known_count += 1
                if self._known_count > KNOWN_LIMIT:
                    self._forget_texts()
        assert slot is not None
        self._foreign = False
        frames = self._frames
        # The loop instances the move leaves are complete now: report what they lack.
        found = self._close_from(move.keep, None) if move.closes else None
        opens = move.loops
        if not opens:
            if move.counted:
                frame = frames[-1]
                counts = frame.counts
                if counts is None:
                    frame.counts = {slot.index: 1}
                else:
                    index = slot.index
                    uses = counts.get(index, 0) + 1
                    counts[index] = uses
                    if uses > slot.limit:
                        found = found if found is not None else []
                        self._hierarchy.limit(found, self._repeated(seg, slot, uses))
        else:
            for rt in opens:
                if frames:
                    # Count the instance in its parent loop (STR-001, and SEG-003 on close).
                    parent = frames[-1]
                    loops = parent.loops
                    if loops is None:
                        loops = parent.loops = {}
                    key = rt.key
                    instances = loops.get(key, 0) + 1
                    loops[key] = instances
                    if instances > rt.limit:
                        found = found if found is not None else []
                        self._repeated_loop(found, seg, rt, parent.rt, instances)
                # What _frame(rt, seg) does, without the call.
                frame = _Frame()
                frame.rt = rt
                frame.counts = None
                frame.loops = None
                frame.opener = seg
                frame.lines = 0
                frame.has_472 = False
                frames.append(frame)
        self._state = slot
        hook = slot.hook
        if hook:
            # The commonest hooks, the service line's date and number, are handled here.
            if hook == _HOOK_DTP472:
                frames[-1].has_472 = True
            elif hook == _HOOK_LX:
                claim = frames[-2] if len(frames) > 1 else None
                if claim is not None and claim.rt.is_claim:
                    lines = claim.lines = claim.lines + 1
                    try:
                        number = seg.elements[1]
                    except IndexError:
                        number = ""
                    if number != str(lines):
                        found = found if found is not None else []
                        found.append(_misnumbered_line(seg, lines))
            else:
                found = self._hook(slot, seg, found)
        if problems:
            found = found if found is not None else []
            loop_id = slot.loop.id
            for code, ref, message in problems:
                found.append(_finding(code, message, seg, ref, loop_id))
        if found:
            return Placement(slot.loop.id, slot.loop.path, move.keep, tuple(found), slot.slot)
        return move.placement

    def _forget_texts(self) -> None:
        """Drop the texts remembered per state (new separators, or the bound reached)."""
        for known in self._known:
            known.clear()
        self._known_count = 0

    def _move(self, state: _SlotRT, seg: Segment) -> _Move:
        """The move that places ``seg`` from ``state``, learnt on first use."""
        # Moves are looked up by subscript: a move not learnt yet is the rare case.
        try:
            known = state.moves[seg.id]
        except KeyError:
            return self._learn(state, seg, None)
        if isinstance(known, _Move):
            return known
        # The move depends on the segment's qualifier (NM101, HL03, SV101-1 ...).
        try:
            value = seg.elements[known.element]
        except IndexError:
            value = ""
        if known.component:
            parts = value.split(seg.delimiters.component)
            value = parts[known.component - 1] if known.component <= len(parts) else ""
        if known.more:
            value = "\x1f".join((value, *(_value(seg, e, c) for e, c in known.more)))
        try:
            return known.moves[value]
        except KeyError:
            return self._learn(state, seg, value)

    def _place_in_header(self, seg: Segment) -> Placement:
        """Place a segment of an 837P transaction header, which the header checker reads too."""
        header = self._header
        checked = header.feed(seg)
        self._in_header = False
        placement = self.place(seg)
        # Placing an ST may have begun the next transaction's header.
        self._in_header = header.open
        if not checked:
            return placement
        return replace(placement, findings=(*checked, *placement.findings))

    def _repeated_loop(
        self, found: list[Finding], seg: Segment, rt: _LoopRT, parent: _LoopRT, instances: int
    ) -> None:
        """STR-001 for a loop instance beyond its repeat, capped per transaction.

        Service lines past the guide's 50 are left to the builder, which keeps the first of
        them and reports the claim once; any other flood of a loop is capped here.
        """
        finding = _repeated_loop(seg, rt, parent, instances)
        if rt.is_line:
            found.append(finding)
        else:
            self._hierarchy.limit(found, finding)

    def _repeated(self, seg: Segment, slot: _SlotRT, uses: int) -> Finding:
        """SEG-002 for a segment used more often in its loop instance than the guide allows."""
        loop_id = self._frames[-1].rt.id
        return _finding(
            SEG002,
            f"{slot.label} repeats {uses} times in loop {loop_id}; the guide allows {slot.max_use}",
            seg,
            None,
            loop_id,
        )

    def _unplaced(self, seg: Segment) -> Placement:
        """Place a segment that no learnt move places.

        ISA and GS open their envelope wherever they stand; any other such segment is one that
        no slot takes from here.
        """
        sid = seg.id
        if sid == "ISA":
            return self._open_interchange(seg)
        if sid == "GS":
            return self._open_group(seg)
        return self._stray(seg)

    def _learn(self, state: _SlotRT, seg: Segment, value: str | None) -> _Move:
        """Work out (and remember) the move for a segment id and qualifier from ``state``."""
        sid = seg.id
        if sid == "ISA" or sid == "GS":
            # Placed by :meth:`_unplaced`, from whatever state.
            state.moves[sid] = _STRAY_MOVE
            return _STRAY_MOVE
        keys = self._keys.get(sid)
        if keys is None:
            return _STRAY_MOVE  # an id the guide does not know
        move = _resolve(state, seg)
        moves = state.moves
        if not keys:
            moves[sid] = move
            return move
        known = moves.get(sid)
        if not isinstance(known, _Keyed):
            known = moves[sid] = _Keyed(keys)
        if value is None:
            value = "\x1f".join(_value(seg, e, c) for e, c in keys)
        if len(known.moves) >= _MOVES_LIMIT:
            known.moves.clear()
        known.moves[value] = move
        return move

    def skip(self, seg: Segment) -> Placement:
        """Place a segment of a transaction that is not an 837P without the 837P map.

        ``ST`` and ``SE`` go to ``ST_LOOP`` like any envelope segment; the body segments get
        the loop id :data:`UNKNOWN` under ``ST_LOOP``. An interchange or group segment ends the
        skipped transaction and is placed normally.
        """
        sid = seg.id
        if sid in ("ISA", "IEA", "GS", "GE", "TA1"):
            self._foreign = False
            return self.place(seg)
        if sid == "ST":
            placement = self._open_transaction(seg, placed=False)
            self._foreign = True
            self._foreign_body = False
            return placement
        if sid == "SE":
            self._foreign = False
            return self._close_transaction(seg)
        if not self._foreign:
            # A body segment without its ST: still nothing to place it with.
            self._foreign = True
            self._foreign_body = False
        base = self._frames[-1].rt.path if self._frames else ()
        opened = len(base) if not self._foreign_body else len(base) + 1
        self._foreign_body = True
        return self._unknown(base + (UNKNOWN,), opened)

    def finish(self) -> list[Finding]:
        """Close every open loop at the end of the input; returns what that reveals."""
        found: list[Finding] = []
        self._hierarchy.settle(None, found)
        self._close_from(0, found)
        self._hierarchy.flush(found)
        self._state = None
        return found

    # -- placing -----------------------------------------------------------------------------

    def _push(self, rt: _LoopRT, seg: Segment, found: list[Finding]) -> None:
        """Open an instance of ``rt`` with ``seg`` (an envelope segment; see :meth:`place`)."""
        frames = self._frames
        if frames:
            parent = frames[-1]
            loops = parent.loops
            if loops is None:
                loops = parent.loops = {}
            instances = loops.get(rt.key, 0) + 1
            loops[rt.key] = instances
            if rt.repeat is not None and instances > rt.repeat:
                self._repeated_loop(found, seg, rt, parent.rt, instances)
        frames.append(_frame(rt, seg))

    def _close_from(self, level: int, found: list[Finding] | None) -> list[Finding] | None:
        """Close the loop instances deeper than ``level``; returns ``found`` with what they lack."""
        frames = self._frames
        while len(frames) > level:
            frame = frames.pop()
            rt = frame.rt
            if not rt.checks_on_close or frame.opener is None:
                continue
            # Most loop instances are complete: two set comparisons say so without a loop.
            counts = frame.counts
            loops = frame.loops
            if (
                (
                    not rt.required_indexes
                    or (counts is not None and counts.keys() >= rt.required_indexes)
                )
                and (
                    not rt.required_keys or (loops is not None and loops.keys() >= rt.required_keys)
                )
                and (frame.has_472 or not rt.is_line)
            ):
                continue
            found = found if found is not None else []
            self._close(frame, found)
        return found

    def _close(self, frame: _Frame, found: list[Finding]) -> None:
        """Report what a loop instance lacks once it is complete."""
        rt = frame.rt
        opener = frame.opener
        assert opener is not None
        counts = frame.counts or {}
        for slot in rt.required_slots:
            if slot.index not in counts:
                self._hierarchy.report(
                    found,
                    _finding(
                        SEG003,
                        f"required segment {slot.label} ({slot.slot.name}) is missing from "
                        f"loop {rt.id}",
                        opener,
                        None,
                        rt.id,
                    ),
                )
        loops = frame.loops or {}
        for child in rt.required_loops:
            if child.key not in loops:
                self._hierarchy.report(
                    found,
                    _finding(
                        SEG003,
                        f"required loop {child.id} ({child.name}) is missing from loop {rt.id}",
                        opener,
                        None,
                        rt.id,
                    ),
                )
        if rt.is_line and not frame.has_472:
            found.append(
                _finding(
                    STR005,
                    "service line has no DTP*472 service date",
                    opener,
                    None,
                    rt.id,
                )
            )

    def _open_interchange(self, seg: Segment) -> Placement:
        found: list[Finding] = []
        self._hierarchy.settle(None, found)
        self._close_from(0, found)
        self._hierarchy.flush(found)
        # Element results depend on the separators; new ones void what was learnt.
        if self._elements.use(seg.delimiters):
            self._forget_texts()
        self._header.interchange(seg)
        self._foreign = False
        t = self._t
        self._push(t.isa, seg, found)
        slot = t.isa.opening
        assert slot is not None
        self._state = slot
        self._hierarchy.reset()
        if found:
            return Placement(t.isa.id, t.isa.path, 0, tuple(found), slot.slot)
        return slot.placement(0)

    def _open_group(self, seg: Segment) -> Placement:
        found: list[Finding] = []
        self._hierarchy.settle(None, found)
        t = self._t
        if not self._frames or self._frames[0].rt is not t.isa:
            self._close_from(0, found)
            self._frames.append(_frame(t.isa, None))
        self._close_from(1, found)
        self._hierarchy.flush(found)
        self._foreign = False
        self._header.group(seg)
        self._push(t.gs, seg, found)
        slot = t.gs.opening
        assert slot is not None
        self._state = slot
        self._hierarchy.reset()
        if found:
            return Placement(t.gs.id, t.gs.path, 1, tuple(found), slot.slot)
        return slot.placement(1)

    def _open_transaction(self, seg: Segment, placed: bool) -> Placement:
        """An ST whatever its ST01: a new ``ST_LOOP`` under the current group.

        ``placed`` says that it opens an 837P transaction the tracker places (not a skipped
        one), whose header is then checked.
        """
        found: list[Finding] = []
        self._hierarchy.settle(None, found)
        # A transaction set meant as 837P is held to the 837P versions even when skipped.
        found += self._header.transaction(seg)
        self._in_header = False
        if placed:
            self._header.start(seg)
            self._in_header = True
        t = self._t
        if len(self._frames) < 2 or self._frames[1].rt is not t.gs:
            self._open_group_frames(found)
        self._close_from(2, found)
        self._hierarchy.flush(found)
        st = t.st
        self._push(st, seg, found)
        slot = st.opening
        assert slot is not None
        self._state = slot
        self._hierarchy.reset()
        if found:
            return Placement(st.id, st.path, 2, tuple(found), slot.slot)
        return slot.placement(2)

    def _close_transaction(self, seg: Segment) -> Placement:
        """An SE that ends a transaction set the 837P map did not place."""
        found: list[Finding] = []
        t = self._t
        if len(self._frames) < 3 or self._frames[2].rt is not t.st:
            return self.place(seg)
        self._close_from(3, found)
        self._hierarchy.flush(found)
        slot = t.se
        self._state = slot
        self._hierarchy.reset()
        if found:
            return Placement(t.st.id, t.st.path, 3, tuple(found), slot.slot)
        return slot.placement(3)

    def _open_group_frames(self, found: list[Finding]) -> None:
        """Frames for an interchange and a group whose ISA or GS was never seen."""
        t = self._t
        if not self._frames or self._frames[0].rt is not t.isa:
            self._close_from(0, found)
            self._frames.append(_frame(t.isa, None))
        self._close_from(1, found)
        self._frames.append(_frame(t.gs, None))

    def _stray(self, seg: Segment) -> Placement:
        """A segment no slot takes from here: report it and keep it in the current loop."""
        frames = self._frames
        if not frames:
            finding = _finding(
                SEG002,
                f"segment {seg.id} appears outside any interchange",
                seg,
                None,
                UNKNOWN,
            )
            return Placement(UNKNOWN, (), 0, (finding,), None)
        current = frames[-1].rt
        sid = seg.id
        if sid == "ST":
            # A transaction set outside a group (no GS): the envelope checker reports the
            # missing GS; the transaction is still read.
            return self._open_transaction(seg, placed=True)
        found: list[Finding] = []
        slot: _SlotRT | None = None
        if sid == "HL":
            # The hierarchy is checked whatever loop the HL could or could not open.
            self._hierarchy.check_hl(seg, current.id, found)
        if sid not in self.guide.segment_ids:
            self._hierarchy.limit(
                found,
                _finding(
                    SEG001,
                    f"unknown segment id {quote(sid)}: the 837P guide has no such segment",
                    seg,
                    None,
                    current.id,
                ),
            )
        else:
            home = self._home(seg)
            if home is None:
                self._hierarchy.limit(
                    found,
                    _finding(
                        SEG002,
                        f"segment {_label(seg)} is not expected in loop {current.id} here",
                        seg,
                        None,
                        current.id,
                    ),
                )
            else:
                slot = home
                # Count the segment where it belongs, so it is not also reported missing: an
                # out-of-order DTP*472 is still the line's service date.
                for frame in frames:
                    if frame.rt is home.loop:
                        counts = frame.counts
                        if counts is None:
                            counts = frame.counts = {}
                        counts[home.index] = counts.get(home.index, 0) + 1
                        if home.hook == _HOOK_DTP472 and frame.rt.is_line:
                            frame.has_472 = True
                if home.hook == _HOOK_SBR:
                    self._hierarchy.subscriber(seg)
                if home.loop is current:
                    message = (
                        f"segment {home.label} out of order in loop {current.id}: the guide "
                        "puts it before the segments that precede it here"
                    )
                else:
                    message = (
                        f"segment {home.label} out of order: it belongs to loop "
                        f"{home.loop.id} but stands inside loop {current.id}"
                    )
                self._hierarchy.limit(found, _finding(STR002, message, seg, None, current.id))
                if home.elements is not None:
                    for code, ref, text in self._elements.check(seg, home.elements):
                        found.append(_finding(code, text, seg, ref, current.id))
        return Placement(
            current.id,
            current.path,
            len(frames),
            tuple(found),
            slot.slot if slot is not None and slot.loop is current else None,
        )

    def _home(self, seg: Segment) -> _SlotRT | None:
        """The slot of an open loop that would take ``seg`` if order did not matter."""
        for frame in reversed(self._frames):
            for entry in frame.rt.scan.get(seg.id, ()):
                slot = entry[4]
                if slot is not None and _qualifies(seg, (entry[1], entry[2], entry[3])):
                    return slot
        return None

    def _unknown(self, path: tuple[str, ...], opened: int) -> Placement:
        key = (path, opened)
        cached = self._t.unknown.get(key)
        if cached is None:
            cached = Placement(UNKNOWN, path, opened, (), None)
            self._t.unknown[key] = cached
        return cached

    # -- structure rules ---------------------------------------------------------------------

    def _hook(
        self, slot: _SlotRT, seg: Segment, found: list[Finding] | None
    ) -> list[Finding] | None:
        """The structure rules tied to a slot; returns ``found`` with what they report."""
        hook = slot.hook
        header = self._header
        if hook == _HOOK_HL:
            found = found if found is not None else []
            self._hierarchy.check_hl(seg, slot.loop.id, found)
        elif hook == _HOOK_SBR:
            self._hierarchy.subscriber(seg)
        elif hook == _HOOK_ST:
            if self._hierarchy.holding:
                found = found if found is not None else []
                self._hierarchy.flush(found)
            self._hierarchy.reset()
            checked = header.transaction(seg)
            header.start(seg)
            self._in_header = True
            if checked:
                found = [*(found or ()), *checked]
        elif hook == _HOOK_SE:
            found = found if found is not None else []
            self._hierarchy.settle(None, found)
            self._hierarchy.flush(found)
            self._hierarchy.reset()
        elif hook == _HOOK_GE:
            header.group(None)
        elif hook == _HOOK_IEA:
            header.interchange(None)
        return found


def _service_date_problems(seg: Segment) -> list[Problem]:
    """STR-005: the DTP*472 service date is D8 CCYYMMDD or RD8 CCYYMMDD-CCYYMMDD."""
    qualifier = seg.element(2)
    value = seg.element(3)
    if qualifier == "D8":
        if parse_date(value) is None:
            return [(STR005, "DTP03", f"DTP03 {value!r} is not a CCYYMMDD date")]
    elif qualifier == "RD8":
        start, _, end = value.partition("-")
        first, last = parse_date(start), parse_date(end)
        if first is None or last is None:
            return [(STR005, "DTP03", f"DTP03 {value!r} is not a CCYYMMDD-CCYYMMDD range")]
        if last < first:
            return [(STR005, "DTP03", f"DTP03 {value!r} ends before it starts")]
    else:
        shown = repr(qualifier) if qualifier else "missing"
        return [(STR005, "DTP02", f"DTP02 of the service date is {shown}; it must be D8 or RD8")]
    return []


def _qualifies(seg: Segment, qualifier: tuple[int, int, frozenset[str] | None]) -> bool:
    element, component, codes = qualifier
    if codes is None:
        return True
    value = seg.element(element)
    if component:
        value = seg.component(element, component)
    return value in codes


def _misnumbered_line(seg: Segment, lines: int) -> Finding:
    """STR-003: LX01 counts the service lines of the claim 1, 2, 3 ..."""
    text = seg.element(1)
    shown = text if len(text) <= 6 else f"{len(text)} characters long"
    return _finding(
        STR003,
        f"LX01 is {shown or 'missing'}, but this is service line {lines} of the claim; LX01 "
        "counts 1, 2, 3 ...",
        seg,
        "LX01",
        "2400",
    )


def _repeated_loop(seg: Segment, rt: _LoopRT, parent: _LoopRT, instances: int) -> Finding:
    """STR-001 for a loop instance beyond the loop's repeat in its parent instance."""
    return _finding(
        STR001,
        f"loop {rt.id} ({rt.name}) repeats {instances} times in loop {parent.id}; the guide "
        f"allows {rt.repeat}",
        seg,
        None,
        rt.id,
    )


def _label(seg: Segment) -> str:
    first = seg.element(1)
    return f"{seg.id}*{first}" if first and len(first) <= 3 else seg.id


def _value(seg: Segment, element: int, component: int) -> str:
    return seg.component(element, component) if component else seg.element(element)

"""The loop builder: one :class:`Unit` per claim, streaming, with its context.

:class:`UnitReader` runs the envelope checker (:mod:`edi837.x12.envelope`) and the loop tracker
(:mod:`edi837.x837p.tracker`) over a stream of segments and cuts it into units:

- ``claim``: a 2300 loop with its nested loops and service lines, from its CLM up to the next
  CLM, HL or SE, with a filled :class:`~edi837.x837p.model.Claim` (billing provider 2000A,
  subscriber 2000B and, when there is one, patient 2000C as context);
- ``segments``: the runs between claims (envelopes, transaction header, HL context);
- ``skipped``: a transaction set that is not an 837P (an 835, an 837I, a 4010 837), with a
  notice; its segments are not placed with the 837P map.

Concatenating the segments of all units gives back every segment of the input, in order.
Memory is bounded by one claim and its context: a party (2000A/B/C) is kept only while it is
the current one, runs without claims are cut every :data:`UNIT_SEGMENT_LIMIT` segments, and a
claim keeps views of no more service lines than the guide allows (50): the lines after them are
reported once (STR-001) and travel in the unit as segments only. Those segments of a claim
past :data:`~edi837.x837p.spool.SPILL_AFTER` wait on disk (:mod:`edi837.x837p.spool`), so a
claim of any size takes the memory of one within the guide.

Every finding of the envelope checker and of the tracker goes to the unit holding the segment
it is about when that unit is still open, otherwise to the unit being built (a loop closed by
the next claim's CLM reports into the claim it belongs to). Findings of a claim unit carry the
claim's CLM01 and, inside a service line, its LX01; STR-004 (CLM02 = sum of SV102) is checked
here, when the claim is complete.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from decimal import Context, Decimal
from pathlib import Path
from typing import BinaryIO, Literal

from edi837.findings import Finding
from edi837.x12.envelope import EnvelopeChecker
from edi837.x12.reader import SegmentReader, open_source
from edi837.x12.segment import Segment
from edi837.x837p.checks import STR001, STR004
from edi837.x837p.guide import Guide
from edi837.x837p.model import (
    LINE_NUMBER_DIGITS,
    Claim,
    DrugLine,
    Envelope,
    Loop,
    Party,
    Provider,
    ServiceLine,
    parse_count,
    parse_decimal,
)
from edi837.x837p.spool import SPILL_AFTER, SegmentSpool
from edi837.x837p.tracker import LoopTracker, Placement

__all__ = [
    "MAX_CLAIM_LINES",
    "UNIT_SEGMENT_LIMIT",
    "Placed",
    "Summary",
    "Unit",
    "UnitKind",
    "UnitReader",
    "read_file",
    "read_units",
]

UnitKind = Literal["claim", "segments", "skipped"]
#: A segment with the place the tracker gave it; unpacks as ``seg, placement``.
Placed = tuple[Segment, Placement]

#: Runs of segments outside claims (and skipped transactions) are cut into units of at most
#: this many segments, so that a file of anything but claims still streams.
UNIT_SEGMENT_LIMIT = 10_000
#: Service lines a claim keeps views of when the guide gives loop 2400 no repeat; the 837P
#: allows 50, and later lines are reported once (STR-001) instead of kept.
MAX_CLAIM_LINES = 50
#: A loop view (the segments of a loop, or the loops of a claim, line or party) keeps this
#: many entries whatever they are; past it, only the first MAX_VIEW_REPEATS of each segment id
#: (or loop id). The guide's largest loops and repeats are far below both, so only a flood
#: (100,000 NTEs in a claim) is cut: the tracker reports it, its segments still travel in the
#: unit for the writers, and the views keep every other segment of the loop for the rules.
MAX_VIEW_ENTRIES = 1_000
MAX_VIEW_REPEATS = 100


class _ViewBound:
    """Decides what a full view keeps: per view, counts by id, made once it is full."""

    __slots__ = ("_counts",)

    def __init__(self) -> None:
        # Keyed by the view's identity; the view itself is kept to tell a reused id() apart.
        self._counts: dict[int, tuple[list[Segment] | list[Loop], dict[str, int]]] = {}

    def _count(self, view: list[Segment] | list[Loop], key: str) -> bool:
        entry = self._counts.get(id(view))
        if entry is None or entry[0] is not view:
            if len(self._counts) > 64:
                self._counts.clear()  # a cache: the counts are made again from the view
            counts: dict[str, int] = {}
            for item in view:
                name = item.id if isinstance(item, Segment) else item.loop_id
                counts[name] = counts.get(name, 0) + 1
            entry = (view, counts)
            self._counts[id(view)] = entry
        counts = entry[1]
        seen = counts.get(key, 0)
        if seen >= MAX_VIEW_REPEATS:
            return False
        counts[key] = seen + 1
        return True

    def segment(self, view: list[Segment], seg: Segment) -> None:
        """Append ``seg`` to a full ``view`` unless its id already floods it."""
        if self._count(view, seg.id):
            view.append(seg)

    def loop(self, view: list[Loop], loop: Loop) -> None:
        """Append ``loop`` to a full list of loop views unless its id already floods it."""
        if self._count(view, loop.loop_id):
            view.append(loop)


# Where a loop's segments go while a claim is built.
_CLAIM, _LINE, _LINE_LOOP, _CLAIM_LOOP = range(4)
_LINE_LOOPS = ("2410", "2420A", "2420B", "2420C", "2420D", "2420E", "2420F", "2420G", "2420H")
_CLAIM_KINDS = {
    "2300": _CLAIM,
    "2400": _LINE,
    **dict.fromkeys((*_LINE_LOOPS, "2430", "2440"), _LINE_LOOP),
}

# The hierarchical levels and their name loops, by the party they describe.
_BILLING, _SUBSCRIBER, _PATIENT = range(3)
_LEVELS = {"2000A": _BILLING, "2000B": _SUBSCRIBER, "2000C": _PATIENT}
_NAMES = {
    "2010AA": _BILLING,
    "2010AB": _BILLING,
    "2010AC": _BILLING,
    "2010BA": _SUBSCRIBER,
    "2010BB": _SUBSCRIBER,
    "2010CA": _PATIENT,
}
_PARTY_LOOPS = frozenset(_LEVELS) | frozenset(_NAMES)


@dataclass(init=False)
class Unit:
    """A run of consecutive segments: a claim, the segments between claims, or a skipped set.

    Attributes:
        kind: ``claim``, ``segments`` or ``skipped``.
        segments: ``(segment, placement)`` pairs in file order; for a claim past
            :data:`~edi837.x837p.spool.SPILL_AFTER` segments, a :class:`SegmentSpool` that
            holds the earlier ones on disk (iterate it; ``[0]`` and ``[-1]`` are cheap).
        claim: the claim view, for a ``claim`` unit.
        envelope: the interchange, group and transaction the unit sits in.
        findings: envelope and structure findings located in these segments (and any that
            could no longer go to the unit they are about).
        notice: for a ``skipped`` unit, what the transaction set is and that it was skipped
            (only on the first unit of a set longer than :data:`UNIT_SEGMENT_LIMIT`).
    """

    kind: UnitKind
    segments: list[Placed] | SegmentSpool
    claim: Claim | None
    envelope: Envelope | None
    findings: list[Finding]
    notice: str | None

    # Explicit, so that the compiled build compiles it: a generated __init__ stays interpreted.
    def __init__(
        self,
        kind: UnitKind,
        segments: list[Placed] | SegmentSpool | None = None,
        claim: Claim | None = None,
        envelope: Envelope | None = None,
        findings: list[Finding] | None = None,
        notice: str | None = None,
    ) -> None:
        self.kind = kind
        self.segments = [] if segments is None else segments
        self.claim = claim
        self.envelope = envelope
        self.findings = [] if findings is None else findings
        self.notice = notice

    @property
    def first_number(self) -> int | None:
        """The ordinal of the unit's first segment in the file."""
        return self.segments[0][0].number if self.segments else None


@dataclass
class Summary:
    """What a file held, counted while its units were read.

    Attributes:
        interchanges: ISA segments.
        transactions: 837P transaction sets.
        claims: claims (2300 loops) of the 837P transaction sets.
        service_lines: service lines (2400 loops) of those claims.
        skipped: transaction sets that are not 837P and were skipped (each one's unit
            carries a notice saying what it was).
    """

    interchanges: int = 0
    transactions: int = 0
    claims: int = 0
    service_lines: int = 0
    skipped: int = 0


class _ClaimBuilder:
    """Collects the loops of one claim as its segments arrive.

    Only the first ``max_lines`` service lines get views (:class:`ServiceLine`); the loops of
    the lines after them go to a scratch loop that holds one line at a time, so that a claim
    of any number of lines takes the memory of ``max_lines`` (its segments still travel in
    the unit, which is what writers read).
    """

    __slots__ = (
        "claim",
        "depth",
        "line",
        "loop",
        "line_starts",
        "max_lines",
        "excess_lines",
        "excess_start",
        "line_loop_name",
        "_scratch",
        "_bound",
    )

    def __init__(
        self,
        claim: Claim,
        depth: int,
        clm: Segment,
        max_lines: int,
        line_loop_name: str,
        bound: _ViewBound,
    ) -> None:
        self.claim = claim
        self.depth = depth  # the index of "2300" in the placement paths of this claim
        self.line: ServiceLine | None = None
        self.loop = claim.loop
        self.line_starts: list[int] = []
        self.max_lines = max_lines
        self.line_loop_name = line_loop_name
        self.excess_lines = 0  # service lines after the first max_lines
        self.excess_start: Segment | None = None  # the LX that opened the first of them
        self._scratch: Loop | None = None
        self._bound = bound
        claim.loop.segments.append(clm)

    def add(self, seg: Segment, placement: Placement) -> None:
        """Put a segment of the claim in its loop, opening the loop when it starts here."""
        loop_id = placement.loop_id
        claim = self.claim
        kind = _CLAIM_KINDS.get(loop_id, _CLAIM_LOOP)
        new = placement.opened < len(placement.path)
        if kind == _LINE and new and len(claim.lines) >= self.max_lines:
            # A line beyond the guide's repeat: counted, reported once, not kept.
            self.excess_lines += 1
            if self.excess_start is None:
                self.excess_start = seg
            self.line = None
            self._scratch = Loop(loop_id)
            loop = self._scratch
        elif self._scratch is not None and kind in (_LINE, _LINE_LOOP):
            loop = self._scratch
            if new:
                loop.segments.clear()  # one nested loop at a time is enough to continue it
                loop.loop_id = loop_id
        elif kind == _CLAIM:
            loop = claim.loop
        elif kind == _LINE:
            if new or self.line is None:
                self.line = ServiceLine(Loop(loop_id))
                claim.lines.append(self.line)
                self.line_starts.append(seg.number)
            loop = self.line.loop
        elif kind == _LINE_LOOP and self.line is not None:
            line = self.line
            found = None if new else _last(line.loops, loop_id)
            if found is None:
                found = Loop(loop_id)
                if len(line.loops) < MAX_VIEW_ENTRIES:
                    line.loops.append(found)
                else:
                    self._bound.loop(line.loops, found)
                if loop_id == "2410":
                    line.drug = DrugLine(found)
                elif loop_id == "2420A":
                    line.rendering = Provider(found)
                elif loop_id == "2420D":
                    line.supervising = Provider(found)
            loop = found
        else:
            found = None if new else _last(claim.loops, loop_id)
            if found is None:
                found = Loop(loop_id)
                if len(claim.loops) < MAX_VIEW_ENTRIES:
                    claim.loops.append(found)
                else:
                    self._bound.loop(claim.loops, found)
            loop = found
        if len(loop.segments) < MAX_VIEW_ENTRIES:
            loop.segments.append(seg)
        else:
            self._bound.segment(loop.segments, seg)
        self.loop = loop

    def line_of(self, number: int | None) -> int | None:
        """LX01 of the service line that holds segment ``number``, if any.

        ``None`` for a segment of a line past the kept ones: it has no view to be keyed by.
        """
        if number is None or not self.line_starts:
            return None
        excess = self.excess_start
        if excess is not None and number >= excess.number:
            return None
        index = bisect.bisect_right(self.line_starts, number) - 1
        return self.claim.lines[index].number if index >= 0 else None

    @staticmethod
    def without_repeats(placement: Placement) -> Placement:
        """The placement without the tracker's STR-001 for a line past the repeat.

        The tracker reports every line past the 50th; the claim reports them once (see
        :meth:`excess_finding`), and the placement kept in the unit must not hold the rest.
        """
        kept = tuple(f for f in placement.findings if f.code != STR001.code or f.loop != "2400")
        if len(kept) == len(placement.findings):
            return placement
        return replace(placement, findings=kept)

    def excess_finding(self) -> Finding | None:
        """STR-001, once, for the service lines past the guide's repeat of loop 2400."""
        lx = self.excess_start
        if lx is None:
            return None
        count = self.max_lines + self.excess_lines
        unchecked = (
            "this line was not checked"
            if self.excess_lines == 1
            else f"the {self.excess_lines} lines from here on were not checked"
        )
        finding = STR001.finding(
            f"loop 2400 ({self.line_loop_name}) repeats {count} times in loop 2300; the guide "
            f"allows {self.max_lines}: split the claim ({unchecked})",
            lx,
            loop="2400",
        )
        finding.line = parse_count(lx.element(1), LINE_NUMBER_DIGITS)
        finding.claim = self.claim.id
        return finding


def _last(loops: list[Loop], loop_id: str) -> Loop | None:
    for loop in reversed(loops):
        if loop.loop_id == loop_id:
            return loop
    return None


class UnitReader:
    """Iterate the units of a segment stream; :attr:`summary` counts what was read.

    Example::

        reader = UnitReader(SegmentReader(stream, name))
        for unit in reader:
            ...
        reader.summary.claims
    """

    def __init__(self, segments: Iterable[Segment], guide: Guide | None = None) -> None:
        self.segments = segments
        self.tracker = LoopTracker(guide)
        # The guide's repeat of loop 2400 (50 service lines a claim) bounds a claim's views.
        lines = self.tracker.guide.loop("2400")
        self._max_lines = lines.repeat or MAX_CLAIM_LINES
        self._line_loop_name = lines.name
        self.envelope = EnvelopeChecker()
        self.summary = Summary()
        # Context parties: only the current ones are kept.
        self._billing: Party | None = None
        self._subscriber: Party | None = None
        self._patient: Party | None = None
        self._party_loop: Loop | None = None
        self._bound = _ViewBound()
        self._last_envelope: Envelope | None = None

    def __iter__(self) -> Iterator[Unit]:
        tracker = self.tracker
        checker = self.envelope
        summary = self.summary
        place = tracker.place
        feed = checker.feed
        unit: Unit | None = None
        builder: _ClaimBuilder | None = None
        depth = -1  # where "2300" stands in the paths of the open claim's segments
        # The loop of the open claim that its last segment went to, which most continue.
        loop_id = ""
        loop_segments: list[Segment] = []
        # Likewise the party loop (2000x, 2010xx) the last context segment went to.
        party_loop_id = ""
        party_segments: list[Segment] | None = None
        foreign = False
        notice: str | None = None
        limit = UNIT_SEGMENT_LIMIT
        spill_at = 0  # the ordinal past which the open claim's segments go to disk
        bound = self._bound
        for seg in self.segments:
            sid = seg.id
            findings = feed(seg)
            if builder is not None and sid != "ST":
                # Inside a claim: most segments simply continue it.
                placement = place(seg)
                path = placement.path
                opened = placement.opened
                if opened > depth and len(path) > depth and path[depth] == "2300":
                    if opened == len(path) and placement.loop_id == loop_id:
                        if len(loop_segments) < MAX_VIEW_ENTRIES:
                            loop_segments.append(seg)
                        else:
                            bound.segment(loop_segments, seg)
                    else:
                        builder.add(seg, placement)
                        loop_id = builder.loop.loop_id
                        loop_segments = builder.loop.segments
                    assert unit is not None
                    if placement.findings and builder.excess_start is not None:
                        placement = builder.without_repeats(placement)
                    unit.segments.append((seg, placement))
                    if seg.number >= spill_at:
                        spill_at = _spill(unit, seg.number)
                    if findings:
                        unit.findings.extend(findings)
                    if placement.findings:
                        unit.findings.extend(placement.findings)
                    continue
            elif sid == "ST":
                if checker.is_837p:
                    foreign = False
                    summary.transactions += 1
                else:
                    foreign = True
                    summary.skipped += 1
                    kind = checker.transaction_kind
                    # "an 835", "an 837I", "a 278": the article follows how the number is read.
                    article = "an" if kind[:1] == "8" or kind[:2] in ("11", "18") else "a"
                    notice = (
                        f"transaction {checker.transaction or '(no ST02)'} is {article} "
                        f"{kind}, not a 5010 837P (005010X222A1); skipped"
                    )
                placement = tracker.skip(seg) if foreign else place(seg)
            else:
                if sid == "ISA":
                    summary.interchanges += 1
                    foreign = False
                elif foreign and sid in ("GS", "GE", "IEA"):
                    foreign = False
                placement = tracker.skip(seg) if foreign else place(seg)
            if placement.findings:
                findings = [*findings, *placement.findings]

            # The segment starts a new unit, or continues a run of segments between claims.
            closing: Unit | None = None
            closing_builder = builder
            if foreign:
                if (
                    unit is None
                    or unit.kind != "skipped"
                    or sid == "ST"
                    or len(unit.segments) >= limit
                ):
                    closing, unit = unit, Unit("skipped", envelope=self._snapshot())
                    unit.notice, notice = notice, None
                builder = None
                if sid == "SE":
                    foreign = False
            elif placement.loop_id == "2300" and placement.opened < len(placement.path):
                closing, unit = unit, Unit("claim", envelope=self._snapshot())
                builder = self._start_claim(unit, seg, placement)
                spill_at = seg.number + SPILL_AFTER
                depth = builder.depth
                loop_id = builder.loop.loop_id
                loop_segments = builder.loop.segments
            else:
                builder = None
                if (
                    unit is None
                    or unit.kind != "segments"
                    or sid == "ST"
                    or len(unit.segments) >= limit
                ):
                    closing, unit = unit, Unit("segments", envelope=self._snapshot())
                # Only the party levels and their names are kept as claim context.
                party_id = placement.loop_id
                if (
                    party_id == party_loop_id
                    and party_segments is not None
                    and placement.opened == len(placement.path)
                ):
                    if len(party_segments) < MAX_VIEW_ENTRIES:
                        party_segments.append(seg)
                    else:
                        bound.segment(party_segments, seg)
                elif party_id in _PARTY_LOOPS:
                    party_segments = self._context(seg, placement)
                    party_loop_id = party_id
            if closing is not None:
                if findings:
                    findings = _route(findings, closing, seg.number)
                claim_builder = closing_builder if closing.kind == "claim" else None
                yield self._close(closing, claim_builder)
            unit.segments.append((seg, placement))
            if findings:
                unit.findings.extend(findings)
        end = tracker.finish() + checker.finish()
        if unit is None:
            if end:
                yield self._close(Unit("segments", envelope=self._snapshot(), findings=end), None)
            return
        unit.findings.extend(end)
        yield self._close(unit, builder if unit.kind == "claim" else None)

    # -- units -------------------------------------------------------------------------------

    def _snapshot(self) -> Envelope:
        checker = self.envelope
        last = self._last_envelope
        if (
            last is not None
            and last.transaction == checker.transaction
            and last.interchange == checker.interchange
            and last.group == checker.group
            and last.version == checker.version
        ):
            return last  # units of one transaction share their envelope
        last = Envelope(checker.interchange, checker.group, checker.transaction, checker.version)
        self._last_envelope = last
        return last

    def _start_claim(self, unit: Unit, clm: Segment, placement: Placement) -> _ClaimBuilder:
        depth = placement.path.index("2300") if "2300" in placement.path else len(placement.path)
        under_patient = depth > 0 and placement.path[depth - 1] == "2000C"
        claim = Claim(
            envelope=unit.envelope or self._snapshot(),
            loop=Loop("2300"),
            billing=self._billing,
            subscriber=self._subscriber,
            patient=self._patient if under_patient else None,
        )
        unit.claim = claim
        return _ClaimBuilder(claim, depth, clm, self._max_lines, self._line_loop_name, self._bound)

    def _close(self, unit: Unit, builder: _ClaimBuilder | None) -> Unit:
        """Finish a unit: the claim-end checks, and where each finding belongs."""
        envelope = unit.envelope
        if envelope is not None and not envelope.interchange:
            # A run that began between envelopes takes the envelope it ended in.
            later = self._snapshot()
            if later.interchange:
                unit.envelope = envelope = later
        if builder is not None:
            claim = builder.claim
            self.summary.claims += 1
            self.summary.service_lines += len(claim.lines) + builder.excess_lines
            excess = builder.excess_finding()
            if excess is not None:
                unit.findings.append(excess)
            total = _total_finding(claim) if excess is None else None
            if total is not None:
                unit.findings.append(total)
            if unit.findings:
                # Read the claim's id only for a claim with findings to label.
                first = unit.first_number or 0
                claim_id = claim.id
                for finding in unit.findings:
                    number = finding.segment_number
                    if number is not None and number >= first:
                        if finding.claim is None:
                            finding.claim = claim_id
                        if finding.line is None:
                            finding.line = builder.line_of(number)
        if envelope is not None:
            for finding in unit.findings:
                if finding.interchange is None and envelope.interchange:
                    finding.interchange = envelope.interchange
                if finding.transaction is None and envelope.transaction:
                    finding.transaction = envelope.transaction
        return unit

    # -- context -----------------------------------------------------------------------------

    def _context(self, seg: Segment, placement: Placement) -> list[Segment] | None:
        """Keep the current billing provider, subscriber and patient levels.

        Returns the segment list ``seg`` went to, which the next segments of the same loop
        instance go to as well (``None`` when it belongs to no current party).
        """
        loop_id = placement.loop_id
        new = placement.opened < len(placement.path)
        level = _LEVELS.get(loop_id)
        if level is not None:
            if new:
                party = Party(Loop(loop_id))
                if level == _BILLING:
                    self._billing, self._subscriber, self._patient = party, None, None
                elif level == _SUBSCRIBER:
                    self._subscriber, self._patient = party, None
                else:
                    self._patient = party
                self._party_loop = party.hl
            current = self._party(level)
            if current is None:
                return None
            if len(current.hl.segments) < MAX_VIEW_ENTRIES:
                current.hl.segments.append(seg)
            else:
                self._bound.segment(current.hl.segments, seg)
            return current.hl.segments
        names = _NAMES.get(loop_id)
        if names is None:
            return None
        owner = self._party(names)
        if owner is None:
            return None
        if new or self._party_loop is None or self._party_loop.loop_id != loop_id:
            self._party_loop = Loop(loop_id)
            if len(owner.loops) < MAX_VIEW_ENTRIES:
                owner.loops.append(self._party_loop)
            else:
                self._bound.loop(owner.loops, self._party_loop)
        if len(self._party_loop.segments) < MAX_VIEW_ENTRIES:
            self._party_loop.segments.append(seg)
        else:
            self._bound.segment(self._party_loop.segments, seg)
        return self._party_loop.segments

    def _party(self, level: int) -> Party | None:
        if level == _BILLING:
            return self._billing
        if level == _SUBSCRIBER:
            return self._subscriber
        return self._patient


def _spill(unit: Unit, number: int) -> int:
    """Move the claim's segments so far to disk; the ordinal at which to do it again."""
    segments = unit.segments
    if not isinstance(segments, SegmentSpool):
        segments = unit.segments = SegmentSpool(segments)
    segments.spill()
    return number + SPILL_AFTER


def _route(findings: list[Finding], closing: Unit, number: int) -> list[Finding]:
    """Give the closing unit the findings about its own segments; return the rest."""
    first = closing.first_number
    if first is None:
        return findings
    rest: list[Finding] = []
    for finding in findings:
        at = finding.segment_number
        if at is not None and first <= at < number:
            closing.findings.append(finding)
        else:
            rest.append(finding)
    return rest


def _total_finding(claim: Claim) -> Finding | None:
    """STR-004: CLM02 must equal the sum of SV102 over the claim's service lines.

    A missing CLM02 or SV102 is the element checks' to report (ELM-001). A value that is
    present but not an X12 decimal (``NaN``, ``1E5``, more than 18 digits) is reported here
    as well: the total cannot be shown to balance, and a claim must not pass on one.
    """
    clm = claim.loop.segments[0]
    if not claim.lines:
        return None
    text = clm.element(2)
    total = parse_decimal(text)
    if total is None:
        return _unbalanced(clm, clm, "CLM02", "CLM02") if text else None
    added = Decimal(0)
    for line in claim.lines:
        sv1 = line.loop.first("SV1")
        text = sv1.element(2) if sv1 is not None else ""
        charge = parse_decimal(text)
        if charge is None:
            if sv1 is None or not text:
                return None
            where = f"SV102 of line {line.number}" if line.number is not None else "an SV102"
            return _unbalanced(clm, sv1, "SV102", where)
        # Exact: at most 18 digits a value, so no sum of lines can round or overflow here.
        added = _EXACT.add(added, charge)
    if added == total:
        return None
    finding = STR004.finding(
        f"CLM02 is {clm.element(2)} but the {len(claim.lines)} service line charges (SV102) "
        f"add up to {added}",
        clm,
        "CLM02",
        loop="2300",
    )
    finding.claim = clm.element(1)
    return finding


# Room for 18 integer and 18 fraction digits and the carries of any number of lines.
_EXACT = Context(prec=64)


def _unbalanced(clm: Segment, seg: Segment, element: str, where: str) -> Finding:
    """STR-004 when one of the amounts is not an X12 decimal, so the total cannot balance."""
    finding = STR004.finding(
        f"{where} is not an X12 decimal number (digits, an optional minus sign and decimal "
        "point, at most 18 digits), so the claim total cannot be checked against the line "
        "charges; write the amount in digits",
        seg,
        element,
        loop="2300" if seg is clm else "2400",
    )
    finding.claim = clm.element(1)
    return finding


def read_units(segments: Iterable[Segment], guide: Guide | None = None) -> Iterator[Unit]:
    """The units of a segment stream (see :class:`UnitReader` for the summary)."""
    return iter(UnitReader(segments, guide))


def read_file(source: str | Path | BinaryIO, guide: Guide | None = None) -> Iterator[Unit]:
    """The units of an 837 file given by path (``-`` for standard input) or binary stream."""
    if isinstance(source, (str, Path)):
        name = str(source)
        stream = open_source(name)
        try:
            yield from UnitReader(SegmentReader(stream, name), guide)
        finally:
            if name != "-":
                stream.close()
    else:
        yield from UnitReader(SegmentReader(source, getattr(source, "name", "-")), guide)

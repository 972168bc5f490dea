"""``edi837 split``: one 837P file in, an accepted and a rejected interchange out.

A clearinghouse forwards the claims that pass and returns the others to the submitter. The
split writes ``NAME.accepted.837`` with every claim that has no finding at or above a threshold
and ``NAME.rejected.837`` with the rest; an output that would hold no claim is not written.
Each output is a complete interchange a payer front end accepts on its own:

- the ISA, GS and ST segments of the input with their control numbers, and the transaction
  header (BHT, submitter 1000A, receiver 1000B), for every interchange, group and transaction
  set that has a claim in that output; the others are left out of it;
- each claim with its billing provider (2000A), subscriber (2000B) and, for a patient who is
  not the subscriber, patient (2000C) levels and their name loops, each level written once per
  transaction before its first claim in that output (a level without claims goes nowhere);
- HL01 renumbered from 1 in every transaction set, HL02 pointing at the renumbered parent and
  HL04 saying whether the level has children *in this output* (a subscriber whose dependants'
  claims all went elsewhere has none here);
- SE01, GE01 and IEA01 counted for what the output holds.

Findings outside any claim. A finding at or above the threshold that is about a segment
outside every claim sends to the rejected file all claims of the smallest level that holds the
segment: a patient, subscriber or billing provider level (its HL and name loops), a transaction
set (ST, SE and the header), a functional group (GS, GE) or an interchange (ISA, IEA). A finding
with no segment (an envelope left open at the end of the file) rejects the claims of the last
interchange. So an SE01 that did not match the input rejects every claim of that transaction
set, although the outputs carry a recounted SE01: the submitter gets the claims back with the
reason, rather than the clearinghouse silently repairing what it forwards. Transaction sets that
are not 837P (an 835, an 837I) are left out of both outputs and reported.

Memory is bounded by one claim and its context. Pass 1 streams the check and keeps one byte per
claim (where it goes, whether it sits under a 2000C, whether it is the first claim of its
subscriber) plus a short log of where the current levels began, so that a finding reported a
little after its segment still finds its level. Pass 2 streams the file again and routes each
claim, holding only the current envelope, header and party segments until a claim needs them.
Both outputs are written to temporary files, read back and only then published.
"""

from __future__ import annotations

import contextlib
import os
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from edi837.engine import Engine
from edi837.findings import Finding, Severity
from edi837.source import Source
from edi837.x12.reader import X12SyntaxError
from edi837.x12.segment import Segment
from edi837.x12.writer import SegmentWriter, create_temporary
from edi837.x837p.builder import Placed, Unit
from edi837.x837p.tracker import Placement

__all__ = [
    "ACCEPTED",
    "REJECTED",
    "LevelRejection",
    "SplitPlan",
    "SplitResult",
    "output_paths",
    "split_source",
    "write_split",
]

#: The two outputs, as the file name suffixes say them.
ACCEPTED = "accepted"
REJECTED = "rejected"

# One byte per claim ordinal in the route table.
_TO_REJECTED = 1  # the claim goes to the rejected output
_UNDER_PATIENT = 2  # the claim sits in a 2000C patient level
_FIRST_OF_SUBSCRIBER = 4  # the first claim since a 2000B (or an outer level) began

# The levels a claim sits in, outermost first. A finding outside claims rejects one of them.
_FILE, _INTERCHANGE, _GROUP, _TRANSACTION, _BILLING, _SUBSCRIBER, _PATIENT, _CLAIM = range(8)
_PARTY_LEVELS = {"2000A": _BILLING, "2000B": _SUBSCRIBER, "2000C": _PATIENT}
# HL03, the hierarchical level code, for an HL the loop tracker could not place.
_HL_CODES = {"20": _BILLING, "22": _SUBSCRIBER, "23": _PATIENT}
_OPENERS = {"ISA": _INTERCHANGE, "GS": _GROUP, "ST": _TRANSACTION}
# A trailer ends every level inside the one it closes.
_TRAILERS = {"IEA": _INTERCHANGE, "GE": _GROUP, "SE": _TRANSACTION}

# How many level starts pass 1 remembers for findings reported after their segment. Findings
# arrive at the latest when the loop holding their segment closes, a few levels later; one
# older than the log falls back to the innermost level still open that began before it, which
# holds it too (a wider level: more claims rejected, never fewer).
_LOG_SIZE = 1024
# Level rejections kept for the summary; the rest are only counted.
_KEEP_REJECTIONS = 100


def _level_of_hl(seg: Segment, placement: Placement) -> int | None:
    """The party level an HL opens: from its loop, else from HL03."""
    level = _PARTY_LEVELS.get(placement.loop_id)
    return level if level is not None else _HL_CODES.get(seg.element(3))


@dataclass
class LevelRejection:
    """Claims rejected together because of findings outside any claim.

    Attributes:
        level: what was rejected (``transaction set 0001``, ``subscriber level HL 3``).
        codes: the codes of the findings that caused it, in the order they were reported.
        segment_number: the segment the first of those findings is about, when it has one.
        claims: how many claims the level holds.
    """

    level: str
    codes: list[str]
    segment_number: int | None
    claims: int = 0

    def describe(self) -> str:
        """``2 claims of transaction set 0001: ENV-008 at segment 63``."""
        at = f" at segment {self.segment_number}" if self.segment_number is not None else ""
        why = f"{', '.join(self.codes)}{at}"
        if self.level.startswith("claim "):
            return f"{self.level}: {why}"
        noun = "claim" if self.claims == 1 else "claims"
        return f"{self.claims} {noun} of {self.level}: {why}"


class _Level:
    """One instance of a level during pass 1: where its claims start and end."""

    __slots__ = ("kind", "label", "start_segment", "start_claim", "end_claim", "rejection")

    def __init__(self, kind: int, label: str, start_segment: int, start_claim: int) -> None:
        self.kind = kind
        self.label = label
        self.start_segment = start_segment
        self.start_claim = start_claim
        self.end_claim: int | None = None
        self.rejection: LevelRejection | None = None


def _level_name(kind: int, label: str) -> str:
    names = {
        _FILE: "the file",
        _INTERCHANGE: f"interchange {label}",
        _GROUP: f"functional group {label}",
        _TRANSACTION: f"transaction set {label}",
        _BILLING: f"billing provider level HL {label}",
        _SUBSCRIBER: f"subscriber level HL {label}",
        _PATIENT: f"patient level HL {label}",
        _CLAIM: f"claim {label}",
    }
    return names[kind]


@dataclass
class SplitPlan:
    """What pass 1 decided: the route of every claim, in file order.

    Attributes:
        routes: one byte per claim ordinal (see :meth:`rejected_at`).
        threshold: the severity at or above which a finding rejects its claim.
        rejections: levels rejected by findings outside claims (the first few).
        more_rejections: how many more levels were rejected than ``rejections`` lists.
        notices: why transaction sets were skipped (not 837P).
        transactions: 837P transaction sets read.
    """

    routes: bytearray = field(default_factory=bytearray)
    threshold: Severity = Severity.REJECT
    rejections: list[LevelRejection] = field(default_factory=list)
    more_rejections: int = 0
    notices: list[str] = field(default_factory=list)
    transactions: int = 0

    @property
    def claims(self) -> int:
        """Claims in the file's 837P transaction sets."""
        return len(self.routes)

    @property
    def rejected(self) -> int:
        """Claims that go to the rejected output."""
        return sum(route & _TO_REJECTED for route in self.routes)

    @property
    def accepted(self) -> int:
        """Claims that go to the accepted output."""
        return self.claims - self.rejected

    def rejected_at(self, ordinal: int) -> bool:
        """True when claim ``ordinal`` (0-based, in file order) goes to the rejected output."""
        return bool(self.routes[ordinal] & _TO_REJECTED)


class _Planner:
    """Pass 1: the route byte of each claim and the levels that findings reject."""

    def __init__(self, threshold: Severity) -> None:
        self.plan = SplitPlan(threshold=threshold)
        self.routes = self.plan.routes
        root = _Level(_FILE, "", 0, 0)
        self.open: list[_Level | None] = [root] + [None] * _CLAIM
        self.log: deque[tuple[int, _Level]] = deque(maxlen=_LOG_SIZE)
        self.new_subscriber = True

    # -- levels ------------------------------------------------------------------------------

    def _innermost(self) -> _Level:
        for level in reversed(self.open):
            if level is not None:
                return level
        raise AssertionError("the file level is always open")

    def _close_from(self, kind: int) -> None:
        """Close the open levels at ``kind`` and inside it."""
        for index in range(len(self.open) - 1, kind - 1, -1):
            level = self.open[index]
            if level is not None:
                self.open[index] = None
                self._closed(level)

    def _closed(self, level: _Level) -> None:
        level.end_claim = len(self.routes)
        if level.rejection is not None:
            self._reject_claims(level)

    def _open(self, kind: int, label: str, number: int) -> None:
        self._close_from(kind)
        level = _Level(kind, label, number, len(self.routes))
        self.open[kind] = level
        self.log.append((number, level))
        if kind <= _SUBSCRIBER:
            self.new_subscriber = True

    def _reject_claims(self, level: _Level) -> None:
        assert level.end_claim is not None and level.rejection is not None
        routes = self.routes
        for ordinal in range(level.start_claim, level.end_claim):
            routes[ordinal] |= _TO_REJECTED
        level.rejection.claims = level.end_claim - level.start_claim

    def _level_at(self, number: int | None) -> _Level:
        """The smallest level that held segment ``number`` (see the module docstring)."""
        if number is None:
            return self.open[_INTERCHANGE] or self.open[_FILE] or self._innermost()
        log = self.log
        if log and log[0][0] <= number:
            for start, logged in reversed(log):
                if start <= number:
                    return logged
        for level in reversed(self.open):
            if level is not None and level.start_segment <= number:
                return level
        return self._innermost()

    def _reject_level(self, level: _Level, finding: Finding) -> None:
        if level.rejection is not None:
            if finding.code not in level.rejection.codes:
                level.rejection.codes.append(finding.code)
            return
        level.rejection = LevelRejection(
            _level_name(level.kind, level.label), [finding.code], finding.segment_number
        )
        plan = self.plan
        if len(plan.rejections) < _KEEP_REJECTIONS:
            plan.rejections.append(level.rejection)
        else:
            plan.more_rejections += 1
        if level.end_claim is not None:
            self._reject_claims(level)

    # -- units -------------------------------------------------------------------------------

    def unit(self, unit: Unit, findings: list[Finding]) -> None:
        if unit.kind == "skipped":
            if unit.notice:
                self.plan.notices.append(unit.notice)
            return  # neither output carries it, so its findings decide nothing
        threshold = self.plan.threshold
        if unit.kind == "claim":
            self._claim(unit, findings, threshold)
            return
        self._segments(unit.segments)
        for finding in findings:
            if finding.severity.at_least(threshold):
                self._reject_level(self._level_at(finding.segment_number), finding)

    def _segments(self, segments: Sequence[Placed]) -> None:
        if segments:
            self.log.append((segments[0][0].number, self._innermost()))
        for seg, placement in segments:
            sid = seg.id
            kind = _OPENERS.get(sid)
            if kind is not None:
                label = seg.element({"ISA": 13, "GS": 6, "ST": 2}[sid])
                self._open(kind, label, seg.number)
                if sid == "ST":
                    self.plan.transactions += 1
                continue
            kind = _TRAILERS.get(sid)
            if kind is not None:
                self._close_from(kind + 1)
                self.log.append((seg.number, self._innermost()))
                continue
            if sid == "HL":
                kind = _level_of_hl(seg, placement)
                if kind is not None:
                    self._open(kind, seg.element(1), seg.number)

    def _claim(self, unit: Unit, findings: list[Finding], threshold: Severity) -> None:
        assert unit.claim is not None
        ordinal = len(self.routes)
        route = 0
        if unit.claim.patient is not None:
            route |= _UNDER_PATIENT
        if self.new_subscriber:
            route |= _FIRST_OF_SUBSCRIBER
            self.new_subscriber = False
        self.routes.append(route)
        claim = _Level(_CLAIM, unit.claim.id, unit.first_number or 0, ordinal)
        claim.end_claim = ordinal + 1
        self.log.append((claim.start_segment, claim))
        for finding in findings:
            if not finding.severity.at_least(threshold):
                continue
            if finding.claim is not None:
                # The claim's own finding, wherever in its context a rule located it.
                self.routes[ordinal] |= _TO_REJECTED
            else:
                # A parser finding about an earlier segment, reported once this claim began.
                self._reject_level(self._level_at(finding.segment_number), finding)

    def finish(self) -> SplitPlan:
        self._close_from(_FILE)
        return self.plan


# -- pass 2 ----------------------------------------------------------------------------------


class _Context:
    """The envelope, header and party segments the next claim of either output may need.

    Every level has a serial number, so an output knows whether it has written the current one.
    """

    __slots__ = (
        "isa",
        "gs",
        "header",
        "billing",
        "subscriber",
        "patient",
        "serial",
        "target",
        "subscriber_first",
    )

    def __init__(self) -> None:
        self.isa: Segment | None = None
        self.gs: Segment | None = None
        self.header: list[Segment] = []
        self.billing: list[Segment] = []
        self.subscriber: list[Segment] = []
        self.patient: list[Segment] = []
        # Serial of the current interchange, group, transaction, billing, subscriber, patient.
        self.serial = [0] * (_PATIENT + 1)
        self.target: list[Segment] | None = None  # where the next context segment belongs
        self.subscriber_first = 0  # ordinal of the first claim after the current 2000B

    def begin(self, kind: int) -> None:
        """A new level of ``kind``: the levels inside it end."""
        self.serial[kind] += 1
        if kind <= _TRANSACTION:
            self.header = []
        if kind <= _BILLING:
            self.billing = []
        if kind <= _SUBSCRIBER:
            self.subscriber = []
        if kind <= _PATIENT:
            self.patient = []


class _Output:
    """One output interchange being written: what it holds of the current levels, and counts."""

    def __init__(self, writer: SegmentWriter, first_lead: str, rejected: bool) -> None:
        self.writer = writer
        self.rejected = rejected
        self.first_lead: str | None = first_lead
        self.written = [0] * (_PATIENT + 1)  # serial of each level last written here
        self.hl_numbers = [""] * (_PATIENT + 1)  # the new HL01 of each party level written
        self.groups = 0  # for IEA01
        self.transactions = 0  # for GE01
        self.segments = 0  # for SE01
        self.hl = 0
        self.claims = 0

    def put(self, seg: Segment, text: str | None = None) -> None:
        lead = seg.lead
        if self.first_lead is not None:
            lead, self.first_lead = self.first_lead, None
        self.writer.write_text(lead + (seg.text if text is None else text) + seg.term)
        self.segments += 1

    def write_hl(self, seg: Segment, kind: int, children: bool) -> None:
        """Write an HL renumbered for this output, with its parent and child flag."""
        self.hl += 1
        number = str(self.hl)
        self.hl_numbers[kind] = number
        parent = "" if kind == _BILLING else self.hl_numbers[kind - 1]
        elements = list(seg.elements)
        while len(elements) < 5:
            elements.append("")
        elements[1], elements[2], elements[4] = number, parent, "1" if children else "0"
        self.put(seg, seg.delimiters.element.join(elements))


class _Router:
    """Pass 2: stream the units again and write each to the output its claim was given."""

    def __init__(self, plan: SplitPlan, outputs: dict[bool, _Output]) -> None:
        self.routes = plan.routes
        self.outputs = outputs
        self.context = _Context()
        self.ordinal = 0

    def unit(self, unit: Unit) -> None:
        if unit.kind == "skipped":
            return
        if unit.kind == "claim":
            self._claim(unit)
            return
        for seg, placement in unit.segments:
            self._context(seg, placement)

    def _context(self, seg: Segment, placement: Placement) -> None:
        ctx = self.context
        sid = seg.id
        if sid == "ISA":
            ctx.begin(_INTERCHANGE)
            ctx.isa, ctx.gs, ctx.target = seg, None, None
        elif sid == "GS":
            ctx.begin(_GROUP)
            ctx.gs, ctx.target = seg, None
        elif sid == "ST":
            ctx.begin(_TRANSACTION)
            ctx.header = [seg]
            ctx.target = ctx.header
        elif sid in _TRAILERS:
            self._trailer(seg, _TRAILERS[sid])
            ctx.target = None
        elif sid == "HL" and (kind := _level_of_hl(seg, placement)) is not None:
            ctx.begin(kind)
            party = [seg]
            if kind == _BILLING:
                ctx.billing = party
            elif kind == _SUBSCRIBER:
                ctx.subscriber = party
                ctx.subscriber_first = self.ordinal
            else:
                ctx.patient = party
            ctx.target = party
        elif ctx.target is not None:
            # Header loops follow ST; name loops (2010xx) follow the HL of their level.
            ctx.target.append(seg)

    def _trailer(self, seg: Segment, kind: int) -> None:
        serial = self.context.serial[kind]
        for out in self.outputs.values():
            if out.written[kind] != serial:
                continue  # this output holds nothing of the envelope the trailer closes
            if kind == _TRANSACTION:
                out.put(seg, seg.replaced("SE01", str(out.segments + 1)))
            elif kind == _GROUP:
                out.put(seg, seg.replaced("GE01", str(out.transactions)))
            else:
                out.put(seg, seg.replaced("IEA01", str(out.groups)))

    def _claim(self, unit: Unit) -> None:
        ordinal = self.ordinal
        if ordinal >= len(self.routes):
            raise X12SyntaxError(
                "the file has more claims than when it was checked",
                hint="it changed while it was being split; run the split again",
            )
        route = self.routes[ordinal]
        self.ordinal += 1
        out = self.outputs.get(bool(route & _TO_REJECTED))
        if out is None:
            raise X12SyntaxError(
                "the file's claims differ from when it was checked",
                hint="it changed while it was being split; run the split again",
            )
        self._enter(out, bool(route & _UNDER_PATIENT))
        for seg, _ in unit.segments:
            out.put(seg)
        out.claims += 1

    def _enter(self, out: _Output, under_patient: bool) -> None:
        """Write the envelopes, header and party levels of the claim not yet in ``out``."""
        ctx = self.context
        serial, written = ctx.serial, out.written
        if written[_INTERCHANGE] != serial[_INTERCHANGE]:
            written[_INTERCHANGE] = serial[_INTERCHANGE]
            written[_GROUP:] = [0] * (len(written) - _GROUP)
            out.groups = 0
            if ctx.isa is not None:
                out.put(ctx.isa)
        if written[_GROUP] != serial[_GROUP]:
            written[_GROUP] = serial[_GROUP]
            written[_TRANSACTION:] = [0] * (len(written) - _TRANSACTION)
            out.transactions = 0
            if ctx.gs is not None:
                out.put(ctx.gs)
                out.groups += 1
        if written[_TRANSACTION] != serial[_TRANSACTION]:
            written[_TRANSACTION] = serial[_TRANSACTION]
            written[_BILLING:] = [0] * (len(written) - _BILLING)
            out.segments = 0
            out.hl = 0
            out.transactions += 1
            for seg in ctx.header:
                out.put(seg)
        if ctx.billing and written[_BILLING] != serial[_BILLING]:
            written[_BILLING] = serial[_BILLING]
            written[_SUBSCRIBER:] = [0] * (len(written) - _SUBSCRIBER)
            # A billing provider level written here always has the claim's subscriber below it.
            self._party(out, ctx.billing, _BILLING, children=True)
        if ctx.subscriber and written[_SUBSCRIBER] != serial[_SUBSCRIBER]:
            written[_SUBSCRIBER] = serial[_SUBSCRIBER]
            written[_PATIENT] = 0
            children = self._patients_in(out.rejected)
            self._party(out, ctx.subscriber, _SUBSCRIBER, children)
        if under_patient and ctx.patient and written[_PATIENT] != serial[_PATIENT]:
            written[_PATIENT] = serial[_PATIENT]
            self._party(out, ctx.patient, _PATIENT, children=False)

    @staticmethod
    def _party(out: _Output, segments: list[Segment], kind: int, children: bool) -> None:
        out.write_hl(segments[0], kind, children)
        for seg in segments[1:]:
            out.put(seg)

    def _patients_in(self, rejected: bool) -> bool:
        """Whether the current subscriber has a patient (2000C) claim in this output (HL04)."""
        routes = self.routes
        first = self.context.subscriber_first
        want = _TO_REJECTED if rejected else 0
        for ordinal in range(first, len(routes)):
            route = routes[ordinal]
            if ordinal > first and route & _FIRST_OF_SUBSCRIBER:
                break
            if route & _UNDER_PATIENT and route & _TO_REJECTED == want:
                return True
        return False


def write_split(
    source: Source, stream: BinaryIO, plan: SplitPlan, targets: dict[str, BinaryIO]
) -> dict[str, int]:
    """Pass 2: write the claims of ``stream`` to ``targets`` as ``plan`` routes them.

    ``targets`` maps :data:`ACCEPTED` and :data:`REJECTED` to open binary files; an output
    without claims in the plan need not be given. Returns the claims written per output.
    """
    units = source.units(stream)
    reader = units.segments
    outputs: dict[bool, _Output] = {}
    for key, handle in targets.items():
        writer = SegmentWriter(handle, reader.codec, reader.bom)
        outputs[key == REJECTED] = _Output(writer, "", key == REJECTED)
    router = _Router(plan, outputs)
    started = False
    for unit in units:
        if not started and unit.segments:
            # Each output starts as the input did, whichever segment it begins with.
            for out in outputs.values():
                out.first_lead = unit.segments[0][0].lead
            started = True
        router.unit(unit)
    if router.ordinal != plan.claims:
        raise X12SyntaxError(
            "the file has fewer claims than when it was checked",
            hint="it changed while it was being split; run the split again",
        )
    for out in outputs.values():
        out.writer.close(reader.tail)
    return {ACCEPTED if key is False else REJECTED: out.claims for key, out in outputs.items()}


@dataclass
class SplitResult:
    """The outcome of splitting one file.

    Attributes:
        source: the input as the user named it.
        accepted_path: where the accepted claims go (written only when there are any).
        rejected_path: where the rejected claims go (written only when there are any).
        plan: the decisions of pass 1 (counts, level rejections, notices).
        removed: outputs of an earlier split that this one would not write, removed so that
            the folder never holds claims the current input does not route there.
    """

    source: str
    accepted_path: Path
    rejected_path: Path
    plan: SplitPlan
    removed: list[Path] = field(default_factory=list)

    @property
    def accepted(self) -> int:
        """Claims written to the accepted output."""
        return self.plan.accepted

    @property
    def rejected(self) -> int:
        """Claims written to the rejected output."""
        return self.plan.rejected


def output_paths(folder: Path, name: str) -> tuple[Path, Path]:
    """``folder/NAME.accepted.837`` and ``folder/NAME.rejected.837``."""
    return folder / f"{name}.{ACCEPTED}.837", folder / f"{name}.{REJECTED}.837"


def split_source(
    engine: Engine,
    source: Source,
    folder: Path,
    name: str,
    threshold: Severity = Severity.REJECT,
) -> SplitResult:
    """Check ``source`` and write its accepted and rejected claims to ``folder``.

    ``name`` is the base name of the outputs. Every CLM segment of the input ends up in
    exactly one output: a CLM the builder could not place in a claim (a stray CLM outside a
    transaction, a claim whose HL was lost) makes the whole split bad input, so that no claim
    is silently neither forwarded nor returned. The outputs are written to temporary files,
    read back (each must be an interchange from ISA to IEA holding the claims routed to it),
    and only then published; outputs of an earlier split that this one would not write are
    removed first, so an old file never stands next to a new one.

    Raises :class:`~edi837.x12.reader.X12SyntaxError` for input that cannot be read as X12,
    that holds no 837P transaction set or whose claims cannot all be placed; nothing is
    written then.
    """
    tally = _ClmTally()
    with source.open() as stream:
        planner = _Planner(threshold)
        units = source.units(stream, observe=tally)
        for unit, findings in engine.iter_checked(units):
            if unit.claim is not None:
                tally.placed(unit.claim.clm.number)
            planner.unit(unit, findings)
        units.require_837p()
        plan = planner.finish()
    tally.finish()
    if tally.lost:
        lost = tally.lost
        raise X12SyntaxError(
            f"{lost} CLM segment{'s' if lost != 1 else ''} outside any claim the split can "
            "place; nothing was split",
            segment_number=tally.first_lost,
            hint="repair the envelope and HL structure (see `edi837 check`) and split again",
        )
    accepted_path, rejected_path = output_paths(folder, name)
    result = SplitResult(source.name, accepted_path, rejected_path, plan)
    wanted = {ACCEPTED: (accepted_path, plan.accepted), REJECTED: (rejected_path, plan.rejected)}
    temporaries: dict[str, Path] = {}
    try:
        handles: dict[str, BinaryIO] = {}
        with contextlib.ExitStack() as stack:
            for key, (path, count) in wanted.items():
                if count:
                    temporaries[key] = _temporary(path)
                    handles[key] = stack.enter_context(open(temporaries[key], "wb"))
            if handles:
                with source.open() as stream:
                    written = write_split(source, stream, plan, handles)
                for handle in handles.values():
                    handle.flush()
                    os.fsync(handle.fileno())
        for key, tmp in temporaries.items():
            _verify_output(tmp, written[key], source.name)
        for path, count in wanted.values():
            if path.exists():
                path.unlink()
                if not count:
                    result.removed.append(path)
        for key, tmp in temporaries.items():
            _match_mode(tmp, source)
            os.replace(tmp, wanted[key][0])
        _sync_folder(folder)
    finally:
        for tmp in temporaries.values():
            tmp.unlink(missing_ok=True)
    return result


class _ClmTally:
    """Matches every CLM segment that streams past with the claim the builder made of it.

    The observer sees segments before the builder yields their claim, so the CLMs not yet
    matched wait in a short queue; one passed over by the next claim was not placed.
    """

    def __init__(self) -> None:
        self.pending: deque[int] = deque()
        self.lost = 0
        self.first_lost: int | None = None

    def __call__(self, segment: Segment) -> None:
        if segment.id == "CLM":
            self.pending.append(segment.number)

    def placed(self, number: int) -> None:
        """The claim whose CLM is segment ``number`` was built."""
        pending = self.pending
        while pending and pending[0] < number:
            self._lose(pending.popleft())
        if pending and pending[0] == number:
            pending.popleft()

    def finish(self) -> None:
        """Whatever is still waiting at the end of the file was not placed."""
        while self.pending:
            self._lose(self.pending.popleft())

    def _lose(self, number: int) -> None:
        self.lost += 1
        if self.first_lost is None:
            self.first_lost = number


def _temporary(path: Path) -> Path:
    # A hidden name with no .837 suffix: no folder watcher or glob picks up a half output, and
    # the next run in the folder sweeps away one a killed run left behind.
    fd, name = create_temporary(path.parent, path.name)
    os.close(fd)
    return name


def _verify_output(path: Path, claims: int, label: str) -> None:
    """Read an output back: one or more whole interchanges holding ``claims`` CLM segments."""
    first = last = stray = ""
    found = 0
    inside = False
    with open(path, "rb") as stream:
        for segment in Source(stream, str(path)).segments(stream):
            if not first:
                first = segment.id
            last = segment.id
            if segment.id == "CLM":
                found += 1
            # Every segment belongs to exactly one interchange: an input whose IEA swallowed
            # the next ISA would otherwise give an output with a GS between two interchanges.
            if (segment.id == "ISA") == inside and not stray:
                stray = f", with {segment.id} at segment {segment.number} out of ISA ... IEA order"
            inside = segment.id != "IEA" and (inside or segment.id == "ISA")
    if first != "ISA" or last != "IEA" or found != claims or stray:
        raise X12SyntaxError(
            "the split would write an output that is not a whole interchange "
            f"(it would start with {first or 'nothing'} and end with {last or 'nothing'}"
            f"{stray}); nothing was split",
            hint="repair the envelope order (ISA, GS, ST ... SE, GE, IEA) and split again",
        )


def _match_mode(path: Path, source: Source) -> None:
    """Outputs carry claims: give them the input's permission bits, not a wider default."""
    original = source.regular_path()
    if original is not None:
        os.chmod(path, original.stat().st_mode & 0o7777)
    else:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(path, 0o666 & ~umask)


def _sync_folder(folder: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

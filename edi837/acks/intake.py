"""One checked pass over an 837P file: what the acknowledgements need to know about it.

The file is read once with the engine. Every unit also goes to the split planner
(:class:`edi837.splitting._Planner`), so that the claims rejected here are exactly those
``edi837 split`` rejects: a claim's own finding rejects the claim, a finding outside claims
rejects the smallest level that holds its segment (party level, transaction set, group,
interchange). The planner's level objects are kept with the records, and the decisions are
read from them once the file has been read (a finding may arrive after its level closed).

The records keep per interchange, group and transaction set the envelope segments and the
findings reported in X12 terms (TA105, AK905, IK502 codes and segment errors), and per claim
what its 277CA status needs: CLM01, the charge, the billing provider and patient names, the
service dates and the lines its findings are about. Memory grows with the claims of the file
(one small record each), not with its segments.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from edi837.acks.mapping import Case, Target, case_for
from edi837.engine import Engine
from edi837.findings import Finding, Severity
from edi837.source import Source
from edi837.splitting import _CLAIM, _FILE, _GROUP, _INTERCHANGE, _TRANSACTION, _Level, _Planner
from edi837.x12.segment import Segment
from edi837.x837p.builder import Unit
from edi837.x837p.model import Claim, Party, ServiceLine

# Segments whose values may identify a person: never copied into an IK404.
PRIVATE_SEGMENTS = frozenset({"NM1", "N3", "N4", "DMG", "REF", "PER"})
# How many recent segments are kept to copy a bad value from; findings arrive at the latest
# a few loops after their segment.
_RECENT = 4096


class _Recorder(_Planner):
    """The split planner, remembering each level it opens so that decisions can be read."""

    def __init__(self, threshold: Severity) -> None:
        super().__init__(threshold)
        self.opened: dict[int, _Level] = {}

    def _open(self, kind: int, label: str, number: int) -> None:
        super()._open(kind, label, number)
        level = self.open[kind]
        if level is not None and kind in (_INTERCHANGE, _GROUP, _TRANSACTION):
            self.opened[number] = level

    def file_level(self) -> _Level:
        level = self.open[_FILE]
        assert level is not None
        return level


@dataclass
class SegmentError:
    """A finding reported as a 999 segment error (IK3, and IK4 when it names an element)."""

    finding: Finding
    case: Case
    position: int  # in the transaction set, ST = 1
    value: str = ""  # the bad value (IK404), empty where it may identify a person


@dataclass
class LineInfo:
    """A service line a rejecting finding is about, for its 2220D SVC/STC."""

    number: int
    procedure: tuple[str, ...]  # SV101: qualifier, code, modifiers
    charge: str
    units: str
    dates: tuple[str, str] | None
    control: str  # REF*6R, the line item control number
    findings: list[Finding] = field(default_factory=list)


@dataclass
class ClaimRecord:
    """What the 277CA says about one claim."""

    ordinal: int
    id: str
    charge: Decimal
    billing_key: int
    billing: tuple[str, ...]  # NM1 of 2010AA: NM102, NM103, NM104, NM105, NM107, NM109
    patient: tuple[str, ...]  # NM103, NM104, NM105, NM107 of the patient, and the member id
    clearinghouse_id: str  # REF*D9 of 2300
    dates: tuple[str, str] | None
    levels: tuple[_Level, ...]
    findings: list[Finding] = field(default_factory=list)
    lines: dict[int, LineInfo] = field(default_factory=dict)
    rejected: bool = False
    payer_control: str = ""  # REF*1K: the claim control number the ledger assigned

    def level_codes(self) -> list[str]:
        """The codes of the innermost rejected level that holds this claim."""
        for level in reversed(self.levels):
            if level.rejection is not None:
                return list(level.rejection.codes)
        return []


@dataclass
class TransactionRecord:
    """An 837P transaction set: its ST, header parties, findings and claims."""

    st: Segment
    group: GroupRecord
    level: _Level | None = None
    bht03: str = ""
    bht04: str = ""
    submitter: tuple[str, ...] = ("2", "", "", "", "")  # NM102, NM103, NM104, NM105, NM109
    receiver: tuple[str, str] = ("", "")  # NM103, NM109
    codes: list[str] = field(default_factory=list)  # IK502
    errors: list[SegmentError] = field(default_factory=list)
    claims: list[ClaimRecord] = field(default_factory=list)


@dataclass
class GroupRecord:
    """A functional group holding 837P transaction sets."""

    gs: Segment
    interchange: InterchangeRecord
    level: _Level | None = None
    codes: list[str] = field(default_factory=list)  # AK905
    transactions: list[TransactionRecord] = field(default_factory=list)


@dataclass
class InterchangeRecord:
    """An interchange: its ISA, TA1 note codes and groups."""

    isa: Segment
    line_end: str = ""
    level: _Level | None = None
    notes: list[str] = field(default_factory=list)  # TA105 of rejecting findings
    warnings: list[str] = field(default_factory=list)  # TA105 of findings below the threshold
    groups: list[GroupRecord] = field(default_factory=list)


Record = InterchangeRecord | GroupRecord | TransactionRecord


@dataclass
class Intake:
    """The file as the acknowledgements see it, with the split decisions applied."""

    name: str
    threshold: Severity
    interchanges: list[InterchangeRecord]
    file_level: _Level
    claims: int = 0
    rejected_claims: int = 0

    def interchange_rejected(self, record: InterchangeRecord) -> bool:
        """True when the split rejects the whole interchange (TA1 R, no 999)."""
        return _rejected(self.file_level) or _rejected(record.level)

    def group_rejected(self, record: GroupRecord) -> bool:
        """True when the split rejects the whole functional group (AK9 R)."""
        return self.interchange_rejected(record.interchange) or _rejected(record.level)

    def transaction_rejected(self, record: TransactionRecord) -> bool:
        """True when the split rejects the whole transaction set (IK5 R)."""
        return self.group_rejected(record.group) or _rejected(record.level)


def _rejected(level: _Level | None) -> bool:
    return level is not None and level.rejection is not None


class _Reader:
    """Builds the records while the units stream past."""

    def __init__(self, threshold: Severity) -> None:
        self.threshold = threshold
        self.planner = _Recorder(threshold)
        self.interchanges: list[InterchangeRecord] = []
        self.starts: list[int] = []  # segment numbers of ISA, GS and ST, ascending
        self.owners: list[Record] = []
        self.recent: OrderedDict[int, Segment] = OrderedDict()
        self.pending: dict[int, Record] = {}
        self.interchange: InterchangeRecord | None = None
        self.group: GroupRecord | None = None
        self.transaction: TransactionRecord | None = None
        self.claims: list[ClaimRecord] = []
        self.after_isa = False

    # -- segments ------------------------------------------------------------------------------

    def segments(self, unit: Unit) -> None:
        for seg, placement in unit.segments:
            number = seg.number
            self.recent[number] = seg
            if len(self.recent) > _RECENT:
                self.recent.popitem(last=False)
            if self.after_isa and self.interchange is not None:
                # What stands between the terminator and the next segment: the line break
                # style the answer copies.
                self.interchange.line_end = seg.lead if seg.delimiters.segment != "\n" else ""
                self.after_isa = False
            sid = seg.id
            if sid == "ISA":
                self.interchange = InterchangeRecord(seg)
                self.interchanges.append(self.interchange)
                self._start(number, self.interchange)
                self.group = self.transaction = None
                self.after_isa = True
            elif sid == "GS" and self.interchange is not None:
                self.group = GroupRecord(seg, self.interchange)
                self.interchange.groups.append(self.group)
                self._start(number, self.group)
                self.transaction = None
            elif sid == "ST" and self.group is not None:
                self.transaction = TransactionRecord(seg, self.group)
                self.group.transactions.append(self.transaction)
                self._start(number, self.transaction)
            elif self.transaction is not None:
                if sid == "BHT":
                    self.transaction.bht03 = seg.element(3)
                    self.transaction.bht04 = seg.element(4)
                elif sid == "NM1" and placement.loop_id == "1000A":
                    self.transaction.submitter = (
                        seg.element(2),
                        seg.element(3),
                        seg.element(4),
                        seg.element(5),
                        seg.element(9),
                    )
                elif sid == "NM1" and placement.loop_id == "1000B":
                    self.transaction.receiver = (seg.element(3), seg.element(9))

    def _start(self, number: int, record: Record) -> None:
        self.starts.append(number)
        self.owners.append(record)
        self.pending[number] = record

    def levels(self) -> None:
        """Give the records created so far the planner levels their segments opened."""
        opened = self.planner.opened
        for number, record in list(self.pending.items()):
            level = opened.pop(number, None)
            if level is not None:
                record.level = level
            del self.pending[number]
        opened.clear()

    def owner(self, number: int | None) -> Record | None:
        """The interchange, group or transaction set that segment ``number`` stands in."""
        if number is None:
            return self.interchanges[-1] if self.interchanges else None
        index = bisect_right(self.starts, number) - 1
        return self.owners[index] if index >= 0 else None

    # -- findings ------------------------------------------------------------------------------

    def finding(self, finding: Finding) -> None:
        """Report a finding of the file in the envelope or segment it is about."""
        case = case_for(finding)
        target = case.target
        if target in (Target.CLAIM, Target.NONE):
            return
        owner = self.owner(finding.segment_number)
        if owner is None:
            return
        rejecting = finding.severity.at_least(self.threshold)
        if target is Target.TA1:
            interchange = _interchange_of(owner)
            (interchange.notes if rejecting else interchange.warnings).append(case.code)
            return
        if not rejecting:
            return
        if target is Target.GROUP:
            group = _group_of(owner)
            if group is not None:
                group.codes.append(case.code)
        elif isinstance(owner, TransactionRecord):
            if target is Target.TRANSACTION:
                owner.codes.append(case.code)
            else:
                self._segment_error(owner, finding, case)

    def _segment_error(self, owner: TransactionRecord, finding: Finding, case: Case) -> None:
        number = finding.segment_number
        if number is None:
            return
        value = ""
        seg = self.recent.get(number)
        if seg is not None and case.code and finding.element and seg.id not in PRIVATE_SEGMENTS:
            value = _value(seg, finding.element)
        owner.errors.append(SegmentError(finding, case, number - owner.st.number + 1, value))

    # -- claims --------------------------------------------------------------------------------

    def claim(self, unit: Unit, findings: list[Finding]) -> None:
        claim = unit.claim
        assert claim is not None
        ordinal = len(self.claims)
        levels = tuple(level for level in self.planner.open[:_CLAIM] if level is not None)
        record = _claim_record(claim, ordinal, levels)
        for finding in findings:
            if finding.claim is None or not finding.severity.at_least(self.threshold):
                continue
            record.findings.append(finding)
            if finding.line is not None:
                line = record.lines.get(finding.line)
                if line is None:
                    found = _line(claim, finding.line)
                    if found is None:
                        continue
                    line = record.lines[finding.line] = found
                line.findings.append(finding)
        self.claims.append(record)
        if self.transaction is not None:
            self.transaction.claims.append(record)


def _interchange_of(record: Record) -> InterchangeRecord:
    if isinstance(record, TransactionRecord):
        return record.group.interchange
    if isinstance(record, GroupRecord):
        return record.interchange
    return record


def _group_of(record: Record) -> GroupRecord | None:
    if isinstance(record, TransactionRecord):
        return record.group
    if isinstance(record, GroupRecord):
        return record
    return None


def _value(seg: Segment, ref: str) -> str:
    """The value of ``ref`` (``CLM05-3``) in ``seg``, or ``""``."""
    from edi837.x12.segment import parse_ref

    try:
        parsed = parse_ref(ref)
    except ValueError:
        return ""
    value = seg.element(parsed.element)
    if parsed.component is not None:
        parts = value.split(seg.delimiters.component)
        value = parts[parsed.component - 1] if parsed.component <= len(parts) else ""
    return value


def _party_nm1(party: Party | None, loop_id: str) -> Segment | None:
    loop = party.loop(loop_id) if party is not None else None
    return loop.first("NM1") if loop is not None else None


def _claim_record(claim: Claim, ordinal: int, levels: tuple[_Level, ...]) -> ClaimRecord:
    billing = _party_nm1(claim.billing, "2010AA")
    subscriber = _party_nm1(claim.subscriber, "2010BA")
    patient = _party_nm1(claim.patient, "2010CA") or subscriber
    member = subscriber.element(9) if subscriber is not None else ""
    d9 = claim.loop.first("REF", "D9")
    dates = [d for d in (_dates(line.service_date_segment) for line in claim.lines) if d]
    span = (min(d[0] for d in dates), max(d[1] for d in dates)) if dates else None
    return ClaimRecord(
        ordinal=ordinal,
        id=claim.id,
        charge=claim.total_charge or Decimal(0),
        billing_key=claim.billing.hl.segments[0].number
        if claim.billing is not None and claim.billing.hl.segments
        else 0,
        billing=tuple(
            billing.element(n) if billing is not None else "" for n in (2, 3, 4, 5, 7, 9)
        ),
        patient=(
            *(patient.element(n) if patient is not None else "" for n in (3, 4, 5, 7)),
            member,
        ),
        clearinghouse_id=d9.element(2) if d9 is not None else "",
        dates=span,
        levels=levels,
    )


def _dates(dtp: Segment | None) -> tuple[str, str] | None:
    """A DTP*472 as (first, last) CCYYMMDD dates, or ``None`` when it holds no valid date."""
    if dtp is None:
        return None
    value = dtp.element(3)
    first, _, last = value.partition("-")
    last = last or first
    if _is_date(first) and _is_date(last) and first <= last:
        return first, last
    return None


def _is_date(text: str) -> bool:
    """A real CCYYMMDD calendar date (20250230 is not)."""
    if len(text) != 8 or not text.isdecimal():
        return False
    try:
        datetime.strptime(text, "%Y%m%d")
    except ValueError:
        return False
    return True


def _line(claim: Claim, number: int) -> LineInfo | None:
    line: ServiceLine | None = next((ln for ln in claim.lines if ln.number == number), None)
    if line is None or line.sv1 is None:
        return None
    sv1 = line.sv1
    ref = line.loop.first("REF", "6R")
    return LineInfo(
        number=number,
        procedure=tuple(sv1.element(1).split(sv1.delimiters.component)[:6]),
        charge=sv1.element(2),
        units=sv1.element(4),
        dates=_dates(line.service_date_segment),
        # REF*FJ takes 1-50 characters; a longer 837 value is not echoed.
        control=ref.element(2) if ref is not None and len(ref.element(2)) <= 50 else "",
    )


def read(source: Source, engine: Engine, threshold: Severity) -> Intake:
    """Check ``source`` once and return its records with the split's decisions applied.

    Raises :class:`~edi837.x12.reader.X12SyntaxError` for input that is not X12 and
    :class:`~edi837.source.No837P` when it holds no 837P transaction set.
    """
    reader = _Reader(threshold)
    planner = reader.planner
    file_level = planner.file_level()
    with source.open() as stream:
        units = source.units(stream)
        for unit, findings in engine.iter_checked(units):
            if unit.kind == "skipped":
                planner.unit(unit, findings)
                continue
            reader.segments(unit)
            planner.unit(unit, findings)
            reader.levels()
            if unit.kind == "claim":
                reader.claim(unit, findings)
            for finding in findings:
                reader.finding(finding)
        units.require_837p()
    plan = planner.finish()
    for record in reader.claims:
        record.rejected = plan.rejected_at(record.ordinal)
    return Intake(
        name=source.name,
        threshold=threshold,
        interchanges=reader.interchanges,
        file_level=file_level,
        claims=plan.claims,
        rejected_claims=plan.rejected,
    )


__all__ = [
    "ClaimRecord",
    "GroupRecord",
    "Intake",
    "InterchangeRecord",
    "LineInfo",
    "PRIVATE_SEGMENTS",
    "SegmentError",
    "TransactionRecord",
    "read",
]

"""Typed views over one 837P claim: :class:`Claim`, :class:`ServiceLine`, :class:`DrugLine`.

The loop builder (:mod:`edi837.x837p.builder`) fills these from the segment stream; the rules
read them. Every view keeps the segments it was built from, so a finding can point at the exact
segment and element (``segment_number``, ``byte_offset``, ``SV101-3``). Views never change a
segment: fixes are expressed as edits and applied by the fixer. The builder hands a claim to the
rules only once all its segments are in, so derived values are computed once and cached: every
rule reads the same SV1 and DTP*472 many times per claim.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import cached_property

from edi837.x12.segment import Segment


def parse_decimal(text: str) -> Decimal | None:
    """An X12 ``R`` (decimal) value as a :class:`Decimal`, or ``None`` when it is not one."""
    if not text:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def parse_date(text: str) -> date | None:
    """A ``CCYYMMDD`` date, or ``None`` when it is not a real calendar date."""
    if len(text) != 8 or not text.isdigit():
        return None
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        return None


@dataclass
class Loop:
    """One loop instance: its id as pyx12 names it (``2010AA``, ``2420A``) and its segments."""

    loop_id: str
    segments: list[Segment] = field(default_factory=list)

    def first(self, segment_id: str, qualifier: str | None = None) -> Segment | None:
        """The first segment with this id (and element-01 qualifier, when given)."""
        for seg in self.segments:
            if seg.id == segment_id and (qualifier is None or seg.element(1) == qualifier):
                return seg
        return None

    def all(self, segment_id: str, qualifier: str | None = None) -> list[Segment]:
        """Every segment with this id (and element-01 qualifier, when given)."""
        return [
            s
            for s in self.segments
            if s.id == segment_id and (qualifier is None or s.element(1) == qualifier)
        ]


@dataclass
class Provider:
    """A provider loop (2010AA billing, 2310B/2420A rendering, 2310D/2420D supervising)."""

    loop: Loop

    @property
    def nm1(self) -> Segment | None:
        """The NM1 that opens the loop."""
        return self.loop.first("NM1")

    @property
    def npi(self) -> str:
        """NM109 when NM108 is ``XX`` (the NPI qualifier), else ``""``."""
        nm1 = self.nm1
        return nm1.element(9) if nm1 is not None and nm1.element(8) == "XX" else ""

    @property
    def identity(self) -> tuple[str, ...]:
        """NM1 elements 01-09, for comparing a line-level provider with the claim-level one."""
        nm1 = self.nm1
        return tuple(nm1.element(i) for i in range(1, 10)) if nm1 is not None else ()


@dataclass
class DrugLine:
    """Loop 2410 drug identification: LIN (NDC), CTP (quantity and unit), REF (Rx or link)."""

    loop: Loop

    @cached_property
    def lin(self) -> Segment | None:
        """The LIN segment (required in 2410)."""
        return self.loop.first("LIN")

    @cached_property
    def ctp(self) -> Segment | None:
        """The CTP segment (required in 2410)."""
        return self.loop.first("CTP")

    @cached_property
    def ref(self) -> Segment | None:
        """The REF segment (VY link sequence or XZ prescription number), when present."""
        return self.loop.first("REF")

    @property
    def qualifier(self) -> str:
        """LIN02: ``N4`` when LIN03 is an NDC in 5-4-2 format."""
        return self.lin.element(2) if self.lin is not None else ""

    @property
    def ndc(self) -> str:
        """LIN03 as sent (not normalised)."""
        return self.lin.element(3) if self.lin is not None else ""

    @property
    def quantity_text(self) -> str:
        """CTP04, the national drug unit count, as sent."""
        return self.ctp.element(4) if self.ctp is not None else ""

    @property
    def quantity(self) -> Decimal | None:
        """CTP04 as a number."""
        return parse_decimal(self.quantity_text)

    @property
    def unit(self) -> str:
        """CTP05-1, the NDC unit of measure (F2, GR, ME, ML, UN)."""
        return self.ctp.component(5, 1) if self.ctp is not None else ""


@dataclass
class ServiceLine:
    """Loop 2400 with its 2410 drug identification and 2420x/2430 loops."""

    loop: Loop
    drug: DrugLine | None = None
    rendering: Provider | None = None  # 2420A
    supervising: Provider | None = None  # 2420D
    loops: list[Loop] = field(default_factory=list)  # every 2410/242x/2430/2440 in order

    @cached_property
    def lx(self) -> Segment:
        """The LX segment that opens the line."""
        seg = self.loop.first("LX")
        assert seg is not None, "a 2400 loop always opens with LX"
        return seg

    @cached_property
    def number(self) -> int | None:
        """LX01, the line number findings are keyed by."""
        text = self.lx.element(1)
        return int(text) if text.isdigit() else None

    @cached_property
    def sv1(self) -> Segment | None:
        """The SV1 professional service segment."""
        return self.loop.first("SV1")

    @cached_property
    def qualifier(self) -> str:
        """SV101-1: ``HC`` for CPT/HCPCS."""
        return self.sv1.component(1, 1) if self.sv1 is not None else ""

    @cached_property
    def code(self) -> str:
        """SV101-2, the procedure or drug code."""
        return self.sv1.component(1, 2) if self.sv1 is not None else ""

    @cached_property
    def modifiers(self) -> list[str]:
        """SV101-3..6 as sent, empty positions included (trailing ones dropped)."""
        if self.sv1 is None:
            return []
        mods = [self.sv1.component(1, i) for i in range(3, 7)]
        while mods and not mods[-1]:
            mods.pop()
        return mods

    @cached_property
    def description(self) -> str:
        """SV101-7, the free-text description (NOC drugs)."""
        return self.sv1.component(1, 7) if self.sv1 is not None else ""

    @cached_property
    def charge(self) -> Decimal | None:
        """SV102, the line charge."""
        return parse_decimal(self.sv1.element(2)) if self.sv1 is not None else None

    @cached_property
    def unit_basis(self) -> str:
        """SV103: ``UN`` units or ``MJ`` minutes."""
        return self.sv1.element(3) if self.sv1 is not None else ""

    @cached_property
    def units_text(self) -> str:
        """SV104 as sent."""
        return self.sv1.element(4) if self.sv1 is not None else ""

    @cached_property
    def units(self) -> Decimal | None:
        """SV104, the service unit count."""
        return parse_decimal(self.units_text)

    @cached_property
    def place_of_service(self) -> str:
        """SV105, sent only when it differs from CLM05-1."""
        return self.sv1.element(5) if self.sv1 is not None else ""

    @cached_property
    def pointers(self) -> list[str]:
        """SV107-1..4, the diagnosis code pointers as sent."""
        if self.sv1 is None or not self.sv1.element(7):
            return []
        return self.sv1.components(7)

    @cached_property
    def service_date_segment(self) -> Segment | None:
        """DTP*472, the service date (required on every 2400)."""
        return self.loop.first("DTP", "472")

    @cached_property
    def service_date(self) -> date | None:
        """The first day of DTP*472 (D8, or the start of an RD8 range)."""
        dtp = self.service_date_segment
        if dtp is None:
            return None
        return parse_date(dtp.element(3)[:8])

    @cached_property
    def service_date_text(self) -> str:
        """DTP03 of DTP*472 as sent; lines are paired on this value."""
        dtp = self.service_date_segment
        return dtp.element(3) if dtp is not None else ""

    def all_segments(self) -> list[Segment]:
        """The 2400 segments followed by those of every nested loop, in file order."""
        segments = list(self.loop.segments)
        for loop in self.loops:
            segments.extend(loop.segments)
        return segments


@dataclass
class Party:
    """A hierarchical level (2000A, 2000B, 2000C) with its name loops (2010xx)."""

    hl: Loop
    loops: list[Loop] = field(default_factory=list)

    def loop(self, loop_id: str) -> Loop | None:
        """The first nested loop with this id."""
        for loop in self.loops:
            if loop.loop_id == loop_id:
                return loop
        return None

    def all_segments(self) -> list[Segment]:
        """The HL loop's segments followed by those of its name loops, in file order."""
        segments = list(self.hl.segments)
        for loop in self.loops:
            segments.extend(loop.segments)
        return segments


@dataclass
class Envelope:
    """Where a claim sits: its interchange, group and transaction control numbers."""

    interchange: str  # ISA13
    group: str  # GS06
    transaction: str  # ST02
    version: str = ""  # GS08


@dataclass
class Claim:
    """Loop 2300 and its service lines, with the context it needs to be checked on its own.

    ``billing`` is 2000A (with 2010AA/2010AB), ``subscriber`` 2000B (with 2010BA/2010BB),
    ``patient`` 2000C (with 2010CA) when the patient is not the subscriber.
    """

    envelope: Envelope
    loop: Loop
    billing: Party | None = None
    subscriber: Party | None = None
    patient: Party | None = None
    lines: list[ServiceLine] = field(default_factory=list)
    loops: list[Loop] = field(default_factory=list)  # 2300-level loops: 2310x, 2320, 2330x

    @cached_property
    def clm(self) -> Segment:
        """The CLM segment that opens the claim."""
        seg = self.loop.first("CLM")
        assert seg is not None, "a 2300 loop always opens with CLM"
        return seg

    @cached_property
    def id(self) -> str:
        """CLM01, the patient control number; findings are keyed by it."""
        return self.clm.element(1)

    @cached_property
    def total_charge(self) -> Decimal | None:
        """CLM02, which must equal the sum of SV102."""
        return parse_decimal(self.clm.element(2))

    @cached_property
    def place_of_service(self) -> str:
        """CLM05-1, the facility code (place of service)."""
        return self.clm.component(5, 1)

    @cached_property
    def facility_qualifier(self) -> str:
        """CLM05-2, always ``B`` on a professional claim."""
        return self.clm.component(5, 2)

    @cached_property
    def frequency(self) -> str:
        """CLM05-3: 1 original, 7 replacement, 8 void."""
        return self.clm.component(5, 3)

    @cached_property
    def diagnoses(self) -> list[tuple[str, str]]:
        """(qualifier, code) for every diagnosis in the HI segments of 2300, in pointer order."""
        found: list[tuple[str, str]] = []
        for hi in self.loop.all("HI"):
            for position in range(1, len(hi.elements)):
                parts = hi.components(position)
                if parts and parts[0] in ("ABK", "ABF", "BK", "BF"):
                    found.append((parts[0], parts[1] if len(parts) > 1 else ""))
        return found

    @property
    def payer_responsibility(self) -> str:
        """SBR01 of the subscriber (P primary, S secondary ...)."""
        sbr = self.subscriber.hl.first("SBR") if self.subscriber else None
        return sbr.element(1) if sbr is not None else ""

    @property
    def claim_filing_indicator(self) -> str:
        """SBR09: ``MB`` Medicare Part B, ``MC`` Medicaid, ``CI`` commercial ..."""
        sbr = self.subscriber.hl.first("SBR") if self.subscriber else None
        return sbr.element(9) if sbr is not None else ""

    @property
    def payer_id(self) -> str:
        """2010BB NM109, the payer identifier a configuration can key a profile on."""
        if self.subscriber is None:
            return ""
        payer = self.subscriber.loop("2010BB")
        nm1 = payer.first("NM1") if payer else None
        return nm1.element(9) if nm1 is not None else ""

    def claim_loop(self, loop_id: str) -> Loop | None:
        """The first 2300-level loop with this id (``2310B`` rendering, ``2310D`` supervising)."""
        for loop in self.loops:
            if loop.loop_id == loop_id:
                return loop
        return None

    @property
    def rendering(self) -> Provider | None:
        """2310B, the claim-level rendering provider."""
        loop = self.claim_loop("2310B")
        return Provider(loop) if loop else None

    @property
    def supervising(self) -> Provider | None:
        """2310D, the claim-level supervising provider."""
        loop = self.claim_loop("2310D")
        return Provider(loop) if loop else None

    @property
    def billing_provider(self) -> Provider | None:
        """2010AA, the billing provider."""
        loop = self.billing.loop("2010AA") if self.billing else None
        return Provider(loop) if loop else None

    def rendering_npi(self, line: ServiceLine) -> str:
        """The line's rendering NPI: 2420A if present, else 2310B, else 2010AA (catalogue §0)."""
        for provider in (line.rendering, self.rendering, self.billing_provider):
            if provider is not None and provider.npi:
                return provider.npi
        return ""

    def segments(self) -> list[Segment]:
        """Every segment of the 2300 loop and its nested loops, in file order."""
        out = list(self.loop.segments)
        for loop in self.loops:
            out.extend(loop.segments)
        for line in self.lines:
            out.extend(line.all_segments())
        return out

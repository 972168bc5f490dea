"""Typed views over one 837P claim: :class:`Claim`, :class:`ServiceLine`, :class:`DrugLine`.

The loop builder (:mod:`edi837.x837p.builder`) fills these from the segment stream; the rules
read them. Every view keeps the segments it was built from, so a finding can point at the exact
segment and element (``segment_number``, ``byte_offset``, ``SV101-3``). Views never change a
segment: fixes are expressed as edits and applied by the fixer. The builder hands a claim to the
rules only once all its segments are in, so derived values are computed once and cached: every
rule reads the same SV1 and DTP*472 many times per claim. The cache is plain attributes behind
properties (no descriptor writing the instance dictionary), so that the views compile as they
read in the optional compiled build (mypyc).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from edi837.x12.segment import Segment

# Memo tables for the two value parsers: a file repeats the same amounts, unit counts and
# dates on thousands of lines, and Decimal and date values are immutable, so one parse each
# serves them all. The tables are emptied when they grow past a bound, and only texts short
# enough to be a value are kept, so that a table never holds more than a few hundred kB.
_MEMO_LIMIT = 4096
_DECIMALS: dict[str, Decimal | None] = {}
_DATES: dict[str, date | None] = {}

#: The most digits an X12 ``R`` value may have in the 837P: the guide's longest decimal is
#: data element 782, Monetary Amount (CLM02, SV102), R 1/18. The length excludes the sign and
#: the decimal point, as X12.6 counts it.
MAX_DECIMAL_DIGITS = 18
# X12.6's R type (the form pyx12 validates): an optional minus sign, digits, and a decimal
# point only when a fraction follows. No plus sign, no exponent, no NaN or Infinity: those are
# Python's number syntax, not X12's, and a receiver would reject them.
_DECIMAL = re.compile(r"-?(?:[0-9]+(?:\.[0-9]+)?|\.[0-9]+)")


def parse_decimal(text: str) -> Decimal | None:
    """An X12 ``R`` (decimal) value as a :class:`Decimal`, or ``None`` when it is not one.

    ``None`` also for a value longer than :data:`MAX_DECIMAL_DIGITS` digits: it is invalid in
    every 837P element (the element checks report it), and an unbounded one would overflow a
    sum or take unbounded time to convert.
    """
    try:
        return _DECIMALS[text]
    except KeyError:
        pass
    if len(text) > MAX_DECIMAL_DIGITS + 2:  # digits, sign and point
        return None
    value: Decimal | None = None
    if _DECIMAL.fullmatch(text) is not None:
        digits = len(text) - text.startswith("-") - ("." in text)
        if digits <= MAX_DECIMAL_DIGITS:
            value = Decimal(text)
    if len(_DECIMALS) >= _MEMO_LIMIT:
        _DECIMALS.clear()
    _DECIMALS[text] = value
    return value


def parse_count(text: str, max_digits: int) -> int | None:
    """An X12 ``N0`` value (unsigned whole number) of at most ``max_digits`` digits, or ``None``.

    Only ASCII digits count (a UTF-16 file can hold other digits that Python would accept),
    and the length is checked before converting, so no text can reach Python's limit on
    converting long digit strings.
    """
    if 0 < len(text) <= max_digits and text.isascii() and text.isdecimal():
        return int(text)
    return None


def parse_date(text: str) -> date | None:
    """A ``CCYYMMDD`` date, or ``None`` when it is not a real calendar date."""
    if len(text) != 8:
        return None
    try:
        return _DATES[text]
    except KeyError:
        pass
    value: date | None = None
    if text.isascii() and text.isdecimal():
        try:
            value = date(int(text[:4]), int(text[4:6]), int(text[6:]))
        except ValueError:
            value = None
    if len(_DATES) >= _MEMO_LIMIT:
        _DATES.clear()
    _DATES[text] = value
    return value


@dataclass(init=False)
class Loop:
    """One loop instance: its id as pyx12 names it (``2010AA``, ``2420A``) and its segments."""

    loop_id: str
    segments: list[Segment]

    # An explicit __init__ rather than the generated one: the compiled build (mypyc) compiles
    # it, while a generated one stays interpreted, and one is made per loop of every claim.
    def __init__(self, loop_id: str, segments: list[Segment] | None = None) -> None:
        self.loop_id = loop_id
        self.segments = [] if segments is None else segments

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


@dataclass(init=False)
class Provider:
    """A provider loop (2010AA billing, 2310B/2420A rendering, 2310D/2420D supervising)."""

    loop: Loop

    # Explicit, so that the compiled build compiles it (see Loop).
    def __init__(self, loop: Loop) -> None:
        self.loop = loop
        self._ready = False

    def _read(self) -> None:
        nm1 = self.loop.first("NM1")
        self._nm1: Segment | None = nm1
        npi = ""
        if nm1 is not None:
            found = nm1.elements
            if len(found) > 9 and found[8] == "XX":
                npi = found[9]
        self._npi = npi
        self._ready = True

    @property
    def nm1(self) -> Segment | None:
        """The NM1 that opens the loop."""
        if not self._ready:
            self._read()
        return self._nm1

    @property
    def npi(self) -> str:
        """NM109 when NM108 is ``XX`` (the NPI qualifier), else ``""``."""
        if not self._ready:
            self._read()
        return self._npi

    @property
    def identity(self) -> tuple[str, ...]:
        """NM1 elements 01-09, for comparing a line-level provider with the claim-level one."""
        nm1 = self.nm1
        return tuple(nm1.element(i) for i in range(1, 10)) if nm1 is not None else ()


@dataclass(init=False)
class DrugLine:
    """Loop 2410 drug identification: LIN (NDC), CTP (quantity and unit), REF (Rx or link).

    LIN, CTP and REF are found in one pass over the loop, on the first read of any property,
    together with every value the properties derive from them.
    """

    loop: Loop

    # Explicit, so that the compiled build compiles it (see Loop).
    def __init__(self, loop: Loop) -> None:
        self.loop = loop
        self._ready = False

    def _read(self) -> None:
        """Find LIN, CTP and REF and store every derived value; the properties read them."""
        lin = ctp = ref = None
        for seg in self.loop.segments:
            sid = seg.id
            if sid == "LIN":
                if lin is None:
                    lin = seg
            elif sid == "CTP":
                if ctp is None:
                    ctp = seg
            elif sid == "REF" and ref is None:
                ref = seg
        self._lin: Segment | None = lin
        self._ctp: Segment | None = ctp
        self._ref: Segment | None = ref
        qualifier = ndc = quantity_text = unit = ""
        if lin is not None:
            found = lin.elements
            count = len(found)
            qualifier = found[2] if count > 2 else ""
            ndc = found[3] if count > 3 else ""
        if ctp is not None:
            found = ctp.elements
            count = len(found)
            quantity_text = found[4] if count > 4 else ""
            unit = found[5].split(ctp.delimiters.component)[0] if count > 5 else ""
        self._qualifier = qualifier
        self._ndc = ndc
        self._quantity_text = quantity_text
        self._quantity = parse_decimal(quantity_text)
        self._unit = unit
        self._ready = True

    @property
    def lin(self) -> Segment | None:
        """The LIN segment (required in 2410)."""
        if not self._ready:
            self._read()
        return self._lin

    @property
    def ctp(self) -> Segment | None:
        """The CTP segment (required in 2410)."""
        if not self._ready:
            self._read()
        return self._ctp

    @property
    def ref(self) -> Segment | None:
        """The REF segment (VY link sequence or XZ prescription number), when present."""
        if not self._ready:
            self._read()
        return self._ref

    @property
    def qualifier(self) -> str:
        """LIN02: ``N4`` when LIN03 is an NDC in 5-4-2 format."""
        if not self._ready:
            self._read()
        return self._qualifier

    @property
    def ndc(self) -> str:
        """LIN03 as sent (not normalised)."""
        if not self._ready:
            self._read()
        return self._ndc

    @property
    def quantity_text(self) -> str:
        """CTP04, the national drug unit count, as sent."""
        if not self._ready:
            self._read()
        return self._quantity_text

    @property
    def quantity(self) -> Decimal | None:
        """CTP04 as a number."""
        if not self._ready:
            self._read()
        return self._quantity

    @property
    def unit(self) -> str:
        """CTP05-1, the NDC unit of measure (F2, GR, ME, ML, UN)."""
        if not self._ready:
            self._read()
        return self._unit


_NO_MODIFIERS: frozenset[str] = frozenset()
#: LX01 is data element 554, Assigned Number, N0 1/6.
LINE_NUMBER_DIGITS = 6


@dataclass(init=False)
class ServiceLine:
    """Loop 2400 with its 2410 drug identification and 2420x/2430 loops.

    LX, SV1 and DTP*472 are found in one pass over the 2400 segments on the first read of any
    of the properties, and every value derived from them is stored at once: the rules read
    the same few values on every line many times.
    """

    loop: Loop
    drug: DrugLine | None
    rendering: Provider | None  # 2420A
    supervising: Provider | None  # 2420D
    loops: list[Loop]  # every 2410/242x/2430/2440 in order

    # Explicit, so that the compiled build compiles it (see Loop).
    def __init__(
        self,
        loop: Loop,
        drug: DrugLine | None = None,
        rendering: Provider | None = None,
        supervising: Provider | None = None,
        loops: list[Loop] | None = None,
    ) -> None:
        self.loop = loop
        self.drug = drug
        self.rendering = rendering
        self.supervising = supervising
        self.loops = [] if loops is None else loops
        self._ready = False

    def _read(self) -> None:
        """Find LX, SV1 and DTP*472 in one pass and store every value derived from them.

        Called on the first read of any property below; the properties then return stored
        values, so a line's segments are scanned once however many rules read it.
        """
        lx = sv1 = dtp = None
        for seg in self.loop.segments:
            sid = seg.id
            if sid == "SV1":
                if sv1 is None:
                    sv1 = seg
            elif sid == "DTP":
                if dtp is None:
                    found = seg.elements
                    if len(found) > 1 and found[1] == "472":
                        dtp = seg
            elif sid == "LX" and lx is None:
                lx = seg
        self._lx: Segment | None = lx
        number = None
        if lx is not None:
            found = lx.elements
            number = parse_count(found[1] if len(found) > 1 else "", LINE_NUMBER_DIGITS)
        self._number: int | None = number
        self._sv1: Segment | None = sv1
        if sv1 is not None:
            elements = sv1.elements
            count = len(elements)
            composite = elements[1] if count > 1 else ""
            parts = composite.split(sv1.delimiters.component)
            self._qualifier = parts[0]
            self._code = parts[1] if len(parts) > 1 else ""
            self._description = parts[6] if len(parts) > 6 else ""
            mods = parts[2:6]
            while mods and not mods[-1]:
                mods.pop()
            self._modifiers = mods
            if not mods:
                self._modifier_codes = _NO_MODIFIERS
            elif len(mods) == 1:
                self._modifier_codes = frozenset(mods)
            else:
                self._modifier_codes = frozenset(mods).difference(("",))
            self._charge = parse_decimal(elements[2] if count > 2 else "")
            units_text = elements[4] if count > 4 else ""
            self._unit_basis = elements[3] if count > 3 else ""
            self._units_text = units_text
            self._units = parse_decimal(units_text)
            self._place_of_service = elements[5] if count > 5 else ""
            pointers = elements[7] if count > 7 else ""
            self._pointers = pointers.split(sv1.delimiters.component) if pointers else []
        else:
            self._qualifier = self._code = self._description = ""
            self._modifiers = []
            self._modifier_codes = _NO_MODIFIERS
            self._charge = None
            self._unit_basis = self._units_text = self._place_of_service = ""
            self._units = None
            self._pointers = []
        self._service_date_segment: Segment | None = dtp
        date_text = ""
        if dtp is not None:
            found = dtp.elements
            date_text = found[3] if len(found) > 3 else ""
        self._service_date_text = date_text
        self._service_date = parse_date(date_text[:8]) if dtp is not None else None
        self._ready = True

    @property
    def lx(self) -> Segment:
        """The LX segment that opens the line."""
        if not self._ready:
            self._read()
        lx = self._lx
        assert lx is not None, "a 2400 loop always opens with LX"
        return lx

    @property
    def number(self) -> int | None:
        """LX01, the line number findings are keyed by (``None`` when it is not one)."""
        if not self._ready:
            self._read()
        return self._number

    @property
    def sv1(self) -> Segment | None:
        """The SV1 professional service segment."""
        if not self._ready:
            self._read()
        return self._sv1

    @property
    def qualifier(self) -> str:
        """SV101-1: ``HC`` for CPT/HCPCS."""
        if not self._ready:
            self._read()
        return self._qualifier

    @property
    def code(self) -> str:
        """SV101-2, the procedure or drug code."""
        if not self._ready:
            self._read()
        return self._code

    @property
    def modifiers(self) -> list[str]:
        """SV101-3..6 as sent, empty positions included (trailing ones dropped)."""
        if not self._ready:
            self._read()
        return self._modifiers

    @property
    def modifier_codes(self) -> frozenset[str]:
        """The modifiers of SV101-3..6 as a set, empty positions left out."""
        if not self._ready:
            self._read()
        return self._modifier_codes

    @property
    def description(self) -> str:
        """SV101-7, the free-text description (NOC drugs)."""
        if not self._ready:
            self._read()
        return self._description

    @property
    def charge(self) -> Decimal | None:
        """SV102, the line charge."""
        if not self._ready:
            self._read()
        return self._charge

    @property
    def unit_basis(self) -> str:
        """SV103: ``UN`` units or ``MJ`` minutes."""
        if not self._ready:
            self._read()
        return self._unit_basis

    @property
    def units_text(self) -> str:
        """SV104 as sent."""
        if not self._ready:
            self._read()
        return self._units_text

    @property
    def units(self) -> Decimal | None:
        """SV104, the service unit count."""
        if not self._ready:
            self._read()
        return self._units

    @property
    def place_of_service(self) -> str:
        """SV105, sent only when it differs from CLM05-1."""
        if not self._ready:
            self._read()
        return self._place_of_service

    @property
    def pointers(self) -> list[str]:
        """SV107-1..4, the diagnosis code pointers as sent."""
        if not self._ready:
            self._read()
        return self._pointers

    @property
    def service_date_segment(self) -> Segment | None:
        """DTP*472, the service date (required on every 2400)."""
        if not self._ready:
            self._read()
        return self._service_date_segment

    @property
    def service_date(self) -> date | None:
        """The first day of DTP*472 (D8, or the start of an RD8 range)."""
        if not self._ready:
            self._read()
        return self._service_date

    @property
    def service_date_text(self) -> str:
        """DTP03 of DTP*472 as sent; lines are paired on this value."""
        if not self._ready:
            self._read()
        return self._service_date_text

    def all_segments(self) -> list[Segment]:
        """The 2400 segments followed by those of every nested loop, in file order."""
        segments = list(self.loop.segments)
        for loop in self.loops:
            segments.extend(loop.segments)
        return segments


@dataclass(init=False)
class Party:
    """A hierarchical level (2000A, 2000B, 2000C) with its name loops (2010xx)."""

    hl: Loop
    loops: list[Loop]

    # Explicit, so that the compiled build compiles it (see Loop).
    def __init__(self, hl: Loop, loops: list[Loop] | None = None) -> None:
        self.hl = hl
        self.loops = [] if loops is None else loops

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


# HI qualifiers of diagnosis codes: ICD-10-CM principal/other (ABK/ABF), ICD-9-CM (BK/BF).
_DIAGNOSIS_QUALIFIERS = frozenset({"ABK", "ABF", "BK", "BF"})


@dataclass(init=False)
class Claim:
    """Loop 2300 and its service lines, with the context it needs to be checked on its own.

    ``billing`` is 2000A (with 2010AA/2010AB), ``subscriber`` 2000B (with 2010BA/2010BB),
    ``patient`` 2000C (with 2010CA) when the patient is not the subscriber.
    """

    envelope: Envelope
    loop: Loop
    billing: Party | None
    subscriber: Party | None
    patient: Party | None
    lines: list[ServiceLine]
    loops: list[Loop]  # 2300-level loops: 2310x, 2320, 2330x

    # Explicit, so that the compiled build compiles it (see Loop).
    def __init__(
        self,
        envelope: Envelope,
        loop: Loop,
        billing: Party | None = None,
        subscriber: Party | None = None,
        patient: Party | None = None,
        lines: list[ServiceLine] | None = None,
        loops: list[Loop] | None = None,
    ) -> None:
        self.envelope = envelope
        self.loop = loop
        self.billing = billing
        self.subscriber = subscriber
        self.patient = patient
        self.lines = [] if lines is None else lines
        self.loops = [] if loops is None else loops
        self._ready = False
        self._payer_ready = False
        self._diagnoses: list[tuple[str, str]] | None = None
        self._providers_ready = False

    def _read(self) -> None:
        """Find CLM and store the values derived from it (the CLM properties read them)."""
        segments = self.loop.segments
        clm = segments[0] if segments and segments[0].id == "CLM" else self.loop.first("CLM")
        assert clm is not None, "a 2300 loop always opens with CLM"
        self._clm: Segment = clm
        found = clm.elements
        count = len(found)
        self._id = found[1] if count > 1 else ""
        self._total_charge = parse_decimal(found[2] if count > 2 else "")
        parts = (found[5] if count > 5 else "").split(clm.delimiters.component)
        size = len(parts)
        self._place_of_service = parts[0]
        self._facility_qualifier = parts[1] if size > 1 else ""
        self._frequency = parts[2] if size > 2 else ""
        self._ready = True

    @property
    def clm(self) -> Segment:
        """The CLM segment that opens the claim."""
        if not self._ready:
            self._read()
        return self._clm

    @property
    def id(self) -> str:
        """CLM01, the patient control number; findings are keyed by it."""
        if not self._ready:
            self._read()
        return self._id

    @property
    def total_charge(self) -> Decimal | None:
        """CLM02, which must equal the sum of SV102."""
        if not self._ready:
            self._read()
        return self._total_charge

    @property
    def place_of_service(self) -> str:
        """CLM05-1, the facility code (place of service)."""
        if not self._ready:
            self._read()
        return self._place_of_service

    @property
    def facility_qualifier(self) -> str:
        """CLM05-2, always ``B`` on a professional claim."""
        if not self._ready:
            self._read()
        return self._facility_qualifier

    @property
    def frequency(self) -> str:
        """CLM05-3: 1 original, 7 replacement, 8 void."""
        if not self._ready:
            self._read()
        return self._frequency

    @property
    def diagnoses(self) -> list[tuple[str, str]]:
        """(qualifier, code) for every diagnosis in the HI segments of 2300, in pointer order."""
        found = self._diagnoses
        if found is not None:
            return found
        found = []
        for hi in self.loop.segments:
            if hi.id != "HI":
                continue
            separator = hi.delimiters.component
            for value in hi.elements[1:]:
                parts = value.split(separator)
                if parts[0] in _DIAGNOSIS_QUALIFIERS:
                    found.append((parts[0], parts[1] if len(parts) > 1 else ""))
        self._diagnoses = found
        return found

    def _read_payer(self) -> None:
        """SBR01 and SBR09 of the subscriber and the 2010BB payer id, read together."""
        subscriber = self.subscriber
        sbr = subscriber.hl.first("SBR") if subscriber is not None else None
        self._payer_responsibility = sbr.element(1) if sbr is not None else ""
        self._claim_filing_indicator = sbr.element(9) if sbr is not None else ""
        payer_id = ""
        if subscriber is not None:
            payer = subscriber.loop("2010BB")
            nm1 = payer.first("NM1") if payer else None
            payer_id = nm1.element(9) if nm1 is not None else ""
        self._payer_id = payer_id
        self._payer_ready = True

    @property
    def payer_responsibility(self) -> str:
        """SBR01 of the subscriber (P primary, S secondary ...)."""
        if not self._payer_ready:
            self._read_payer()
        return self._payer_responsibility

    @property
    def claim_filing_indicator(self) -> str:
        """SBR09: ``MB`` Medicare Part B, ``MC`` Medicaid, ``CI`` commercial ..."""
        if not self._payer_ready:
            self._read_payer()
        return self._claim_filing_indicator

    @property
    def payer_id(self) -> str:
        """2010BB NM109, the payer identifier a configuration can key a profile on."""
        if not self._payer_ready:
            self._read_payer()
        return self._payer_id

    def claim_loop(self, loop_id: str) -> Loop | None:
        """The first 2300-level loop with this id (``2310B`` rendering, ``2310D`` supervising)."""
        for loop in self.loops:
            if loop.loop_id == loop_id:
                return loop
        return None

    def _read_providers(self) -> None:
        """The claim-level rendering and supervising providers and the billing provider."""
        loop = self.claim_loop("2310B")
        self._rendering = Provider(loop) if loop else None
        loop = self.claim_loop("2310D")
        self._supervising = Provider(loop) if loop else None
        loop = self.billing.loop("2010AA") if self.billing else None
        self._billing_provider = Provider(loop) if loop else None
        self._providers_ready = True

    @property
    def rendering(self) -> Provider | None:
        """2310B, the claim-level rendering provider."""
        if not self._providers_ready:
            self._read_providers()
        return self._rendering

    @property
    def supervising(self) -> Provider | None:
        """2310D, the claim-level supervising provider."""
        if not self._providers_ready:
            self._read_providers()
        return self._supervising

    @property
    def billing_provider(self) -> Provider | None:
        """2010AA, the billing provider."""
        if not self._providers_ready:
            self._read_providers()
        return self._billing_provider

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

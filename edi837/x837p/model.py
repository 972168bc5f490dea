"""Typed views over one 837P claim: :class:`Claim`, :class:`ServiceLine`, :class:`DrugLine`.

The loop builder (:mod:`edi837.x837p.builder`) fills these from the segment stream; the rules
read them. Every view keeps the segments it was built from, so a finding can point at the exact
segment and element (``segment_number``, ``byte_offset``, ``SV101-3``). Views never change a
segment: fixes are expressed as edits and applied by the fixer. The builder hands a claim to the
rules only once all its segments are in, so derived values are computed once and cached: every
rule reads the same SV1 and DTP*472 many times per claim.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, Generic, TypeVar, overload

from edi837.x12.segment import Segment

_T = TypeVar("_T")


class cached_value(Generic[_T]):
    """A value computed on first read and then kept in the instance dictionary.

    :class:`functools.cached_property` without its lock: Python 3.11 takes a lock on every
    first read, which costs more than most values here take to compute, and the views are
    read by one thread. Once stored, the value is found in the instance dictionary before
    this descriptor is consulted, so later reads cost a plain attribute lookup.
    """

    def __init__(self, func: Callable[[Any], _T]) -> None:
        self.func = func
        self.name = func.__name__
        self.__doc__ = func.__doc__

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, instance: None, owner: type | None = None) -> cached_value[_T]: ...

    @overload
    def __get__(self, instance: object, owner: type | None = None) -> _T: ...

    def __get__(self, instance: object | None, owner: type | None = None) -> Any:
        if instance is None:
            return self
        value = self.func(instance)
        instance.__dict__[self.name] = value
        return value


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

    @cached_value
    def nm1(self) -> Segment | None:
        """The NM1 that opens the loop."""
        return self.loop.first("NM1")

    @cached_value
    def npi(self) -> str:
        """NM109 when NM108 is ``XX`` (the NPI qualifier), else ``""``."""
        nm1 = self.nm1
        if nm1 is None:
            return ""
        found = nm1.elements
        return found[9] if len(found) > 9 and found[8] == "XX" else ""

    @cached_value
    def identity(self) -> tuple[str, ...]:
        """NM1 elements 01-09, for comparing a line-level provider with the claim-level one."""
        nm1 = self.nm1
        return tuple(nm1.element(i) for i in range(1, 10)) if nm1 is not None else ()


@dataclass
class DrugLine:
    """Loop 2410 drug identification: LIN (NDC), CTP (quantity and unit), REF (Rx or link).

    LIN, CTP and REF are found in one pass over the loop, together with every value the
    properties below derive from them; each property then reads a stored value.
    """

    loop: Loop

    def _read(self) -> None:
        """Find LIN, CTP and REF and store every derived value in the instance dictionary.

        The properties of this class find their values there from then on, so reading
        one of them reads them all, once.
        """
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
        values = self.__dict__
        values["lin"] = lin
        values["ctp"] = ctp
        values["ref"] = ref
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
        values["qualifier"] = qualifier
        values["ndc"] = ndc
        values["quantity_text"] = quantity_text
        values["quantity"] = parse_decimal(quantity_text)
        values["unit"] = unit

    @cached_value
    def lin(self) -> Segment | None:
        """The LIN segment (required in 2410)."""
        self._read()
        return self.lin

    @cached_value
    def ctp(self) -> Segment | None:
        """The CTP segment (required in 2410)."""
        self._read()
        return self.ctp

    @cached_value
    def ref(self) -> Segment | None:
        """The REF segment (VY link sequence or XZ prescription number), when present."""
        self._read()
        return self.ref

    @cached_value
    def qualifier(self) -> str:
        """LIN02: ``N4`` when LIN03 is an NDC in 5-4-2 format."""
        self._read()
        return self.qualifier

    @cached_value
    def ndc(self) -> str:
        """LIN03 as sent (not normalised)."""
        self._read()
        return self.ndc

    @cached_value
    def quantity_text(self) -> str:
        """CTP04, the national drug unit count, as sent."""
        self._read()
        return self.quantity_text

    @cached_value
    def quantity(self) -> Decimal | None:
        """CTP04 as a number."""
        self._read()
        return self.quantity

    @cached_value
    def unit(self) -> str:
        """CTP05-1, the NDC unit of measure (F2, GR, ME, ML, UN)."""
        self._read()
        return self.unit


_NO_MODIFIERS: frozenset[str] = frozenset()
#: LX01 is data element 554, Assigned Number, N0 1/6.
LINE_NUMBER_DIGITS = 6


@dataclass
class ServiceLine:
    """Loop 2400 with its 2410 drug identification and 2420x/2430 loops.

    SV1 and DTP*472 are found in one pass over the 2400 segments, and the values the rules
    read on nearly every line (code, modifiers, units, place of service, pointers, date as
    sent) are stored at once; the others (SV101-1, SV101-7, SV102, the parsed date) are worked
    out when first read.
    """

    loop: Loop
    drug: DrugLine | None = None
    rendering: Provider | None = None  # 2420A
    supervising: Provider | None = None  # 2420D
    loops: list[Loop] = field(default_factory=list)  # every 2410/242x/2430/2440 in order

    def _read(self) -> None:
        """Find SV1 and DTP*472 and store the values derived from them together.

        The properties that call this method find their values in the instance dictionary
        from then on, so reading one of them reads them all, once.
        """
        sv1 = dtp = None
        for seg in self.loop.segments:
            sid = seg.id
            if sid == "SV1":
                if sv1 is None:
                    sv1 = seg
            elif sid == "DTP" and dtp is None:
                found = seg.elements
                if len(found) > 1 and found[1] == "472":
                    dtp = seg
        values = self.__dict__
        values["sv1"] = sv1
        if sv1 is not None:
            elements = sv1.elements
            count = len(elements)
            composite = elements[1] if count > 1 else ""
            parts = composite.split(sv1.delimiters.component)
            values["code"] = parts[1] if len(parts) > 1 else ""
            mods = parts[2:6]
            while mods and not mods[-1]:
                mods.pop()
            values["modifiers"] = mods
            if not mods:
                values["modifier_codes"] = _NO_MODIFIERS
            elif len(mods) == 1:
                values["modifier_codes"] = frozenset(mods)
            else:
                values["modifier_codes"] = frozenset(mods).difference(("",))
            units_text = elements[4] if count > 4 else ""
            values["unit_basis"] = elements[3] if count > 3 else ""
            values["units_text"] = units_text
            values["units"] = parse_decimal(units_text)
            values["place_of_service"] = elements[5] if count > 5 else ""
            pointers = elements[7] if count > 7 else ""
            values["pointers"] = pointers.split(sv1.delimiters.component) if pointers else []
        else:
            values["code"] = ""
            values["modifiers"] = []
            values["modifier_codes"] = _NO_MODIFIERS
            values["unit_basis"] = values["units_text"] = values["place_of_service"] = ""
            values["units"] = None
            values["pointers"] = []
        values["service_date_segment"] = dtp
        date_text = ""
        if dtp is not None:
            found = dtp.elements
            date_text = found[3] if len(found) > 3 else ""
        values["service_date_text"] = date_text

    @cached_value
    def lx(self) -> Segment:
        """The LX segment that opens the line."""
        seg = self.loop.first("LX")
        assert seg is not None, "a 2400 loop always opens with LX"
        return seg

    @cached_value
    def number(self) -> int | None:
        """LX01, the line number findings are keyed by (``None`` when it is not one)."""
        return parse_count(self.lx.element(1), LINE_NUMBER_DIGITS)

    @cached_value
    def sv1(self) -> Segment | None:
        """The SV1 professional service segment."""
        self._read()
        return self.sv1

    @cached_value
    def qualifier(self) -> str:
        """SV101-1: ``HC`` for CPT/HCPCS."""
        sv1 = self.sv1
        return sv1.component(1, 1) if sv1 is not None else ""

    @cached_value
    def code(self) -> str:
        """SV101-2, the procedure or drug code."""
        self._read()
        return self.code

    @cached_value
    def modifiers(self) -> list[str]:
        """SV101-3..6 as sent, empty positions included (trailing ones dropped)."""
        self._read()
        return self.modifiers

    @cached_value
    def modifier_codes(self) -> frozenset[str]:
        """The modifiers of SV101-3..6 as a set, empty positions left out."""
        self._read()
        return self.modifier_codes

    @cached_value
    def description(self) -> str:
        """SV101-7, the free-text description (NOC drugs)."""
        sv1 = self.sv1
        return sv1.component(1, 7) if sv1 is not None else ""

    @cached_value
    def charge(self) -> Decimal | None:
        """SV102, the line charge."""
        sv1 = self.sv1
        return parse_decimal(sv1.element(2)) if sv1 is not None else None

    @cached_value
    def unit_basis(self) -> str:
        """SV103: ``UN`` units or ``MJ`` minutes."""
        self._read()
        return self.unit_basis

    @cached_value
    def units_text(self) -> str:
        """SV104 as sent."""
        self._read()
        return self.units_text

    @cached_value
    def units(self) -> Decimal | None:
        """SV104, the service unit count."""
        self._read()
        return self.units

    @cached_value
    def place_of_service(self) -> str:
        """SV105, sent only when it differs from CLM05-1."""
        self._read()
        return self.place_of_service

    @cached_value
    def pointers(self) -> list[str]:
        """SV107-1..4, the diagnosis code pointers as sent."""
        self._read()
        return self.pointers

    @cached_value
    def service_date_segment(self) -> Segment | None:
        """DTP*472, the service date (required on every 2400)."""
        self._read()
        return self.service_date_segment

    @cached_value
    def service_date(self) -> date | None:
        """The first day of DTP*472 (D8, or the start of an RD8 range)."""
        dtp = self.service_date_segment
        if dtp is None:
            return None
        return parse_date(dtp.element(3)[:8])

    @cached_value
    def service_date_text(self) -> str:
        """DTP03 of DTP*472 as sent; lines are paired on this value."""
        self._read()
        return self.service_date_text

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


# HI qualifiers of diagnosis codes: ICD-10-CM principal/other (ABK/ABF), ICD-9-CM (BK/BF).
_DIAGNOSIS_QUALIFIERS = frozenset({"ABK", "ABF", "BK", "BF"})


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

    def _read(self) -> None:
        """Find CLM and store the values derived from it in the instance dictionary.

        The properties :attr:`clm`, :attr:`id`, :attr:`place_of_service`,
        :attr:`facility_qualifier` and :attr:`frequency` find their values there from then on.
        """
        segments = self.loop.segments
        clm = segments[0] if segments and segments[0].id == "CLM" else self.loop.first("CLM")
        assert clm is not None, "a 2300 loop always opens with CLM"
        values = self.__dict__
        values["clm"] = clm
        found = clm.elements
        count = len(found)
        values["id"] = found[1] if count > 1 else ""
        parts = (found[5] if count > 5 else "").split(clm.delimiters.component)
        size = len(parts)
        values["place_of_service"] = parts[0]
        values["facility_qualifier"] = parts[1] if size > 1 else ""
        values["frequency"] = parts[2] if size > 2 else ""

    @cached_value
    def clm(self) -> Segment:
        """The CLM segment that opens the claim."""
        self._read()
        return self.clm

    @cached_value
    def id(self) -> str:
        """CLM01, the patient control number; findings are keyed by it."""
        self._read()
        return self.id

    @cached_value
    def total_charge(self) -> Decimal | None:
        """CLM02, which must equal the sum of SV102."""
        return parse_decimal(self.clm.element(2))

    @cached_value
    def place_of_service(self) -> str:
        """CLM05-1, the facility code (place of service)."""
        self._read()
        return self.place_of_service

    @cached_value
    def facility_qualifier(self) -> str:
        """CLM05-2, always ``B`` on a professional claim."""
        self._read()
        return self.facility_qualifier

    @cached_value
    def frequency(self) -> str:
        """CLM05-3: 1 original, 7 replacement, 8 void."""
        self._read()
        return self.frequency

    @cached_value
    def diagnoses(self) -> list[tuple[str, str]]:
        """(qualifier, code) for every diagnosis in the HI segments of 2300, in pointer order."""
        found: list[tuple[str, str]] = []
        for hi in self.loop.segments:
            if hi.id != "HI":
                continue
            separator = hi.delimiters.component
            for value in hi.elements[1:]:
                parts = value.split(separator)
                if parts[0] in _DIAGNOSIS_QUALIFIERS:
                    found.append((parts[0], parts[1] if len(parts) > 1 else ""))
        return found

    @cached_value
    def payer_responsibility(self) -> str:
        """SBR01 of the subscriber (P primary, S secondary ...)."""
        sbr = self.subscriber.hl.first("SBR") if self.subscriber else None
        return sbr.element(1) if sbr is not None else ""

    @cached_value
    def claim_filing_indicator(self) -> str:
        """SBR09: ``MB`` Medicare Part B, ``MC`` Medicaid, ``CI`` commercial ..."""
        sbr = self.subscriber.hl.first("SBR") if self.subscriber else None
        return sbr.element(9) if sbr is not None else ""

    @cached_value
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

    @cached_value
    def rendering(self) -> Provider | None:
        """2310B, the claim-level rendering provider."""
        loop = self.claim_loop("2310B")
        return Provider(loop) if loop else None

    @cached_value
    def supervising(self) -> Provider | None:
        """2310D, the claim-level supervising provider."""
        loop = self.claim_loop("2310D")
        return Provider(loop) if loop else None

    @cached_value
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

"""The 837P layer's finding codes: hierarchy, structure, segment and element checks, header.

Each class is a code the tracker, the element checks or the header checker report through (see
:mod:`edi837.x12.checks`); the rule of the same name in :mod:`edi837.rules.structure` subclasses
it and documents it. Severities are the codes' defaults; a finding may state its own (an HL01
gap is only a warning).
"""

from __future__ import annotations

from edi837.findings import Finding, Fix, Severity
from edi837.x12.checks import Check
from edi837.x12.segment import Segment


class ENV004(Check):
    """Versions and ids: ISA12 00501, GS01 HC, GS08 005010X222A1, ST01 837, ST03 = GS08."""


class ENV010(Check):
    """BHT: BHT01 0019, BHT02 00 or 18, BHT04 a valid CCYYMMDD date, BHT06 CH or RP."""


class ENV011(Check):
    """The header names the submitter (1000A, with a PER contact) and the receiver (1000B)."""


class HL001(Check):
    """HL01 is unique and ascends from 1."""


class HL002(Check):
    """HL02 names the enclosing parent level."""


class HL003(Check):
    """HL04 says whether a child level follows."""


class HL004(Check):
    """No patient level under a subscriber who is the patient (SBR02 18)."""


class STR001(Check):
    """A loop repeats no more often than the guide allows."""


class STR002(Check):
    """Segments stand in the order of their loop."""


class STR003(Check):
    """LX01 counts the service lines of a claim 1, 2, 3 ..."""


class STR004(Check):
    """CLM02 equals the sum of the line charges."""


class STR005(Check):
    """Every service line has its DTP*472 service date (D8 or RD8)."""


class SEG001(Check):
    """Segment ids are ones the 837P guide knows."""


class SEG002(Check):
    """A segment stands where the guide expects it, no more often than it allows."""


class SEG003(Check):
    """Required segments and loops are present."""


class ELM001(Check):
    """Required elements are present."""


class ELM002(Check):
    """Element values have the length the guide allows."""


class ELM003(Check):
    """Coded elements hold a value from their code list."""


class ELM004(Check):
    """Segments have no more elements than the guide defines."""


class ELM005(Check):
    """Elements related by the guide's syntax notes are used together, or not together."""


class ELM006(Check):
    """Element values have the form of their X12 data type."""


#: At most this many findings of one hierarchy or SEG-003 code (HL-001 to HL-004, SEG-003)
#: are listed per transaction set; the rest become one summary finding that says how many
#: there are and which segments they span. The guide recommends at most 5,000 claims (CLM) per
#: transaction set, so a real transaction with one fault per claim is listed in full (a
#: batch that numbers each claim's HLs from 1 again gives one HL-001 per claim), while a
#: hostile one (100,000 nested HLs, each with a wrong parent, HL04 and missing patient loops)
#: cannot make hundreds of thousands of findings for the report to hold.
TRANSACTION_CAP = 5000


def finding_at(
    check: type[Check],
    message: str,
    seg: Segment,
    element: str | None,
    loop: str,
    fix: Fix | None = None,
    severity: Severity | None = None,
) -> Finding:
    """A finding of ``check`` at ``seg`` in ``loop`` (the tracker's and hierarchy's form)."""
    return check.finding(message, seg, element, loop=loop, fix=fix, severity=severity)

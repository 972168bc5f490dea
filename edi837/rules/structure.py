"""Envelope, hierarchy and structure rules: reported by the parser, documented here.

The X12 envelope checker (:mod:`edi837.x12.envelope`), the 837P loop tracker
(:mod:`edi837.x837p.tracker`) with its element and header checks find these problems while the
file streams. They report through the code classes of :mod:`edi837.x12.checks` and
:mod:`edi837.x837p.checks`, which hold each code's default severity and build its findings; each
rule below *is* a subclass of its code class that adds the fix class and documentation, so that
``--select``/``--ignore``, severity overrides and ``edi837 rules`` see the very class the parser
reports through (the parser layers sit below the rules and cannot import them). SEG-* and ELM-*
are this project's codes for checks the catalogue does not number (segments and elements against
the pyx12 837P map).
"""

from __future__ import annotations

from typing import ClassVar

from edi837.findings import Severity
from edi837.rules.base import FixAvailability, Rule
from edi837.x12 import checks as x12_codes
from edi837.x837p import checks as guide_codes


class StructureRule(Rule):
    """A rule the parser reports; it has no claim check of its own."""

    scope: ClassVar[str] = "structure"


class ENV001(x12_codes.ENV001, StructureRule):
    """The file starts with ISA, and the ISA is 106 characters with fixed-width elements.

    What it does:
        Checks that the first segment is ISA, that the ISA segment including its terminator is
        exactly 106 characters, and that each ISA element has its fixed width (ISA02 and ISA04
        10, ISA06 and ISA08 15, ISA13 9 digits ...).
    Why it matters:
        The ISA is the only fixed-length segment: receivers read the delimiters from fixed
        offsets (element separator at 3, component separator at 104, terminator at 105). A
        mis-padded ISA is rejected by the front end before any claim is read.
    Fix safety:
        Unsafe. Re-padding ISA02/04/06/08 with spaces is mechanical, but it changes identifiers
        the trading partner configured, so it is applied only with ``--unsafe-fixes``.

    Example:
        ``ISA*00*0000*00*...`` (ISA02 of 4 characters instead of 10).
    Sources:
        TR3 ISA notes; pyx12 rawx12file.py (ISA_LEN = 106).
    """

    fix = FixAvailability.UNSAFE


class ENV002(x12_codes.ENV002, StructureRule):
    """The four delimiters are distinct, and none of them appears inside data.

    What it does:
        Compares the element separator (ISA offset 3), repetition separator (ISA11),
        component separator (ISA16) and segment terminator, and looks for them in element
        values where they cannot legally appear.
    Why it matters:
        A delimiter inside data splits an element in two on the receiver's side: names,
        addresses and amounts shift into the wrong elements.
    Fix safety:
        No fix: the data has to be re-keyed or the delimiters changed by the sender.

    Example:
        ISA11 ``*`` when ``*`` is also the element separator.
    Sources:
        Stedi X12 005010 element I65; X12.6 delimiter rules.
    """

    severity_when = {Severity.WARNING: "when ISA11 is not a repetition separator character"}


class ENV003(x12_codes.ENV003, StructureRule):
    """Line breaks after terminators are consistent (CR, LF or CRLF, not a mix).

    What it does:
        Line breaks after segment terminators are layout, not data, and are tolerated. A file
        that mixes CR, LF and CRLF is reported once, as a warning.
    Why it matters:
        Mixed line breaks usually mean files were pasted together by hand; some receivers count
        the break characters as data.
    Fix safety:
        The writers keep the input's layout byte for byte; nothing is changed.

    Example:
        ``~`` then CR LF after most segments, and ``~`` then LF after a few.
    Sources:
        Common practice (not in the standard); pyx12 strips CR/LF before each segment.
    """


class ENV004(guide_codes.ENV004, StructureRule):
    """Versions and ids: ISA12 00501, GS01 HC, GS08 005010X222A1, ST01 837, ST03 = GS08.

    What it does:
        Checks the version and functional ids of an 837 transaction. A missing ST03 is a
        warning; a mismatched one is a reject. Transactions that are not 837 at all (an 835 in
        the same file) are skipped with a note rather than reported.
    Why it matters:
        The receiver routes and validates by these ids; a wrong GS08 means the claim is read
        against the wrong guide.
    Fix safety:
        No fix: the version is the sender's declaration.

    Example:
        ``GS*HC*...*005010X222A2~`` in a file sent to an X222A1 receiver.
    Sources:
        pyx12 837P map; TR3 ST03 note.
    """

    severity_when = {Severity.WARNING: "when ST03 is absent"}


class ENV005(x12_codes.ENV005, StructureRule):
    """ISA13 equals IEA02 (9 digits).

    What it does:
        Compares the interchange control number in the header and the trailer.
    Why it matters:
        A mismatch makes the whole interchange fail its TA1 acknowledgement.
    Fix safety:
        No fix: control numbers are never changed by this tool.

    Example:
        ``ISA*...*000000101*...`` with ``IEA*1*000000102~``.
    Sources:
        TR3 ISA note; pyx12 x12.control.00501 map.
    """


class ENV006(x12_codes.ENV006, StructureRule):
    """GS06 equals GE02.

    What it does:
        Compares the group control number in GS and GE.
    Why it matters:
        The 999 acknowledgement rejects a functional group whose trailer does not match.
    Fix safety:
        No fix: control numbers are never changed.

    Example:
        ``GS*HC*...*101*X*005010X222A1~`` with ``GE*1*102~``.
    Sources:
        X12 control structure; pyx12 control map.
    """


class ENV007(x12_codes.ENV007, StructureRule):
    """ST02 equals SE02, and ST02 is unique within its group.

    What it does:
        Compares the transaction set control numbers and looks for a repeated ST02 in one GS.
    Why it matters:
        The 999 acknowledges transactions by ST02; a duplicate or mismatch rejects the set.
    Fix safety:
        No fix: control numbers are never changed.

    Example:
        ``ST*837*0001*...`` closed by ``SE*34*0002~``.
    Sources:
        X12 control structure; pyx12 control map.
    """


class ENV008(x12_codes.ENV008, StructureRule):
    """SE01 is the number of segments from ST to SE, both counted.

    What it does:
        Counts the segments of each transaction and compares with SE01.
    Why it matters:
        A wrong count rejects the whole transaction set (999 IK5 R).
    Fix safety:
        Reported only. ``edi837 fix`` recounts SE01 itself, but only for a transaction whose
        segments it added or removed; it never rewrites a count it did not invalidate.

    Example:
        ``SE*33*0001~`` for a transaction of 34 segments.
    Sources:
        X12 standard; LinuxForHealth x12 validate_segment_count.
    """


class ENV009(x12_codes.ENV009, StructureRule):
    """GE01 counts the transactions of its group; IEA01 counts the groups of its interchange.

    What it does:
        Counts ST/SE pairs per group and GS/GE pairs per interchange.
    Why it matters:
        Receivers reject a group or interchange whose trailer count is wrong.
    Fix safety:
        No fix on input; the fixer recounts only where it changed transactions.

    Example:
        ``GE*1*101~`` closing a group with two transactions.
    Sources:
        X12 standard.
    """


class ENV010(guide_codes.ENV010, StructureRule):
    """BHT: BHT01 0019, BHT02 00 or 18, BHT04 a valid CCYYMMDD date, BHT06 CH or RP.

    What it does:
        Checks the beginning of hierarchical transaction segment of each 837P.
    Why it matters:
        BHT06 tells the payer whether this is a claim (CH) or an encounter report (RP); a wrong
        code routes the file to the wrong process.
    Fix safety:
        No fix: the values are the sender's declaration.

    Example:
        ``BHT*0019*00*B1*20250230*0930*CH~`` (30 February).
    Sources:
        pyx12 837P map (BHT element code lists).
    """


class ENV011(guide_codes.ENV011, StructureRule):
    """The header has a 1000A submitter (NM1*41 with PER) and a 1000B receiver (NM1*40).

    What it does:
        Checks the two required name loops before the first HL.
    Why it matters:
        Without a submitter contact and receiver the clearinghouse cannot route the file or
        return acknowledgements.
    Fix safety:
        No fix: the names and contacts are the submitter's.

    Example:
        A transaction whose BHT is followed directly by ``HL*1**20*1~``.
    Sources:
        TR3 loop table (pyx12 map).
    """


class ENV012(x12_codes.ENV012, StructureRule):
    """Segments begin with their id: no spaces or tabs before them.

    What it does:
        Reports segments whose id is preceded by spaces or tabs (an indented listing), once
        per run of consecutive indented segments, as a warning. Line breaks after terminators
        are layout and are not reported here (ENV-003 looks at them).
    Why it matters:
        X12 has no indentation: a receiver that does not skip white space reads the spaces as
        part of the segment id (``  NM1``) and rejects the segment as unknown.
    Fix safety:
        Safe. The fix removes the spaces and tabs before each segment id and keeps the line
        breaks and every segment as it is.

    Example:
        ``NM1*41*2*EXAMPLE BILLING SERVICE*****46*EDI837TESTSUB~`` written as
        ``   NM1*41*2*...~`` on its line.
    Sources:
        X12.6 (a segment begins with its segment identifier); pyx12 strips only line breaks.
    """

    fix = FixAvailability.SAFE


class ENV013(x12_codes.ENV013, StructureRule):
    """The last segment of the file ends with the segment terminator.

    What it does:
        Reports an IEA that ends the file without the segment terminator (``~``), as a
        warning. Files whose terminator is a line break may simply end.
    Why it matters:
        A reader that cuts segments at the terminator never sees the unterminated IEA: pyx12
        reports the interchange trailer as missing, and a receiver may reject the interchange.
    Fix safety:
        No fix: add the terminator when the file is written.

    Example:
        A file ending in ``IEA*1*000000101`` with no ``~``.
    Sources:
        X12.6 (every segment ends with the segment terminator); pyx12 x12valid "IEA missing".
    """


class HL001(guide_codes.HL001, StructureRule):
    """HL01 is unique within the transaction and ascends from 1.

    What it does:
        A repeated HL01 is a reject; a gap in the numbering is a warning.
    Why it matters:
        Parents are found by HL01; a duplicate makes the hierarchy ambiguous.
    Fix safety:
        No fix: renumbering would change every HL02 reference.

    Example:
        ``HL*1**20*1~`` followed by ``HL*1*1*22*0~``.
    Sources:
        TR3 HL notes; pyx12 map.
    """

    severity_when = {Severity.WARNING: "when HL01 skips numbers"}


class HL002(guide_codes.HL002, StructureRule):
    """HL02 points to an earlier HL01 of the right level.

    What it does:
        2000A (HL03 20) has no parent; a 2000B (22) has a 2000A parent; a 2000C (23) has a
        2000B parent.
    Why it matters:
        A broken parent link attaches a claim to the wrong subscriber or billing provider.
    Fix safety:
        No fix.

    Example:
        ``HL*3*1*23*0~`` (a patient level whose parent is the billing provider).
    Sources:
        pyx12 map (HL03 codes per loop).
    """


class HL003(guide_codes.HL003, StructureRule):
    """HL04 says whether the level has children: 2000A 1, 2000B 1 only with a 2000C, 2000C 0.

    What it does:
        Compares HL04 with the levels that actually follow.
    Why it matters:
        Receivers use HL04 to expect child levels; a wrong flag fails the 999.
    Fix safety:
        Safe: the right value follows from the tree itself, and ``edi837 fix`` sets it.

    Example:
        ``HL*2*1*22*1~`` for a subscriber with no patient level becomes ``HL*2*1*22*0~``.
    Sources:
        pyx12 map (allowed codes per loop).
    """

    fix = FixAvailability.SAFE


class HL004(guide_codes.HL004, StructureRule):
    """SBR02 18 (subscriber is the patient) means there is no 2000C patient level.

    What it does:
        Reports a 2000C under a subscriber whose SBR02 says the subscriber is the patient.
    Why it matters:
        The payer cannot tell whose claim it is; it is rejected as a patient mismatch.
    Fix safety:
        No fix: which of the two is right needs the registration data.

    Example:
        ``SBR*P*18*...~`` followed by ``HL*3*2*23*0~``.
    Sources:
        TR3 patient/subscriber rule.
    """


class STR001(guide_codes.STR001, StructureRule):
    """Loop repeats stay within the guide: 2300 ≤100 per HL, 2400 ≤50 per claim, 2410 ≤1.

    What it does:
        Counts loop repeats against the repeat limits of the pyx12 map.
    Why it matters:
        A 51st service line is rejected; the claim must be split.
    Fix safety:
        No fix: splitting a claim is a billing decision.

    Example:
        A claim with 51 LX segments.
    Sources:
        pyx12 837.5010.X222.A1 map (github.com/azoner/pyx12).
    """


class STR002(guide_codes.STR002, StructureRule):
    """Segments appear in the order the guide gives within their loop.

    What it does:
        Reports a segment that comes after one that the guide places later in the same loop
        (for 2400: LX, SV1, ..., DTP*472, ..., REF, AMT, K3, NTE, PS1, HCP, then 2410 ...).
    Why it matters:
        Out-of-order segments are read into the wrong loop or rejected by the 999.
    Fix safety:
        No fix: moving segments could attach them to the wrong loop.

    Example:
        ``DTP*472`` before ``SV1`` in a 2400 loop.
    Sources:
        pyx12 837.5010.X222.A1 map (github.com/azoner/pyx12).
    """


class STR003(guide_codes.STR003, StructureRule):
    """LX01 starts at 1 and goes up by 1 within each claim.

    What it does:
        Checks the service line numbers of each claim.
    Why it matters:
        Payers report line-level adjudication by LX01; gaps and repeats misattribute it.
    Fix safety:
        No fix on input (renumbering is done by the fixer only when it adds or removes lines).

    Example:
        ``LX*1~`` followed by ``LX*3~``.
    Sources:
        TR3 LX note.
    """


class STR004(guide_codes.STR004, StructureRule):
    """CLM02 equals the sum of the SV102 line charges.

    What it does:
        Adds up the line charges of each claim and compares them with the claim total.
    Why it matters:
        Payers reject claims whose total does not balance with their lines.
    Fix safety:
        No fix: the tool never changes charges, so it cannot know which side is wrong.

    Example:
        ``CLM*PCN1*160***...`` with lines of 125, 35 and 8.
    Sources:
        TR3 CLM02 note.
    """


class STR005(guide_codes.STR005, StructureRule):
    """Every 2400 has DTP*472 with D8 (CCYYMMDD) or RD8 (a date range).

    What it does:
        Checks the service date of each line: present, a known format, and real dates.
    Why it matters:
        The service date is required on every professional line; it also decides which
        code set, NDC listing and edit table applies.
    Fix safety:
        No fix.

    Example:
        A 2400 loop with no DTP*472, or ``DTP*472*D8*20250230~``.
    Sources:
        pyx12 837.5010.X222.A1 map (github.com/azoner/pyx12).
    """


class SEG001(guide_codes.SEG001, StructureRule):
    """The segment id is one the 837P guide knows.

    What it does:
        Reports a segment whose id appears nowhere in the 837P map.
    Why it matters:
        An unknown segment is rejected by the 999, and usually means a typo or corruption.
    Fix safety:
        No fix.

    Example:
        ``XYZ*1~`` in a claim.
    Sources:
        pyx12 837.5010.X222.A1 map (github.com/azoner/pyx12).
    """


class SEG002(guide_codes.SEG002, StructureRule):
    """The segment is expected where it stands (right loop, no extra repeat).

    What it does:
        Reports a known segment that cannot be placed in the current loop or any loop that
        may open there, or that repeats more often than the guide allows.
    Why it matters:
        The receiver places it in the wrong loop or rejects the transaction.
    Fix safety:
        No fix.

    Example:
        ``SV1`` in the 2000B subscriber loop.
    Sources:
        pyx12 837.5010.X222.A1 map (github.com/azoner/pyx12).
    """


class SEG003(guide_codes.SEG003, StructureRule):
    """Required segments and loops are present.

    What it does:
        Reports a loop that closes without a segment or child loop the guide marks required
        (usage R), such as a 2400 line without SV1 or a claim without its 2400 loop. The finding
        sits on the segment that opened the loop.
    Why it matters:
        The 999 rejects a loop that lacks a required segment (IK3 code 3), and with it the claim.
    Fix safety:
        No fix: the missing data has to come from the source system.
    Example:
        ``LX*2~`` followed directly by ``DTP*472*D8*20250314~`` (no SV1).
    Sources:
        pyx12 837.5010.X222.A1 map (github.com/azoner/pyx12).
    """


class ELM001(guide_codes.ELM001, StructureRule):
    """Required elements are present.

    What it does:
        Checks each segment's required elements (usage R in the map) where the segment is used.
    Why it matters:
        A missing required element rejects the segment, and so the claim or transaction.
    Fix safety:
        No fix: the value has to come from the source system.

    Example:
        ``NM1*IL*1~`` without the member id.
    Sources:
        pyx12 837.5010.X222.A1 map (github.com/azoner/pyx12).
    """


class ELM002(guide_codes.ELM002, StructureRule):
    """Element values have the length the guide allows.

    What it does:
        Compares each element's length with its minimum and maximum in the map.
    Why it matters:
        Over-long values are truncated or rejected by the receiver.
    Fix safety:
        No fix.

    Example:
        A 3-character modifier in SV101-3.
    Sources:
        pyx12 837.5010.X222.A1 map (github.com/azoner/pyx12).
    """


class ELM003(guide_codes.ELM003, StructureRule):
    """Coded elements hold a value from their code list.

    What it does:
        Compares coded element values with the code lists of the map.
    Why it matters:
        An unknown code is rejected by the 999 (IK4 code 7).
    Fix safety:
        No fix here; the drug rules fix the common cases (CTP-002 ``MG`` to ``ME``).

    Example:
        ``CTP****1*MG~`` (MG is not an X12 unit code; ME is milligram).
    Sources:
        pyx12 837.5010.X222.A1 map (github.com/azoner/pyx12).
    """


class ELM004(guide_codes.ELM004, StructureRule):
    """Segments have no more elements than the guide defines.

    What it does:
        Reports elements beyond the last one the map defines for the segment.
    Why it matters:
        Extra elements usually mean a stray delimiter inside data.
    Fix safety:
        No fix.

    Example:
        ``DTP*472*D8*20250314*X~``.
    Sources:
        pyx12 837.5010.X222.A1 map (github.com/azoner/pyx12).
    """


class ELM005(guide_codes.ELM005, StructureRule):
    """Elements related by the guide's syntax notes are used together, or not together.

    What it does:
        Applies each segment's X12 syntax relations from the map: paired (``P0506``: if any
        is used, all are), required (``R0203``: at least one is used), exclusion (``E0405``:
        at most one is used), conditional (``C1110``: if the first is used, all the others
        are) and list conditional (``L101112``: if the first is used, at least one of the
        others is). The relation is named in the message.
    Why it matters:
        A 999 rejects the segment for a syntax relation (IK4 code 2 or 10) before any payer
        edit runs: a phone qualifier without its number, a quantity without its unit.
    Fix safety:
        No fix: which element is missing or extra is for the sender to decide.

    Example:
        ``PER*IC*BILLING DESK*TE*6175550100*EX~`` (PER05 without PER06, P0506).
    Sources:
        X12.6 syntax notes; pyx12 837.5010.X222.A1 map and pyx12/syntax.py.
    """


class ELM006(guide_codes.ELM006, StructureRule):
    """Element values have the form of their X12 data type.

    What it does:
        Checks elements by their data type: ``R`` is a decimal number with an optional
        leading minus and at most one decimal point, ``N0``/``N2`` digits with an optional
        leading minus (implied decimals); ``NaN``, ``Infinity`` and exponents such as ``1E5``
        are not X12 numbers. ``DT`` is a calendar date (CCYYMMDD), ``TM`` a time of day, and
        a date whose format its qualifier names (DTP02/DTP03, DMG01/DMG02) is read in that
        format (``D8``, ``RD8``). ``AN`` and ``ID`` values hold only characters of the X12
        extended character set (which the 005010 guides allow: letters of both cases, digits,
        space and the X12 specials; never a control character or one outside ASCII), and an
        identifier (NM109, REF02, CLM01, a procedure code ...) holds at least one letter or
        digit. Messages name the element, never its value.
    Why it matters:
        A receiver that parses the value as X12 rejects the segment (999 IK4 code 6); one
        that parses it loosely can read a charge of ``1E5`` as 100,000.
    Fix safety:
        No fix: the value has to come from the source system.

    Example:
        ``SV1*HC:96372*NaN*UN*1***1~``; ``DMG*D8*19521399*F~`` (month 13); an NM109 of
        ``!!``.
    Sources:
        X12.6 data element types; pyx12 validation.py and the 837P map's data types.
    """


RULES: list[type[Rule]] = [
    ENV001,
    ENV002,
    ENV003,
    ENV004,
    ENV005,
    ENV006,
    ENV007,
    ENV008,
    ENV009,
    ENV010,
    ENV011,
    ENV012,
    ENV013,
    HL001,
    HL002,
    HL003,
    HL004,
    STR001,
    STR002,
    STR003,
    STR004,
    STR005,
    SEG001,
    SEG002,
    SEG003,
    ELM001,
    ELM002,
    ELM003,
    ELM004,
    ELM005,
    ELM006,
]

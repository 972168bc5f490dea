"""Which acknowledgement answers each finding, and with which X12 code.

Every rule code of the registry has one :class:`RuleAck` here (a test fails when a code has
none). It says two things:

- where the finding is reported in X12 terms, as a list of :class:`Case` tried in order (the
  first whose segment id, element or message test matches wins): the TA1 (TA105 note code),
  the 999 functional group trailer (AK905), the 999 transaction set trailer (IK502), a 999
  segment error (IK3 with IK304, plus an IK4 with IK403 when the finding names an element), or
  nowhere in the 999 (business rules, which only the 277CA answers);
- the 277CA claim status (category, status code, entity) given to a claim the finding rejects.

Whether a finding rejects anything is not decided here: that is the split planner's decision
(the same claims are rejected as by ``edi837 split``). The codes come from ASC X12 005010X231A1
(999: IK304, IK403, IK502, AK905), the TA1 note codes (I18) and the claim status category and
status code lists (code sources 507 and 508) that 005010X214 uses.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from edi837.findings import Finding


class Target(StrEnum):
    """Where in the acknowledgements a finding is reported."""

    TA1 = "TA1"  # interchange envelope: TA105 note code
    GROUP = "AK9"  # functional group envelope: AK905
    TRANSACTION = "IK5"  # transaction set envelope: IK502
    SEGMENT = "IK3"  # a segment (IK3/IK304) and its element (IK4/IK403)
    CLAIM = "277CA"  # not a 999 matter: only the 277CA of the claim says it
    NONE = "none"  # not an X12 error at all (line breaks); the decision still counts


@dataclass(frozen=True)
class Case:
    """One way a rule's findings map to X12.

    Attributes:
        target: where the finding is reported.
        code: TA105, AK905 or IK502 for envelope targets; IK403 for a segment error that
            names an element.
        ik304: the segment syntax error code of an IK3 target.
        segment: the case applies only to findings on this segment id.
        element: the case applies only to findings on this element (``IEA02``).
        when: a description of ``test`` for the documentation.
        test: a further condition on the finding.
    """

    target: Target
    code: str = ""
    ik304: str = ""
    segment: str | None = None
    element: str | None = None
    when: str = ""
    test: Callable[[Finding], bool] | None = None

    def matches(self, finding: Finding) -> bool:
        """True when this case applies to ``finding``."""
        if self.segment is not None and finding.segment_id != self.segment:
            return False
        if self.element is not None and finding.element != self.element:
            return False
        return self.test is None or self.test(finding)

    def describe(self) -> str:
        """The case for the table of ``docs/acks.md``."""
        where = []
        if self.segment:
            where.append(f"on {self.segment}")
        if self.element:
            where.append(f"element {self.element}")
        if self.when:
            where.append(self.when)
        prefix = f"{' '.join(where)}: " if where else ""
        if self.target is Target.TA1:
            text = f"TA1 R, TA105 {self.code}"
        elif self.target is Target.GROUP:
            text = f"AK9 R, AK905 {self.code}"
        elif self.target is Target.TRANSACTION:
            text = f"IK5 R, IK502 {self.code}"
        elif self.target is Target.SEGMENT:
            text = f"IK3 IK304 {self.ik304}" + (f", IK4 IK403 {self.code}" if self.code else "")
        elif self.target is Target.CLAIM:
            text = "277CA only"
        else:
            text = "no X12 code"
        return prefix + text


@dataclass(frozen=True)
class Status:
    """A 277CA claim status: STC01-1 category, STC01-2 status code, STC01-3 entity."""

    category: str
    code: str
    entity: str = ""

    def __str__(self) -> str:
        return ":".join(p for p in (self.category, self.code, self.entity) if p)


@dataclass(frozen=True)
class RuleAck:
    """How one rule's findings are acknowledged."""

    cases: tuple[Case, ...]
    status: Status

    def case_for(self, finding: Finding) -> Case:
        """The first case that applies (the last one is the rule's default)."""
        for case in self.cases:
            if case.matches(finding):
                return case
        return self.cases[-1]


# -- 277CA statuses (category 507 : status 508 [: entity 98]) ---------------------------------

# A1 acknowledged receipt, A2 accepted into adjudication; A3 returned as unprocessable, A6
# rejected for missing information, A7 rejected for invalid information.
ACCEPTED = Status("A2", "20")  # 20: accepted for processing
RECEIVED = Status("A1", "19")  # 19: entity acknowledges receipt of claim/encounter
UNPROCESSABLE = Status("A3", "21")  # 21: missing or invalid information
MISSING = Status("A6", "21")
INVALID = Status("A7", "21")
NDC_MISSING = Status("A6", "218")  # 218: NDC number
NDC_INVALID = Status("A7", "218")
DRUG = Status("A7", "216")  # 216: drug information (units, unit of measure, description)
UNITS = Status("A7", "476")  # 476: units of service
MODIFIER = Status("A7", "453")  # 453: procedure code modifier(s)
PROCEDURE = Status("A7", "454")  # 454: procedure code for services rendered
DIAGNOSIS = Status("A7", "255")  # 255: diagnosis code
POINTER = Status("A7", "477")  # 477: diagnosis pointer
SERVICE_DATE = Status("A7", "187")  # 187: date(s) of service
OUT_OF_BALANCE = Status("A7", "400")  # 400: claim is out of balance
PLACE = Status("A7", "249")  # 249: place of service code
FREQUENCY = Status("A7", "535")  # 535: claim frequency code
PAYER_CLAIM_NUMBER = Status("A6", "464")  # 464: payer assigned claim control number
NPI = Status("A7", "562")  # 562: entity's National Provider Identifier
SUPERVISING_NPI = Status("A7", "562", "DQ")  # 562: entity's NPI; DQ supervising physician
RENDERING_NPI = Status("A7", "562", "82")  # 82: rendering provider


# -- cases ---------------------------------------------------------------------------------------

# TA105 note codes for the ISA element a finding names.
_ISA_NOTES = {
    "ISA01": "010",
    "ISA02": "011",
    "ISA03": "012",
    "ISA04": "013",
    "ISA05": "005",
    "ISA06": "006",
    "ISA07": "007",
    "ISA08": "008",
    "ISA09": "014",
    "ISA10": "015",
    "ISA11": "022",  # the repetition separator: no note code of its own
    "ISA12": "017",
    "ISA13": "018",
    "ISA14": "019",
    "ISA15": "020",
    "ISA16": "027",
}


def _isa_cases(default: str) -> tuple[Case, ...]:
    cases = [Case(Target.TA1, note, segment="ISA", element=ref) for ref, note in _ISA_NOTES.items()]
    return (*cases, Case(Target.TA1, default))


def _element(code: str) -> tuple[Case, ...]:
    return (Case(Target.SEGMENT, code, "8"),)


_LENGTH = re.compile(r"has length (\d+); the guide allows (\d+)")


def _too_short(finding: Finding) -> bool:
    match = _LENGTH.search(finding.message)
    return match is not None and int(match.group(1)) < int(match.group(2))


def _says(text: str) -> Callable[[Finding], bool]:
    return lambda finding: text in finding.message


_CLAIM_ONLY = (Case(Target.CLAIM),)

ACKS: dict[str, RuleAck] = {
    # Envelope (the interchange answers in the TA1, the group in AK9, the set in IK5).
    "ENV-001": RuleAck(_isa_cases("022"), UNPROCESSABLE),
    "ENV-002": RuleAck(
        (
            Case(Target.TA1, "027", segment="ISA", element="ISA16"),
            Case(Target.TA1, "022", segment="ISA", element="ISA11"),
            Case(Target.TA1, "026", segment="ISA"),
            Case(Target.SEGMENT, "6", "8"),  # a delimiter inside data: invalid character
        ),
        UNPROCESSABLE,
    ),
    "ENV-003": RuleAck((Case(Target.NONE),), UNPROCESSABLE),
    "ENV-004": RuleAck(
        (
            Case(Target.TA1, "017", element="ISA12"),
            Case(Target.GROUP, "1", element="GS01"),
            Case(Target.GROUP, "2", element="GS08"),
            Case(Target.TRANSACTION, "1", element="ST01"),
            Case(Target.TRANSACTION, "I6", element="ST03"),
            Case(Target.TRANSACTION, "I6"),
        ),
        UNPROCESSABLE,
    ),
    "ENV-005": RuleAck(
        (
            Case(Target.TA1, "001", element="IEA02"),
            Case(Target.TA1, "018", element="ISA13"),
            Case(Target.TA1, "023", segment="ISA", when="no IEA"),
            Case(Target.TA1, "024"),
        ),
        UNPROCESSABLE,
    ),
    "ENV-006": RuleAck(
        (
            Case(Target.GROUP, "4", element="GE02"),
            Case(Target.GROUP, "6", element="GS06"),
            Case(Target.GROUP, "3"),
        ),
        UNPROCESSABLE,
    ),
    "ENV-007": RuleAck(
        (
            Case(Target.TRANSACTION, "3", element="SE02"),
            Case(Target.TRANSACTION, "23", element="ST02"),
            Case(Target.TRANSACTION, "2", segment="ST", when="no SE"),
            Case(Target.TRANSACTION, "5"),
        ),
        UNPROCESSABLE,
    ),
    "ENV-008": RuleAck((Case(Target.TRANSACTION, "4"),), UNPROCESSABLE),
    "ENV-009": RuleAck(
        (Case(Target.GROUP, "5", element="GE01"), Case(Target.TA1, "021")),
        UNPROCESSABLE,
    ),
    "ENV-010": RuleAck(
        (Case(Target.SEGMENT, "8", "8", element="BHT04"), Case(Target.SEGMENT, "7", "8")),
        UNPROCESSABLE,
    ),
    "ENV-011": RuleAck((Case(Target.SEGMENT, ik304="3"),), UNPROCESSABLE),
    # Layout around segments (indentation, a last terminator missing): receivers strip it as
    # they strip line breaks (ENV-003), so, like ENV-003, it has no place in an acknowledgement.
    "ENV-012": RuleAck((Case(Target.NONE),), UNPROCESSABLE),
    "ENV-013": RuleAck((Case(Target.NONE),), UNPROCESSABLE),
    # The hierarchy: HL numbering and child codes follow the implementation's pattern.
    "HL-001": RuleAck(_element("I12"), UNPROCESSABLE),
    "HL-002": RuleAck(_element("I12"), UNPROCESSABLE),
    "HL-003": RuleAck(_element("I12"), UNPROCESSABLE),
    "HL-004": RuleAck(_element("I12"), UNPROCESSABLE),
    # Loops and segments against the guide.
    "STR-001": RuleAck((Case(Target.SEGMENT, ik304="4"),), UNPROCESSABLE),
    "STR-002": RuleAck((Case(Target.SEGMENT, ik304="7"),), UNPROCESSABLE),
    "STR-003": RuleAck(_element("I12"), INVALID),
    "STR-004": RuleAck(_CLAIM_ONLY, OUT_OF_BALANCE),
    "STR-005": RuleAck(_CLAIM_ONLY, SERVICE_DATE),
    "SEG-001": RuleAck((Case(Target.SEGMENT, ik304="1"),), UNPROCESSABLE),
    "SEG-002": RuleAck(
        (
            Case(
                Target.SEGMENT,
                ik304="5",
                when="repeated over its maximum use",
                test=_says("repeats"),
            ),
            Case(Target.SEGMENT, ik304="2"),
        ),
        UNPROCESSABLE,
    ),
    "SEG-003": RuleAck((Case(Target.SEGMENT, ik304="3"),), UNPROCESSABLE),
    "ELM-001": RuleAck(_element("1"), MISSING),
    "ELM-002": RuleAck(
        (
            Case(Target.SEGMENT, "4", "8", when="shorter than the minimum", test=_too_short),
            Case(Target.SEGMENT, "5", "8"),
        ),
        INVALID,
    ),
    "ELM-003": RuleAck(_element("7"), INVALID),
    "ELM-004": RuleAck(
        (
            Case(Target.SEGMENT, "13", "8", when="too many components", test=_says("components")),
            Case(Target.SEGMENT, "I10", "8", when="a 'not used' element", test=_says("not used")),
            Case(Target.SEGMENT, "3", "8"),
        ),
        INVALID,
    ),
    # Syntax notes (X12.6): an exclusion (only one of) is IK403 10, a paired, required or
    # conditional relation left incomplete is 2 (conditional required data element missing).
    "ELM-005": RuleAck(
        (
            Case(Target.SEGMENT, "10", "8", when="only one may be used", test=_says("only one")),
            Case(Target.SEGMENT, "2", "8"),
        ),
        INVALID,
    ),
    # Data type form: a date (DT, RD8) 8, a time (TM) 9, a number with other characters 6.
    "ELM-006": RuleAck(
        (
            Case(Target.SEGMENT, "8", "8", when="not a date", test=_says("calendar date")),
            Case(Target.SEGMENT, "9", "8", when="not a time", test=_says("time of day")),
            Case(Target.SEGMENT, "6", "8"),
        ),
        INVALID,
    ),
    # Claim rules: business edits, answered per claim in the 277CA only.
    "FRQ-001": RuleAck(_CLAIM_ONLY, FREQUENCY),
    "FRQ-002": RuleAck(_CLAIM_ONLY, PAYER_CLAIM_NUMBER),
    "FRQ-003": RuleAck(_CLAIM_ONLY, FREQUENCY),
    "DX-001": RuleAck(_CLAIM_ONLY, DIAGNOSIS),
    "DX-002": RuleAck(_CLAIM_ONLY, POINTER),
    "DX-003": RuleAck(_CLAIM_ONLY, POINTER),
    "POS-001": RuleAck(_CLAIM_ONLY, PLACE),
    "POS-002": RuleAck(_CLAIM_ONLY, PLACE),
    "POS-003": RuleAck(_CLAIM_ONLY, PLACE),
    "POS-004": RuleAck(_CLAIM_ONLY, PLACE),
    "SUP-001": RuleAck(_CLAIM_ONLY, SUPERVISING_NPI),
    "SUP-002": RuleAck(_CLAIM_ONLY, SUPERVISING_NPI),
    "SUP-003": RuleAck(_CLAIM_ONLY, SUPERVISING_NPI),
    "SUP-004": RuleAck(_CLAIM_ONLY, NPI),
    "NDC-001": RuleAck(_CLAIM_ONLY, NDC_INVALID),
    "NDC-002": RuleAck(_CLAIM_ONLY, NDC_MISSING),
    "NDC-003": RuleAck(_CLAIM_ONLY, NDC_INVALID),
    "NDC-004": RuleAck(_CLAIM_ONLY, NDC_INVALID),
    "NDC-006": RuleAck(_CLAIM_ONLY, NDC_INVALID),
    "NDC-007": RuleAck(_CLAIM_ONLY, NDC_INVALID),
    "NDC-008": RuleAck(_CLAIM_ONLY, NDC_INVALID),
    "NDC-009": RuleAck(_CLAIM_ONLY, NDC_INVALID),
    "CTP-001": RuleAck(_CLAIM_ONLY, DRUG),
    "CTP-002": RuleAck(_CLAIM_ONLY, DRUG),
    "CTP-003": RuleAck(_CLAIM_ONLY, DRUG),
    "CTP-004": RuleAck(_CLAIM_ONLY, DRUG),
    "REF-001": RuleAck(_CLAIM_ONLY, DRUG),
    "DRG-001": RuleAck(_CLAIM_ONLY, UNITS),
    "DRG-002": RuleAck(_CLAIM_ONLY, DRUG),
    "NOC-001": RuleAck(_CLAIM_ONLY, Status("A6", "216")),
    "NOC-002": RuleAck(_CLAIM_ONLY, PROCEDURE),
    "NOC-003": RuleAck(_CLAIM_ONLY, UNITS),
    "INJ-001": RuleAck(_CLAIM_ONLY, PROCEDURE),
    "INJ-002": RuleAck(_CLAIM_ONLY, PROCEDURE),
    "INJ-003": RuleAck(_CLAIM_ONLY, UNITS),
    "INJ-004": RuleAck(_CLAIM_ONLY, MODIFIER),
    "INJ-005": RuleAck(_CLAIM_ONLY, MODIFIER),
    "INJ-006": RuleAck(_CLAIM_ONLY, RENDERING_NPI),
    "INJ-007": RuleAck(_CLAIM_ONLY, POINTER),
    "EM-001": RuleAck(_CLAIM_ONLY, MODIFIER),
    "EM-002": RuleAck(_CLAIM_ONLY, PROCEDURE),
    "EM-003": RuleAck(_CLAIM_ONLY, PROCEDURE),
    "HCP-001": RuleAck(_CLAIM_ONLY, PROCEDURE),
    "HCP-002": RuleAck(_CLAIM_ONLY, PROCEDURE),
    "MOD-001": RuleAck(_CLAIM_ONLY, MODIFIER),
    "MOD-002": RuleAck(_CLAIM_ONLY, MODIFIER),
    "MOD-003": RuleAck(_CLAIM_ONLY, MODIFIER),
    "JWZ-001": RuleAck(_CLAIM_ONLY, MODIFIER),
    "JWZ-002": RuleAck(_CLAIM_ONLY, MODIFIER),
    "JWZ-003": RuleAck(_CLAIM_ONLY, MODIFIER),
    "JWZ-004": RuleAck(_CLAIM_ONLY, MODIFIER),
    "NCCI-001": RuleAck(_CLAIM_ONLY, PROCEDURE),
    "MUE-001": RuleAck(_CLAIM_ONLY, UNITS),
    "VAC-001": RuleAck(_CLAIM_ONLY, PROCEDURE),
    "VAC-003": RuleAck(_CLAIM_ONLY, PROCEDURE),
    "VAC-004": RuleAck(_CLAIM_ONLY, PROCEDURE),
    "VAC-005": RuleAck(_CLAIM_ONLY, PROCEDURE),
    "CHM-001": RuleAck(_CLAIM_ONLY, PROCEDURE),
}

# A finding whose code has no entry (a rule added later, before its row here): a segment
# error with no IK4 code, rejected as unprocessable. The registry test keeps this unused.
_FALLBACK = RuleAck((Case(Target.CLAIM),), UNPROCESSABLE)


def ack_for(code: str) -> RuleAck:
    """The acknowledgement mapping of a rule code."""
    return ACKS.get(code, _FALLBACK)


def case_for(finding: Finding) -> Case:
    """How ``finding`` is reported in X12."""
    return ack_for(finding.code).case_for(finding)


def status_for(finding: Finding) -> Status:
    """The 277CA status of a claim that ``finding`` rejects."""
    return ack_for(finding.code).status

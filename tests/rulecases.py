"""Rule cases as data: TOML files in ``tests/rule_cases/``, one per rule code.

Each file holds ``[[case]]`` tables:

``name``
    what the case shows.
``claim``
    the 2300 loop and its lines, one segment per line with its ``~``; the harness wraps it in
    a complete interchange (ISA .. 2010BB before it, SE/GE/IEA with right counts after it).
``profile``
    ``medicare`` (default), ``medicaid`` or ``commercial``: sets SBR09 (MB, MC, CI).
``patient``
    true to put the claim under a 2000C patient loop (SBR02 is then left empty).
``document``
    instead of ``claim``: a complete X12 text, for envelope and structure cases.
``findings``
    the findings expected from the file's rule (or ``select``), exactly, as tables with any
    of ``code``, ``line``, ``element``, ``severity``, ``segment``, ``fix``
    (``safe``/``unsafe``/``none``).
``fixed``
    the claim after the safe fixes (omit when nothing may change; then the harness checks that
    the claim comes out unchanged).
``unsafe_fixed``
    the claim after safe and unsafe fixes, where the rule offers concrete unsafe edits.
``select``, ``settings``
    the codes to run (default: the file's code) and settings overrides (as in ``edi837.toml``).
"""

from __future__ import annotations

import io
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CASES = Path(__file__).parent / "rule_cases"

FILING = {"medicare": "MB", "medicaid": "MC", "commercial": "CI"}
PAYER = {
    "medicare": "NM1*PR*2*EXAMPLE MEDICARE PART B*****PI*EXMCR~",
    "medicaid": "NM1*PR*2*EXAMPLE STATE MEDICAID*****PI*EXMCD~",
    "commercial": "NM1*PR*2*EXAMPLE HEALTH PLAN*****PI*EXCOM~",
}

ISA = (
    "ISA*00*          *00*          *ZZ*EDI837TESTSUB  *ZZ*EDI837TESTRCV  "
    "*250317*0930*^*00501*000000101*0*T*:~"
)
HEADER = """GS*HC*EDI837TESTSUB*EDI837TESTRCV*20250317*0930*101*X*005010X222A1~
ST*837*0001*005010X222A1~
BHT*0019*00*B1010001*20250317*0930*CH~
NM1*41*2*EXAMPLE BILLING SERVICE*****46*EDI837TESTSUB~
PER*IC*SAMPLE CONTACT*TE*5555550100~
NM1*40*2*EXAMPLE PAYER*****46*EDI837TESTRCV~
HL*1**20*1~
PRV*BI*PXC*207Q00000X~
NM1*85*2*EXAMPLE FAMILY MEDICINE*****XX*1999999901~
N3*100 SAMPLE PLAZA*SUITE 200~
N4*ANYTOWN*PA*171010001~
REF*EI*999999991~"""
SUBSCRIBER = """HL*2*1*22*{child}~
SBR*P*{relation}*******{filing}~
NM1*IL*1*TESTPATIENT*ALEX*Q***MI*TESTMBI0001~
N3*12 EXAMPLE ROAD~
N4*ANYTOWN*PA*17101~
DMG*D8*19480207*F~
{payer}"""
PATIENT = """HL*3*2*23*0~
PAT*19~
NM1*QC*1*TESTCHILD*SAM~
N3*12 EXAMPLE ROAD~
N4*ANYTOWN*PA*17101~
DMG*D8*20100101*M~"""


def segment_lines(text: str) -> list[str]:
    """The non-blank lines of a case's claim text, stripped."""
    return [line.strip() for line in text.strip().splitlines() if line.strip()]


def build_document(claim: str, profile: str = "medicare", patient: bool = False) -> str:
    """A complete, correctly counted interchange around ``claim``."""
    body = [
        *HEADER.splitlines(),
        *SUBSCRIBER.format(
            child="1" if patient else "0",
            relation="" if patient else "18",  # 2000B SBR02 is 18 or absent (TR3)
            filing=FILING[profile],
            payer=PAYER[profile],
        ).splitlines(),
    ]
    if patient:
        body.extend(PATIENT.splitlines())
    body.extend(segment_lines(claim))
    count = len(body) - 1 + 1  # ST .. SE inclusive: everything after GS plus the SE itself
    body.append(f"SE*{count}*0001~")
    body.extend(["GE*1*101~", "IEA*1*000000101~"])
    return ISA + "\n" + "\n".join(body) + "\n"


@dataclass
class RuleCase:
    """One case of one rule file."""

    code: str
    name: str
    document: str
    select: list[str]
    findings: list[dict[str, Any]]
    fixed: str | None
    unsafe_fixed: str | None
    settings: dict[str, Any] = field(default_factory=dict)
    from_claim: bool = True
    profile: str = "medicare"

    @property
    def id(self) -> str:
        """The pytest id: code and case name."""
        return f"{self.code}: {self.name}"


def load_cases(path: Path) -> list[RuleCase]:
    """The cases of one rule file."""
    code = path.stem
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    out = []
    for raw in data.get("case", []):
        if "document" in raw:
            document = raw["document"]
            from_claim = False
        else:
            document = build_document(
                raw["claim"], raw.get("profile", "medicare"), raw.get("patient", False)
            )
            from_claim = True
        out.append(
            RuleCase(
                code=code,
                name=raw["name"],
                document=document,
                select=raw.get("select", [code]),
                findings=raw.get("findings", []),
                fixed=raw.get("fixed"),
                unsafe_fixed=raw.get("unsafe_fixed"),
                settings=raw.get("settings", {}),
                from_claim=from_claim,
                profile=raw.get("profile", "medicare"),
            )
        )
    return out


def all_cases() -> list[RuleCase]:
    """Every case of every rule file."""
    cases: list[RuleCase] = []
    for path in sorted(CASES.glob("*.toml")):
        cases.extend(load_cases(path))
    return cases


def as_bytes(text: str) -> io.BytesIO:
    """A document as the byte stream the reader takes."""
    return io.BytesIO(text.encode("latin-1"))


def claim_part(segment_texts: list[str]) -> list[str]:
    """The claim segments of a document: from the first CLM up to (not including) SE."""
    start = next(i for i, s in enumerate(segment_texts) if s.startswith("CLM"))
    end = next(i for i, s in enumerate(segment_texts) if s.startswith("SE"))
    return segment_texts[start:end]

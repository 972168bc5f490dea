"""Realistic clean claims raise nothing under any profile.

A false positive costs a biller as much as a miss: an E/M with 25, a 96372 and a J-code drug
line with NDC and CTP (JZ for Medicare) must yield no finding at deny-risk or above, and the
everyday shapes of :data:`REALISTIC` (several injections, several clinicians, chemotherapy,
joint injections, RSV antibodies, immune globulins, a void) no finding at all.
"""

from __future__ import annotations

import io
import re
from decimal import Decimal
from pathlib import Path

import pytest

from edi837.engine import Engine
from edi837.findings import Severity
from edi837.rules.profiles import Profile
from tests.rulecases import build_document

SAMPLE = Path(__file__).resolve().parents[1] / "samples" / "clean-injection.837"

FILING = {Profile.MEDICARE: "MB", Profile.MEDICAID: "MC", Profile.COMMERCIAL: "CI"}


def document(profile: Profile) -> bytes:
    text = SAMPLE.read_text()
    text = text.replace("SBR*P*18*******MB~", f"SBR*P*18*******{FILING[profile]}~")
    if profile is not Profile.MEDICARE:
        # JZ is a Medicare Part B requirement; other payers' clean claims usually omit it.
        text = text.replace("SV1*HC:J1885:JZ*", "SV1*HC:J1885*")
    return text.encode()


@pytest.mark.parametrize("profile", list(Profile), ids=[p.value for p in Profile])
def test_clean_encounter_has_no_serious_finding(profile: Profile) -> None:
    result = Engine().check_stream(io.BytesIO(document(profile)), f"clean-{profile.value}")
    assert result.status in ("ok", "findings")
    assert result.claims == 1 and result.service_lines == 3
    serious = [
        f"{f.code} {f.severity.value}: {f.message}"
        for f in result.findings
        if f.severity.at_least(Severity.DENY_RISK)
    ]
    assert serious == []


def test_the_profile_really_changes_with_sbr09() -> None:
    # The same claim without its NDC is a reject only where the profile requires NDCs.
    text = document(Profile.MEDICAID).decode()
    text = text.replace("LIN**N4*00409379501~\nCTP****1*ML~\n", "").replace(
        "SE*34*0001~", "SE*32*0001~"
    )
    result = Engine().check_stream(io.BytesIO(text.encode()), "medicaid-no-ndc")
    assert [(f.code, f.severity) for f in result.findings] == [("NDC-002", Severity.REJECT)]


# Realistic claims a practice sends every day, written from CMS, NCCI and NUCC guidance: each
# is a complete 2300 loop with its lines (the interchange around it comes from the rule-case
# harness). JZ appears under Medicare only; other payers' clean claims usually omit it.
JORDAN = "NM1*82*1*EXAMPLEDOC*JORDAN****XX*1999999919~\nPRV*PE*PXC*207Q00000X~"
MORGAN = "NM1*82*1*EXAMPLEDOC*MORGAN****XX*1999999927~\nPRV*PE*PXC*207Q00000X~"

REALISTIC = {
    # Two injections of two drugs by one clinician: one 96372 line with two units.
    "two injections on one line": """
CLM*MULTI0001*265***11:B:1*Y*A*Y*Y~
HI*ABK:M5450*ABF:M549~
{JORDAN}
LX*1~
SV1*HC:99213:25*125*UN*1***1:2~
DTP*472*D8*20250314~
LX*2~
SV1*HC:96372*70*UN*2***1:2~
DTP*472*D8*20250314~
LX*3~
SV1*HC:J1885{JZ}*8*UN*2***1~
DTP*472*D8*20250314~
LIN**N4*00409379501~
CTP****1*ML~
LX*4~
SV1*HC:J1030{JZ}*12*UN*1***2~
DTP*472*D8*20250314~
LIN**N4*00009307401~
CTP****1*ML~
""",
    # Two 96372 lines (separate sites), one diagnosis, two drugs: one drug each.
    "two injection lines at separate sites": """
CLM*MULTI0002*140***11:B:1*Y*A*Y*Y~
HI*ABK:M5450~
{JORDAN}
LX*1~
SV1*HC:96372*35*UN*1***1~
DTP*472*D8*20250314~
LX*2~
SV1*HC:96372:XS*35*UN*1***1~
DTP*472*D8*20250314~
LX*3~
SV1*HC:J1885{JZ}*8*UN*2***1~
DTP*472*D8*20250314~
LIN**N4*00409379501~
CTP****1*ML~
LX*4~
SV1*HC:J1030{JZ}*12*UN*1***1~
DTP*472*D8*20250314~
LIN**N4*00009307401~
CTP****1*ML~
""",
    # A group practice: two clinicians each give their own injection and drug the same day.
    "two clinicians on one date": """
CLM*GROUP0001*90***11:B:1*Y*A*Y*Y~
HI*ABK:M5450~
LX*1~
SV1*HC:96372*35*UN*1***1~
DTP*472*D8*20250314~
{JORDAN}
LX*2~
SV1*HC:J1885{JZ}*8*UN*2***1~
DTP*472*D8*20250314~
LIN**N4*00409379501~
CTP****1*ML~
{JORDAN}
LX*3~
SV1*HC:96372*35*UN*1***1~
DTP*472*D8*20250314~
{MORGAN}
LX*4~
SV1*HC:J1030{JZ}*12*UN*1***1~
DTP*472*D8*20250314~
LIN**N4*00009307401~
CTP****1*ML~
{MORGAN}
""",
    # IV chemotherapy infusion plus an IM B12 shot at a separate site, same visit.
    "chemotherapy infusion and an injection": """
CLM*ONCO0001*612***11:B:1*Y*A*Y*Y~
HI*ABK:C3490*ABF:D518~
{JORDAN}
LX*1~
SV1*HC:96413*250*UN*1***1~
DTP*472*D8*20250314~
LX*2~
SV1*HC:J9045{JZ}*320*UN*9***1~
DTP*472*D8*20250314~
LIN**N4*61703033950~
CTP****45*ML~
LX*3~
SV1*HC:96372:XS*35*UN*1***2~
DTP*472*D8*20250314~
LX*4~
SV1*HC:J3420{JZ}*7*UN*1***2~
DTP*472*D8*20250314~
LIN**N4*63323004401~
CTP****1*ML~
""",
    # Hormonal chemotherapy SC/IM (96402, leuprolide) and an IM B12 shot.
    "hormonal chemotherapy and an injection": """
CLM*ONCO0002*1020***11:B:1*Y*A*Y*Y~
HI*ABK:C61*ABF:D518~
{JORDAN}
LX*1~
SV1*HC:96402*60*UN*1***1~
DTP*472*D8*20250314~
LX*2~
SV1*HC:J9217{JZ}*900*UN*6***1~
DTP*472*D8*20250314~
LIN**N4*00074364203~
CTP****1*UN~
LX*3~
SV1*HC:96372:XS*35*UN*1***2~
DTP*472*D8*20250314~
LX*4~
SV1*HC:J3420{JZ}*7*UN*1***2~
DTP*472*D8*20250314~
LIN**N4*63323004401~
CTP****1*ML~
""",
    # A knee injection with a hyaluronan (20610) and an IM ketorolac shot (96372).
    "joint injection and an injection": """
CLM*JOINT0001*330***11:B:1*Y*A*Y*Y~
HI*ABK:M1711*ABF:M5450~
{JORDAN}
LX*1~
SV1*HC:20610:RT*95*UN*1***1~
DTP*472*D8*20250314~
LX*2~
SV1*HC:J7325{JZ}*200*UN*48***1~
DTP*472*D8*20250314~
LIN**N4*50242006101~
CTP****1*UN~
LX*3~
SV1*HC:96372*35*UN*1***2~
DTP*472*D8*20250314~
LX*4~
SV1*HC:J1885{JZ}*8*UN*2***2~
DTP*472*D8*20250314~
LIN**N4*00409379501~
CTP****1*ML~
""",
    # Nirsevimab for an infant, given with its own administration code.
    "nirsevimab with 96380": """
CLM*RSV0001*560***11:B:1*Y*A*Y*Y~
HI*ABK:Z2911~
{JORDAN}
LX*1~
SV1*HC:96380*40*UN*1***1~
DTP*472*D8*20250314~
LX*2~
SV1*HC:90381*520*UN*1***1~
DTP*472*D8*20250314~
LIN**N4*49281057588~
CTP****1*ML~
""",
    # Rho(D) immune globulin given IM with 96372.
    "RhoGAM with 96372": """
CLM*RHOD0001*160***11:B:1*Y*A*Y*Y~
HI*ABK:O26893*ABF:Z3A28~
{JORDAN}
LX*1~
SV1*HC:96372*35*UN*1***1:2~
DTP*472*D8*20250314~
LX*2~
SV1*HC:J2790{JZ}*125*UN*1***1:2~
DTP*472*D8*20250314~
LIN**N4*00562780501~
CTP****1*ML~
""",
}
# A void (CLM05-3 8) repeats the original claim with the payer's claim number in REF*F8.
REALISTIC["void of two injections"] = REALISTIC["two injections on one line"].replace(
    "CLM*MULTI0001*265***11:B:1*Y*A*Y*Y~",
    "CLM*MULTI0001*265***11:B:8*Y*A*Y*Y~\nREF*F8*2025073000123~",
)


def realistic_document(name: str, profile: Profile) -> bytes:
    claim = REALISTIC[name].format(
        JORDAN=JORDAN, MORGAN=MORGAN, JZ=":JZ" if profile is Profile.MEDICARE else ""
    )
    # CLM02 is the sum of the line charges (SV102), as the TR3 requires.
    total = sum(
        Decimal(line.split("*")[2]) for line in claim.splitlines() if line.startswith("SV1*")
    )
    claim = re.sub(r"^(CLM\*[^*]*)\*[^*]*", rf"\g<1>*{total}", claim.strip(), flags=re.M)
    patient = name == "nirsevimab with 96380"
    return build_document(claim, profile.value, patient=patient).encode("latin-1")


@pytest.mark.parametrize("profile", list(Profile), ids=[p.value for p in Profile])
@pytest.mark.parametrize("name", list(REALISTIC))
def test_realistic_claim_has_no_serious_finding(name: str, profile: Profile) -> None:
    result = Engine().check_stream(io.BytesIO(realistic_document(name, profile)), name)
    assert result.status in ("ok", "findings")
    # Clean means clean: not even a warning, which a biller would learn to ignore.
    found = [f"{f.code} {f.severity.value} line {f.line}: {f.message}" for f in result.findings]
    assert found == []

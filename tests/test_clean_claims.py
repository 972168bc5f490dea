"""Realistic clean claims raise nothing under any profile.

A false positive costs a biller as much as a miss: an E/M with 25, a 96372 and a J-code drug
line with NDC and CTP (JZ for Medicare) must yield no finding at deny-risk or above, and the
everyday shapes of :data:`REALISTIC` (several injections, several clinicians, chemotherapy,
joint injections, RSV antibodies, immune globulins, a void) no finding at all.
"""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest

from edi837 import api
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
    result = api.check(document(profile), engine=Engine(), name=f"clean-{profile.value}")
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
    result = api.check(text.encode(), engine=Engine(), name="medicaid-no-ndc")
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
    result = api.check(realistic_document(name, profile), engine=Engine(), name=name)
    assert result.status in ("ok", "findings")
    # Clean means clean: not even a warning, which a biller would learn to ignore.
    found = [f"{f.code} {f.severity.value} line {f.line}: {f.message}" for f in result.findings]
    assert found == []


# --- administrations other than the office 96372, and a void --------------------------------
#
# Each claim is as a practice would send it to every payer: JZ on single-dose drugs only for
# Medicare, an NDC on every drug line (Medicaid requires it), the rendering provider in 2310B.
# They must come out with no finding at all: a warning on a clean claim is a false alarm too.

# A knee injection: the hyaluronan (J7325, Synvisc-One 48 mg) belongs to the arthrocentesis
# 20610, and a separate IM ketorolac injection is 96372 with XS (a separate site).
KNEE_INJECTION = """
CLM*CLEANJNT01*1030***11:B:1*Y*A*Y*Y~
HI*ABK:M1711~
NM1*82*1*EXAMPLEORTHO*SAM****XX*1999999919~
PRV*PE*PXC*207X00000X~
LX*1~
SV1*HC:20610:RT*150*UN*1***1~
DTP*472*D8*20250314~
LX*2~
SV1*HC:J7325:JZ:RT*840*UN*48***1~
DTP*472*D8*20250314~
LIN**N4*58468009001~
CTP****1*UN~
LX*3~
SV1*HC:96372:XS*30*UN*1***1~
DTP*472*D8*20250314~
LX*4~
SV1*HC:J1885:JZ*10*UN*2***1~
DTP*472*D8*20250314~
LIN**N4*00409379501~
CTP****1*ML~
"""

# Nirsevimab (90380, 50 mg in 0.5 mL) for an infant, given with its own administration code
# 96380, not with 96372 or an immunization administration code. The patient is a dependant.
NIRSEVIMAB = """
CLM*CLEANRSV01*560***11:B:1*Y*A*Y*Y~
HI*ABK:Z2911~
NM1*82*1*EXAMPLEPEDS*LEE****XX*1999999919~
PRV*PE*PXC*208000000X~
LX*1~
SV1*HC:96380*60*UN*1***1~
DTP*472*D8*20251014~
LX*2~
SV1*HC:90380*500*UN*1***1~
DTP*472*D8*20251014~
LIN**N4*49281057501~
CTP****0.5*ML~
"""

# Rho(D) immune globulin (J2790, RhoGAM 300 mcg) at 28 weeks, given IM with 96372: an immune
# globulin is not a vaccine, so no immunization administration code belongs here.
RHOGAM = """
CLM*CLEANRHO01*165***11:B:1*Y*A*Y*Y~
HI*ABK:Z2913*ABF:Z3A28~
NM1*82*1*EXAMPLEOB*RIVER****XX*1999999919~
PRV*PE*PXC*207V00000X~
LX*1~
SV1*HC:96372*35*UN*1***1~
DTP*472*D8*20250314~
LX*2~
SV1*HC:J2790:JZ*130*UN*1***1~
DTP*472*D8*20250314~
LIN**N4*00562780501~
CTP****1*UN~
"""

# A void of the clean office encounter: CLM05-3 8, the payer's claim number in REF*F8, and the
# original lines and charges repeated.
VOID = """
CLM*CLEAN0001*168***11:B:8*Y*A*Y*Y~
REF*F8*EXAMPLEICN2025031400001~
HI*ABK:M5450*ABF:I10~
NM1*82*1*EXAMPLEDOC*JORDAN****XX*1999999919~
PRV*PE*PXC*207Q00000X~
LX*1~
SV1*HC:99213:25*125*UN*1***1:2~
DTP*472*D8*20250314~
LX*2~
SV1*HC:96372*35*UN*1***1~
DTP*472*D8*20250314~
LX*3~
SV1*HC:J1885:JZ*8*UN*2***1~
DTP*472*D8*20250314~
LIN**N4*00409379501~
CTP****1*ML~
"""

OTHER_ADMINISTRATIONS = {
    "20610 with a hyaluronan and 96372": (KNEE_INJECTION, False, 4),
    "nirsevimab with 96380": (NIRSEVIMAB, True, 2),
    "RhoGAM with 96372": (RHOGAM, False, 2),
    "a void of the clean encounter": (VOID, False, 3),
}


def claim_document(claim: str, profile: Profile, patient: bool) -> bytes:
    if profile is not Profile.MEDICARE:
        claim = claim.replace(":JZ", "")  # JZ is a Medicare Part B requirement
    return build_document(claim, profile.value, patient).encode()


@pytest.mark.parametrize("profile", list(Profile), ids=[p.value for p in Profile])
@pytest.mark.parametrize("name", list(OTHER_ADMINISTRATIONS))
def test_other_administrations_and_a_void_are_clean(name: str, profile: Profile) -> None:
    claim, patient, lines = OTHER_ADMINISTRATIONS[name]
    result = api.check(claim_document(claim, profile, patient), engine=Engine(), name=name)
    assert result.status == "ok" and result.claims == 1 and result.service_lines == lines
    assert [f"{f.code} {f.severity.value}: {f.message}" for f in result.findings] == []

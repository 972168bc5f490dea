"""A realistic clean 96372 encounter raises nothing serious under any profile.

A false positive costs a biller as much as a miss: an E/M with 25, a 96372 and a J-code drug
line with NDC and CTP (JZ for Medicare) must yield no finding at deny-risk or above.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from edi837.engine import Engine
from edi837.findings import Severity
from edi837.rules.profiles import Profile

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

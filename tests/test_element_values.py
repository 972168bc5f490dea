"""Element values read from a file: numbers, decimals, dates, characters and syntax relations.

Each case edits one segment of the clean sample, runs ``edi837 check -f json`` as a user would
and looks for the finding it must raise, and for the run to end normally (never an internal
error), whatever the value holds.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from edi837.cli import main

CLEAN = Path(__file__).resolve().parents[1] / "samples" / "clean-injection.837"
HUGE = "1" * 4301  # one digit past Python's limit on converting digit strings to integers


def check(tmp_path: Path, old: str, new: str) -> tuple[int, list[dict[str, Any]], str]:
    """``check -f json`` on the clean sample with segment text ``old`` replaced by ``new``."""
    text = CLEAN.read_text(encoding="ascii")
    assert old in text, old
    path = tmp_path / "edited.837"
    path.write_text(text.replace(old, new, 1), encoding="latin-1")
    result = CliRunner().invoke(main, ["check", "-f", "json", str(path)])
    assert "internal error" not in result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit)
    findings = json.loads(result.stdout)["files"][0]["findings"] if result.stdout else []
    return result.exit_code, findings, result.stderr


def codes_at(findings: list[dict[str, Any]], element: str) -> set[str]:
    return {f["code"] for f in findings if f["element"] == element}


@pytest.mark.parametrize(
    ("old", "new", "element", "code"),
    [
        ("HL*2*1*22*0~", f"HL*{HUGE}*1*22*0~", "HL01", "HL-001"),
        ("SE*34*0001~", f"SE*{HUGE}*0001~", "SE01", "ENV-008"),
        ("GE*1*101~", f"GE*{HUGE}*101~", "GE01", "ENV-009"),
        ("IEA*1*000000101~", f"IEA*{HUGE}*000000101~", "IEA01", "ENV-009"),
    ],
)
def test_a_huge_number_is_a_finding_not_a_crash(
    tmp_path: Path, old: str, new: str, element: str, code: str
) -> None:
    exit_code, findings, _ = check(tmp_path, old, new)
    assert exit_code == 1
    assert code in codes_at(findings, element)
    # Messages name the value's length, not 4,301 characters of it.
    assert all(len(f["message"]) < 400 for f in findings)


@pytest.mark.parametrize(
    "value", ["NaN", "Infinity", "sNaN", "1E5", "-inf", "1_000", "1.2.3", "+5"]
)
def test_a_charge_that_is_not_an_x12_decimal_is_reported(tmp_path: Path, value: str) -> None:
    exit_code, findings, _ = check(
        tmp_path, "SV1*HC:96372*35*UN*1***1~", f"SV1*HC:96372*{value}*UN*1***1~"
    )
    assert exit_code == 1
    messages = [f["message"] for f in findings if f["code"] == "ELM-006"]
    assert messages and "SV102" in messages[0] and "decimal" in messages[0]


@pytest.mark.parametrize("value", ["35", "35.5", "-1.25", ".5", "0"])
def test_x12_decimals_pass(tmp_path: Path, value: str) -> None:
    _, findings, _ = check(tmp_path, "SV1*HC:96372*35*UN*1***1~", f"SV1*HC:96372*{value}*UN*1***1~")
    assert codes_at(findings, "SV102") <= {"STR-004"}


@pytest.mark.parametrize("value", ["1E1", "NaN", "1.5"])
def test_a_count_that_is_not_an_integer_is_reported(tmp_path: Path, value: str) -> None:
    # SV107-1, the diagnosis code pointer, is N0: digits only.
    _, findings, _ = check(
        tmp_path, "SV1*HC:96372*35*UN*1***1~", f"SV1*HC:96372*35*UN*1***{value}~"
    )
    assert "ELM-006" in codes_at(findings, "SV107-1")


CLM = "CLM*CLEAN0001*168***11:B:1*Y*A*Y*Y~"


@pytest.mark.parametrize(
    ("old", "new", "element"),
    [
        ("DMG*D8*19480207*F~", "DMG*D8*19521399*F~", "DMG02"),  # month 13
        ("DMG*D8*19480207*F~", "DMG*D8*19480230*F~", "DMG02"),  # 30 February
        ("DMG*D8*19480207*F~", "DMG*D8*1948020*F~", "DMG02"),  # seven digits
        (CLM, CLM + "\nDTP*431*D8*20250231~", "DTP03"),  # onset of illness, 31 February
        (CLM, CLM + "\nDTP*454*D8*2025031A~", "DTP03"),
    ],
)
def test_an_impossible_date_is_reported_without_quoting_it(
    tmp_path: Path, old: str, new: str, element: str
) -> None:
    exit_code, findings, _ = check(tmp_path, old, new)
    assert exit_code == 1
    dated = [f for f in findings if f["element"] == element and f["code"] == "ELM-006"]
    assert len(dated) == 1
    assert "calendar date" in dated[0]["message"]
    bad = new.split("*")[2].rstrip("~")
    assert all(bad not in f["message"] for f in findings)


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("DMG*D8*19480207*F~", "DMG*D8*20000229*F~"),  # a leap day
        (CLM, CLM + "\nDTP*431*D8*20250301~"),
    ],
)
def test_real_dates_pass(tmp_path: Path, old: str, new: str) -> None:
    _, findings, _ = check(tmp_path, old, new)
    assert [f for f in findings if f["code"] == "ELM-006"] == []


SUBSCRIBER = "NM1*IL*1*TESTPATIENT*ALEX*Q***MI*TESTMBI0001~"


@pytest.mark.parametrize(
    ("new", "element", "words"),
    [
        ("NM1*IL*1*TESTPATIENT*ALEX*Q***MI*!!~", "NM109", "no letter or digit"),
        ("NM1*IL*1*TESTPATIENT*ALEX*Q***MI*---~", "NM109", "no letter or digit"),
        ("NM1*IL*1*TEST\x07PATIENT*ALEX*Q***MI*TESTMBI0001~", "NM103", "U+0007 at character 5"),
        ("NM1*IL*1*TESTPATIENT*ALEX*Q***MI*TEST\x1b[2JMBI~", "NM109", "U+001B"),
    ],
)
def test_a_value_outside_the_x12_character_set_is_reported(
    tmp_path: Path, new: str, element: str, words: str
) -> None:
    exit_code, findings, _ = check(tmp_path, SUBSCRIBER, new)
    assert exit_code == 1
    flagged = [f for f in findings if f["element"] == element and f["code"] == "ELM-006"]
    assert len(flagged) == 1 and words in flagged[0]["message"]
    assert "TESTPATIENT" not in flagged[0]["message"]


def test_the_extended_character_set_is_allowed(tmp_path: Path) -> None:
    # Lower case and the extended specials (@ # % ...) are X12 data in a 005010 interchange.
    _, findings, _ = check(
        tmp_path, SUBSCRIBER, "NM1*IL*1*O'Neil-Smith*Alex #2*Q***MI*TEST@MBI_01~"
    )
    assert [f for f in findings if f["code"] == "ELM-006"] == []

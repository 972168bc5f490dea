"""The claim builder against hostile numbers and oversized claims: bounded, and never a crash."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

from edi837.cli import main
from edi837.x12.reader import read_segments
from edi837.x837p.builder import UnitReader, read_file, read_units
from edi837.x837p.model import parse_count, parse_decimal

ROOT = Path(__file__).resolve().parents[1]
CLEAN = ROOT / "samples" / "clean-injection.837"
# One digit more than Python converts to an int by default (sys.get_int_max_str_digits()).
HUGE = "9" * 4301


def mutated(tmp_path: Path, old: str, new: str) -> Path:
    text = CLEAN.read_text()
    assert old in text
    path = tmp_path / "mutated.837"
    path.write_text(text.replace(old, new, 1))
    return path


def check_json(path: Path) -> tuple[int, list[dict[str, object]], str]:
    result = CliRunner().invoke(main, ["check", str(path), "-f", "json"])
    findings = json.loads(result.stdout)["files"][0]["findings"] if result.stdout else []
    return result.exit_code, findings, result.stderr


# -- numbers in element text ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "charge",
    ["NaN", "sNaN", "Infinity", "-Infinity", "1E1000000", "1E-1000000", "35E0", HUGE],
    ids=lambda value: value if len(value) < 20 else "4301-digits",
)
def test_a_line_charge_that_is_not_an_x12_decimal_rejects_the_claim(
    tmp_path: Path, charge: str
) -> None:
    path = mutated(tmp_path, "SV1*HC:96372*35*", f"SV1*HC:96372*{charge}*")
    code, findings, err = check_json(path)
    assert "internal error" not in err
    assert code == 1  # never accepted: the total cannot balance on it
    total = [f for f in findings if f["code"] == "STR-004"]
    assert [(f["element"], f["line"], f["segment_number"]) for f in total] == [("SV102", 2, 29)]
    assert charge not in str(total[0]["message"])


@pytest.mark.parametrize(
    "total",
    ["NaN", "Infinity", "1E3", HUGE],
    ids=lambda value: value if len(value) < 20 else "4301-digits",
)
def test_a_claim_total_that_is_not_an_x12_decimal_rejects_the_claim(
    tmp_path: Path, total: str
) -> None:
    path = mutated(tmp_path, "CLM*CLEAN0001*168*", f"CLM*CLEAN0001*{total}*")
    code, findings, err = check_json(path)
    assert "internal error" not in err
    assert code == 1
    assert [f["element"] for f in findings if f["code"] == "STR-004"] == ["CLM02"]


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("LX*2~", f"LX*{HUGE}~"),
        ("SV1*HC:96372*35*UN*1*", f"SV1*HC:96372*35*UN*{HUGE}*"),
        ("CTP****1*ML", f"CTP****{HUGE}*ML"),
        ("CTP****1*ML", "CTP****1E999999*ML"),
        ("CTP****1*ML", "CTP****NaN*ML"),
    ],
    ids=["LX01", "SV104", "CTP04-digits", "CTP04-exponent", "CTP04-NaN"],
)
def test_huge_or_non_numeric_counts_end_in_findings_not_a_crash(
    tmp_path: Path, old: str, new: str
) -> None:
    code, findings, err = check_json(mutated(tmp_path, old, new))
    assert "internal error" not in err and "Traceback" not in err
    assert code == 1 and findings


def test_a_huge_line_number_is_no_line_number(tmp_path: Path) -> None:
    path = mutated(tmp_path, "LX*2~", f"LX*{HUGE}~")
    claims = [unit.claim for unit in read_file(path) if unit.claim is not None]
    assert [line.number for line in claims[0].lines] == [1, None, 3]


def test_a_sum_of_long_amounts_is_exact(tmp_path: Path) -> None:
    # 18 digits a value: rounded to Decimal's default 28 digits, these lines would seem to add
    # up to CLM02, though they exceed it by 0.00000000000000001.
    text = CLEAN.read_text()
    text = text.replace("CLM*CLEAN0001*168*", "CLM*CLEAN0001*999999999999999908*")
    text = text.replace("SV1*HC:99213:25*125*", "SV1*HC:99213:25*999999999999999900*")
    text = text.replace("SV1*HC:96372*35*", "SV1*HC:96372*0.00000000000000001*")
    path = tmp_path / "long.837"
    path.write_text(text)
    code, findings, _ = check_json(path)
    total = [f for f in findings if f["code"] == "STR-004"]
    assert code == 1 and len(total) == 1
    assert "add up to 999999999999999908.00000000000000001" in str(total[0]["message"])


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("168", Decimal("168")),
        ("-1.5", Decimal("-1.5")),
        (".5", Decimal("0.5")),
        ("007", Decimal("7")),
        ("1" * 18, Decimal("1" * 18)),
        ("1" * 9 + "." + "1" * 9, Decimal("1" * 9 + "." + "1" * 9)),
        ("1" * 19, None),
        ("NaN", None),
        ("-Infinity", None),
        ("1E5", None),
        ("1e5", None),
        ("+5", None),
        ("5.", None),
        ("-", None),
        ("1,000", None),
        (" 5", None),
        ("", None),
    ],
)
def test_parse_decimal_takes_only_the_x12_r_form(text: str, value: Decimal | None) -> None:
    assert parse_decimal(text) == value


def test_parse_count_takes_bounded_ascii_digits_only() -> None:
    assert parse_count("42", 6) == 42
    assert parse_count("1234567", 6) is None
    assert parse_count(HUGE, 6) is None
    assert parse_count("\u0663", 6) is None  # ARABIC-INDIC DIGIT THREE, possible in UTF-16
    assert parse_count("-1", 6) is None
    assert parse_count("", 6) is None


# -- what one claim may hold ---------------------------------------------------------------------


def many_lines(lines: int) -> str:
    """The clean sample with its one claim carrying ``lines`` service lines of 1.00 each."""
    text = CLEAN.read_text()
    head, rest = text.split("LX*1~\n", 1)
    trailer = rest[rest.index("SE*") :]
    body = "".join(
        f"LX*{n}~\nSV1*HC:99213*1*UN*1***1~\nDTP*472*D8*20250314~\n" for n in range(1, lines + 1)
    )
    return head.replace("CLM*CLEAN0001*168*", f"CLM*CLEAN0001*{lines}*") + body + trailer


def test_a_claim_keeps_views_of_the_guides_fifty_lines_and_reports_the_rest_once() -> None:
    text = many_lines(120)
    units = list(read_units(read_segments(text)))
    claims = [unit for unit in units if unit.kind == "claim"]
    assert len(claims) == 1 and claims[0].claim is not None
    claim = claims[0].claim
    assert [line.number for line in claim.lines] == list(range(1, 51))
    repeats = [f for unit in units for f in unit.findings if f.code == "STR-001"]
    assert len(repeats) == 1
    first_excess = next(seg for seg, _ in claims[0].segments if seg.text == "LX*51")
    assert (repeats[0].segment_number, repeats[0].loop) == (first_excess.number, "2400")
    assert repeats[0].claim == "CLEAN0001" and repeats[0].line == 51
    assert "repeats 120 times" in repeats[0].message and "allows 50" in repeats[0].message
    # No placement kept in the unit holds the per-line repeats either.
    held = [f for _, p in claims[0].segments for f in p.findings if f.code == "STR-001"]
    assert held == []


def test_lines_past_the_fiftieth_still_travel_in_the_unit() -> None:
    text = many_lines(75)
    reader = UnitReader(read_segments(text))
    every = [seg.text for unit in reader for seg, _ in unit.segments]
    assert every == [seg.text for seg in read_segments(text)]
    assert reader.summary.service_lines == 75 and reader.summary.claims == 1


def test_findings_in_lines_past_the_fiftieth_are_the_claims_not_a_wrong_lines() -> None:
    text = many_lines(60).replace(
        "LX*55~\nSV1*HC:99213*1*UN*1***1~", "LX*55~\nSV1*HC:99213*1*XX*1***1~"
    )
    units = list(read_units(read_segments(text)))
    odd = [f for unit in units for f in unit.findings if f.code == "ELM-003"]
    assert odd and all(f.line is None and f.claim == "CLEAN0001" for f in odd)


def test_check_reports_a_claim_of_a_thousand_lines_once(tmp_path: Path) -> None:
    path = tmp_path / "long-claim.837"
    path.write_text(many_lines(1000))
    code, findings, err = check_json(path)
    assert code == 1 and "internal error" not in err
    assert [f["code"] for f in findings if f["code"] == "STR-001"] == ["STR-001"]
    assert not [f for f in findings if f["code"] == "STR-004"]  # not checked past the limit

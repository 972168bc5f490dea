"""Control characters and spreadsheet formulas from a claim file stay data in every output."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from edi837 import api
from edi837.engine import Engine, FileResult
from edi837.findings import Finding, Severity
from edi837.reports.annotate import write_listing
from edi837.reports.csv_report import write_csv
from edi837.reports.escape import escape_text
from edi837.reports.text import strip_styles, write_text
from edi837.source import Source

ROOT = Path(__file__).resolve().parents[1]
MULTI = ROOT / "samples" / "multi.837"
OSC = "\x1b]0;owned\x07"  # sets a terminal's title
CLEAR = "\x1b[2J"


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine()


def checked(engine: Engine, tmp_path: Path, claim_id: str, name: str = "claims.837") -> FileResult:
    data = MULTI.read_bytes().replace(b"MULTI0004", claim_id.encode("latin-1"))
    path = tmp_path / name
    path.write_bytes(data)
    result = api.check(path, engine=engine)
    assert result.findings, "the sample's claim keeps its findings"
    return result


def csv_rows(results: list[FileResult]) -> list[list[str]]:
    out = io.StringIO()
    write_csv(results, out)
    return list(csv.reader(io.StringIO(out.getvalue(), newline="")))


def test_escape_text_shows_every_control_character() -> None:
    assert escape_text("A\x1b[2JB") == "A\\x1b[2JB"
    assert escape_text("0001\nforged: error") == "0001\\x0aforged: error"
    assert escape_text("a\x7fb\x9bc\u202ed") == "a\\x7fb\\x9bc\\u202ed"
    assert escape_text("CLM*A:B^C\\D") == "CLM*A:B^C\\D"
    assert escape_text("x\ny\tz", keep="\n") == "x\ny\\x09z"


@pytest.mark.parametrize(
    "claim_id", ['=HYPERLINK("http://x","y")', "+1+2", "-1+2", "@SUM(A1)", "\tTAB", "\rCR"]
)
def test_csv_cells_that_start_a_formula_are_neutralised(
    engine: Engine, tmp_path: Path, claim_id: str
) -> None:
    rows = csv_rows([checked(engine, tmp_path, claim_id)])
    claims = {row[6] for row in rows[1:]}
    assert claims == {"'" + escape_text(claim_id)}


def test_csv_path_column_is_neutralised_too(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "=cmd.837").write_bytes(MULTI.read_bytes())
    rows = csv_rows([api.check("=cmd.837", engine=engine)])
    assert {row[0] for row in rows[1:]} == {"'=cmd.837"}


def test_a_carriage_return_in_a_value_does_not_start_a_row(engine: Engine, tmp_path: Path) -> None:
    result = checked(engine, tmp_path, 'MULTI\r0004,"x"')
    out = io.StringIO()
    write_csv([result], out)
    assert "\r" not in out.getvalue()
    rows = list(csv.reader(io.StringIO(out.getvalue(), newline="")))
    assert len(rows) == len(result.findings) + 1
    assert {row[6] for row in rows[1:]} == {'MULTI\\x0d0004,"x"'}


def test_csv_of_an_unreadable_file_neutralises_its_name() -> None:
    result = FileResult(path="@evil.837", status="error", error="@evil.837: not X12")
    rows = csv_rows([result])
    assert rows[1][0] == "'@evil.837" and rows[1][3] == "'@evil.837: not X12"


def test_text_report_shows_escapes_not_terminal_commands(engine: Engine, tmp_path: Path) -> None:
    result = checked(engine, tmp_path, f"MULTI{OSC}0004", name=f"claims{CLEAR}.837")
    lines = [strip_styles(line) for line in write_text([result])]
    report = "\n".join(lines)
    assert "\x1b" not in report and "\x07" not in report
    assert "claim MULTI\\x1b]0;owned\\x070004" in report
    assert "claims\\x1b[2J.837" in report


def test_a_newline_in_data_cannot_forge_a_report_line(tmp_path: Path) -> None:
    finding = Finding(
        "ENV-003",
        Severity.WARNING,
        "ST02 '0001\nNDC-004 reject forged' is odd",
        segment_id="ST",
        segment_number=3,
        segment_text="ST*837*0001\nNDC-004 reject forged",
        column=7,
        width=4,
        transaction="0001\nforged",
    )
    result = FileResult(path="a\nb.837", status="findings", findings=[finding])
    lines = [strip_styles(line) for line in write_text([result])]
    assert not any(line.startswith("NDC-004") for line in lines)
    assert sum("forged" in line for line in lines) == 3  # message, segment, transaction
    segment, caret = [line for line in lines if line.lstrip().startswith("|")]
    assert caret.index("^") == segment.index("0001")


def test_error_lines_are_escaped() -> None:
    message = "claims\n.837: segment 3 (byte 10): ST02 '0001\x1b[2J'"
    line = escape_text(message)
    assert "\n" not in line and "\x1b" not in line


def test_annotation_lines_escape_control_characters(engine: Engine) -> None:
    data = MULTI.read_bytes().replace(b"MULTI0004", f"MULTI{OSC}0004".encode())
    out = io.BytesIO()
    write_listing(Source(data, f"x{CLEAR}.837"), engine, out)
    listing = out.getvalue()
    notes = [line for line in listing.split(b"\n") if line.startswith(b"#")]
    assert notes and not any(b"\x1b" in line or b"\x07" in line for line in notes)
    assert any(b"claim MULTI\\x1b]0;owned\\x070004" in line for line in notes)
    # Segment lines are the input's own bytes: dropping the notes still gives it back.
    kept = b"".join(line for line in io.BytesIO(listing).readlines() if not line.startswith(b"#"))
    assert kept == data


def test_a_listing_for_a_screen_escapes_segment_lines_and_says_so(engine: Engine) -> None:
    data = MULTI.read_bytes().replace(b"MULTI0004", f"MULTI{OSC}0004".encode())
    out = io.BytesIO()
    summary = write_listing(Source(data, "x.837"), engine, out, escape_controls=True)
    listing = out.getvalue()
    assert b"\x1b" not in listing and b"\x07" not in listing
    assert b"CLM*MULTI\\x1b]0;owned\\x070004*" in listing
    assert summary.escaped_segments == 1
    notes = [line for line in listing.split(b"\n") if line.startswith(b"#")]
    assert any(b"does not give the input back" in line for line in notes)

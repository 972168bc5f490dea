"""The tokenizer against hostile or careless input: size limits, odd line breaks, quoted data."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from edi837.cli import main
from edi837.x12.reader import MAX_SEGMENT_SIZE, SegmentReader, X12SyntaxError
from edi837.x12.segment import Delimiters, ElementRef, Segment, parse_ref

ISA = (
    "ISA*00*          *00*          *ZZ*READERTESTSUB  *ZZ*READERTESTRCV  "
    "*250401*1200*^*00501*000000401*0*T*:~\n"
)
# The GS after the ISA starts here, and is the second segment of the file.
GS_OFFSET = len(ISA)


def read(data: bytes, **options: int) -> list[Segment]:
    return list(SegmentReader(io.BytesIO(data), name="test.837", **options))


class EndlessStream(io.RawIOBase):
    """A pipe that never ends, like ``cat /dev/zero | tr``: it counts what is read from it."""

    def __init__(self, head: bytes, filler: bytes) -> None:
        self.head = head
        self.filler = filler
        self.served = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        size = size if size > 0 else 1 << 16
        if self.head:
            data, self.head = self.head[:size], self.head[size:]
        else:
            data = self.filler * (size // len(self.filler) or 1)
        self.served += len(data)
        return data


def check(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["check", *args])
    return result.exit_code, result.stderr


# -- segment size limit --------------------------------------------------------------------------


def test_an_unterminated_segment_over_the_default_limit_is_bad_input_with_its_place() -> None:
    data = (ISA + "GS*" + "A" * (MAX_SEGMENT_SIZE + 10)).encode()
    with pytest.raises(X12SyntaxError) as caught:
        read(data)
    error = caught.value
    assert error.segment_number == 2
    assert error.byte_offset == GS_OFFSET
    assert f"longer than {MAX_SEGMENT_SIZE} bytes" in error.message


def test_an_endless_pipe_without_terminator_stops_after_the_limit_not_at_the_end() -> None:
    stream = EndlessStream(ISA.encode() + b"GS*", b"A")
    reader = SegmentReader(stream, chunk_size=1 << 16, max_segment_size=1 << 18)  # type: ignore[arg-type]
    with pytest.raises(X12SyntaxError) as caught:
        list(reader)
    assert caught.value.byte_offset == GS_OFFSET
    # It read the limit and at most one chunk more: memory is bounded by the limit.
    assert stream.served <= len(ISA) + (1 << 18) + 2 * (1 << 16)


@pytest.mark.parametrize("chunk_size", [7, 4096, 1 << 20])
def test_a_terminated_segment_over_the_limit_is_refused_whatever_the_chunk_size(
    chunk_size: int,
) -> None:
    data = (ISA + "GS*" + "A" * 5000 + "~\nGE*1*1~\n").encode()
    with pytest.raises(X12SyntaxError) as caught:
        read(data, chunk_size=chunk_size, max_segment_size=4096)
    assert caught.value.segment_number == 2
    assert caught.value.byte_offset == GS_OFFSET


@pytest.mark.parametrize("chunk_size", [7, 4096, 1 << 20])
def test_a_segment_at_the_limit_is_read_whole(chunk_size: int) -> None:
    gs = "GS*" + "A" * (4096 - 3)
    data = (ISA + gs + "~\nGE*1*1~\n").encode()
    segments = read(data, chunk_size=chunk_size, max_segment_size=4096)
    assert [s.text for s in segments[1:]] == [gs, "GE*1*1"]
    assert segments[2].byte_offset == len(ISA) + len(gs) + 2


def test_raising_the_limit_reads_a_long_unterminated_last_segment_exactly() -> None:
    gs = "GS*" + "B" * 300_000
    data = (ISA + gs + "\r\n").encode()
    reader = SegmentReader(io.BytesIO(data), chunk_size=1000, max_segment_size=1 << 20)
    segments = list(reader)
    assert segments[1].text == gs and segments[1].term == ""
    assert reader.tail == "\r\n"
    assert "".join(s.raw for s in segments) + reader.tail == data.decode()


def test_the_limit_counts_bytes_in_utf16_files() -> None:
    data = (ISA + "GS*" + "A" * 3000 + "~\n").encode("utf-16")
    with pytest.raises(X12SyntaxError):
        read(data, max_segment_size=4096)  # 3003 characters are 6006 bytes
    assert len(read(data, max_segment_size=8192)) == 2


@pytest.mark.parametrize("chunk_size", [1000, 1 << 20])
def test_a_huge_run_of_white_space_between_segments_is_bad_input(chunk_size: int) -> None:
    data = (ISA + "\n" * 5000 + "GS*HC~\n").encode()
    with pytest.raises(X12SyntaxError) as caught:
        read(data, chunk_size=chunk_size, max_segment_size=4096)
    assert caught.value.byte_offset == GS_OFFSET - 1  # where the run starts, after the ISA
    assert "white space" in caught.value.message


def test_check_reports_an_unterminated_segment_as_one_line_exit_2(tmp_path: Path) -> None:
    path = tmp_path / "unterminated.837"
    path.write_bytes((ISA + "GS*" + "A" * (MAX_SEGMENT_SIZE + 1)).encode())
    code, err = check(str(path))
    assert code == 2
    lines = [line for line in err.splitlines() if str(path) in line]
    assert len(lines) == 1
    assert f"segment 2 (byte {GS_OFFSET})" in lines[0]
    assert "internal error" not in err and "Traceback" not in err


# -- element references past position 99 ----------------------------------------------------------

ROOT = Path(__file__).resolve().parents[1]
CLEAN = ROOT / "samples" / "clean-injection.837"


def test_a_segment_locates_elements_past_position_99() -> None:
    seg = Segment("GE*1*101" + "*" * 998 + "A:B", Delimiters())
    assert seg.value("GE1000") == "A:B"
    assert seg.column_of("GE1000") == (len(seg.text) - 3, 3)
    assert seg.replaced("GE1000", "") == "GE*1*101"
    assert parse_ref("NM11000", "NM1") == ElementRef("NM1", 1000)
    assert parse_ref("NM109", "NM1") == ElementRef("NM1", 9)
    assert parse_ref("SV101-2", "SV1") == ElementRef("SV1", 1, 2)


@pytest.mark.parametrize("command", [["check"], ["check", "-f", "json"], ["annotate"], ["fix"]])
def test_a_delimiter_in_element_1000_is_a_finding_not_a_crash(
    tmp_path: Path, command: list[str]
) -> None:
    path = tmp_path / "wide.837"
    path.write_text(CLEAN.read_text().replace("GE*1*101~", "GE*1*101" + "*" * 998 + "A:B~"))
    result = CliRunner().invoke(main, [*command, str(path)])
    assert "internal error" not in result.stderr
    # fix exits 1 too: the ENV-002 reject has no fix and remains.
    assert result.exit_code == (0 if command[0] == "annotate" else 1)
    if command == ["check", "-f", "json"]:
        findings = json.loads(result.stdout)["files"][0]["findings"]
        assert [(f["code"], f["element"]) for f in findings] == [("ENV-002", "GE1000")]


# -- line numbers ---------------------------------------------------------------------------------

BREAK = re.compile(r"\r\n|\r|\n")
BODY = [
    "GS*HC*READERTESTSUB*READERTESTRCV*20250401*1200*401*X*005010X222A1",
    "ST*837*0401*005010X222A1",
    "CLM*PCN1*100***11:B:1*Y*A*Y*Y",
    "SV1*HC:96372:25:59*35*UN*1***1:2",
    "SE*4*0401",
    "GE*1*401",
    "IEA*1*000000401",
]


def layout(term: str, after: str, copies: int = 40) -> str:
    isa = ISA[:105] + term  # the ISA declares the terminator right after ISA16
    return isa + after + "".join(text + term + after for text in BODY * copies)


@pytest.mark.parametrize(
    ("term", "after"),
    [("~", "\r"), ("~", "\r\n"), ("~", "\n"), ("~", ""), ("~", "\r\r"), ("~", "\n\r"),
     ("\r", ""), ("\r", "\n"), ("\n", ""), ("\n", "\r"), ("~", "\r\n  ")],
    ids=repr,
)  # fmt: skip
@pytest.mark.parametrize("chunk_size", [1, 3, 64, 1 << 20])
def test_line_numbers_count_cr_lf_and_crlf_as_one_break_each(
    term: str, after: str, chunk_size: int
) -> None:
    text = layout(term, after)
    reader = SegmentReader(io.BytesIO(text.encode()), chunk_size=chunk_size)
    segments = list(reader)
    assert len(segments) == 1 + 7 * 40
    assert "".join(s.raw for s in segments) + reader.tail == text  # still byte for byte
    expected = [1 + len(BREAK.findall(text, 0, s.byte_offset)) for s in segments]
    assert [s.line for s in segments] == expected


def test_a_cr_only_file_puts_segment_142_on_line_142() -> None:
    segments = read(layout("~", "\r").encode())
    assert segments[141].number == 142 and segments[141].line == 142


def test_breaks_inside_elements_count_too() -> None:
    text = ISA + "GS*HC*A\rB*C\r\nD~\rST*837*1~\n"
    segments = read(text.encode(), chunk_size=5)
    assert [s.line for s in segments] == [1, 2, 5]


def test_check_names_the_file_line_of_a_finding_in_a_cr_only_file(tmp_path: Path) -> None:
    path = tmp_path / "cr-only.837"
    path.write_bytes((ROOT / "samples" / "missing-ndc.837").read_bytes().replace(b"\n", b"\r"))
    result = CliRunner().invoke(main, ["check", str(path)])
    assert result.exit_code == 1
    assert "at segment 32 SV101-2 (file line 32)" in result.stdout


# -- error lines carry no element data ------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "named"),
    [
        (b"NM1*IL*1*DOE*JANE****MI*123456789~", "NM1"),
        (b"\r\n  N3*12 ELM STREET~", "N3"),
        (b"Dear DOE, JANE: your claim", None),
        (b"DMG*D8*19480207*F~", "DMG"),
    ],
)
def test_a_file_without_isa_is_named_by_segment_id_only(data: bytes, named: str | None) -> None:
    with pytest.raises(X12SyntaxError) as caught:
        read(data)
    line = caught.value.describe("claims.837")
    for secret in (b"DOE", b"JANE", b"ELM", b"123456789", b"19480207", b"Dear"):
        assert secret.decode() not in line
    assert caught.value.byte_offset == len(data) - len(data.lstrip())
    if named is None:
        assert "first segment" not in line
    else:
        assert f"(the first segment is {named})" in line


def test_check_prints_no_patient_data_for_a_file_without_isa(tmp_path: Path) -> None:
    path = tmp_path / "no-isa.837"
    path.write_bytes(b"NM1*IL*1*DOE*JANE****MI*123456789~\n")
    code, err = check(str(path))
    assert code == 2
    assert "DOE" not in err and "JANE" not in err and "123456789" not in err
    assert "segment 1 (byte 0)" in err and "NM1" in err

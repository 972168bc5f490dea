"""The streaming tokenizer: layouts, encodings, delimiters, positions and unreadable input."""

from __future__ import annotations

import codecs
import io
from pathlib import Path

import pytest

from edi837.x12.reader import SegmentReader, X12SyntaxError, open_source, read_segments
from edi837.x12.segment import Delimiters, Segment, parse_ref

ISA = (
    "ISA*00*          *00*          *ZZ*READERTESTSUB  *ZZ*READERTESTRCV  "
    "*250401*1200*^*00501*000000401*0*T*:"
)
TEXTS = [
    ISA,
    "GS*HC*READERTESTSUB*READERTESTRCV*20250401*1200*401*X*005010X222A1",
    "ST*837*0401*005010X222A1",
    "CLM*PCN1*100***11:B:1*Y*A*Y*Y",
    "SV1*HC:96372:25:59*35*UN*1***1:2",
    "REF*XX*A^B^C",
    "SE*5*0401",
    "GE*1*401",
    "IEA*1*000000401",
]


def document(term: str = "~", after: str = "\n", texts: list[str] = TEXTS) -> str:
    return "".join(text + term + after for text in texts)


def read(data: bytes, chunk_size: int = 1 << 20) -> tuple[list[Segment], SegmentReader]:
    reader = SegmentReader(io.BytesIO(data), name="test.837", chunk_size=chunk_size)
    return list(reader), reader


def snapshot(segments: list[Segment]) -> list[tuple[str, int, int, int, str, str]]:
    return [(s.text, s.number, s.byte_offset, s.line, s.lead, s.term) for s in segments]


def offsets_of(text: str, segments: list[Segment]) -> list[int]:
    """Character offsets of each segment's text, found in order."""
    found, start = [], 0
    for seg in segments:
        start = text.index(seg.text, start)
        found.append(start)
        start += len(seg.text)
    return found


# -- layouts ------------------------------------------------------------------------------------


@pytest.mark.parametrize("after", ["\n", "\r\n", "\r", ""], ids=["LF", "CRLF", "CR", "none"])
def test_line_breaks_after_terminators_are_layout_not_data(after: str) -> None:
    segments, reader = read(document(after=after).encode())
    assert [s.text for s in segments] == TEXTS
    assert [s.lead for s in segments] == [""] + [after] * (len(TEXTS) - 1)
    assert {s.term for s in segments} == {"~"}
    assert reader.tail == after
    assert segments[3]["CLM01"] == "PCN1"


@pytest.mark.parametrize("after", ["\n", "\r\n"], ids=["LF", "CRLF"])
def test_line_numbers_and_byte_offsets(after: str) -> None:
    text = document(after=after)
    segments, _ = read(text.encode())
    assert [s.number for s in segments] == list(range(1, len(TEXTS) + 1))
    assert [s.line for s in segments] == list(range(1, len(TEXTS) + 1))
    assert [s.byte_offset for s in segments] == offsets_of(text, segments)


def test_one_line_file_is_all_line_one() -> None:
    segments, _ = read(document(after="").encode())
    assert {s.line for s in segments} == {1}


def test_newline_as_the_terminator() -> None:
    text = document(term="\n", after="")
    segments, reader = read(text.encode())
    assert [s.text for s in segments] == TEXTS
    assert segments[0].delimiters.segment == "\n"
    assert {s.term for s in segments} == {"\n"}
    assert {s.lead for s in segments} == {""}
    assert [s.line for s in segments] == list(range(1, len(TEXTS) + 1))
    assert reader.tail == ""


def test_newline_terminator_with_crlf_lines_keeps_the_cr_out_of_the_data() -> None:
    text = document(term="\r\n", after="")
    segments, _ = read(text.encode())
    assert [s.text for s in segments] == TEXTS
    assert [s.line for s in segments] == list(range(1, len(TEXTS) + 1))
    assert segments[-1]["IEA02"] == "000000401"


def test_leading_white_space_and_indentation() -> None:
    text = " \n" + "".join("  " * min(i, 3) + t + "~\n" for i, t in enumerate(TEXTS))
    segments, reader = read(text.encode())
    assert [s.text for s in segments] == TEXTS
    assert segments[0].lead == " \n"
    assert (segments[0].byte_offset, segments[0].line) == (2, 2)
    assert segments[1].lead == "\n  "
    assert segments[4].lead == "\n      "
    assert [s.byte_offset for s in segments] == offsets_of(text, segments)
    assert reader.tail == "\n"


# -- encodings ----------------------------------------------------------------------------------


def test_utf8_byte_order_mark() -> None:
    text = document()
    segments, reader = read(codecs.BOM_UTF8 + text.encode())
    assert reader.encoding == "utf-8"
    assert reader.bom == codecs.BOM_UTF8
    assert [s.text for s in segments] == TEXTS
    assert [s.byte_offset for s in segments] == [3 + o for o in offsets_of(text, segments)]


def test_utf8_data_keeps_byte_offsets() -> None:
    texts = [*TEXTS[:3], "NM1*IL*1*MÜLLER*JOSÉ", "N3*1 EXAMPLE ROAD", *TEXTS[6:]]
    raw = document(texts=texts).encode("utf-8")
    segments, _ = read(raw)
    assert segments[4].byte_offset == raw.index(b"N3*1")
    assert segments[3].text.encode("latin-1").decode("utf-8") == "NM1*IL*1*MÜLLER*JOSÉ"


UTF16 = [
    pytest.param("utf-16-le", codecs.BOM_UTF16_LE, id="LE with BOM"),
    pytest.param("utf-16-le", b"", id="LE without BOM"),
    pytest.param("utf-16-be", codecs.BOM_UTF16_BE, id="BE with BOM"),
    pytest.param("utf-16-be", b"", id="BE without BOM"),
]


@pytest.mark.parametrize(("codec", "bom"), UTF16)
def test_utf16(codec: str, bom: bytes) -> None:
    text = document(after="\r\n")
    segments, reader = read(bom + text.encode(codec))
    assert (reader.encoding, reader.codec, reader.bom) == (codec, codec, bom)
    assert [s.text for s in segments] == TEXTS
    assert [s.line for s in segments] == list(range(1, len(TEXTS) + 1))
    assert [s.byte_offset for s in segments] == [
        len(bom) + 2 * o for o in offsets_of(text, segments)
    ]


@pytest.mark.parametrize(("codec", "bom"), UTF16)
def test_utf16_after_leading_white_space(codec: str, bom: bytes) -> None:
    segments, _ = read(bom + ("\r\n  " + document()).encode(codec), chunk_size=7)
    assert [s.text for s in segments] == TEXTS
    assert segments[0].byte_offset == len(bom) + 8


# -- delimiters ---------------------------------------------------------------------------------


def test_several_interchanges_with_their_own_delimiters() -> None:
    second_isa = ISA.replace("*", "|").replace("|^|", "|`|")[:-1] + ">"
    second = [
        second_isa,
        "GS|HC|A|B|20250401|1200|402|X|005010X222A1",
        "ST|837|0402|005010X222A1",
        "SV1|HC>96372>25|35|UN|1|||1",
        "REF|XX|A`B",
        "SE|4|0402",
        "GE|1|402",
        "IEA|1|000000402",
    ]
    text = document() + document(term="\n", after="", texts=second)
    segments, _ = read(text.encode())
    assert [s.text for s in segments] == TEXTS + second
    first, later = segments[0].delimiters, segments[len(TEXTS)].delimiters
    assert first == Delimiters("*", ":", "~", "^")
    assert later == Delimiters("|", ">", "\n", "`")
    sv1 = segments[len(TEXTS) + 3]
    assert (sv1.id, sv1["SV101-2"], sv1["SV101-3"], sv1[2]) == ("SV1", "96372", "25", "35")
    assert segments[len(TEXTS) + 4].repetitions(2) == ["A", "B"]
    assert segments[len(TEXTS) + 4].delimiters is later


def test_4010_isa11_is_not_a_repetition_separator() -> None:
    isa = ISA.replace("*^*00501*", "*U*00401*")
    texts = [isa, *TEXTS[1:5], "REF*XX*AUB", *TEXTS[6:]]
    segments, _ = read(document(texts=texts).encode())
    assert segments[0].delimiters.repetition is None
    assert segments[5].repetitions(2) == ["AUB"]


def test_terminator_character_inside_isa_data_does_not_split_the_isa() -> None:
    isa = ISA.replace("READERTESTRCV  ", "READER~TESTRCV ")
    segments, _ = read(document(texts=[isa, *TEXTS[1:]]).encode())
    assert [s.text for s in segments] == [isa, *TEXTS[1:]]
    assert segments[0][8] == "READER~TESTRCV "


def test_no_final_terminator() -> None:
    text = document()[: -len("~\n")] + "\n"
    segments, reader = read(text.encode())
    assert [s.text for s in segments] == TEXTS
    assert segments[-1].term == ""
    assert reader.tail == "\n"
    bare, reader = read(document()[: -len("~\n")].encode())
    assert (bare[-1].text, bare[-1].term, reader.tail) == ("IEA*1*000000401", "", "")


# -- the segment model --------------------------------------------------------------------------


def test_element_component_and_repetition_access() -> None:
    segments = read_segments(document())
    clm, sv1, ref = segments[3], segments[4], segments[5]
    assert sv1.id == "SV1"
    assert len(sv1) == 7
    assert (sv1[0], sv1[1], sv1[2], sv1[99]) == ("SV1", "HC:96372:25:59", "35", "")
    assert sv1["SV101-2"] == "96372"
    assert sv1.value("SV101-4") == "59"
    assert sv1.components(1) == ["HC", "96372", "25", "59"]
    assert sv1.component(1, 9) == ""
    assert sv1.components(7) == ["1", "2"]
    assert clm["CLM05-3"] == "1"
    assert ref.repetitions(2) == ["A", "B", "C"]
    assert sv1.repetitions(2) == ["35"]
    with pytest.raises(KeyError):
        sv1.value("CLM01")
    with pytest.raises(ValueError):
        parse_ref("SV1-2")


def test_str_and_raw_give_the_segment_back() -> None:
    text = document(after="\r\n")
    segments = read_segments(text)
    assert [str(s) for s in segments] == TEXTS
    assert "".join(s.raw for s in segments) + "\r\n" == text


# -- chunk sizes --------------------------------------------------------------------------------

VARIANTS = {
    "LF": document().encode(),
    "CRLF": document(after="\r\n").encode(),
    "newline terminator": document(term="\n", after="").encode(),
    "indented": ("\n" + document(after="\n    ")).encode(),
    "no final terminator": document()[:-2].encode(),
    "UTF-8 BOM": codecs.BOM_UTF8 + document().encode(),
    "UTF-16 LE BOM": codecs.BOM_UTF16_LE + document(after="\r\n").encode("utf-16-le"),
    "UTF-16 BE": document().encode("utf-16-be"),
}


@pytest.mark.parametrize("chunk_size", [1, 2, 7, 64, 1000])
@pytest.mark.parametrize("variant", list(VARIANTS))
def test_small_chunks_give_the_same_segments(variant: str, chunk_size: int) -> None:
    whole, whole_reader = read(VARIANTS[variant])
    chunked, chunked_reader = read(VARIANTS[variant], chunk_size=chunk_size)
    assert snapshot(chunked) == snapshot(whole)
    assert chunked_reader.tail == whole_reader.tail
    assert [s.text for s in whole] == TEXTS


# -- unreadable input ---------------------------------------------------------------------------


def error_for(data: bytes, chunk_size: int = 1 << 20) -> X12SyntaxError:
    with pytest.raises(X12SyntaxError) as caught:
        read(data, chunk_size)
    return caught.value


def test_empty_file() -> None:
    assert "empty" in error_for(b"").message


def test_white_space_only() -> None:
    error = error_for(b"\r\n\r\n  \n")
    assert "white space" in error.message


def test_no_isa() -> None:
    error = error_for(document(texts=TEXTS[1:]).encode())
    assert (error.segment_number, error.byte_offset) == (1, 0)
    assert "the first segment is GS" in error.message and "GS*HC" not in error.message


def test_no_isa_after_bom_and_blank_lines() -> None:
    error = error_for(codecs.BOM_UTF8 + b"\n\nGS*HC*X~")
    assert (error.segment_number, error.byte_offset) == (1, 5)


def test_truncated_isa() -> None:
    error = error_for(ISA[:50].encode())
    assert (error.segment_number, error.byte_offset) == (1, 0)
    assert "truncated ISA" in error.message


def test_isa_with_two_equal_delimiters() -> None:
    isa = ISA[:-1] + "*"
    error = error_for(document(texts=[isa, *TEXTS[1:]]).encode())
    assert "same character" in error.message


def test_binary_file() -> None:
    error = error_for(b"PK\x03\x04\x14\x00\x06\x00" + bytes(range(256)))
    assert error.byte_offset == 5
    assert "binary" in error.message


def test_nul_byte_later_in_the_file() -> None:
    data = bytearray(document().encode() * 40)
    data[3000] = 0
    error = error_for(bytes(data), chunk_size=512)
    assert error.byte_offset == 3000
    assert error.segment_number is not None and error.segment_number > 1


def test_utf16_cut_in_the_middle_of_a_character() -> None:
    error = error_for(document().encode("utf-16-le")[:-1])
    assert "utf-16-le" in error.message


def test_directory(tmp_path: Path) -> None:
    with pytest.raises(X12SyntaxError, match="directory"):
        open_source(str(tmp_path))


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(X12SyntaxError, match="no such file"):
        open_source(str(tmp_path / "absent.837"))


def test_error_line_names_file_segment_and_byte() -> None:
    error = error_for(b"\nGS*HC~")
    line = error.describe("claims.837")
    assert line.startswith("claims.837: segment 1 (byte 1): the file does not start with an ISA")
    assert line.endswith("; an X12 interchange must begin with ISA")


def test_open_source_reads_a_file(tmp_path: Path) -> None:
    path = tmp_path / "claims.837"
    path.write_bytes(document().encode())
    with open_source(str(path)) as stream:
        assert [s.text for s in SegmentReader(stream)] == TEXTS

"""``parse`` output on bad input: nothing, or a valid document with an ``error``; ISA16 kept."""

from __future__ import annotations

import codecs
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from lxml import etree

from edi837.reports import tree
from edi837.x12.reader import SegmentReader, X12SyntaxError
from edi837.x837p.builder import UnitReader

ROOT = Path(__file__).resolve().parents[1]
MULTI = ROOT / "samples" / "multi.837"


def placed(data: bytes, name: str = "in.837") -> Iterator[tree.Placed]:
    for unit in UnitReader(SegmentReader(io.BytesIO(data), name)):
        yield from unit.segments


def bad_second_interchange() -> bytes:
    """A good interchange, then one whose ISA16 repeats the element separator."""
    data = MULTI.read_bytes()
    isa = data[: data.index(b"~") + 1]
    return data + b"\n" + isa[:-2] + b"*~\n" + data[len(isa) :]


def odd_utf16() -> bytes:
    """UTF-16 with one byte lost in the middle: decodes to garbage, then fails at the end."""
    text = MULTI.read_bytes().decode("ascii").encode("utf-16-le")
    middle = len(text) // 2 + 1
    return codecs.BOM_UTF16_LE + text[:middle] + text[middle + 1 :]


@pytest.mark.parametrize("fmt", ["json", "xml", "tsv"])
def test_input_refused_before_its_first_segment_writes_nothing(fmt: str) -> None:
    out = io.BytesIO()
    with pytest.raises(X12SyntaxError):
        segments = placed(b"NM1*IL*1*DOE*JANE~" + b" " * 200)
        if fmt == "json":
            tree.write_json(segments, out, "in.837")
        elif fmt == "xml":
            tree.write_xml(segments, out, "in.837")
        else:
            tree.write_tsv(segments, out)
    assert out.getvalue() == b""


@pytest.mark.parametrize("data", [bad_second_interchange(), odd_utf16()], ids=["isa", "utf16"])
def test_json_closes_the_document_with_an_error_member(data: bytes) -> None:
    out = io.StringIO()
    with pytest.raises(X12SyntaxError) as raised:
        tree.write_json(placed(data), out, "in.837")
    document = json.loads(out.getvalue())
    assert document["error"] == raised.value.describe("in.837")
    assert document["children"][0]["loop"] == "ISA_LOOP"


@pytest.mark.parametrize("data", [bad_second_interchange(), odd_utf16()], ids=["isa", "utf16"])
def test_xml_ends_in_the_syntax_error_not_an_lxml_error(data: bytes) -> None:
    out = io.BytesIO()
    with pytest.raises(X12SyntaxError) as raised:
        tree.write_xml(placed(data), out, "in.837")
    root = etree.fromstring(out.getvalue())
    assert root.tag == "x12"
    assert root[-1].tag == "error" and root[-1].text == raised.value.describe("in.837")
    assert root.find("loop") is not None


def test_isa16_is_kept_as_the_component_separator() -> None:
    out = io.StringIO()
    tree.write_json(placed(MULTI.read_bytes()), out, "multi.837")
    isa = json.loads(out.getvalue())["children"][0]["children"][0]
    assert isa["segment"] == "ISA" and isa["elements"][15] == ":"
    xml = io.BytesIO()
    tree.write_xml(placed(MULTI.read_bytes()), xml, "multi.837")
    (isa16,) = etree.fromstring(xml.getvalue()).iterfind(".//element[@ref='ISA16']")
    assert isa16.text == ":" and len(isa16) == 0


def test_tree_writers_take_a_binary_file() -> None:
    out = io.BytesIO()
    tree.write_json(placed(MULTI.read_bytes()), out, "multi.837")
    assert json.loads(out.getvalue().decode("utf-8"))["path"] == "multi.837"
    tsv = io.BytesIO()
    tree.write_tsv(placed(MULTI.read_bytes()), tsv)
    assert tsv.getvalue().startswith(b"1\tISA_LOOP\tISA*")

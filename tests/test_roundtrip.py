"""Reading then writing without edits gives the input back byte for byte, in bounded memory."""

from __future__ import annotations

import codecs
import hashlib
import io
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, cast

import pytest

from edi837.x12.reader import SegmentReader, X12SyntaxError
from edi837.x12.writer import SegmentWriter
from tests.corpus import CORPUS

if TYPE_CHECKING:
    from _typeshed import ReadableBuffer, WriteableBuffer

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = sorted((ROOT / "samples").glob("*.837"))
# The one corpus file that is not X12 at all: it has no ISA envelope.
NOT_X12 = "imsweb/x12_no_isa_line.txt"


def corpus_files() -> list[str]:
    if not CORPUS.is_dir():
        return []
    return sorted(
        str(p.relative_to(CORPUS))
        for p in CORPUS.rglob("*")
        if p.is_file() and p.suffix not in (".md", ".tsv")
    )


def roundtrip(data: bytes, chunk_size: int = 1 << 20) -> bytes:
    reader = SegmentReader(io.BytesIO(data), chunk_size=chunk_size)
    # The codec and byte order mark are known once reading has begun.
    segments = iter(reader)
    out = io.BytesIO()
    writer = SegmentWriter(out, reader.codec, reader.bom)
    for seg in segments:
        writer.write(seg)
    writer.close(reader.tail)
    return out.getvalue()


@pytest.mark.parametrize("path", SAMPLES, ids=[p.name for p in SAMPLES])
def test_samples_roundtrip(path: Path) -> None:
    data = path.read_bytes()
    assert roundtrip(data) == data


def test_samples_exist() -> None:
    assert SAMPLES, "samples/*.837 should hold the project's synthetic files"


@pytest.mark.corpus
@pytest.mark.skipif(not CORPUS.is_dir(), reason=f"shared corpus not found at {CORPUS}")
@pytest.mark.parametrize("relative", [f for f in corpus_files() if f != NOT_X12])
def test_corpus_roundtrip(relative: str) -> None:
    data = (CORPUS / relative).read_bytes()
    assert roundtrip(data) == data
    assert roundtrip(data, chunk_size=61) == data


@pytest.mark.corpus
@pytest.mark.skipif(not CORPUS.is_dir(), reason=f"shared corpus not found at {CORPUS}")
def test_corpus_file_without_isa_is_refused() -> None:
    with pytest.raises(X12SyntaxError) as caught:
        roundtrip((CORPUS / NOT_X12).read_bytes())
    assert (caught.value.segment_number, caught.value.byte_offset) == (1, 0)


# -- synthetic variants -------------------------------------------------------------------------

BASE = (
    "ISA*00*          *00*          *ZZ*RTTESTSUB      *ZZ*RTTESTRCV      *250401*1200*^*00501"
    "*000000601*0*T*:~\n"
    "GS*HC*RTTESTSUB*RTTESTRCV*20250401*1200*601*X*005010X222A1~\n"
    "ST*837*0601*005010X222A1~\n"
    "BHT*0019*00*RT0601*20250401*1200*CH~\n"
    "NM1*IL*1*MÜLLER*JOSÉ****MI*TESTCOM0001~\n"
    "SV1*HC:96372*35*UN*1***1~\n"
    "SE*5*0601~\n"
    "GE*1*601~\n"
    "IEA*1*000000601~\n"
)

VARIANTS = {
    "LF": BASE.encode("latin-1"),
    "CRLF": BASE.replace("\n", "\r\n").encode("latin-1"),
    "CR": BASE.replace("\n", "\r").encode("latin-1"),
    "one line": BASE.replace("\n", "").encode("latin-1"),
    "newline terminator": BASE.replace("~\n", "\n").encode("latin-1"),
    "CRLF terminator": BASE.replace("~\n", "\r\n").encode("latin-1"),
    "mixed breaks": BASE.replace("~\n", "~\r\n", 3).encode("latin-1"),
    "indented": BASE.replace("\n", "\n  ").encode("latin-1"),
    "trailing blank lines": (BASE + "\n\n  \n").encode("latin-1"),
    "no final terminator": BASE[:-2].encode("latin-1"),
    "no final terminator, trailing newline": (BASE[:-2] + "\r\n").encode("latin-1"),
    "UTF-8": BASE.encode("utf-8"),
    "UTF-8 BOM": codecs.BOM_UTF8 + BASE.encode("utf-8"),
    "UTF-16 LE BOM": codecs.BOM_UTF16_LE + BASE.encode("utf-16-le"),
    "UTF-16 BE BOM": codecs.BOM_UTF16_BE + BASE.encode("utf-16-be"),
    "UTF-16 LE": BASE.replace("\n", "\r\n").encode("utf-16-le"),
    "UTF-16 BE": BASE.encode("utf-16-be"),
    "UTF-16 no final terminator": BASE[:-2].encode("utf-16-le"),
    "two interchanges": (BASE + BASE.replace("*", "|").replace("|^|", "|`|")).encode("latin-1"),
}


@pytest.mark.parametrize("chunk_size", [3, 7, 1 << 20])
@pytest.mark.parametrize("variant", list(VARIANTS))
def test_variant_roundtrip(variant: str, chunk_size: int) -> None:
    data = VARIANTS[variant]
    assert roundtrip(data, chunk_size) == data


def test_edit_changes_only_its_bytes() -> None:
    data = VARIANTS["CRLF"]
    reader = SegmentReader(io.BytesIO(data))
    segments = iter(reader)
    out = io.BytesIO()
    writer = SegmentWriter(out, reader.codec, reader.bom)
    for seg in segments:
        if seg.id == "SV1":
            seg.text = seg.replaced("SV101-3", "JZ")
        writer.write(seg)
    writer.close(reader.tail)
    assert out.getvalue() == data.replace(b"SV1*HC:96372*", b"SV1*HC:96372:JZ*")


# -- bounded memory -----------------------------------------------------------------------------

CLAIM = (
    "CLM*PCN{0:08d}*70***11:B:1*Y*A*Y*Y~\nHI*ABK:Z23~\nLX*1~\nSV1*HC:96372*35*UN*1***1~\n"
    "DTP*472*D8*20250331~\nLX*2~\nSV1*HC:J1885*35*UN*1***1~\nDTP*472*D8*20250331~\n"
    "LIN**N4*00409379501~\nCTP****1*ML~\n"
)
# A long note keeps the segment count (and so the test's run time under tracemalloc) low while
# the stream grows to several megabytes.
NOTE = "NTE*ADD*" + "INJECTION GIVEN IN THE OFFICE UNDER DIRECT SUPERVISION " * 70 + "~\n"


def generated_file(claims: int) -> Iterator[bytes]:
    """An 837P stream produced piece by piece; it never exists in memory as a whole."""
    yield BASE.split("BHT")[0].encode()
    note = NOTE.encode()
    for number in range(claims):
        yield CLAIM.format(number).encode() + note
    yield f"SE*{claims * 11 + 2}*0601~\nGE*1*601~\nIEA*1*000000601~\n".encode()


class GeneratorStream(io.RawIOBase):
    """A read-only binary stream over a generator of byte strings; it hashes what it hands out."""

    def __init__(self, pieces: Iterator[bytes]) -> None:
        self.pieces = pieces
        self.pending = b""
        self.size = 0
        self.digest = hashlib.sha256()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer) -> int:
        """Fill ``buffer`` as far as the pieces go, as a file on disk would."""
        target = memoryview(buffer).cast("B")
        filled = 0
        while filled < len(target):
            if not self.pending:
                piece = next(self.pieces, None)
                if piece is None:
                    break
                self.pending = piece
            size = min(len(target) - filled, len(self.pending))
            target[filled : filled + size] = self.pending[:size]
            self.digest.update(self.pending[:size])
            self.pending = self.pending[size:]
            filled += size
        self.size += filled
        return filled


class HashSink(io.RawIOBase):
    """A writable binary stream that keeps only a hash of what is written to it."""

    def __init__(self) -> None:
        self.digest = hashlib.sha256()

    def writable(self) -> bool:
        return True

    def write(self, data: ReadableBuffer) -> int:
        self.digest.update(data)
        return memoryview(data).nbytes


def test_reader_holds_about_two_chunks_of_a_multi_megabyte_stream() -> None:
    chunk_size = 1 << 16
    source = GeneratorStream(generated_file(claims=1_500))
    reader = SegmentReader(cast(BinaryIO, source), chunk_size=chunk_size)
    tracemalloc.start()
    try:
        count = sum(1 for _ in reader)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 1_500 * 11 + 6
    assert source.size > 5_000_000
    # Two chunks (the rest of one and the next, raw and decoded) plus one segment.
    assert peak < 3 * chunk_size
    assert peak < source.size / 20


def test_streaming_roundtrip_of_a_generated_file() -> None:
    source = GeneratorStream(generated_file(claims=500))
    sink = HashSink()
    reader = SegmentReader(cast(BinaryIO, source), chunk_size=1 << 14)
    segments = iter(reader)
    writer = SegmentWriter(cast(BinaryIO, sink), reader.codec, reader.bom)
    for seg in segments:
        writer.write(seg)
    writer.close(reader.tail)
    assert sink.digest.hexdigest() == source.digest.hexdigest()

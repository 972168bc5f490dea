"""``edi837 annotate``: every segment as it was, findings under it, and the input recoverable."""

from __future__ import annotations

import codecs
import io
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from edi837 import api
from edi837.cli import main
from edi837.engine import Engine
from edi837.reports.annotate import annotate, write_listing
from edi837.source import Source
from edi837.x12.reader import SegmentReader, X12SyntaxError
from tests.corpus import CORPUS

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples"
MULTI = SAMPLES / "multi.837"
MISSING_NDC = SAMPLES / "missing-ndc.837"


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine()


def invoke(*args: str, input: bytes | None = None) -> tuple[int, bytes, str]:
    result = CliRunner().invoke(main, list(args), input=input)
    return result.exit_code, result.stdout_bytes, result.stderr


def lines_of(data: bytes) -> list[bytes]:
    """Lines with their line breaks; a line break is a LF (a CRLF ends in one)."""
    return re.findall(rb"[^\n]*\n|[^\n]+$", data)


def without_notes(listing: bytes) -> bytes:
    return b"".join(line for line in lines_of(listing) if not line.startswith(b"#"))


def listing_of(data: bytes, engine: Engine, name: str = "test.837") -> tuple[bytes, str]:
    out = io.BytesIO()
    summary = write_listing(Source(data, name), engine, out)
    return out.getvalue(), summary.restore


def header(listing: bytes) -> list[str]:
    head = []
    for line in lines_of(listing):
        if not line.startswith(b"#"):
            break
        head.append(line.decode("ascii").rstrip("\r\n"))
    return head


@pytest.mark.parametrize(
    "sample", ["multi.837", "missing-ndc.837", "crlf.837", "newline-terminated.837"]
)
def test_dropping_the_note_lines_gives_the_input_back_byte_for_byte(
    sample: str, tmp_path: Path
) -> None:
    out = tmp_path / "listing.txt"
    code, _, err = invoke("annotate", str(SAMPLES / sample), "-o", str(out))
    assert code == 0, err
    listing = out.read_bytes()
    data = (SAMPLES / sample).read_bytes()
    assert without_notes(listing) == data
    assert header(listing)[-1].endswith("to get the input back byte for byte.")


def test_crlf_listing_keeps_crlf_on_every_line(engine: Engine) -> None:
    data = MULTI.read_bytes().replace(b"\n", b"\r\n")
    listing, _ = listing_of(data, engine)
    assert listing.count(b"\n") == listing.count(b"\r\n")
    assert without_notes(listing) == data


def test_newline_terminated_file_lists_one_segment_per_line(engine: Engine) -> None:
    data = (SAMPLES / "newline-terminated.837").read_bytes()
    assert b"~" not in data
    listing, _ = listing_of(data, engine)
    segment_lines = [line for line in lines_of(listing) if not line.startswith(b"#")]
    assert segment_lines == lines_of(data)


def test_one_line_file_gets_a_line_per_segment_and_says_how_to_undo_it(engine: Engine) -> None:
    data = MULTI.read_bytes().replace(b"~\n", b"~")
    assert b"\n" not in data
    listing, restore = listing_of(data, engine)
    segment_lines = [line for line in lines_of(listing) if not line.startswith(b"#")]
    assert len(segment_lines) == len(list(SegmentReader(io.BytesIO(data))))
    assert all(line.endswith(b"~\n") for line in segment_lines)
    assert "line break after every segment" in restore
    assert header(listing)[-1] == "# " + restore[0].upper() + restore[1:]
    assert without_notes(listing).replace(b"\n", b"") == data


def test_one_line_file_with_a_final_line_break(engine: Engine) -> None:
    data = MULTI.read_bytes().replace(b"~\n", b"~") + b"\n"
    listing, restore = listing_of(data, engine)
    assert "every segment but the last" in restore
    kept = without_notes(listing)
    assert kept.endswith(b"~\n")
    assert kept[:-1].replace(b"\n", b"") + b"\n" == data


def test_last_segment_without_a_line_break(engine: Engine) -> None:
    data = MULTI.read_bytes().rstrip(b"\n")
    listing, restore = listing_of(data, engine)
    assert "line break after the last segment" in restore
    kept = without_notes(listing)
    assert kept == data + b"\n"


def test_no_line_of_a_listing_but_the_notes_starts_with_a_hash(engine: Engine) -> None:
    for sample in sorted(SAMPLES.glob("*.837")):
        listing, _ = listing_of(sample.read_bytes(), engine)
        for line in lines_of(listing):
            if not line.startswith(b"#"):
                # A segment id is letters and digits; only white space can stand before it.
                assert line[:1].isalnum() or line[:1] in b" \t\r\n", line


def test_a_line_starting_with_a_hash_is_refused_before_anything_is_written(
    tmp_path: Path,
) -> None:
    bad = tmp_path / "hash.837"
    bad.write_bytes(MULTI.read_bytes().replace(b"\nGS*", b"\n#GS*", 1))
    out = tmp_path / "listing.txt"
    out.write_bytes(b"previous listing\n")
    code, stdout, err = invoke("annotate", str(bad), "-o", str(out))
    assert code == 2
    assert err.count("\n") == 1 and "segment 2" in err and "'#'" in err
    assert out.read_bytes() == b"previous listing\n"
    code, stdout, err = invoke("annotate", str(bad))
    assert code == 2 and stdout == b""


def test_not_x12_is_one_line_and_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "letter.txt"
    bad.write_bytes(b"Dear biller,\nplease find the claims attached.\n")
    code, stdout, err = invoke("annotate", str(bad))
    assert code == 2 and stdout == b""
    assert err.count("\n") == 1 and "ISA" in err
    code, _, err = invoke("annotate", str(tmp_path / "absent.837"))
    assert code == 2 and "no such file" in err


def segment_line_index(listing_lines: list[bytes]) -> dict[int, int]:
    """Segment number -> index of its line, for a listing with one segment per line."""
    index: dict[int, int] = {}
    number = 0
    for i, line in enumerate(listing_lines):
        if not line.startswith(b"#"):
            number += 1
            index[number] = i
    return index


def notes_after(listing_lines: list[bytes], at: int) -> list[str]:
    notes = []
    for line in listing_lines[at + 1 :]:
        if not line.startswith(b"#"):
            break
        notes.append(line.decode("ascii").rstrip("\n"))
    return notes


@pytest.mark.parametrize("sample", [MULTI, MISSING_NDC])
def test_each_finding_stands_under_its_segment_with_a_caret_under_the_element(
    sample: Path, engine: Engine
) -> None:
    result = api.check(sample, engine=engine)
    assert result.findings, "the sample is meant to have findings"
    listing, _ = listing_of(sample.read_bytes(), engine)
    lines = lines_of(listing)
    where = segment_line_index(lines)
    segments = {s.number: s for s in SegmentReader(io.BytesIO(sample.read_bytes()))}
    for finding in result.findings:
        assert finding.segment_number is not None
        at = where[finding.segment_number]
        notes = notes_after(lines, at)
        caret = next(n for n in notes if re.search(rf"\^+ {finding.code} ", n))
        assert finding.severity.value in caret and finding.message in caret
        segment_line = lines[at].decode("ascii")
        start = caret.index("^")
        width = len(caret[start:].split(" ", 1)[0])
        segment = segments[finding.segment_number]
        assert finding.element is not None
        assert segment_line[start : start + width] == segment.value(finding.element)
        if finding.fix is not None:
            assert any(finding.fix.description in n for n in notes)


def test_caret_follows_indentation(engine: Engine) -> None:
    data = MISSING_NDC.read_bytes().replace(b"~\n", b"~\n    ")
    listing, restore = listing_of(data, engine)
    assert restore.endswith("byte for byte.")
    assert without_notes(listing) == data
    lines = [line.decode("ascii") for line in lines_of(listing)]
    sv1 = next(i for i, line in enumerate(lines) if "SV1*HC:J1885" in line)
    caret = lines[sv1 + 1]
    start = caret.index("^")
    assert lines[sv1][start : start + 5] == "J1885"


def test_header_totals_agree_with_check(engine: Engine) -> None:
    code, out, _ = invoke("check", str(MULTI), str(MISSING_NDC), "-f", "json")
    assert code == 1
    report = json.loads(out)
    for sample, file_report in zip((MULTI, MISSING_NDC), report["files"], strict=True):
        listing, _ = listing_of(sample.read_bytes(), engine, str(sample))
        head = "\n".join(header(listing))
        severities = [f["severity"] for f in file_report["findings"]]
        counts = ", ".join(f"{severities.count(s)} {s}" for s in ("reject", "deny-risk", "warning"))
        assert f"{len(severities)} finding" in head and counts in head
        assert f"{file_report['claims']} claim" in head
        segments = len(list(SegmentReader(io.BytesIO(sample.read_bytes()))))
        assert f"{segments} segments" in head
        assert str(sample) in head


def test_standard_input_and_standard_output() -> None:
    data = MULTI.read_bytes()
    code, out, _ = invoke("annotate", "-", input=data)
    assert code == 0
    assert without_notes(out) == data
    assert b"NDC-004" in out


class Pipe(io.RawIOBase):
    """A byte stream that cannot seek, like standard input from a pipe."""

    def __init__(self, data: bytes) -> None:
        self.data = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        chunk = self.data.read(len(buffer))
        buffer[: len(chunk)] = chunk
        return len(chunk)


def test_a_stream_that_cannot_seek_is_read_twice_from_a_spool(engine: Engine) -> None:
    data = MISSING_NDC.read_bytes()
    out = io.StringIO(newline="")
    summary = annotate(Source(io.BufferedReader(Pipe(data)), "-"), engine, out)
    assert summary.findings == 1 and summary.claims == 1
    assert without_notes(out.getvalue().encode("latin-1")) == data


def test_utf16_input_gives_a_utf16_listing(engine: Engine) -> None:
    text = MISSING_NDC.read_text("ascii")
    data = codecs.BOM_UTF16_LE + text.encode("utf-16-le")
    listing, restore = listing_of(data, engine)
    assert listing.startswith(codecs.BOM_UTF16_LE)
    decoded = listing[2:].decode("utf-16-le")
    kept = "".join(line for line in decoded.splitlines(True) if not line.startswith("#"))
    assert kept == text
    assert "NDC-002" in decoded


def test_bytes_outside_ascii_are_kept(engine: Engine) -> None:
    data = MISSING_NDC.read_bytes().replace(b"TESTPATIENT", "TESTPÄTIENT".encode())
    listing, _ = listing_of(data, engine)
    assert without_notes(listing) == data


class Trickle(io.RawIOBase):
    """A seekable stream that hands out at most ``step`` bytes per read and says how far it is."""

    def __init__(self, data: bytes, step: int) -> None:
        self.data = io.BytesIO(data)
        self.step = step

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = 0) -> int:
        return self.data.seek(offset, whence)

    def tell(self) -> int:
        return self.data.tell()

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        chunk = self.data.read(min(len(buffer), self.step))
        buffer[: len(chunk)] = chunk
        return len(chunk)


class Watch(io.StringIO):
    """Output that notes how much of the input had been read when each claim was written."""

    def __init__(self, source: Trickle) -> None:
        super().__init__(newline="")
        self.source = source
        self.claims: list[tuple[int, int]] = []

    def write(self, text: str) -> int:
        if text.startswith("CLM*"):
            offset = len(self.getvalue().encode("latin-1"))
            self.claims.append((offset, self.source.tell()))
        return super().write(text)


def test_listing_is_written_while_the_file_is_read(engine: Engine, tmp_path: Path) -> None:
    generated = tmp_path / "generated.837"
    subprocess.run(
        [sys.executable, str(ROOT / "bench" / "gen837.py"), "--claims", "60", "--out", generated],
        check=True,
        capture_output=True,
    )
    data = generated.read_bytes()
    source = Trickle(data, step=2048)
    out = Watch(source)
    annotate(Source(source, "generated.837"), engine, out)  # type: ignore[arg-type]
    assert without_notes(out.getvalue().encode("latin-1")) == data
    starts = [m.start() for m in re.finditer(rb"CLM\*", data)]
    assert len(out.claims) == len(starts) == 60
    # When a claim is written, the reading has gone at most a few claims (the claim, the one
    # held back for findings that point back, the look-ahead) and one read beyond it.
    read_at_write = [read for _, read in out.claims]
    largest = max(b - a for a, b in zip(starts, starts[1:], strict=False))
    lags = [read - start for read, start in zip(read_at_write, starts, strict=True)]
    assert max(lags) < 3 * largest + 2 * 2048
    assert read_at_write[0] < len(data) // 4


def test_help_names_the_round_trip() -> None:
    code, out, _ = invoke("annotate", "-h")
    assert code == 0 and b"Usage:" in out and b"-o, --output" in out


def corpus_files() -> list[str]:
    if not CORPUS.is_dir():
        return []
    return sorted(
        str(p.relative_to(CORPUS))
        for p in CORPUS.rglob("*")
        if p.is_file() and p.suffix not in (".md", ".tsv")
    )


@pytest.mark.corpus
@pytest.mark.skipif(not CORPUS.is_dir(), reason=f"corpus folder {CORPUS} is absent")
@pytest.mark.parametrize("name", corpus_files() or ["(none)"])
def test_corpus_listing_adds_only_notes_and_line_breaks(name: str, engine: Engine) -> None:
    data = (CORPUS / name).read_bytes()
    out = io.BytesIO()
    try:
        summary = write_listing(Source(data, name), engine, out)
    except X12SyntaxError as exc:
        # Not X12, or no 837P transaction: refused with one line and nothing written.
        assert out.getvalue() == b"" and "\n" not in exc.describe(name)
        return
    kept = without_notes(out.getvalue())
    assert kept.replace(b"\n", b"") == data.replace(b"\n", b"")
    assert kept.count(b"\n") == data.count(b"\n") + summary.breaks_added
    if summary.breaks_added == 0:
        assert kept == data
    # One labelled note per finding: under its segment, or in the header for a file finding.
    label = re.compile(rb"^#.*?[ ^][A-Z0-9]+-\d{3} (reject|deny-risk|warning)[ :]")
    labels = [line for line in lines_of(out.getvalue()) if label.match(line)]
    assert len(labels) == summary.findings


def test_utf8_bom_stands_before_the_first_segment_so_the_round_trip_holds(
    engine: Engine,
) -> None:
    data = codecs.BOM_UTF8 + MISSING_NDC.read_bytes()
    listing, _ = listing_of(data, engine)
    assert listing.startswith(b"# edi837")
    assert without_notes(listing) == data
    assert any(
        "byte order mark stands at the start of the first segment" in line
        for line in header(listing)
    )

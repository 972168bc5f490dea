"""The fuzz suite: mutated 837 files through the library and every command.

Whatever the input, a user must get one of three exit codes, never a traceback or an
``internal error``, and outputs they can trust: one valid JSON document, CSV cells a
spreadsheet will not run and rows a CR cannot split, no raw ESC in anything meant for a
terminal, every claim in exactly one ``split`` output (or nothing written and exit 2), ``fix``
output that differs from its input only where the ``--log`` says and that a second ``fix``
leaves alone. The inputs come from :mod:`tests.fuzzing`; the CI run is bounded and
reproducible, ``make fuzz`` runs twenty times as many examples.
"""

from __future__ import annotations

import csv
import io
import json
import re
import tempfile
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from hypothesis import given, settings
from lxml import etree

from edi837 import api
from edi837.cli import main
from edi837.engine import Engine
from edi837.source import Source
from edi837.x12.reader import X12SyntaxError
from edi837.x12.segment import Segment
from tests.fuzzing import ROOT, Mutant, budget, mutants

ENGINE = Engine()
EXIT_CODES = {0, 1, 2}
#: Cells a spreadsheet reads as a formula, or whose first character it acts on.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass
class Run:
    """One command-line run: exit code and both output streams."""

    code: int
    stdout: str
    stderr: str
    stdout_bytes: bytes


def cli(*args: str, stdin: bytes | None = None) -> Run:
    """Run ``edi837 ARGS`` in-process and check what every run must satisfy."""
    result = CliRunner().invoke(main, list(args), input=stdin)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"edi837 {' '.join(args)} raised") from result.exception
    run = Run(result.exit_code, result.stdout, result.stderr, result.stdout_bytes)
    assert run.code in EXIT_CODES, (args, run.code, run.stderr)
    assert "internal error" not in run.stderr, run.stderr
    assert "Traceback" not in run.stderr + run.stdout
    # Standard error is for a person at a terminal: control bytes from the file stay escapes.
    assert "\x1b" not in run.stderr, run.stderr
    return run


@contextmanager
def workspace(mutant: Mutant, name: str = "input.837") -> Iterator[Path]:
    """A fresh folder holding only the mutant, as ``name``."""
    with tempfile.TemporaryDirectory(prefix="edi837-fuzz-") as folder:
        path = Path(folder) / name
        path.write_bytes(mutant.data)
        yield path


def read_segments(path: Path) -> list[Segment]:
    """Every segment of a file, through the library's reader."""
    src = Source(path)
    with src.open() as stream:
        return list(src.segments(stream))


def stderr_lines_are_ours(run: Run, path: Path) -> None:
    """Every line on standard error names the input or the program: none is forged."""
    for line in run.stderr.splitlines():
        assert line.startswith((str(path), "edi837:")), run.stderr


# -- the library -------------------------------------------------------------------------------


@settings(max_examples=budget(800))
@given(mutants())
def test_the_library_turns_any_input_into_a_result(mutant: Mutant) -> None:
    library_reads(mutant)


def library_reads(mutant: Mutant) -> None:
    result = api.check(mutant.data, engine=ENGINE, name="fuzzed.837")
    assert result.status in {"ok", "findings", "error"}
    if result.status == "error":
        assert result.error and "\n" not in result.error
        assert "internal error" not in result.error
    json.dumps(result.to_dict())
    try:
        for _placed in api.segments(mutant.data):
            pass
    except X12SyntaxError as exc:
        assert "\n" not in exc.describe("fuzzed.837")


# -- check -------------------------------------------------------------------------------------


def csv_rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


@settings(max_examples=budget(300))
@given(mutants())
def test_check_reports_stay_parseable_and_inert(mutant: Mutant) -> None:
    check_reports(mutant)


def check_reports(mutant: Mutant) -> None:
    with workspace(mutant) as path:
        text = cli("check", str(path))
        as_json = cli("check", "-f", "json", str(path))
        as_csv = cli("check", "-f", "csv", str(path))
        piped = cli("check", "-f", "json", "-", stdin=mutant.data)
        # One bad file among good ones: the report is still written, with every file in it.
        report = path.with_name("report.json")
        clean = str(ROOT / "samples" / "clean-injection.837")
        among = cli("check", "-f", "json", "-o", str(report), clean, str(path), clean)
        several = json.loads(report.read_text(encoding="utf-8"))["files"]
    assert text.code == as_json.code == as_csv.code == piped.code
    assert among.code == as_json.code
    assert [f["status"] for f in several] == [
        "ok",
        json.loads(as_json.stdout)["files"][0]["status"],
        "ok",
    ]
    stderr_lines_are_ours(text, path)

    assert "\x1b" not in text.stdout

    doc = json.loads(as_json.stdout)  # one document: json.loads refuses anything after it
    (file,) = doc["files"]
    assert file["status"] in {"ok", "findings", "error"}
    assert (file["status"] == "error") == (as_json.code == 2)
    # Standard input is read as the same bytes: the same findings, wherever they came from.
    (from_pipe,) = json.loads(piped.stdout)["files"]
    assert from_pipe["findings"] == file["findings"]

    rows = csv_rows(as_csv.stdout)
    header, body = rows[0], rows[1:]
    findings = len(file["findings"]) + (file["status"] == "error")
    # A CR or quote inside a value never starts a row of its own.
    assert len(body) == findings, as_csv.stdout
    for row in body:
        assert len(row) == len(header)
        for cell in row:
            assert not cell.startswith(FORMULA_START), cell
            assert "\x1b" not in cell


# -- parse -------------------------------------------------------------------------------------


@settings(max_examples=budget(300))
@given(mutants())
def test_parse_prints_a_whole_document_or_nothing(mutant: Mutant) -> None:
    parse_outputs(mutant)


def parse_outputs(mutant: Mutant) -> None:
    with workspace(mutant) as path:
        as_json = cli("parse", "-f", "json", str(path))
        as_xml = cli("parse", "-f", "xml", str(path))
        as_tsv = cli("parse", "-f", "tsv", str(path))
    assert as_json.code == as_xml.code == as_tsv.code
    if as_json.stdout.strip():
        json.loads(as_json.stdout)
    if as_xml.stdout_bytes.strip():
        etree.fromstring(as_xml.stdout_bytes)
    if as_json.code == 0:
        assert as_json.stdout.strip() and as_xml.stdout_bytes.strip()


# -- annotate ----------------------------------------------------------------------------------


@settings(max_examples=budget(300))
@given(mutants())
def test_annotate_comments_hold_no_terminal_escapes(mutant: Mutant) -> None:
    annotate_listing(mutant)


def annotate_listing(mutant: Mutant) -> None:
    with workspace(mutant) as path:
        listing = path.with_suffix(".txt")
        run = cli("annotate", str(path), "-o", str(listing))
        assert run.code in {0, 2}
        if run.code == 2:
            assert not listing.exists()
            return
        raw = listing.read_bytes()
    for line in raw.splitlines():
        if line.lstrip(b"\xef\xbb\xbf\xff\xfe\x00").startswith((b"#", b"#\x00")):
            assert b"\x1b" not in line, line


# -- split -------------------------------------------------------------------------------------


def clm_texts(segments: list[Segment]) -> Counter[str]:
    return Counter(seg.text for seg in segments if seg.id == "CLM")


def assert_interchanges(segments: list[Segment], path: Path) -> None:
    """ISA ... IEA, once or more, and nothing outside an interchange."""
    assert segments, f"{path.name} is empty"
    inside = False
    for seg in segments:
        if seg.id == "ISA":
            assert not inside, f"{path.name}: ISA inside an interchange"
            inside = True
        else:
            assert inside, f"{path.name}: {seg.id} outside an interchange"
            if seg.id == "IEA":
                inside = False
    assert not inside, f"{path.name} does not end with IEA"


@settings(max_examples=budget(300))
@given(mutants())
def test_split_places_every_claim_once_or_writes_nothing(mutant: Mutant) -> None:
    split_outputs(mutant)


def split_outputs(mutant: Mutant) -> None:
    with workspace(mutant) as path:
        out = path.parent / "out"
        run = cli("split", str(path), "-d", str(out))
        written = sorted(p.name for p in out.iterdir()) if out.exists() else []
        if run.code == 2:
            assert written == [], run.stderr
            return
        assert set(written) <= {"input.accepted.837", "input.rejected.837"}, written
        stderr_lines_are_ours(run, path)
        before = clm_texts(read_segments(path))
        after: Counter[str] = Counter()
        for name in written:
            segments = read_segments(out / name)
            assert_interchanges(segments, out / name)
            after += clm_texts(segments)
    assert after == before, run.stdout


# -- fix ---------------------------------------------------------------------------------------


def position(ref: str, segment_id: str) -> int:
    """The element position an edit names: ``LIN03`` is 3, ``SV101-2`` is 1."""
    if ref.startswith(segment_id):
        match = re.fullmatch(r"(\d+)(?:-\d+)?", ref[len(segment_id) :])
        if match is not None:
            return int(match.group(1))
    # A segment read with odd delimiters has another id than the edit's reference names: the
    # position is then the last two digits before an optional component, as the guide writes.
    match = re.search(r"(\d\d)(?:-\d+)?$", ref)
    assert match is not None, ref
    return int(match.group(1))


def segment_id(text: str) -> str:
    match = re.match(r"[A-Z0-9]+", text)
    return match.group(0) if match else ""


@dataclass
class Expected:
    """A segment of the fixed output as the log explains it."""

    original: Segment | None  # None: inserted by an edit
    text: str | None  # an inserted segment's text
    touched: set[int]  # element positions a replace edit named
    recount: bool = False  # an SE whose transaction gained or lost segments
    lead: str | None = None  # the white space before it, when an edit replaced it


def replay(segments: list[Segment], log: list[dict[str, Any]]) -> list[Expected]:
    """The input's segments with the logged edits applied, pass by pass, by segment."""
    current = [Expected(seg, None, set()) for seg in segments]
    for number in sorted({entry["pass"] for entry in log}):
        edits: dict[int, list[dict[str, Any]]] = {}
        for entry in log:
            if entry["pass"] == number:
                edits.setdefault(entry["segment_number"], []).append(entry)
        resized = False
        nxt: list[Expected] = []
        for ordinal, item in enumerate(current, 1):
            kept: Expected | None = item
            inserted: list[Expected] = []
            for entry in edits.get(ordinal, []):
                if entry["kind"] == "delete":
                    kept = None
                elif entry["kind"] == "insert_after":
                    inserted.append(Expected(None, entry["new"], set()))
                elif entry["kind"] == "replace_lead":
                    if kept is not None:
                        kept.lead = entry["new"]
                elif kept is not None:
                    sid = kept.original.id if kept.original else segment_id(str(kept.text))
                    kept.touched.add(position(entry["element"], sid))
            resized = resized or kept is None or bool(inserted)
            nxt.extend(([kept] if kept is not None else []) + inserted)
        if resized:
            for item in nxt:
                if item.original is not None and item.original.id == "SE":
                    item.recount = True
        current = nxt
    return current


def assert_only_logged_changes(before: list[Segment], after: list[Segment], log: Any) -> None:
    expected = replay(before, log)
    assert len(after) == len(expected), (len(after), len(expected), log)
    for seg, want in zip(after, expected, strict=True):
        was = want.original.text if want.original is not None else str(want.text)
        old = was.split(seg.delimiters.element)
        new = seg.elements
        if want.original is not None:
            # White space between segments changes only where a replace_lead edit says.
            assert seg.lead == (want.lead if want.lead is not None else want.original.lead), (
                was,
                seg.lead,
                log,
            )
        touched = set(want.touched) | ({1} if want.recount else set())
        # An edited segment keeps its trailing empty elements unless the edit reached them.
        assert len(new) == len(old) or max(touched, default=0) >= min(len(new), len(old)), (
            was,
            seg.text,
            log,
        )
        for pos in range(max(len(old), len(new))):
            if pos not in touched:
                before_value = old[pos] if pos < len(old) else ""
                after_value = new[pos] if pos < len(new) else ""
                assert before_value == after_value, (was, seg.text, log)


@settings(max_examples=budget(250))
@given(mutants())
def test_fix_changes_only_what_it_logs_and_is_idempotent(mutant: Mutant) -> None:
    fix_outputs(mutant)


def fix_outputs(mutant: Mutant) -> None:
    with workspace(mutant) as path:
        fixed, log = path.with_name("fixed.837"), path.with_name("fix.json")
        run = cli("fix", str(path), "-o", str(fixed), "--log", str(log), "--unsafe-fixes")
        if run.code == 2:
            assert not fixed.exists()
            assert sorted(p.name for p in path.parent.iterdir()) in (
                ["input.837"],
                ["fix.json", "input.837"],
            )
            return
        edits = json.loads(log.read_text())
        assert_only_logged_changes(read_segments(path), read_segments(fixed), edits)
        if "stopped" in run.stderr:
            return  # a runaway or oscillating loop is reported, not promised to converge
        again, log2 = path.with_name("again.837"), path.with_name("again.json")
        rerun = cli("fix", str(fixed), "-o", str(again), "--log", str(log2), "--unsafe-fixes")
        assert rerun.code == run.code, (run.stderr, rerun.stderr)
        assert json.loads(log2.read_text()) == []
        assert again.read_bytes() == fixed.read_bytes()


# -- inputs that broke a property once -----------------------------------------------------------

CLEAN = (ROOT / "samples" / "clean-injection.837").read_bytes()


def test_split_refuses_an_iea_that_swallowed_the_next_isa() -> None:
    # The first interchange's IEA lost its terminator, so the second ISA is part of it and the
    # second GS stands between interchanges; split wrote that GS into the rejected output.
    data = CLEAN.rstrip()[:-1] + CLEAN
    split_outputs(Mutant(data, "IEA unterminated, a second interchange appended"))


def test_a_4301_digit_diagnosis_pointer_is_a_finding() -> None:
    # SV107 = 4,301 digits passed DX-002's bound but reached int() in the 96372 pairing,
    # past Python's limit on integer strings: every command ended in an internal error.
    data = CLEAN.replace(
        b"SV1*HC:96372*35*UN*1***1~", b"SV1*HC:96372*35*UN*1***" + b"9" * 4301 + b"~"
    )
    mutant = Mutant(data, "SV107 of 4,301 digits")
    library_reads(mutant)
    result = api.check(data, engine=ENGINE)
    assert "DX-002" in {f.code for f in result.findings}
    with workspace(mutant) as path:
        assert cli("check", str(path)).code == 1


def test_an_error_quoting_a_newline_from_the_file_stays_one_line() -> None:
    # A newline in ST01 made the "no 837P transaction" error two lines long in the library's
    # FileResult.error and the reports that carry it.
    data = CLEAN.replace(b"ST*837*", b"ST*\n837*")
    mutant = Mutant(data, "newline in ST01")
    library_reads(mutant)
    assert api.check(data, engine=ENGINE).error == (
        "<bytes>: no 837P transaction in the file (transaction 0001 is a \\n837 (005010X222A1), "
        "not a 5010 837P (005010X222A1); skipped); edi837 reads 837P professional claims "
        "(005010X222A1)"
    )


def test_fix_refuses_a_file_that_its_fixes_leave_without_an_837p() -> None:
    # Element separator and terminator swapped, a line break after every separator: no 837P
    # can be read, but ENV-001 could still trim ISA padding, so fix wrote the trimmed file
    # and exited 1 where check exits 2, and fixing its output then exited 2.
    swapped = CLEAN.replace(b"*", b"\0").replace(b"~", b"*").replace(b"\0", b"~")
    data = swapped.replace(b"~\n", b"~").replace(b"~", b"~\r\n")
    mutant = Mutant(data, "delimiters swapped, CRLF after every element separator")
    fix_outputs(mutant)
    with workspace(mutant) as path:
        assert cli("fix", str(path), "--unsafe-fixes", "-o", str(path) + ".fixed").code == 2


def test_a_140_kb_iea02_is_quoted_by_its_start_and_length() -> None:
    # The last IEA lost its terminator and 140,000 bytes followed it: ENV-005 quoted the whole
    # IEA02, a 140 KB message that Python's csv reader refused (field limit 131,072).
    data = CLEAN.rstrip()[:-1] + b"X" * 140_000
    mutant = Mutant(data, "last segment unterminated (+140000 bytes)")
    check_reports(mutant)
    env005 = next(f for f in api.check(data, engine=ENGINE).findings if f.code == "ENV-005")
    assert "(140009 characters), must equal ISA13 '000000101'" in env005.message
    assert len(env005.message) < 200


def test_a_control_byte_before_a_composite_segment_id_still_gives_an_xml_tree() -> None:
    # A byte 0x01 instead of the line break before SV1 made the segment id "\x01SV1": the
    # component refs (SV101-1 ...) reached lxml unescaped, and parse -f xml ended in an
    # internal error where json and tsv printed the tree.
    data = CLEAN.replace(b"LX*1~\nSV1", b"LX*1~\x01SV1")
    parse_outputs(Mutant(data, "1 bytes flipped"))
    with workspace(Mutant(data, "control byte")) as path:
        tree = etree.fromstring(cli("parse", "-f", "xml", str(path)).stdout_bytes)
    refs = [c.get("ref") for c in tree.iter("component")]
    assert "\ufffdSV101-2" in refs


def test_a_140_kb_run_without_separators_is_not_a_140_kb_segment_id() -> None:
    # After the IEA, 140,000 bytes with no element separator: the reader takes the whole run
    # as one segment's id, and the segment column of every report carried all of it.
    data = CLEAN + b"X" * 140_000
    mutant = Mutant(data, "+140000 bytes after the IEA")
    check_reports(mutant)
    located = [f for f in api.check(data, engine=ENGINE).findings if f.segment_id]
    assert located and all(len(f.segment_id or "") <= 51 for f in located)
    assert all(len(f.message) < 400 for f in located)

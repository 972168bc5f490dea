"""pyx12 as the oracle: every segment goes to the loop pyx12's ``X12ContextReader`` gives it.

The files are those of the shared corpus that pyx12's ``x12valid`` accepts (MANIFEST.tsv column
``pyx12_x12valid`` = ``OK``), the project's ``samples/*.837`` and the hand-written fixtures of
this layer. Transactions that are not 837P 5010 (the corpus has a valid 4010 837P) must be
reported as skipped instead of compared. Run with ``-s`` to see how much was compared.
"""

from __future__ import annotations

import csv
import json
import logging
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from edi837.cli import main
from edi837.x12.reader import read_segments
from edi837.x837p.builder import UnitReader
from tests.corpus import CORPUS

pytestmark = pytest.mark.corpus

ROOT = Path(__file__).resolve().parents[1]


def corpus_files() -> list[Path]:
    manifest = CORPUS / "MANIFEST.tsv"
    if not manifest.is_file():
        return []
    with manifest.open(newline="", encoding="utf-8") as handle:
        rows = csv.DictReader(handle, delimiter="\t")
        return [CORPUS / row["file"] for row in rows if row["pyx12_x12valid"] == "OK"]


FILES = (
    corpus_files()
    + sorted((ROOT / "samples").glob("*.837"))
    + sorted((ROOT / "tests" / "fixtures" / "x837p").glob("*.837"))
)
COMPARED = {"files": 0, "segments": 0, "skipped files": 0}


def pyx12_loops(path: Path) -> Iterator[str]:
    """The loop id pyx12 gives each segment: the parent loop of its map segment node."""
    import pyx12.error_handler
    import pyx12.params
    import pyx12.x12context

    with path.open(encoding="latin-1", newline="") as handle:
        reader = pyx12.x12context.X12ContextReader(
            pyx12.params.params(), pyx12.error_handler.errh_null(), handle
        )
        for node in reader.iter_segments():
            yield node.x12_map_node.parent.id


@pytest.fixture(scope="module", autouse=True)
def report() -> Iterator[None]:
    yield
    print(
        f"\npyx12 oracle: {COMPARED['files']} files, {COMPARED['segments']} segments compared; "
        f"{COMPARED['skipped files']} files of non-837P 5010 transactions reported as skipped"
    )


def test_the_corpus_is_there() -> None:
    if not CORPUS.is_dir():
        pytest.skip(f"shared corpus not found at {CORPUS}")
    assert corpus_files(), "MANIFEST.tsv lists no file that pyx12 accepts"


@pytest.mark.parametrize("path", FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_segment_is_in_the_loop_pyx12_gives_it(path: Path) -> None:
    segments = read_segments(path.read_bytes())
    reader = UnitReader(segments)
    units = list(reader)
    if reader.summary.transactions == 0:
        # Not an 837P 5010 (the 4010 837P of the corpus): reported, never placed with our map.
        assert reader.summary.skipped >= 1
        assert all(unit.kind != "claim" for unit in units)
        assert any(unit.notice and "not a 5010 837P" in unit.notice for unit in units)
        COMPARED["skipped files"] += 1
        return
    ours = [
        (seg.number, seg.text, placement.loop_id)
        for unit in units
        for seg, placement in unit.segments
    ]
    if any(unit.kind == "skipped" for unit in units):
        pytest.skip("pyx12 cannot read a file mixing 837P with other transaction sets")
    theirs = list(pyx12_loops(path))
    assert len(theirs) == len(ours)
    wrong = [
        f"segment {number} {text[:30]!r}: ours {loop}, pyx12 {expected}"
        for (number, text, loop), expected in zip(ours, theirs, strict=True)
        if loop != expected
    ]
    assert wrong == []
    COMPARED["files"] += 1
    COMPARED["segments"] += len(ours)


# --- syntax relations: every P/R/E/C/L error pyx12 reports, ``check`` reports too ------------

SYNTAX = {"files": 0, "unreadable": 0, "pyx12": 0, "ours": 0, "agreed": 0}
_SYNTAX_LINE = re.compile(r"^Line:(\d+) \w+:\w+ - Syntax Error \(([PRECL]\d+)\)")


def every_corpus_file() -> list[Path]:
    if not CORPUS.is_dir():
        return []
    return sorted(
        path for path in CORPUS.rglob("*") if path.is_file() and path.suffix not in (".md", ".tsv")
    )


def pyx12_syntax_errors(path: Path) -> set[tuple[int, str]] | None:
    """(segment number, syntax note) of each syntax error ``x12valid``'s validator logs.

    ``None`` when pyx12 cannot read the file at all (no map for its version, say).
    """
    import pyx12.params
    import pyx12.x12n_document

    messages: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            messages.append(record.getMessage())

    handler = Collect()
    log = logging.getLogger("pyx12")
    saved = (log.level, log.propagate)
    log.addHandler(handler)
    log.setLevel(logging.DEBUG)
    log.propagate = False
    try:
        with path.open(encoding="latin-1", newline="") as handle:
            pyx12.x12n_document.x12n_document(pyx12.params.params(), handle, None, None)
    except Exception:  # noqa: BLE001 - pyx12 refusing a file is what "unreadable" means
        return None
    finally:
        log.removeHandler(handler)
        log.setLevel(saved[0])
        log.propagate = saved[1]
    found = set()
    for message in messages:
        match = _SYNTAX_LINE.match(message)
        if match:
            found.add((int(match.group(1)), match.group(2)))
    return found


def our_syntax_findings(path: Path) -> set[tuple[int, str]]:
    """(segment number, syntax note) of each ELM-005 ``check`` reports."""
    result = CliRunner().invoke(main, ["check", "-f", "json", "--select", "ELM-005", str(path)])
    assert "internal error" not in result.stderr
    found = set()
    for entry in json.loads(result.stdout)["files"]:
        for finding in entry["findings"]:
            note = re.search(r"\(([PRECL]\d+)\)$", finding["message"])
            assert note is not None, finding["message"]
            found.add((finding["segment_number"], note.group(1)))
    return found


@pytest.fixture(scope="module")
def syntax_report() -> Iterator[dict[str, int]]:
    yield SYNTAX
    print(
        f"\npyx12 syntax relations: {SYNTAX['files']} corpus files read by both "
        f"({SYNTAX['unreadable']} pyx12 cannot read); pyx12 reports {SYNTAX['pyx12']}, check "
        f"reports {SYNTAX['ours']}, {SYNTAX['agreed']} at the same segment"
    )


@pytest.mark.parametrize("path", every_corpus_file(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_syntax_error_pyx12_reports_check_reports(
    path: Path, syntax_report: dict[str, int]
) -> None:
    theirs = pyx12_syntax_errors(path)
    if theirs is None:
        syntax_report["unreadable"] += 1
        return
    ours = our_syntax_findings(path)
    syntax_report["files"] += 1
    syntax_report["pyx12"] += len(theirs)
    syntax_report["ours"] += len(ours)
    syntax_report["agreed"] += len(theirs & ours)
    assert theirs - ours == set()


def test_a_syntax_relation_pyx12_reports_is_reported_with_its_note(tmp_path: Path) -> None:
    # The 1000A PER with a second qualifier (PER05) and no number for it (PER06).
    text = (ROOT / "samples" / "clean-injection.837").read_text(encoding="ascii")
    path = tmp_path / "per.837"
    path.write_text(
        text.replace(
            "PER*IC*SAMPLE CONTACT*TE*5555550100~", "PER*IC*BILLING DESK*TE*6175550100*EX~"
        ),
        encoding="ascii",
    )
    assert pyx12_syntax_errors(path) == {(6, "P0506")}
    assert our_syntax_findings(path) == {(6, "P0506")}

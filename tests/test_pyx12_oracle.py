"""pyx12 as the oracle: every segment goes to the loop pyx12's ``X12ContextReader`` gives it.

The files are those of the shared corpus that pyx12's ``x12valid`` accepts (MANIFEST.tsv column
``pyx12_x12valid`` = ``OK``), the project's ``samples/*.837`` and the hand-written fixtures of
this layer. Transactions that are not 837P 5010 (the corpus has a valid 4010 837P) must be
reported as skipped instead of compared. Run with ``-s`` to see how much was compared.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import pytest

from edi837.x12.reader import read_segments
from edi837.x837p.builder import UnitReader

pytestmark = pytest.mark.corpus

ROOT = Path(__file__).resolve().parents[1]
CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"


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

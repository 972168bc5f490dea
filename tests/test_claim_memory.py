"""One claim of any size: memory stays that of a claim within the guide, outputs stay whole.

A claim of 100,000 service lines used to hold every one of its segments until the claim ended
(check, fix and split took about 260 MB on a 5.6 MB file). The commands run here in a child
process whose peak resident size is read from the kernel (``os.wait4``) and compared with the
same command on the one-claim sample, with a margin wide enough that the test measures growth
with the claim, not noise.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from edi837 import api
from edi837.source import Source
from edi837.x12.reader import read_segments
from edi837.x12.segment import Segment
from edi837.x837p.builder import UnitReader
from edi837.x837p.checks import TRANSACTION_CAP
from edi837.x837p.spool import SPILL_AFTER, SegmentSpool
from edi837.x837p.tracker import Placement

ROOT = Path(__file__).resolve().parents[1]
CLEAN = ROOT / "samples" / "clean-injection.837"
# Peak memory a huge claim may take above the one-claim sample; without the spool the
# 100,000-line claim takes about 200 MB more.
MARGIN_KB = 100 * 1024


def many_lines(lines: int, *, crlf: bool = False) -> bytes:
    """The clean sample with its one claim carrying ``lines`` service lines of 1.00 each."""
    text = CLEAN.read_text()
    head, rest = text.split("LX*1~\n", 1)
    trailer = rest[rest.index("SE*") :]
    body = "".join(
        f"LX*{n}~\nSV1*HC:99213*1*UN*1***1~\nDTP*472*D8*20250314~\n" for n in range(1, lines + 1)
    )
    # SE01 counts the claim's segments, so the file's only findings are the excess lines.
    segments = text[text.index("ST*") : text.index("LX*1~")].count("~") + 3 * lines + 1
    trailer = trailer.replace("SE*34*", f"SE*{segments}*", 1)
    whole = head.replace("CLM*CLEAN0001*168*", f"CLM*CLEAN0001*{lines}*") + body + trailer
    return whole.replace("\n", "\r\n" if crlf else "\n").encode()


def claim_notes(notes: int) -> bytes:
    """The clean sample with ``notes`` NTE segments in its claim loop (2300), where one may be."""
    text = CLEAN.read_text()
    body = "".join(f"NTE*ADD*NOTE {n}~\n" for n in range(notes))
    return text.replace("HI*ABK:", body + "HI*ABK:", 1).encode()


def peak_kb(args: list[str], cwd: Path) -> tuple[int, int]:
    """Exit code and peak resident size (KiB) of ``python -m edi837 ARGS`` in its own process."""
    with open(cwd / "stderr.txt", "wb") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "edi837", *args],
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
        _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return proc.returncode, usage.ru_maxrss  # Linux reports KiB


# -- the spool itself -----------------------------------------------------------------------------

FIELDS = ("id", "text", "elements", "number", "byte_offset", "line", "lead", "term", "delimiters")


def described(segments: list[Segment]) -> list[tuple[object, ...]]:
    return [tuple(getattr(seg, name) for name in FIELDS) for seg in segments]


def test_a_claim_past_the_bound_gives_back_every_segment_as_read() -> None:
    lines = SPILL_AFTER // 2  # three segments a line: the claim spills
    text = many_lines(lines, crlf=True).decode()
    text = text.replace("LX*4000~", "LX*4000~\r\nNTE*ADD*CAFÉ NOTE~")  # not only ASCII
    read = list(read_segments(text))
    reader = UnitReader(iter(read))
    units = list(reader)
    claim = next(unit for unit in units if unit.kind == "claim")
    assert isinstance(claim.segments, SegmentSpool) and claim.segments.spilled
    assert claim.first_number == claim.segments[0][0].number
    again = [seg for unit in units for seg, _ in unit.segments]
    assert described(again) == described(read)
    # A writer may iterate a unit more than once.
    assert described([seg for seg, _ in claim.segments]) == described(
        [seg for seg, _ in claim.segments]
    )
    assert reader.summary.service_lines == lines


def test_the_spool_reads_the_same_pairs_on_every_pass_and_by_index() -> None:
    text = CLEAN.read_text().replace("\n", "\r\n  ").replace("ANYTOWN", "ÅNYTOWN")
    segments = list(read_segments(text))[:20]
    placed = [
        (seg, Placement("2400", ("2300", "2400"), 1 + n % 2)) for n, seg in enumerate(segments)
    ]
    spool = SegmentSpool()
    for n, pair in enumerate(placed):
        spool.append(pair)
        if n in (3, 9):
            spool.spill()
    assert len(spool) == len(placed) and spool and spool.spilled == 10

    def seen() -> list[tuple[str, int, int]]:
        return [(seg.raw, seg.number, placement.opened) for seg, placement in spool]

    assert seen() == seen() == [(s.raw, s.number, p.opened) for s, p in placed]
    assert spool[0] is placed[0] and spool[-1] is placed[-1]
    assert spool[5][0].raw == placed[5][0].raw
    assert spool[-11][0].number == placed[9][0].number
    with pytest.raises(IndexError):
        spool[len(placed)]
    spool.close()
    assert not spool and len(spool) == 0


def test_without_a_writable_temporary_folder_the_claim_stays_whole_in_memory(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def unwritable(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("edi837.x837p.spool.tempfile.TemporaryFile", unwritable)
    text = many_lines(SPILL_AFTER // 2).decode()
    read = list(read_segments(text))
    units = list(UnitReader(iter(read)))
    assert described([seg for unit in units for seg, _ in unit.segments]) == described(read)


# -- the commands, in their own process -----------------------------------------------------------

LINES = 100_000


@pytest.fixture(scope="module")
def huge_claim(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("huge") / "huge.837"
    path.write_bytes(many_lines(LINES))
    return path


def run_on(source: Path, command: str, folder: Path) -> tuple[int, int, Path]:
    """Run ``command`` on a copy of ``source`` in ``folder``: exit code, peak KiB, the copy."""
    folder.mkdir()
    copy = folder / source.name
    copy.write_bytes(source.read_bytes())
    args = {
        "check": ["check", copy.name, "-f", "json", "-o", "out.json"],
        "split": ["split", copy.name, "-d", "out"],
        "fix": ["fix", copy.name, "-o", "out.837"],
        "fix --in-place": ["fix", copy.name, "--in-place"],
        "annotate": ["annotate", copy.name, "-o", "out.txt"],
        "parse -f json": ["parse", copy.name, "-f", "json", "-o", "out.json"],
        "ack": ["ack", copy.name, "-o", "acks"],
        "batch": ["batch", copy.name, "-o", "batch", "-j", "1"],
    }[command]
    code, peak = peak_kb(args, folder)
    return code, peak, copy


COMMANDS = ["check", "split", "fix", "fix --in-place", "annotate", "parse -f json", "ack", "batch"]


@pytest.mark.parametrize("command", COMMANDS)
def test_a_claim_of_100000_lines_takes_the_memory_of_one_claim(
    huge_claim: Path, tmp_path: Path, command: str
) -> None:
    _, small, _ = run_on(CLEAN, command, tmp_path / "small")
    code, huge, copy = run_on(huge_claim, command, tmp_path / "huge")
    error = (copy.parent / "stderr.txt").read_text()
    assert "Traceback" not in error and "internal error" not in error
    assert huge < small + MARGIN_KB, f"{command}: {huge // 1024} MB vs {small // 1024} MB"
    data = huge_claim.read_bytes()
    out = copy.parent
    # And nothing of the claim was lost on the way.
    if command == "check":
        assert code == 1
        report = json.loads((out / "out.json").read_text())["files"][0]
        assert (report["claims"], report["service_lines"]) == (1, LINES)
        assert [(f["code"], f["line"]) for f in report["findings"]] == [("STR-001", 51)]
    elif command == "split":
        assert code == 1
        assert (out / "out" / "huge.rejected.837").read_bytes() == data
        assert not (out / "out" / "huge.accepted.837").exists()
    elif command == "fix":
        assert code == 1 and (out / "out.837").read_bytes() == data
    elif command == "fix --in-place":
        assert code == 1 and copy.read_bytes() == data
    elif command == "annotate":
        listing = (out / "out.txt").read_bytes()
        kept = b"".join(line for line in listing.splitlines(True) if not line.startswith(b"#"))
        assert code == 0 and kept == data
    elif command == "parse -f json":
        tree = json.loads((out / "out.json").read_text())
        assert code == 0 and json.dumps(tree).count('"LX"') >= LINES
    elif command == "ack":
        # The 999 accepts the transaction set; the 277CA answers for its one claim.
        assert code == 0 and (out / "acks" / "huge.999").exists()
        assert b"CLEAN0001" in (out / "acks" / "huge.277ca").read_bytes()
    else:
        assert code == 1 and (out / "batch" / "huge.rejected.837").read_bytes() == data
        report = json.loads((out / "batch" / "huge.report.json").read_text())["files"][0]
        assert (report["claims"], report["service_lines"]) == (1, LINES)


def test_a_claim_level_loop_of_100000_segments_keeps_its_claim_whole(tmp_path: Path) -> None:
    # Each note past the one the guide allows is a SEG-002: the first 5,000 are listed and the
    # rest are one summary; what is written must still be the input, segment for segment.
    source = tmp_path / "notes.837"
    source.write_bytes(claim_notes(100_000))
    result = api.check(Source(source))
    assert result.claims == 1
    notes = [f for f in result.findings if f.segment_id == "NTE"]
    assert len(notes) == TRANSACTION_CAP + 1
    assert notes[-1].message.startswith("and 94,999 more SEG-002 findings in this transaction")
    # The claim's own segments after the flood are still seen: no DX-002 for a missing HI.
    assert "DX-002" not in {f.code for f in result.findings}
    fixed = api.fix(source, tmp_path / "fixed.837")
    assert fixed is not None and (tmp_path / "fixed.837").read_bytes() == source.read_bytes()
    split = api.split(source, tmp_path / "split", name="notes")
    assert (split.accepted, split.rejected) == (0, 1)
    assert split.rejected_path.read_bytes().count(b"NTE*ADD*") == 100_000


def test_a_claim_level_loop_of_100000_segments_takes_the_memory_of_one_claim(
    tmp_path: Path,
) -> None:
    source = tmp_path / "notes.837"
    source.write_bytes(claim_notes(100_000))
    _, small, _ = run_on(CLEAN, "check", tmp_path / "small")
    code, flooded, _ = run_on(source, "check", tmp_path / "flooded")
    assert code == 1
    # Listing every SEG-002 took 163 MB, keeping every note in the claim's view 101 MB.
    assert flooded < small + 40 * 1024, f"{flooded} KiB against {small} KiB for one claim"

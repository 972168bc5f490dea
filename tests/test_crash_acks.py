"""``edi837 watch --ack`` killed with SIGKILL at random moments answers every file, never twice.

A real watcher works through an inbox of generated files (one resubmitting another's sender and
ISA13, one not X12) with acknowledgements on, is killed at random moments (seeded), restarted,
and finally left to finish with ``--once``. Then every archived input has its 999 (and its
277CA where a transaction set was accepted) in ``outbox/``, exactly as its ledger row lists;
files in ``errors/`` and ``duplicates/`` have none; no ISA13 or GS06 appears twice across all
acknowledgements (an attempt cut short by a kill never hands its numbers out again); each REF*1K
is the payer claim control number the ledger holds for that claim; and no temporary file is
left. Select it alone with ``pytest -m crash``.
"""

from __future__ import annotations

import collections
import random
import signal
import subprocess
import time
from pathlib import Path

import pytest

from edi837.ops.ledger import Ledger
from edi837.x12.reader import read_segments
from tests.test_crash import TEMPORARY_MARKS, busy, interchange, lines, watch_command

pytestmark = pytest.mark.crash

SEED = 2770
FILES = 40
KILLS = 20


def make_inbox(folder: Path, rng: random.Random) -> dict[str, bytes]:
    folder.mkdir(parents=True, exist_ok=True)
    files = {
        f"claims-{n:03d}.837": interchange(rng.randint(5, 25), seed=n, control=n, clean=n % 3 == 0)
        for n in range(1, FILES - 1)
    }
    files["resubmitted.837"] = interchange(3, seed=999, control=5, clean=False)
    files["scanned-letter.837"] = b"%PDF-1.4 not an X12 file\n"
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return files


def test_sigkill_during_watch_ack_leaves_every_file_answered_once(tmp_path: Path) -> None:
    rng = random.Random(SEED)
    inbox, outdir = tmp_path / "inbox", tmp_path / "out"
    made = make_inbox(inbox, rng)
    log = tmp_path / "watch.log"
    kills_mid_file = 0
    with open(tmp_path / "stderr.txt", "ab") as err:
        for _ in range(KILLS):
            logged = lines(log)
            process = subprocess.Popen(
                watch_command(inbox, outdir, "--poll", "0.05", "--ack"),
                stdout=subprocess.DEVNULL,
                stderr=err,
            )
            if rng.random() < 0.25:
                time.sleep(rng.uniform(0.1, 1.5))  # start-up or reconciliation
            else:
                deadline = time.monotonic() + 10
                while lines(log) == logged and time.monotonic() < deadline:
                    time.sleep(0.01)
                time.sleep(rng.uniform(0.0, 0.2))  # somewhere in the next file
            kills_mid_file += busy(outdir)
            process.send_signal(signal.SIGKILL)
            assert process.wait() == -signal.SIGKILL
        final = subprocess.run(
            watch_command(inbox, outdir, "--once", "--ack"), stderr=err, check=False
        )
    assert final.returncode == 0
    assert kills_mid_file >= 3, "too few kills interrupted a file to prove anything"

    assert list(inbox.iterdir()) == [] and list((outdir / "work").iterdir()) == []
    where: dict[str, str] = {}
    for folder in ("archive", "errors", "duplicates"):
        for path in (outdir / folder).rglob("*"):
            if path.is_file() and not path.name.endswith(".reason.txt"):
                assert path.name not in where, f"{path.name} filed twice"
                where[path.name] = folder
    assert sorted(where) == sorted(made)
    assert where["scanned-letter.837"] == "errors"
    assert sorted((where["claims-005.837"], where["resubmitted.837"])) == [
        "archive",
        "duplicates",
    ]

    outbox = outdir / "outbox"
    answers = sorted(p for p in outbox.iterdir() if p.suffix in (".ta1", ".999", ".277ca"))
    by_stem = collections.defaultdict(set)
    for path in answers:
        by_stem[path.name.split(".")[0]].add(path.name)
    archived = {n.removesuffix(".837") for n, f in where.items() if f == "archive"}
    assert set(by_stem) == archived  # errors and duplicates are answered by none
    for stem in archived:
        assert f"{stem}.999" in by_stem[stem], stem

    numbers: list[str] = []
    given: dict[tuple[str, str], str] = {}
    for path in answers:
        claim = ""
        for seg in read_segments(path.read_bytes()):
            if seg.id == "ISA":
                numbers.append(str(int(seg.element(13))))
            elif seg.id == "GS":
                numbers.append(seg.element(6))
            elif seg.id == "TRN" and seg.element(1) == "2":
                claim = seg.element(2)
            elif seg.id == "REF" and seg.element(1) == "1K":
                given[(path.name.split(".")[0], claim)] = seg.element(2)
    twice = [n for n, count in collections.Counter(numbers).items() if count > 1]
    assert twice == [], f"control numbers in two acknowledgements: {twice}"

    with Ledger(outdir / "edi837.sqlite") as ledger:
        for row in ledger.files("done"):
            stem = Path(row["path"]).name.removesuffix(".837")
            listed = {Path(p).name for p in row["outputs"]}
            assert by_stem[stem] <= listed, stem  # the row lists the answers on disk
            assert all((outbox / name).exists() for name in listed), stem
        recorded = {
            (Path(c["file"]).name.removesuffix(".837"), c["claim_id"]): c["payer_control"]
            for c in ledger.claims()
            if c["payer_control"] is not None
        }
    assert given == recorded
    assert len(set(recorded.values())) == len(recorded)

    for root in (inbox, outdir):
        for path in root.rglob("*"):
            hidden = path.name.startswith(".") and path != outdir / ".lock"
            assert not hidden and not any(m in path.name for m in TEMPORARY_MARKS), path
    print(
        f"\nack crash test: {KILLS} SIGKILLs ({kills_mid_file} with a file in work/), "
        f"{len(answers)} acknowledgements for {len(archived)} archived files, "
        f"{len(numbers)} control numbers, none twice; {len(recorded)} REF*1K as in the ledger"
    )

"""``edi837 watch`` killed with SIGKILL at random moments loses nothing and doubles nothing.

A real ``edi837 watch`` process works through an inbox of 100 generated files (most with
findings, two resubmitting another file's interchange under the same sender and ISA13, one
that is not X12) and is killed at random moments (seeded), restarted each time, and finally
left to finish with ``--once``. Then every input must be in exactly one final folder, byte for
byte; every output complete; no temporary file anywhere; the ledger in agreement with the
folders; and every claim of an accepted input written exactly once, to its accepted or its
rejected file. Select it alone with ``pytest -m crash``.
"""

from __future__ import annotations

import collections
import hashlib
import importlib.util
import io
import json
import os
import random
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

import pytest

from edi837 import api
from edi837.ops.ledger import Ledger

pytestmark = pytest.mark.crash

ROOT = Path(__file__).resolve().parents[1]
GENERATOR = ROOT / "bench" / "gen837.py"
SEED = 837
FILES = 100
KILLS = 24
#: Ledger journal files and the temporaries of atomic writes, copies and splits.
TEMPORARY_MARKS = (
    ".tmp",
    ".part",
    ".copying",
    "-journal",
    "-wal",
    "-shm",
    "edi837-tmp",
    "edi837-claim",
)


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen837", GENERATOR)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("gen837", module)
    spec.loader.exec_module(module)
    return module


def interchange(claims: int, seed: int, control: int, *, clean: bool) -> bytes:
    """A generated 837P interchange with ``claims`` claims under ISA13 = ``control``."""
    gen = _generator()
    out = io.StringIO(newline="")
    gen.write_interchange(out, gen.Options(claims=claims, out="-", seed=seed, clean=clean))
    text = out.getvalue()
    # The generator numbers every interchange 1; a sender numbers each one anew.
    text = text.replace("*00501*000000001*", f"*00501*{control:09d}*", 1)
    text = text.replace("IEA*1*000000001~", f"IEA*1*{control:09d}~", 1)
    return text.encode("ascii")


@dataclass
class Inbox:
    """What was put in the inbox, and what each file is expected to become."""

    files: dict[str, bytes] = field(default_factory=dict)
    unreadable: set[str] = field(default_factory=set)
    #: Pairs of files that carry the same sender and ISA13 with different content.
    resubmitted: list[tuple[str, str]] = field(default_factory=list)


def make_inbox(folder: Path, count: int, rng: random.Random) -> Inbox:
    """``count`` files: generated interchanges, two resubmissions and one unreadable file."""
    folder.mkdir(parents=True, exist_ok=True)
    made = Inbox()
    regular = count - 3
    for number in range(1, regular + 1):
        clean = number % 4 == 0
        made.files[f"claims-{number:03d}.837"] = interchange(
            rng.randint(10, 60), seed=number, control=number, clean=clean
        )
    for number, control in ((1, 7), (2, 42)):
        name = f"resubmitted-{number}.837"
        made.files[name] = interchange(3, seed=1000 + number, control=control, clean=False)
        made.resubmitted.append((f"claims-{control:03d}.837", name))
    made.files["scanned-letter.837"] = b"%PDF-1.4 this is a scanned letter, not an X12 file\n"
    made.unreadable.add("scanned-letter.837")
    for name, data in made.files.items():
        (folder / name).write_bytes(data)
    return made


def segments_of(data: bytes) -> list[bytes]:
    """The segments of an X12 file, by the terminator its ISA declares."""
    start = data.index(b"ISA")
    terminator = data[start + 105 : start + 106]
    return [s.strip() for s in data.split(terminator) if s.strip()]


def claim_ids(data: bytes) -> list[bytes]:
    """CLM01 of every claim, in file order."""
    separator = data[data.index(b"ISA") + 3 : data.index(b"ISA") + 4]
    return [s.split(separator)[1] for s in segments_of(data) if s.startswith(b"CLM" + separator)]


def patient_values(data: bytes) -> set[str]:
    """Element values of the party segments (NM1, N3, N4, DMG, REF) that identify a person.

    Short values (a state code, a gender) are left out: they would match unrelated text.
    """
    separator = data[data.index(b"ISA") + 3 : data.index(b"ISA") + 4]
    values: set[str] = set()
    for segment in segments_of(data):
        fields = segment.split(separator)
        if fields[0] in (b"NM1", b"N3", b"N4", b"DMG", b"REF"):
            values.update(f.decode() for f in fields[1:] if len(f) >= 5)
    return values


def assert_no_patient_data(text: str, inputs: dict[str, bytes]) -> None:
    """No party element value of any X12 input appears in ``text``."""
    for data in inputs.values():
        if data.startswith(b"ISA"):
            leaked = sorted(v for v in patient_values(data) if v in text)
            assert leaked == [], f"patient data in logs: {leaked[:5]}"


def watch_command(inbox: Path, outdir: Path, *extra: str) -> list[str]:
    """``edi837 watch`` as a real process, with a short settle and poll for the test's pace."""
    return [
        sys.executable,
        "-m",
        "edi837",
        "watch",
        str(inbox),
        "--out",
        str(outdir),
        "--settle",
        "0.05",
        "--log-file",
        str(outdir.parent / "watch.log"),
        *extra,
    ]


def lines(log: Path) -> int:
    """Lines in the watcher's log so far."""
    return log.read_bytes().count(b"\n") if log.exists() else 0


def busy(outdir: Path) -> bool:
    """True while a file sits in work/ (a kill now interrupts its processing)."""
    work = outdir / "work"
    return work.is_dir() and any(not p.name.startswith(".") for p in work.iterdir())


def test_sigkill_at_random_moments_loses_and_doubles_nothing(tmp_path: Path) -> None:
    rng = random.Random(SEED)
    inbox, outdir = tmp_path / "inbox", tmp_path / "out"
    made = make_inbox(inbox, FILES, rng)
    stderr = tmp_path / "stderr.txt"
    log = tmp_path / "watch.log"

    kills = kills_mid_file = 0
    with open(stderr, "ab") as err:
        for _ in range(KILLS):
            logged = lines(log)
            process = subprocess.Popen(
                watch_command(inbox, outdir, "--poll", "0.05"),
                stdout=subprocess.DEVNULL,
                stderr=err,
            )
            if rng.random() < 0.25:
                # Anywhere from start-up (imports, rules, reference data) to reconciliation.
                time.sleep(rng.uniform(0.1, 1.5))
            else:
                # Somewhere in the processing of the files, once this run has filed one.
                deadline = time.monotonic() + 10
                while lines(log) == logged and time.monotonic() < deadline:
                    time.sleep(0.01)
                time.sleep(rng.uniform(0.0, 0.25))
            mid_file = busy(outdir)
            process.send_signal(signal.SIGKILL)
            assert process.wait() == -signal.SIGKILL
            kills += 1
            kills_mid_file += mid_file
        left_for_last_run = len(list(inbox.iterdir())) + len(list((outdir / "work").iterdir()))
        final = subprocess.run(watch_command(inbox, outdir, "--once"), stderr=err, check=False)
    assert final.returncode == 0

    figures = check_final_state(inbox, outdir, made)
    log_lines = log.read_text(encoding="utf-8").splitlines()
    # Every file is logged (a kill between the log line and the move repeats the line), and
    # its last line says where it is; a kill never leaves half a line before a later one.
    last = {entry["file"]: entry for entry in map(json.loads, log_lines)}
    assert sorted(last) == sorted(made.files)
    for name, entry in last.items():
        assert (outdir / entry["moved_to"]).read_bytes() == made.files[name]
    assert_no_patient_data("\n".join(log_lines) + stderr.read_text(encoding="utf-8"), made.files)
    print(
        f"\ncrash test: {kills} SIGKILLs ({kills_mid_file} with a file in work/), "
        f"{FILES} files, {left_for_last_run} left for the final --once run; "
        f"{figures['archived']} archived, {figures['errors']} in errors/, "
        f"{figures['duplicates']} in duplicates/; {figures['claims']} claims in, "
        f"{figures['written']} written ({figures['accepted']} accepted, "
        f"{figures['rejected']} rejected), lost 0, doubled 0"
    )
    assert kills >= 20
    assert kills_mid_file >= 5, "too few kills interrupted a file to prove anything"


def check_final_state(inbox: Path, outdir: Path, made: Inbox) -> dict[str, int]:
    """Assert the end state after all the kills; return the figures."""
    # Every input in exactly one final folder, unchanged; nothing left in the inbox or work/.
    assert sorted(inbox.iterdir()) == []
    assert sorted((outdir / "work").iterdir()) == []
    placed: dict[str, list[Path]] = collections.defaultdict(list)
    for folder in ("archive", "errors", "duplicates"):
        for path in (outdir / folder).rglob("*"):
            if path.is_file() and not path.name.endswith(".reason.txt"):
                placed[path.name].append(path)
    assert sorted(placed) == sorted(made.files)
    for name, paths in placed.items():
        assert len(paths) == 1, f"{name} is in {paths}"
        assert paths[0].read_bytes() == made.files[name], f"{name} changed"
    where = {name: paths[0].relative_to(outdir).parts[0] for name, paths in placed.items()}
    assert {n for n, w in where.items() if w == "errors"} == made.unreadable
    for first, second in made.resubmitted:
        assert sorted((where[first], where[second])) == ["archive", "duplicates"]
    assert sum(w == "duplicates" for w in where.values()) == len(made.resubmitted)
    for name, folder in where.items():
        if folder != "archive":
            reason = placed[name][0].with_name(name + ".reason.txt")
            assert reason.read_text(encoding="utf-8").strip(), f"{name} has no reason"

    # No temporary file anywhere (the lock file is the one hidden file OUTDIR keeps).
    for root in (inbox, outdir):
        for path in root.rglob("*"):
            hidden = path.name.startswith(".") and path != outdir / ".lock"
            assert not hidden and not any(m in path.name for m in TEMPORARY_MARKS), path

    # Every output complete; the claims of each archived input written exactly once.
    archived = {n for n, w in where.items() if w == "archive"}
    outbox = outdir / "outbox"
    expected: collections.Counter[tuple[str, bytes]] = collections.Counter()
    written: collections.Counter[tuple[str, bytes]] = collections.Counter()
    accepted = rejected = 0
    for name in archived:
        stem = name.removesuffix(".837")
        ids = claim_ids(made.files[name])
        expected.update((stem, i) for i in ids)
        report = json.loads((outbox / f"{stem}.report.json").read_text(encoding="utf-8"))
        assert report["files"][0]["claims"] == len(ids), name
        for kind in ("accepted", "rejected"):
            output = outbox / f"{stem}.{kind}.837"
            if not output.exists():
                continue
            data = output.read_bytes()
            reread = api.check(output)
            assert reread.status != "error", reread.error
            assert reread.claims == len(claim_ids(data)) > 0, output
            written.update((stem, i) for i in claim_ids(data))
            if kind == "accepted":
                accepted += reread.claims
            else:
                rejected += reread.claims
    # An unreadable file has its report (saying why) and nothing else; a duplicate has none.
    for path in outbox.iterdir():
        stem = path.name.split(".")[0]
        assert f"{stem}.837" in archived or path.name == f"{stem}.report.json", path.name
        assert where[f"{stem}.837"] != "duplicates", path.name
    assert written == expected, "claims lost or doubled"

    # The ledger says what the folders say.
    sha = {n: hashlib.sha256(d).hexdigest() for n, d in made.files.items()}
    with Ledger(outdir / "edi837.sqlite") as ledger:
        rows = ledger.files()
        by_status: dict[str, set[str]] = collections.defaultdict(set)
        for row in rows:
            by_status[row["status"]].add(row["sha256"])
        folder_of_status = {"done": "archive", "error": "errors", "duplicate": "duplicates"}
        assert set(by_status) <= set(folder_of_status), by_status.keys()
        for status, folder in folder_of_status.items():
            assert by_status[status] == {sha[n] for n, w in where.items() if w == folder}
        assert len(rows) == len(made.files)
        for row in rows:
            if row["status"] == "done":
                assert row["claims"] == len(claim_ids(made.files[Path(row["path"]).name]))
        ledger_claims = ledger.claims()
        assert len(ledger_claims) == sum(expected.values())
        assert sum(c["status"] == "rejected" for c in ledger_claims) == rejected
    assert not os.path.exists(outdir / "edi837.sqlite-wal")
    return {
        "archived": len(archived),
        "errors": len(made.unreadable),
        "duplicates": len(made.resubmitted),
        "claims": sum(expected.values()),
        "written": sum(written.values()),
        "accepted": accepted,
        "rejected": rejected,
    }

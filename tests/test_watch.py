"""``edi837 watch``: what an operator sees in OUTDIR after files are dropped in the inbox.

Most tests run the watcher in-process with ``--once`` semantics (settle 0) for speed; the
event-driven and polling modes, SIGTERM and the lock run the real command. The crash test is
in ``test_crash.py``.
"""

from __future__ import annotations

import datetime as dt
import errno
import fcntl
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from edi837 import api
from edi837.cli import main
from edi837.cli.watching import watch
from edi837.engine import Engine
from edi837.ops import inbox as folders
from edi837.ops import watch as watch_module
from edi837.ops.inbox import Layout, Settler, interchange_closed, looks_temporary
from edi837.ops.ledger import Ledger
from edi837.ops.process import process_file
from edi837.ops.watch import Handled, Watcher, WatchOptions
from tests.test_crash import assert_no_patient_data, claim_ids, interchange

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples"


@pytest.fixture(scope="module")
def engine() -> Engine:
    return api.load_engine()


def today() -> str:
    return dt.date.today().isoformat()


def run_once(inbox: Path, outdir: Path, engine: Engine, **options: object) -> list[Handled]:
    settings = WatchOptions(inbox=inbox, outdir=outdir, settle=0.0, once=True, **options)  # type: ignore[arg-type]
    return Watcher(settings, engine).run()


def drop(folder: Path, name: str, data: bytes) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(data)
    return path


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# -- what is taken, where it goes ---------------------------------------------------------------


def test_each_file_is_filed_once_with_its_outputs_named_after_it(
    tmp_path: Path, engine: Engine
) -> None:
    inbox, outdir = tmp_path / "inbox", tmp_path / "out"
    samples = {p.name: p.read_bytes() for p in sorted(SAMPLES.glob("*.837"))}
    for name, data in samples.items():
        drop(inbox, name, data)
    drop(inbox, "letter.837", b"Dear billing office, please find attached\n")
    waiting = ["empty.837", ".upload.837", "big.837.part", "big.837.filepart", "x.tmp", "~$x.837"]
    for name in waiting:
        drop(inbox, name, b"" if name == "empty.837" else samples["multi.837"])

    handled = run_once(inbox, outdir, engine)

    assert sorted(h.file for h in handled) == sorted([*samples, "letter.837"])
    archive = outdir / "archive" / today()
    for name, data in samples.items():
        assert (archive / name).read_bytes() == data  # byte-identical
        stem = name.removesuffix(".837")
        report = json.loads((outdir / "outbox" / f"{stem}.report.json").read_text())
        assert report["files"][0]["claims"] == len(claim_ids(data))
    assert (outdir / "outbox" / "multi.accepted.837").exists()
    assert (outdir / "outbox" / "multi.rejected.837").exists()
    reason = (outdir / "errors" / "letter.837.reason.txt").read_text()
    assert reason.startswith("letter.837: ") and "does not start with an ISA" in reason
    assert (outdir / "errors" / "letter.837").exists()
    assert sorted(p.name for p in inbox.iterdir()) == sorted(waiting)
    assert list((outdir / "work").iterdir()) == []
    assert list((outdir / "duplicates").iterdir()) == []


def test_temporary_names_are_recognised() -> None:
    for name in (".x.837", "a.tmp", "a.TMP", "a.837.part", "a.filepart", "~$a.837"):
        assert looks_temporary(name), name
    for name in ("a.837", "claims.edi", "part.837", "tmp.837"):
        assert not looks_temporary(name), name


def test_a_resubmission_goes_to_duplicates_naming_the_first_file(
    tmp_path: Path, engine: Engine
) -> None:
    inbox, outdir = tmp_path / "inbox", tmp_path / "out"
    first = interchange(3, seed=1, control=500, clean=True)
    drop(inbox, "a.837", first)
    run_once(inbox, outdir, engine)
    # The same bytes under another name, and other claims under the same sender and ISA13.
    drop(inbox, "a-again.837", first)
    drop(inbox, "b.837", interchange(2, seed=2, control=500, clean=True))

    handled = run_once(inbox, outdir, engine)

    assert {h.file: h.status for h in handled} == {"a-again.837": "duplicate", "b.837": "duplicate"}
    for name in ("a-again.837", "b.837"):
        assert (outdir / "duplicates" / name).exists()
        assert "duplicate of a.837" in (outdir / "duplicates" / f"{name}.reason.txt").read_text()
        assert not list((outdir / "outbox").glob(f"{name.removesuffix('.837')}.*"))
    assert sorted(p.name for p in (outdir / "archive" / today()).iterdir()) == ["a.837"]


def test_the_same_file_sent_again_after_its_outputs_were_taken_is_a_duplicate(
    tmp_path: Path, engine: Engine
) -> None:
    inbox, outdir = tmp_path / "inbox", tmp_path / "out"
    data = interchange(2, seed=4, control=4, clean=True)
    drop(inbox, "claims.837", data)
    run_once(inbox, outdir, engine)
    # Downstream takes the outputs and clears the archive: the name is free again.
    for path in [*(outdir / "outbox").iterdir(), *(outdir / "archive" / today()).iterdir()]:
        path.unlink()
    drop(inbox, "claims.837", data)

    handled = run_once(inbox, outdir, engine)

    assert [(h.file, h.status, h.duplicate_of) for h in handled] == [
        ("claims.837", "duplicate", "claims.837")
    ]
    assert (outdir / "duplicates" / "claims.837").read_bytes() == data
    assert list((outdir / "outbox").iterdir()) == []
    with Ledger(outdir / "edi837.sqlite") as ledger:
        assert [r["status"] for r in ledger.files()] == ["done"]


def test_a_second_file_of_the_same_name_keeps_the_first_ones_outputs(
    tmp_path: Path, engine: Engine
) -> None:
    inbox, outdir = tmp_path / "inbox", tmp_path / "out"
    first, second = (interchange(n, seed=n, control=n, clean=True) for n in (2, 3))
    drop(inbox, "claims.837", first)
    run_once(inbox, outdir, engine)
    report = (outdir / "outbox" / "claims.report.json").read_bytes()
    drop(inbox, "claims.837", second)

    run_once(inbox, outdir, engine)

    assert (outdir / "outbox" / "claims.report.json").read_bytes() == report
    second_report = json.loads((outdir / "outbox" / "claims-2.report.json").read_text())
    assert second_report["files"][0]["claims"] == 3
    archive = outdir / "archive" / today()
    assert (archive / "claims.837").read_bytes() == first
    assert (archive / "claims-2.837").read_bytes() == second


def test_a_file_that_breaks_the_processor_goes_to_errors_and_the_rest_goes_on(
    tmp_path: Path, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    inbox, outdir = tmp_path / "inbox", tmp_path / "out"
    drop(inbox, "a.837", interchange(2, seed=1, control=1, clean=True))
    drop(inbox, "b.837", interchange(2, seed=2, control=2, clean=True))

    def breaks_on_a(path: Path, *args: object, **kwargs: object) -> object:
        if path.name == "a.837":
            raise RuntimeError("unexpected")
        return process_file(path, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(watch_module, "process_file", breaks_on_a)
    handled = run_once(inbox, outdir, engine)

    assert [(h.file, h.status) for h in handled] == [("a.837", "error"), ("b.837", "done")]
    reason = (outdir / "errors" / "a.837.reason.txt").read_text()
    assert "internal error while processing: RuntimeError: unexpected" in reason


# -- settling -------------------------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_file_is_ready_only_after_it_stops_changing(tmp_path: Path) -> None:
    clock = Clock()
    settler = Settler(2.0, clock)
    path = tmp_path / "slow.837"
    path.write_bytes(b"ISA")
    # A copy keeps its source's old mtime: the quiet period counts from when it was seen.
    os.utime(path, (0, 0))
    settler.observe(folders.scan_inbox(tmp_path))
    clock.now = 1.5
    assert settler.ready() == []
    with open(path, "ab") as handle:
        handle.write(b"*00*")
    settler.observe(folders.scan_inbox(tmp_path))
    clock.now = 3.0
    assert settler.ready() == [] and settler.waiting() == pytest.approx(0.5)
    clock.now = 3.6
    settler.observe(folders.scan_inbox(tmp_path))
    assert settler.ready() == ["slow.837"]


def test_an_empty_file_is_never_ready(tmp_path: Path) -> None:
    clock = Clock()
    settler = Settler(0.0, clock)
    (tmp_path / "empty.837").touch()
    settler.observe(folders.scan_inbox(tmp_path))
    clock.now = 100.0
    assert settler.ready() == [] and settler.waiting() is None


def test_an_interchange_is_closed_only_by_the_iea_of_its_last_isa(tmp_path: Path) -> None:
    data = interchange(2, seed=1, control=77, clean=True)
    path = drop(tmp_path, "a.837", data)
    assert interchange_closed(path) is True
    path.write_bytes(data[: data.index(b"IEA*")])
    assert interchange_closed(path) is False
    path.write_bytes(data.replace(b"IEA*1*000000077", b"IEA*1*000000078"))
    assert interchange_closed(path) is False
    two = data + interchange(1, seed=2, control=78, clean=True)
    path.write_bytes(two)
    assert interchange_closed(path) is True
    # Each interchange of a concatenated file has its own separators.
    path.write_bytes(data + interchange(1, seed=2, control=78, clean=True).replace(b"*", b"|"))
    assert interchange_closed(path) is True
    # "ISA" inside a name after the last ISA is not an ISA segment.
    path.write_bytes(data.replace(b"NM1*IL*1*", b"NM1*IL*1*LISA*", 1))
    assert interchange_closed(path) is True
    path.write_bytes(b"not X12")
    assert interchange_closed(path) is None


def test_a_file_without_its_iea_waits_then_goes_to_errors_as_truncated(
    tmp_path: Path, engine: Engine
) -> None:
    inbox, outdir = tmp_path / "inbox", tmp_path / "out"
    data = interchange(2, seed=1, control=9, clean=True)
    cut = data[: data.index(b"SE*")]
    drop(inbox, "cut.837", cut)

    assert run_once(inbox, outdir, engine) == []
    assert (inbox / "cut.837").exists()

    handled = run_once(inbox, outdir, engine, truncated_after=0.0)
    assert [(h.file, h.status) for h in handled] == [("cut.837", "error")]
    assert (outdir / "errors" / "cut.837").read_bytes() == cut
    assert "truncated" in (outdir / "errors" / "cut.837.reason.txt").read_text()


# -- after a crash --------------------------------------------------------------------------------


def test_a_file_left_in_work_is_processed_on_start(tmp_path: Path, engine: Engine) -> None:
    inbox, outdir = tmp_path / "inbox", tmp_path / "out"
    Layout(outdir).create()
    data = interchange(4, seed=3, control=3, clean=False)
    drop(outdir / "work", "left.837", data)
    drop(outdir / "outbox", ".left.report.json.x1y2.tmp", b'{"half')

    handled = run_once(inbox, outdir, engine)

    assert [(h.file, h.status, h.reconciled) for h in handled] == [("left.837", "done", True)]
    assert (outdir / "archive" / today() / "left.837").read_bytes() == data
    assert (outdir / "outbox" / "left.report.json").exists()
    assert not list((outdir / "outbox").glob(".*"))
    with Ledger(outdir / "edi837.sqlite") as ledger:
        assert [r["status"] for r in ledger.files()] == ["done"]


def test_a_file_recorded_but_not_yet_filed_is_filed_as_recorded(
    tmp_path: Path, engine: Engine
) -> None:
    inbox, outdir = tmp_path / "inbox", tmp_path / "out"
    layout = Layout(outdir.resolve())
    layout.create()
    data = interchange(4, seed=3, control=3, clean=False)
    path = drop(layout.work, "left.837", data)
    with Ledger(layout.root / "edi837.sqlite") as ledger:
        first = process_file(path, layout.outbox, engine=engine, ledger=ledger, name="left")
    outputs = {p.name: p.read_bytes() for p in layout.outbox.iterdir()}

    handled = run_once(inbox, outdir, engine)

    assert [(h.status, h.reconciled) for h in handled] == [("done", True)]
    assert (layout.archive(dt.date.today()) / "left.837").read_bytes() == data
    assert {p.name: p.read_bytes() for p in layout.outbox.iterdir()} == outputs
    with Ledger(layout.root / "edi837.sqlite") as ledger:
        rows = ledger.files()
        assert [(r["sha256"], r["status"]) for r in rows] == [(first.sha256, "done")]
        assert len(ledger.claims()) == 4


def test_a_file_begun_and_then_taken_out_of_work_is_reported(
    tmp_path: Path, engine: Engine
) -> None:
    inbox, outdir = tmp_path / "inbox", tmp_path / "out"
    layout = Layout(outdir.resolve())
    layout.create()
    with Ledger(layout.root / "edi837.sqlite") as ledger:
        ledger.begin_file("ab" * 32, layout.work / "gone.837", 10)
    notices: list[str] = []
    settings = WatchOptions(inbox=inbox, outdir=outdir, settle=0.0, once=True)
    Watcher(settings, engine, on_notice=notices.append).run()
    assert len(notices) == 1 and notices[0].startswith("gone.837: the ledger has it in progress")


def test_the_log_and_ledger_kept_in_the_inbox_are_not_taken(tmp_path: Path, engine: Engine) -> None:
    inbox, outdir = tmp_path / "inbox", tmp_path / "out"
    drop(inbox, "a.837", interchange(1, seed=1, control=1, clean=True))
    handled = run_once(
        inbox, outdir, engine, log_file=inbox / "watch.jsonl", ledger=inbox / "ledger.sqlite"
    )
    assert [h.file for h in handled] == ["a.837"]
    assert (
        run_once(
            inbox, outdir, engine, log_file=inbox / "watch.jsonl", ledger=inbox / "ledger.sqlite"
        )
        == []
    )
    assert sorted(p.name for p in inbox.iterdir()) == ["ledger.sqlite", "watch.jsonl"]


def test_a_claim_across_file_systems_copies_then_renames(
    tmp_path: Path, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    inbox, outdir = tmp_path / "inbox", tmp_path / "out"
    data = interchange(2, seed=5, control=5, clean=True)
    drop(inbox, "far.837", data)
    rename = os.rename

    def across(src: str | Path, dst: str | Path) -> None:
        # The inbox is on another file system than OUTDIR: no rename between them.
        if (Path(src).parent == inbox) != (Path(dst).parent == inbox):
            raise OSError(errno.EXDEV, "Invalid cross-device link")
        rename(src, dst)

    inbox = inbox.resolve()
    monkeypatch.setattr(os, "rename", across)
    Layout(outdir).create()
    # A run killed mid-copy left its claim name in the inbox and a partial copy in work/.
    drop(inbox, "half.837", data.replace(b"000000005", b"000000006"))
    mark = folders.claim_mark(outdir.resolve())
    rename(inbox / "half.837", inbox / f".half.837{mark}")
    drop(outdir / "work", ".half.837.copying", b"ISA*00")

    handled = run_once(inbox, outdir, engine)

    assert sorted((h.file, h.status) for h in handled) == [
        ("far.837", "done"),
        ("half.837", "done"),
    ]
    assert sorted(p.name for p in inbox.iterdir()) == []
    assert (outdir / "archive" / today() / "far.837").read_bytes() == data
    assert list((outdir / "work").iterdir()) == []


# -- the command ----------------------------------------------------------------------------------


def watch_process(inbox: Path, outdir: Path, *extra: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "edi837", "watch", str(inbox), "--out", str(outdir), *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def wait_for(path: Path, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} did not appear"
        time.sleep(0.05)


@pytest.mark.parametrize("mode", [[], ["--poll", "0.1"]], ids=["events", "polling"])
def test_watch_takes_files_as_they_arrive_and_stops_on_sigterm(
    tmp_path: Path, mode: list[str]
) -> None:
    inbox, outdir = tmp_path / "inbox", tmp_path / "out"
    inbox.mkdir()
    process = watch_process(inbox, outdir, "--settle", "0.3", *mode)
    try:
        wait_for(outdir / "work")
        # A sender that uploads under a temporary name and renames when done ...
        renamed = interchange(3, seed=1, control=1, clean=True)
        drop(inbox, ".renamed.837.upload", renamed)
        os.rename(inbox / ".renamed.837.upload", inbox / "renamed.837")
        # ... and one that writes in place, slowly: never taken half-way.
        slow = interchange(5, seed=2, control=2, clean=True)
        with open(inbox / "slow.837", "wb") as handle:
            for start in range(0, len(slow), len(slow) // 4):
                handle.write(slow[start : start + len(slow) // 4])
                handle.flush()
                time.sleep(0.15)
        archive = outdir / "archive" / today()
        wait_for(archive / "renamed.837")
        wait_for(archive / "slow.837")
    finally:
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert (archive / "slow.837").read_bytes() == slow
    assert (archive / "renamed.837").read_bytes() == renamed
    lines = err.decode().splitlines()
    assert any(line.startswith("edi837: slow.837: done, 5 claims") for line in lines), lines


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_stop_signal_finishes_the_current_file_then_exits_0(
    tmp_path: Path, stop: signal.Signals
) -> None:
    inbox, outdir, log = tmp_path / "inbox", tmp_path / "out", tmp_path / "watch.log"
    files = {f"f{n:02d}.837": interchange(40, seed=n, control=n, clean=True) for n in range(20)}
    for name, data in files.items():
        drop(inbox, name, data)
    process = watch_process(inbox, outdir, "--settle", "0", "--log-file", str(log))
    deadline = time.monotonic() + 30
    while not (log.exists() and log.read_text()):
        assert time.monotonic() < deadline, "no file was processed"
        time.sleep(0.01)
    process.send_signal(stop)
    _, err = process.communicate(timeout=60)

    assert process.returncode == 0, err
    assert list((outdir / "work").iterdir()) == []
    archived = {p.name for p in (outdir / "archive" / today()).iterdir()}
    assert archived and archived | {p.name for p in inbox.iterdir()} == set(files)
    assert len(archived) < len(files)  # it stopped instead of emptying the inbox
    assert {json.loads(line)["file"] for line in log.read_text().splitlines()} == archived


def test_a_second_run_exits_0_while_another_holds_the_lock(tmp_path: Path) -> None:
    inbox, outdir = tmp_path / "inbox", tmp_path / "out"
    drop(inbox, "a.837", (SAMPLES / "clean-injection.837").read_bytes())
    outdir.mkdir()
    with open(outdir / ".lock", "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        result = CliRunner().invoke(main, ["watch", str(inbox), "--out", str(outdir), "--once"])
    assert result.exit_code == 0
    assert result.stderr.count("\n") == 1
    assert "another run holds the lock" in result.stderr
    assert (inbox / "a.837").exists()


def test_a_missing_inbox_is_one_line_and_exit_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["watch", str(tmp_path / "nowhere"), "--out", str(tmp_path / "out"), "--once"]
    )
    assert result.exit_code == 2
    assert "inbox folder not found" in result.stderr and "Traceback" not in result.output


def test_no_patient_data_in_the_log_or_on_stderr(tmp_path: Path) -> None:
    inbox, outdir, log = tmp_path / "inbox", tmp_path / "out", tmp_path / "watch.log"
    inputs = {
        "a.837": interchange(20, seed=11, control=11, clean=False),
        "b.837": interchange(20, seed=12, control=12, clean=False),
        "dup.837": interchange(5, seed=13, control=11, clean=False),
    }
    good = inputs["a.837"]
    # Not X12: it begins with a patient's name segment, which the reader would quote.
    start = good.index(b"NM1*IL")
    inputs["names.837"] = good[start:]
    inputs["cut.837"] = good[: good.index(b"SE*")]
    for name, data in inputs.items():
        drop(inbox, name, data)
    result = CliRunner().invoke(
        main,
        ["watch", str(inbox), "--out", str(outdir), "--once", "--settle", "0"]
        + ["--truncated-after", "0", "--log-file", str(log)],
    )
    assert result.exit_code == 0, result.output
    entries = [json.loads(line) for line in log.read_text().splitlines()]
    assert sorted(e["status"] for e in entries) == ["done", "done", "duplicate", "error", "error"]
    reasons = "".join(p.read_text() for p in outdir.rglob("*.reason.txt"))
    assert_no_patient_data(log.read_text() + result.stderr + reasons, inputs | {"x": good})
    for entry in entries:
        assert set(entry) >= {"time", "file", "sha256", "status", "claims", "findings", "codes"}
        assert entry["sha256"] in (None, sha(inputs[entry["file"]]))


def test_the_cron_line_and_the_service_unit_use_real_options() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    unit = (ROOT / "docs" / "edi837-watch.service").read_text(encoding="utf-8")
    cron = next(line for line in readme.splitlines() if line.startswith("*/5 * * * *"))
    service = next(line for line in unit.splitlines() if line.startswith("ExecStart="))
    for command in (cron.split()[5:], service.removeprefix("ExecStart=").split()):
        assert command[0].endswith("/edi837") and command[1] == "watch", command
        context = watch.make_context("watch", command[2:])
        assert context.params["inbox"] == Path("/srv/edi/inbox")
        assert context.params["outdir"] == Path("/srv/edi/out")
    assert "--once" in cron and "--once" not in service


def test_two_watchers_on_one_inbox_never_take_the_same_file(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    files = {f"f{n:02d}.837": interchange(5, seed=n, control=n, clean=True) for n in range(40)}
    for name, data in files.items():
        drop(inbox, name, data)
    outdirs = [tmp_path / "east", tmp_path / "west"]
    runs = [watch_process(inbox, out, "--once", "--settle", "0", "-q") for out in outdirs]
    for run in runs:
        _, err = run.communicate(timeout=120)
        assert run.returncode == 0, err
    taken = [
        {p.name for p in (out / "archive").rglob("*.837")} if (out / "archive").is_dir() else set()
        for out in outdirs
    ]
    assert taken[0].isdisjoint(taken[1])
    assert taken[0] | taken[1] == set(files)
    assert list(inbox.iterdir()) == []

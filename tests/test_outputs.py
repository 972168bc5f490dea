"""Where outputs land: atomic replacement, write-through, links, permission bits, temporaries.

Regular files are replaced atomically, devices and FIFOs written through, links kept,
permission bits carried over, and temporaries named so that no watcher takes them for input.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from edi837.x12 import writer
from edi837.x12.writer import (
    TEMP_MARK,
    atomic_output,
    is_stale,
    spool,
    sweep_stale,
    temporary_name,
    writes_through,
)


def test_a_fifo_target_is_written_through_to_its_reader(tmp_path: Path) -> None:
    fifo = tmp_path / "report.fifo"
    os.mkfifo(fifo)
    received: list[bytes] = []

    def read() -> None:
        with open(fifo, "rb") as handle:
            received.append(handle.read())

    reader = threading.Thread(target=read)
    reader.start()
    with atomic_output(fifo) as out:
        out.write(b"ISA*00~")
    reader.join(timeout=10)
    assert received == [b"ISA*00~"]
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode), "the FIFO was replaced"
    assert [p.name for p in tmp_path.iterdir()] == ["report.fifo"]


def test_a_link_to_dev_null_stays_a_link_to_a_character_device(tmp_path: Path) -> None:
    link = tmp_path / "null"
    link.symlink_to("/dev/null")
    with atomic_output(link) as out:
        out.write(b"findings")
    assert link.is_symlink() and os.readlink(link) == "/dev/null"
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)
    assert [p.name for p in tmp_path.iterdir()] == ["null"]


def test_dev_stdout_is_written_through_not_replaced(tmp_path: Path) -> None:
    script = (
        "from pathlib import Path\n"
        "from edi837.x12.writer import atomic_output\n"
        "with atomic_output(Path('/dev/stdout')) as out:\n"
        "    out.write(b'to standard output')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, cwd=tmp_path, check=True
    )
    assert done.stdout == b"to standard output"
    assert writes_through(Path("/dev/stdout")) or not Path("/dev/stdout").exists()


def test_a_link_to_a_regular_file_replaces_the_file_and_keeps_the_link(tmp_path: Path) -> None:
    real = tmp_path / "data" / "claims.837"
    real.parent.mkdir()
    real.write_bytes(b"old")
    link = tmp_path / "claims.837"
    link.symlink_to(real)
    with atomic_output(link) as out:
        out.write(b"new")
    assert link.is_symlink()
    assert real.read_bytes() == b"new"
    assert sorted(p.name for p in real.parent.iterdir()) == ["claims.837"]


def test_a_regular_file_is_replaced_only_when_complete(tmp_path: Path) -> None:
    target = tmp_path / "out.837"
    target.write_bytes(b"before")
    with pytest.raises(RuntimeError), atomic_output(target) as out:
        out.write(b"half")
        raise RuntimeError("killed mid-write")
    assert target.read_bytes() == b"before"
    assert [p.name for p in tmp_path.iterdir()] == ["out.837"]


def test_derived_file_keeps_the_permission_bits_of_its_source(tmp_path: Path) -> None:
    source = tmp_path / "claims.837"
    source.write_bytes(b"ISA")
    source.chmod(0o600)
    derived = tmp_path / "claims.fixed.837"
    with atomic_output(derived, like=source) as out:
        out.write(b"ISA")
    assert stat.S_IMODE(derived.stat().st_mode) == 0o600
    existing = tmp_path / "report.html"
    existing.write_bytes(b"")
    existing.chmod(0o644)
    with atomic_output(existing, like=source) as out:
        out.write(b"<html>")
    assert stat.S_IMODE(existing.stat().st_mode) == 0o600


def test_temporary_names_match_no_input_pattern() -> None:
    name = temporary_name("claims.837")
    assert name.startswith(".claims.837" + TEMP_MARK)
    for suffix in (".837", ".x12", ".edi", ".txt", ".tmp"):
        assert not name.endswith(suffix)


def test_the_log_is_written_before_the_output_is_published(tmp_path: Path) -> None:
    target = tmp_path / "fixed.837"
    seen: list[bool] = []

    def log() -> None:
        seen.append(target.exists())
        (tmp_path / "fixed.log").write_text("[]")

    with atomic_output(target, before_publish=log) as out:
        out.write(b"ISA")
    assert seen == [False]
    assert target.read_bytes() == b"ISA"


def test_a_failing_log_leaves_the_target_as_it_was(tmp_path: Path) -> None:
    target = tmp_path / "fixed.837"
    target.write_bytes(b"old")

    def log() -> None:
        raise OSError("disk full")

    with pytest.raises(OSError), atomic_output(target, before_publish=log) as out:
        out.write(b"new")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["fixed.837"]


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_a_killed_runs_temporary_is_swept_by_the_next_run(tmp_path: Path) -> None:
    name = temporary_name("claims.837")
    host, _, rest = name.rpartition(TEMP_MARK)[2].partition("-")
    leftover = tmp_path / f".claims.837{TEMP_MARK}{host}-{_dead_pid()}-{rest.split('-')[1]}"
    leftover.write_bytes(b"x" * 100)
    live = tmp_path / name  # this process's own, still being written
    live.write_bytes(b"y")
    unrelated = tmp_path / ".claims.837.tmp"
    unrelated.write_bytes(b"z")
    assert is_stale(leftover) and not is_stale(live)
    writer._swept.discard(os.path.abspath(tmp_path))
    with atomic_output(tmp_path / "claims.837") as out:
        out.write(b"ISA")
    assert not leftover.exists()
    assert live.exists() and unrelated.exists()


def test_an_old_temporary_of_another_host_is_stale(tmp_path: Path) -> None:
    other = tmp_path / f".a.837{TEMP_MARK}ffffffff-1-0000abcd"
    other.write_bytes(b"")
    assert not is_stale(other)
    old = time.time() - writer.STALE_AFTER_SECONDS - 5
    os.utime(other, (old, old))
    assert is_stale(other)
    assert sweep_stale(tmp_path, force=True) == [other]


def test_spool_copies_a_stream_to_a_private_temporary(tmp_path: Path) -> None:
    read, write = os.pipe()
    os.write(write, b"ISA*00~")
    os.close(write)
    with os.fdopen(read, "rb") as stream:
        path = spool(stream, tmp_path)
    try:
        assert path.read_bytes() == b"ISA*00~"
        assert TEMP_MARK in path.name and not path.name.endswith(".837")
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    finally:
        path.unlink()


def test_dev_stdout_onto_a_file_keeps_what_the_file_already_holds(tmp_path: Path) -> None:
    script = (
        "from pathlib import Path\n"
        "from edi837.x12.writer import atomic_output\n"
        "with atomic_output(Path('/dev/stdout')) as out:\n"
        "    out.write(b'report')\n"
    )
    log = tmp_path / "log.txt"
    log.write_bytes(b"earlier\n")
    with log.open("ab") as handle:
        subprocess.run([sys.executable, "-c", script], stdout=handle, cwd=tmp_path, check=True)
    assert log.read_bytes() == b"earlier\nreport"
    assert [p.name for p in tmp_path.iterdir()] == ["log.txt"]

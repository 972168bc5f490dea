"""The watcher's folders, and how a file moves through them without being lost or doubled.

Owns the layout under ``OUTDIR`` (``work/``, ``outbox/``, ``archive/YYYY-MM-DD/``, ``errors/``,
``duplicates/``), the tests a file in the inbox must pass before it is taken (a name that is
not a sender's temporary, a size and modification time that have stopped changing, an
interchange whose IEA closes the last ISA), and every move: the claim into ``work/`` and the
final move out of it. Each move is one ``rename`` (atomic on POSIX), followed by an fsync of
the folders so that it survives a power cut as well as a crash; across file systems (EXDEV) the
file is first renamed to a hidden claim name inside the inbox, then copied, fsynced, renamed into
``work/`` and unlinked, and a restart finishes whichever step was interrupted.

``OUTDIR`` belongs to the watcher that holds its lock: a hidden file in its folders is a
temporary left by a run that was killed, and is removed on start.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import fnmatch
import hashlib
import os
import re
import shutil
import stat
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from edi837.x12.writer import atomic_output

#: Names a sender uses while a file is still being written (rsync and scp ``.name.XXXX``,
#: browsers ``.part``, WinSCP ``.filepart``, Office lock files ``~$name``): never taken.
TEMPORARY_NAMES = (".*", "*.tmp", "*.part", "*.filepart", "~$*")

#: What the checker writes per input: ``NAME`` plus one of these (``--outputs``, ``--ack``).
OUTPUT_SUFFIXES = (
    ".report.json",
    ".accepted.837",
    ".rejected.837",
    ".fixed.837",
    ".annotated.txt",
    ".ta1",
    ".999",
    ".277ca",
)

REASON_SUFFIX = ".reason.txt"
_CLAIM_MARK = ".edi837-claim-"


def looks_temporary(name: str) -> bool:
    """True for a name that a sender uses while it is still writing (case-insensitive)."""
    lowered = name.lower()
    return any(fnmatch.fnmatchcase(lowered, pattern) for pattern in TEMPORARY_NAMES)


@dataclass(frozen=True)
class Layout:
    """The folders under ``OUTDIR``."""

    root: Path

    @property
    def work(self) -> Path:
        """Files claimed and being processed (at most one, plus what a crash left)."""
        return self.root / "work"

    @property
    def outbox(self) -> Path:
        """The outputs: ``NAME.report.json``, ``NAME.accepted.837`` and the others."""
        return self.root / "outbox"

    @property
    def archive_root(self) -> Path:
        """Processed originals, by day."""
        return self.root / "archive"

    @property
    def errors(self) -> Path:
        """Files that could not be read, each with ``NAME.reason.txt``."""
        return self.root / "errors"

    @property
    def duplicates(self) -> Path:
        """Files whose content or interchange was already processed, with ``NAME.reason.txt``."""
        return self.root / "duplicates"

    @property
    def lock(self) -> Path:
        """The file locked (``flock``) by the one run that owns ``OUTDIR``."""
        return self.root / ".lock"

    def archive(self, day: dt.date) -> Path:
        """The archive folder of one day (``archive/YYYY-MM-DD``)."""
        return self.archive_root / day.isoformat()

    def create(self) -> None:
        """Create the folders that are missing."""
        for folder in (self.work, self.outbox, self.archive_root, self.errors, self.duplicates):
            folder.mkdir(parents=True, exist_ok=True)

    def own_folders(self) -> Iterator[Path]:
        """Every folder under ``OUTDIR`` the watcher writes to."""
        yield from (self.work, self.outbox, self.errors, self.duplicates)
        if self.archive_root.is_dir():
            yield self.archive_root
            yield from sorted(p for p in self.archive_root.iterdir() if p.is_dir())

    def sweep_temporaries(self) -> list[Path]:
        """Remove the hidden temporaries a killed run left in the watcher's folders.

        Only the lock holder calls this, so no writer can still be using them. The outputs
        they were to become are written again when their input is processed again.
        """
        removed = []
        for folder in self.own_folders():
            for entry in os.scandir(folder):
                if entry.name.startswith(".") and entry.is_file(follow_symlinks=False):
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(entry.path)
                        removed.append(Path(entry.path))
        if removed:
            for folder in {p.parent for p in removed}:
                fsync_folder(folder)
        return removed

    def name_in_use(self, name: str, today: dt.date) -> bool:
        """True when a file called ``name`` would collide with one already handled.

        Outputs are named after the input (``NAME.report.json``), so a second ``claims.837``
        (or a ``claims.edi``) must not take the first one's outputs or archive place.
        """
        stem = output_stem(name)
        if any((self.outbox / (stem + suffix)).exists() for suffix in OUTPUT_SUFFIXES):
            return True
        return any(
            (folder / name).exists()
            for folder in (self.work, self.errors, self.duplicates, self.archive(today))
        )

    def free_name(self, name: str, today: dt.date) -> str:
        """``name``, or ``STEM-2.EXT``, ``STEM-3.EXT`` … when it is in use."""
        if not self.name_in_use(name, today):
            return name
        stem, suffix = _split_suffix(name)
        for number in range(2, 100_000):
            candidate = f"{stem}-{number}{suffix}"
            if not self.name_in_use(candidate, today):
                return candidate
        raise OSError(errno.EEXIST, "no free name left", name)


def output_stem(name: str) -> str:
    """The base name of a file's outputs: its name without the last extension."""
    return _split_suffix(name)[0]


def _split_suffix(name: str) -> tuple[str, str]:
    stem, dot, ext = name.rpartition(".")
    if not dot or not stem:
        return name, ""
    return stem, "." + ext


# -- settling -----------------------------------------------------------------------------------


@dataclass
class _Seen:
    size: int
    mtime_ns: int
    since: float


@dataclass
class Settler:
    """Which inbox files have stopped changing for ``settle`` seconds.

    The quiet period is measured from when this process first saw the current size and
    modification time, never from the modification time itself: a copy keeps its source's
    mtime, so an old mtime says nothing about whether the copy has finished.
    """

    settle: float
    clock: Callable[[], float] = time.monotonic
    _seen: dict[str, _Seen] = field(default_factory=dict)

    def observe(self, entries: dict[str, os.stat_result]) -> None:
        """Record a scan of the inbox (names that are gone are forgotten)."""
        now = self.clock()
        for name in list(self._seen):
            if name not in entries:
                del self._seen[name]
        for name, st in entries.items():
            seen = self._seen.get(name)
            if seen is None or (seen.size, seen.mtime_ns) != (st.st_size, st.st_mtime_ns):
                self._seen[name] = _Seen(st.st_size, st.st_mtime_ns, now)

    def ready(self) -> list[str]:
        """The names that have been quiet long enough and are not empty, oldest first."""
        now = self.clock()
        quiet = [
            (seen.since, name)
            for name, seen in self._seen.items()
            if seen.size > 0 and now - seen.since >= self.settle
        ]
        return [name for _, name in sorted(quiet)]

    def waiting(self) -> float | None:
        """Seconds until the next non-empty file settles, or None when none is pending."""
        now = self.clock()
        due = [
            seen.since + self.settle - now
            for seen in self._seen.values()
            if seen.size > 0 and now - seen.since < self.settle
        ]
        return max(0.0, min(due)) if due else None

    def still(self, name: str, st: os.stat_result) -> bool:
        """True when ``st`` is the size and time the quiet period was measured on."""
        seen = self._seen.get(name)
        return seen is not None and (seen.size, seen.mtime_ns) == (st.st_size, st.st_mtime_ns)

    def forget(self, name: str) -> None:
        """Stop tracking a name (it was taken)."""
        self._seen.pop(name, None)


def scan_inbox(inbox: Path) -> dict[str, os.stat_result]:
    """The regular files of the inbox that may be taken, by name (temporary names left out).

    Symbolic links and folders are left alone: renaming a link would move the link, not the
    file, and sub-folders belong to whoever made them.
    """
    found: dict[str, os.stat_result] = {}
    try:
        entries = list(os.scandir(inbox))
    except FileNotFoundError:
        return found
    for entry in entries:
        if looks_temporary(entry.name):
            continue
        try:
            st = entry.stat(follow_symlinks=False)
        except FileNotFoundError:
            continue
        if stat.S_ISREG(st.st_mode):
            found[entry.name] = st
    return found


# -- is the interchange complete? ---------------------------------------------------------------

_ISA_LENGTH = 106
#: Offsets of the element separators in the fixed-width ISA (ISA01..ISA16 have fixed sizes).
_ISA_SEPARATORS = (3, 6, 17, 20, 31, 34, 50, 53, 69, 76, 81, 83, 89, 99, 101, 103)
_TAIL = 4096
_CHUNK = 1 << 20
_BOM = b"\xef\xbb\xbf"
#: The last segment of a complete interchange: IEA*count*control, its terminator, white space.
_IEA_AT_END = re.compile(rb"IEA(\W)\d{1,5}\1(\d{9})[^\w\s]?\s*\Z")


def interchange_closed(path: Path) -> bool | None:
    """Whether the file ends with the IEA that closes its last interchange.

    True: the last segment is an IEA whose IEA02 equals the ISA13 of the last ISA (the sender
    has finished writing). False: it begins as X12 but that IEA is missing (still being
    written, or truncated). None: it does not begin with an ISA at all, so no trailer can be
    expected; the checker says what is wrong with it. Each interchange of a concatenated file
    is read with its own separators.
    """
    with open(path, "rb") as handle:
        head = handle.read(_ISA_LENGTH + 64).removeprefix(_BOM).lstrip()
        if not head.startswith(b"ISA"):
            return None
        size = os.fstat(handle.fileno()).st_size
        handle.seek(max(0, size - _TAIL))
        ending = _IEA_AT_END.search(handle.read())
        if ending is None:
            return False
        return _last_isa13(handle, size) == ending.group(2)


def _isa13(block: bytes, start: int) -> bytes | None:
    """ISA13 of the ISA at ``start``, if an ISA of the fixed layout really begins there."""
    segment = block[start : start + _ISA_LENGTH]
    if len(segment) < _ISA_LENGTH - 1:
        return None
    separator = segment[3:4]
    if any(segment[i : i + 1] != separator for i in _ISA_SEPARATORS):
        return None  # "ISA" inside data (a name such as LISA), not a segment
    control = segment[90:99]
    return control if control.isdigit() else None


def _last_isa13(handle: BinaryIO, size: int) -> bytes | None:
    """ISA13 of the last ISA segment, read backwards in chunks from the end of the file."""
    end = size
    while end > 0:
        start = max(0, end - _CHUNK)
        handle.seek(start)
        block = handle.read(end - start + _ISA_LENGTH)
        at = len(block)
        while (at := block.rfind(b"ISA", 0, at)) >= 0:
            control = _isa13(block, at)
            if control is not None:
                return control
        if start == 0:
            return None
        end = start + len(b"ISA")
    return None


# -- moves --------------------------------------------------------------------------------------


def fsync_folder(folder: Path) -> None:
    """Make a rename in ``folder`` durable (where the file system allows it)."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def sha256_of(path: Path) -> str:
    """The hex SHA-256 of a file's bytes (the ledger's key for its content)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def claim_mark(outdir: Path) -> str:
    """The mark of this ``OUTDIR`` in a hidden claim name, so a restart finds its own claims."""
    digest = hashlib.sha256(os.fsencode(os.path.realpath(outdir))).hexdigest()[:12]
    return f"{_CLAIM_MARK}{digest}"


def claim(source: Path, work: Path, name: str, mark: str) -> Path | None:
    """Take ``source`` into ``work/name``; None when it is gone (another watcher took it).

    On one file system this is a single rename: whichever watcher renames first owns the
    file, the other gets ENOENT. Across file systems the file is first renamed to a hidden
    name in the inbox (the same exclusive step), then copied.
    """
    target = work / name
    try:
        os.rename(source, target)
    except FileNotFoundError:
        return None
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
        hidden = source.with_name(f".{source.name}{mark}")
        try:
            os.rename(source, hidden)
        except FileNotFoundError:
            return None
        fsync_folder(source.parent)
        return copy_claimed(hidden, target)
    fsync_folder(work)
    fsync_folder(source.parent)
    return target


def copy_claimed(hidden: Path, target: Path) -> Path:
    """Finish a claim across file systems: copy, fsync, rename into ``work/``, unlink."""
    partial = target.with_name(f".{target.name}.copying")
    with open(hidden, "rb") as src, open(partial, "wb") as dst:
        shutil.copyfileobj(src, dst, 1 << 20)
        dst.flush()
        os.fsync(dst.fileno())
    shutil.copystat(hidden, partial)
    os.rename(partial, target)
    fsync_folder(target.parent)
    os.unlink(hidden)
    fsync_folder(hidden.parent)
    return target


def unfinished_claims(inbox: Path, mark: str) -> list[Path]:
    """Hidden claim names of this ``OUTDIR`` left in the inbox by a run that was killed."""
    try:
        return sorted(
            inbox / entry.name
            for entry in os.scandir(inbox)
            if entry.name.startswith(".") and entry.name.endswith(mark)
        )
    except FileNotFoundError:
        return []


def original_name(hidden: Path, mark: str) -> str:
    """The inbox name a hidden claim name was made from."""
    return hidden.name[1 : -len(mark)]


def destination(path: Path, folder: Path) -> Path:
    """Where ``path`` goes in ``folder``: under its name, or ``STEM-2.EXT`` … if that is taken."""
    target = folder / path.name
    stem, suffix = _split_suffix(path.name)
    number = 1
    while target.exists():
        number += 1
        target = folder / f"{stem}-{number}{suffix}"
    return target


def move(path: Path, target: Path, reason: str | None = None) -> Path:
    """Move ``path`` to ``target`` (from :func:`destination`) by one rename.

    With ``reason``, ``NAME.reason.txt`` is written (atomically) before the move: a crash in
    between leaves the file in ``work/``, and processing it again rewrites the same reason.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    if reason is not None:
        with atomic_output(reason_path(target)) as handle:
            handle.write((reason.rstrip("\n") + "\n").encode("utf-8"))
    os.rename(path, target)
    fsync_folder(target.parent)
    fsync_folder(path.parent)
    return target


def reason_path(moved: Path) -> Path:
    """Where the reason for a file in ``errors/`` or ``duplicates/`` is written."""
    return moved.with_name(moved.name + REASON_SUFFIX)

"""Writing segments back out: byte-exact serialisation and safe file output.

The writer is the mirror of :class:`~edi837.x12.reader.SegmentReader`: it writes each segment's
lead, text and terminator in the input's encoding (with its byte order mark), so writing the
segments of a file unchanged reproduces the file byte for byte. A new segment (one the fixer
inserts) takes the layout of its neighbour.

:func:`atomic_output` is how every command writes a file. What it does depends on the target:

- **nothing there, or a regular file**: a temporary file in the target's folder, flushed and
  fsynced, then renamed over the target, so a crash never leaves half a file;
- **a symbolic link**: the link is resolved first and the file it points at is replaced the same
  way, next to it; the link itself stays a link;
- **anything else that exists** (a character device such as ``/dev/null``, a FIFO, a socket, a
  terminal, ``/dev/stdout`` or ``/proc/self/fd/N``): written through, opened and written in
  place, never renamed over: replacing ``/dev/null`` with a regular file would break every
  program on the machine that reads it, and a FIFO's reader would never see the data.

Temporary files are named ``.NAME.edi837-tmp-HOST-PID-RANDOM``: hidden, and ending in neither
``.837`` nor any other extension, so no input pattern (``*.837``, ``*.x12``, ``*.txt``) of a
folder watcher matches them. A process killed mid-write leaves one behind; the next
:func:`atomic_output` or :func:`spool` in that folder removes it once it is stale (see
:func:`sweep_stale`).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
import shutil
import socket
import stat
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

from edi837.x12.segment import Segment

_FLUSH_AT = 256 * 1024


class SegmentWriter:
    """Serialise segments to a binary stream in a given encoding."""

    def __init__(self, out: BinaryIO, codec: str = "latin-1", bom: bytes = b"") -> None:
        self.out = out
        self.codec = codec
        self._parts: list[str] = []
        self._size = 0
        if bom:
            out.write(bom)

    def write_text(self, text: str) -> None:
        """Write raw text (a segment's lead, text and terminator, or the file's tail)."""
        self._parts.append(text)
        self._size += len(text)
        if self._size >= _FLUSH_AT:
            self.flush()

    def write(self, segment: Segment) -> None:
        """Write one segment exactly as it was read (or as an edit left it)."""
        self.write_text(segment.lead + segment.text + segment.term)

    def flush(self) -> None:
        """Encode and write what is buffered."""
        if self._parts:
            self.out.write("".join(self._parts).encode(self.codec))
            self._parts.clear()
            self._size = 0

    def close(self, tail: str = "") -> None:
        """Write the file's tail (what followed the last segment) and flush."""
        if tail:
            self.write_text(tail)
        self.flush()


#: Marks every temporary file this package writes; no input pattern ends like this.
TEMP_MARK = ".edi837-tmp-"

#: A temporary file whose writer cannot be shown to be alive is removed when it has not been
#: written to for this long. A writer on this host that has died is detected at once (its
#: process id is gone); the age is for temporaries of other hosts sharing the folder (NFS),
#: whose process ids mean nothing here, and for a process id reused since. A live writer
#: touches its file at least every flush, far more often than this.
STALE_AFTER_SECONDS = 60 * 60

_HOST = hashlib.sha256(socket.gethostname().encode("utf-8", "replace")).hexdigest()[:8]
_swept: set[str] = set()


def temporary_name(name: str) -> str:
    """A temporary name for output ``name``: hidden, unmatched by input patterns, ours.

    The host and process id in the name let :func:`sweep_stale` tell a dead writer's leftover
    from a live writer's file.
    """
    return f".{name}{TEMP_MARK}{_HOST}-{os.getpid()}-{secrets.token_hex(4)}"


def create_temporary(folder: Path, name: str) -> tuple[int, Path]:
    """Create (exclusively, mode 0600) a temporary file for ``name`` in ``folder``.

    Returns the open descriptor and the path. Stale temporaries of that folder are removed first.
    """
    sweep_stale(folder)
    for _ in range(100):
        path = folder / temporary_name(name)
        try:
            fd = os.open(
                path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o600
            )
        except FileExistsError:
            continue
        return fd, path
    raise FileExistsError(f"{folder}: cannot create a temporary file for {name}")


def _writer_alive(host: str, pid: int) -> bool | None:
    """Whether the process that made a temporary lives; ``None`` when this host cannot tell."""
    if host != _HOST:
        return None
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # alive, owned by someone else
    except OSError:
        return None
    return True


def is_stale(path: Path, now: float | None = None) -> bool:
    """True when ``path`` is a temporary of ours whose writer is gone.

    Stale means: made on this host by a process that no longer exists, or not written to for
    :data:`STALE_AFTER_SECONDS` (another host's leftover, or a reused process id).
    """
    name = path.name
    index = name.rfind(TEMP_MARK)
    if not name.startswith(".") or index < 0:
        return False
    parts = name[index + len(TEMP_MARK) :].split("-")
    if len(parts) != 3 or not parts[1].isdecimal():
        return False
    try:
        age = (time.time() if now is None else now) - path.lstat().st_mtime
    except FileNotFoundError:
        return False
    if age >= STALE_AFTER_SECONDS:
        return True
    return _writer_alive(parts[0], int(parts[1])) is False


def sweep_stale(folder: Path, force: bool = False) -> list[Path]:
    """Remove the stale temporaries (:func:`is_stale`) of ``folder``; return what was removed.

    Runs once per folder per process (``force``: again); a folder that cannot be listed is
    left alone, since the write that follows reports the real problem.
    """
    key = os.path.abspath(folder)
    if key in _swept and not force:
        return []
    _swept.add(key)
    removed: list[Path] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    now = time.time()
    for entry in entries:
        if TEMP_MARK not in entry.name or not entry.name.startswith("."):
            continue
        path = Path(entry.path)
        if is_stale(path, now):
            with contextlib.suppress(FileNotFoundError, PermissionError):
                path.unlink()
                removed.append(path)
    return removed


def _through_proc(target: Path) -> bool:
    """True when ``target`` leads through ``/proc/.../fd`` or ``/dev/fd`` (a descriptor).

    Those links name an open descriptor (``/dev/stdout``); resolving them gives a path another
    process may hold open at a different offset, so they are written through, never replaced.
    """
    current = str(target)
    for _ in range(40):
        absolute = os.path.abspath(current)
        if absolute.startswith(("/proc/", "/dev/fd/")):
            return True
        try:
            link = os.readlink(absolute)
        except OSError:
            return False
        current = os.path.join(os.path.dirname(absolute), link)
    return False


def writes_through(target: Path) -> bool:
    """True when output to ``target`` is written in place instead of renamed over it.

    That is when ``target`` exists (after following links) and is not a regular file: a device,
    a FIFO, a socket, a terminal, or an open descriptor named through ``/proc`` or ``/dev/fd``.
    """
    try:
        mode = os.stat(target).st_mode
    except (FileNotFoundError, NotADirectoryError):
        return False
    if stat.S_ISDIR(mode):
        return False  # the open fails and says so
    return not stat.S_ISREG(mode) or _through_proc(Path(target))


def _default_mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


@contextlib.contextmanager
def atomic_output(
    target: Path,
    mode: int | None = None,
    *,
    like: Path | str | None = None,
    before_publish: Callable[[], None] | None = None,
) -> Iterator[BinaryIO]:
    """Yield a binary file that becomes ``target`` only once it is complete and on disk.

    Args:
        target: the output path (see the module docstring for links, devices and FIFOs).
        mode: permission bits for the output; wins over everything else.
        like: a file whose permission bits the output takes (a derived file of a patient-data
            input is as private as its input); ignored when it cannot be read. Without
            ``mode`` or ``like``, an existing target keeps its bits and a new one gets
            0666 less the umask.
        before_publish: called after the data is on disk and before the rename that makes it
            visible (for example to write the log of what the output holds, so that no reader
            ever sees an output without its log). An exception there leaves the target as it
            was. For a written-through target it is called after the last write.

    On any error the temporary file is removed and the target is left as it was (a target
    written through may hold part of the output).
    """
    target = Path(target)
    if writes_through(target):
        # Append: the same as truncating for a device or a FIFO, and for a descriptor the
        # shell opened on a regular file (``-o /dev/stdout >> log``) it keeps what is there.
        with open(target, "ab") as handle:
            yield handle
            handle.flush()
        if before_publish is not None:
            before_publish()
        return
    final = Path(os.path.realpath(target)) if target.is_symlink() else target
    folder = final.parent if str(final.parent) else Path(".")
    fd, tmp = create_temporary(folder, final.name)
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, _mode_for(final, mode, like))
        if before_publish is not None:
            before_publish()
        os.replace(tmp, final)
        with contextlib.suppress(OSError):
            dir_fd = os.open(folder, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _mode_for(final: Path, mode: int | None, like: Path | str | None) -> int:
    """The permission bits of a new output: given, like a source, as before, or the default."""
    if mode is not None:
        return mode
    if like is not None:
        with contextlib.suppress(OSError):
            return os.stat(like).st_mode & 0o7777
    with contextlib.suppress(OSError):
        return final.stat().st_mode & 0o7777
    return _default_mode()


def spool(stream: BinaryIO, folder: Path, name: str = "stdin") -> Path:
    """Copy ``stream`` (standard input, a FIFO) to a temporary file in ``folder``.

    For commands that read their input more than once (``fix``, ``split``); the caller
    removes the file when done. The file is private (0600) and named like every temporary
    (:func:`temporary_name`), so a watcher never takes it for input and a killed run's copy is
    swept by the next run in that folder.
    """
    fd, path = create_temporary(Path(folder), name)
    try:
        with os.fdopen(fd, "wb") as out:
            shutil.copyfileobj(stream, out, 1 << 20)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path

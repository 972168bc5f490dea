"""Writing segments back out: byte-exact serialisation and atomic file replacement.

The writer is the mirror of :class:`~edi837.x12.reader.SegmentReader`: it writes each segment's
lead, text and terminator in the input's encoding (with its byte order mark), so writing the
segments of a file unchanged reproduces the file byte for byte. A new segment (one the fixer
inserts) takes the layout of its neighbour.

:func:`atomic_output` is how every command writes a file: a temporary file in the target folder,
flushed and fsynced, then renamed over the target, so a crash never leaves half a file.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
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


@contextlib.contextmanager
def atomic_output(target: Path, mode: int | None = None) -> Iterator[BinaryIO]:
    """Yield a binary file that replaces ``target`` only once it is complete and on disk.

    The temporary file lives in the target's folder so the final rename is atomic on POSIX.
    An existing target keeps its permissions. On any error the temporary file is removed and
    the target is left as it was.
    """
    target = Path(target)
    folder = target.parent if str(target.parent) else Path(".")
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        if mode is not None:
            os.chmod(tmp_name, mode)
        elif target.exists():
            os.chmod(tmp_name, target.stat().st_mode & 0o7777)
        else:
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp_name, 0o666 & ~umask)
        os.replace(tmp_name, target)
        with contextlib.suppress(OSError):
            dir_fd = os.open(folder, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise


def spool(stream: BinaryIO, folder: Path) -> Path:
    """Copy ``stream`` (standard input) to a temporary file in ``folder``.

    For commands that read their input more than once (``fix``, ``split``); the caller
    removes the file when done.
    """
    fd, name = tempfile.mkstemp(prefix=".edi837-input.", suffix=".837", dir=folder)
    with os.fdopen(fd, "wb") as out:
        shutil.copyfileobj(stream, out, 1 << 20)
    return Path(name)

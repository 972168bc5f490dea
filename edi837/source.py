"""Where an 837 input comes from, and the one place that turns its bytes into units.

A :class:`Source` wraps a path, ``-`` (standard input), bytes or an open binary stream. It
opens the input as many times as a command needs: a regular file is reopened by path, while
standard input, a FIFO, a character device or a stream that cannot seek is copied once into
an unnamed temporary file (so a second pass never waits on a pipe that is already drained,
and a kill leaves nothing behind). :meth:`Source.segments` and :meth:`Source.units` compose
the tokenizer, the loop tracker and the claim builder; every command, report and the library
read files through them, and the "this file holds no 837P" decision is made here once
(:class:`No837P`).
"""

from __future__ import annotations

import io
import os
import shutil
import stat
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO, cast

from edi837.x12.reader import SegmentReader, X12SyntaxError, open_source
from edi837.x12.segment import Segment
from edi837.x837p.builder import Summary, Unit, UnitReader

__all__ = ["No837P", "Origin", "SegmentStream", "Source", "UnitStream", "as_source"]

Origin = str | os.PathLike[str] | bytes | bytearray | memoryview | BinaryIO


class No837P(X12SyntaxError):
    """The input is X12 but holds no 837P (005010X222A1) transaction set at all.

    Transaction sets of another kind (835, 837I, 4010 837s) are skipped with a notice; a file
    with nothing else is bad input for every command (exit code 2).
    """

    def __init__(self, notices: list[str]) -> None:
        detail = f" ({'; '.join(notices)})" if notices else ""
        super().__init__(
            f"no 837P transaction in the file{detail}",
            hint="edi837 reads 837P professional claims (005010X222A1)",
        )
        self.notices = list(notices)


class SegmentStream:
    """The segments of one pass over a source, with the layout the writer needs.

    The encoding and byte order mark are known as soon as the stream exists (the first chunk
    has been read); :attr:`tail`, what followed the last segment, once it is exhausted.
    """

    def __init__(self, stream: BinaryIO, name: str) -> None:
        self.reader = SegmentReader(stream, name)
        self._segments = iter(self.reader)  # reads the first chunk: encoding and BOM

    def __iter__(self) -> Iterator[Segment]:
        return self._segments

    def __next__(self) -> Segment:
        return next(self._segments)

    @property
    def codec(self) -> str:
        """The Python codec that decodes the input (``latin-1`` for every 8-bit file)."""
        return self.reader.codec

    @property
    def encoding(self) -> str:
        """What the input was recognised as (``ascii``, ``utf-8``, ``utf-16-le`` ...)."""
        return self.reader.encoding

    @property
    def bom(self) -> bytes:
        """The input's byte order mark, written back before the first segment."""
        return self.reader.bom

    @property
    def tail(self) -> str:
        """What followed the last segment's terminator (usually a line break)."""
        return self.reader.tail

    @property
    def segments_read(self) -> int:
        """How many segments have been read so far."""
        return self.reader.segments_read


class UnitStream:
    """The units (claims and the segments between them) of one pass over a source.

    :attr:`summary` counts what was read; :meth:`require_837p`, called after the pass, raises
    :class:`No837P` for a file that held no 837P transaction set.
    """

    def __init__(self, segments: SegmentStream, observe: Callable[[Segment], None] | None) -> None:
        self.segments = segments
        feed: Iterator[Segment] = segments if observe is None else _observed(segments, observe)
        self._reader = UnitReader(feed)
        self.notices: list[str] = []

    def __iter__(self) -> Iterator[Unit]:
        for unit in self._reader:
            if unit.notice:
                self.notices.append(unit.notice)
            yield unit

    @property
    def summary(self) -> Summary:
        """Interchanges, transactions, claims, lines and skipped sets read so far."""
        return self._reader.summary

    def no_837p(self) -> No837P | None:
        """The :class:`No837P` outcome when the pass found only sets of other kinds."""
        summary = self._reader.summary
        if summary.transactions == 0 and summary.skipped:
            return No837P(self.notices)
        return None

    def require_837p(self) -> None:
        """Raise :class:`No837P` when the pass found only transaction sets of other kinds."""
        problem = self.no_837p()
        if problem is not None:
            raise problem


def _observed(segments: Iterator[Segment], observe: Callable[[Segment], None]) -> Iterator[Segment]:
    for segment in segments:
        observe(segment)
        yield segment


class Source:
    """An 837 input that can be read once or several times.

    Args:
        origin: a path (``-`` is standard input), the file's bytes, or a binary stream.
        name: how messages and reports name the input (default: the path, ``-`` or
            ``<bytes>``; a stream's ``name`` attribute when it has one).
        spool_dir: where a non-rereadable input is copied for a second pass (default: the
            system's temporary folder).
    """

    def __init__(
        self, origin: Origin, name: str | None = None, *, spool_dir: Path | None = None
    ) -> None:
        self.origin = origin
        self.spool_dir = spool_dir
        self._path: Path | None = None
        self._data: bytes | None = None
        self._stream: BinaryIO | None = None
        self._spool: BinaryIO | None = None
        self._opened = False
        self._start: int | None = None
        if isinstance(origin, (bytes, bytearray, memoryview)):
            self._data = bytes(origin)
            self.name = name or "<bytes>"
        elif isinstance(origin, (str, os.PathLike)):
            text = os.fspath(origin)
            self.name = name or text
            if text == "-":
                self._stream = sys.stdin.buffer
            else:
                self._path = Path(text)
        else:
            self._stream = origin
            self.name = name or str(getattr(origin, "name", "-"))

    # -- what it is

    @property
    def path(self) -> Path | None:
        """The file's path when the input is a named file (``None`` for stdin, bytes, streams)."""
        return self._path

    @property
    def is_stdin(self) -> bool:
        """True for ``-``."""
        return self._path is None and self._stream is sys.stdin.buffer

    def regular_path(self) -> Path | None:
        """The path when it names a regular file that can be reopened for another pass."""
        if self._path is None:
            return None
        try:
            return self._path if stat.S_ISREG(self._path.stat().st_mode) else None
        except OSError:
            return None

    def fingerprint(self) -> tuple[int, int] | None:
        """Size and modification time of a regular file, to notice it changing under a command."""
        path = self.regular_path()
        if path is None:
            return None
        info = path.stat()
        return info.st_size, info.st_mtime_ns

    # -- reading

    def open(self) -> BinaryIO:
        """A binary stream over the whole input from its first byte; the caller closes it.

        Each call starts a new pass. Raises :class:`X12SyntaxError` for a missing, unreadable
        or directory path.
        """
        if self._data is not None:
            return io.BytesIO(self._data)
        if self._path is not None and self.regular_path() is not None:
            return open_source(str(self._path))
        if self._spool is None and self._stream is not None:
            start = self._seekable_start()
            if start is not None:
                # A stream that can seek (a file redirected to standard input, a BytesIO) is
                # read again from where it started instead of being copied.
                self._stream.seek(start)
                self._opened = True
                return cast(BinaryIO, _Borrowed(self._stream))
        if self._spool is None:
            self._spool = self._make_spool()
        self._spool.seek(0)
        return cast(BinaryIO, _Borrowed(self._spool))

    def _seekable_start(self) -> int | None:
        if self._start is not None:
            return self._start
        if self._opened or self._stream is None:
            return None
        try:
            if self._stream.seekable():
                self._start = self._stream.tell()
        except (OSError, ValueError):
            return None
        return self._start

    def _make_spool(self) -> BinaryIO:
        """Copy a pipe, FIFO, device or stream once, so that every pass reads the same bytes."""
        if self._path is not None:
            stream = open_source(str(self._path))
            close = True
        else:
            assert self._stream is not None
            if self._opened and self._stream is sys.stdin.buffer:
                raise X12SyntaxError("standard input was already read")
            stream = self._stream
            close = False
        self._opened = True
        folder = str(self.spool_dir) if self.spool_dir is not None else None
        # An unnamed temporary file: no leftover even when the process is killed.
        spool = tempfile.TemporaryFile(dir=folder)  # noqa: SIM115 - closed by close()
        try:
            shutil.copyfileobj(stream, spool, 1 << 20)
        except BaseException:
            spool.close()
            raise
        finally:
            if close:
                stream.close()
        return spool

    def open_once(self) -> BinaryIO:
        """A stream for a command that reads the input only once: a pipe is read as it comes.

        Use :meth:`open` instead when another pass may follow.
        """
        if self._stream is not None and self._spool is None and not self._opened:
            self._opened = True
            return cast(BinaryIO, _Borrowed(self._stream, seekable=False))
        return self.open()

    def segments(self, stream: BinaryIO | None = None) -> SegmentStream:
        """The segments of one pass (over ``stream`` when given, else a new :meth:`open`)."""
        return SegmentStream(stream if stream is not None else self.open(), self.name)

    def units(
        self, stream: BinaryIO | None = None, observe: Callable[[Segment], None] | None = None
    ) -> UnitStream:
        """The units of one pass; ``observe`` sees every segment before the builder does."""
        return UnitStream(self.segments(stream), observe)

    def close(self) -> None:
        """Drop the spooled copy, if any."""
        if self._spool is not None:
            self._spool.close()
            self._spool = None

    def __enter__(self) -> Source:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Source({self.name!r})"


class _Borrowed(io.RawIOBase):
    """A read-only view of a stream that leaves it open when the pass closes its own."""

    def __init__(self, spool: BinaryIO, *, seekable: bool = True) -> None:
        super().__init__()
        self._spool = spool
        self._seekable = seekable

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return self._seekable

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._spool.seek(offset, whence)

    def tell(self) -> int:
        return self._spool.tell()

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self._spool.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def read(self, size: int = -1) -> bytes:
        return self._spool.read(size)


def as_source(origin: Origin | Source, name: str | None = None) -> Source:
    """``origin`` as a :class:`Source` (a source is returned as it is)."""
    return origin if isinstance(origin, Source) else Source(origin, name)

"""Streaming X12 tokenizer: bytes in, :class:`~edi837.x12.segment.Segment` objects out.

The reader never holds the whole file: it decodes fixed-size chunks and yields one segment at a
time, each with its 1-based ordinal, byte offset and line number. Delimiters are read from each
ISA as it arrives (element separator at ISA offset 3, repetition separator ISA11 from version
00501 on, component separator ISA16, terminator right after it), so a file of concatenated
interchanges with different delimiters is read correctly.

Encodings: 8-bit files (ASCII, Latin-1, UTF-8 with or without a byte order mark) are decoded
byte for byte as Latin-1, so offsets stay exact and writing re-encodes to the same bytes; UTF-16
LE/BE files are recognised by their byte order mark or by the NUL pattern of ``ISA``.
"""

from __future__ import annotations

import codecs
import os
import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO, TypeVar

from edi837.x12.segment import DIRECT_INIT, Delimiters, Segment, new_segment

_T = TypeVar("_T")

try:
    from mypy_extensions import mypyc_attr
except ImportError:  # the pure install needs no mypy_extensions: the attribute only guides mypyc

    def mypyc_attr(*attrs: str, **kwattrs: object) -> Callable[[_T], _T]:
        """Leave the class as it is (what ``mypy_extensions.mypyc_attr`` does at run time)."""
        return lambda cls: cls


CHUNK_SIZE = 1 << 20
#: The longest segment (and the longest run of white space between two segments) the reader
#: accepts, in bytes. The longest 837P segments (an NTE, a K3, a full HI) stay under a few
#: hundred bytes; anything near this size is a missing terminator or not X12, and reading it on
#: would hold the rest of the file in memory.
MAX_SEGMENT_SIZE = 1 << 20
_WHITESPACE = " \t\r\n"
# ISA elements are fixed-width, so 16 separators fall within the first ~110 characters; a
# malformed ISA may be longer, but never this long.
_ISA_SCAN = 400
# The fast path splits an eighth of a chunk at once: large enough to amortise the call, small
# enough that the list of parts stays a fraction of a chunk.
_BATCH_SHARE = 8
# What an X12 segment id looks like (NM1, GS, SV1), followed by what cannot continue it.
_SEGMENT_ID = re.compile(r"([A-Z][A-Z0-9]{1,2})(?![A-Za-z0-9])")
# Enough leading bytes to see a byte order mark or the NUL pattern of UTF-16 "ISA" after some
# leading white space, however small the chunk size.
_DETECT_BYTES = 64


def _breaks(text: str, start: int = 0, end: int | None = None) -> int:
    """Line breaks in ``text[start:end]``: LF, CR and CRLF each count once.

    Old Mac and some mainframe exports end lines with a bare CR; a CRLF is one break.
    """
    stop = len(text) if end is None else end
    count = text.count
    return count("\n", start, stop) + count("\r", start, stop) - count("\r\n", start, stop)


# ``No837P`` (edi837.source) subclasses this error outside the optional compiled build.
@mypyc_attr(allow_interpreted_subclasses=True)
class X12SyntaxError(Exception):
    """Input that cannot be read as X12 at all; reported as one line, exit code 2."""

    def __init__(
        self,
        message: str,
        *,
        segment_number: int | None = None,
        byte_offset: int | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.segment_number = segment_number
        self.byte_offset = byte_offset
        self.hint = hint

    def describe(self, name: str) -> str:
        """``FILE: segment N (byte B): what is wrong; what to do``: the one error line."""
        where = []
        if self.segment_number is not None:
            where.append(f"segment {self.segment_number}")
        if self.byte_offset is not None:
            where.append(f"(byte {self.byte_offset})")
        place = f" {' '.join(where)}:" if where else ""
        hint = f"; {self.hint}" if self.hint else ""
        line = f"{name}:{place} {self.message}{hint}"
        if line.isprintable():
            return line
        # A message may quote a value from the file (ST01 in the no-837P notice): a newline
        # or ESC in it shows as an escape, so the error stays one line and inert.
        return "".join(
            ch if ch.isprintable() else ch.encode("unicode_escape").decode() for ch in line
        )


def delimiters_from_isa(text: str, start: int = 0) -> tuple[Delimiters, int] | None:
    """Read the delimiters of the ISA that begins at ``text[start]``.

    Returns the delimiters and the index of the terminator, or ``None`` when ``text`` does not
    yet hold 16 element separators and the two characters after them. The ISA is not assumed to
    be exactly 106 characters: a mis-padded ISA is still read (and reported by the envelope
    check ENV-001) rather than mis-tokenised.
    """
    if len(text) < start + 4:
        return None
    sep = text[start + 3]
    fixed = _fixed_layout(text, start, sep)
    if fixed is not None:
        return fixed
    index = start + 3  # the separator before ISA01
    starts = [index + 1]
    for _ in range(15):
        index = text.find(sep, index + 1, start + _ISA_SCAN)
        if index < 0:
            return None
        starts.append(index + 1)
    # ``index`` is now the 16th separator: ISA16 follows, then the segment terminator.
    if len(text) < index + 3:
        return None
    component = text[index + 1]
    terminator = text[index + 2]
    isa11 = text[starts[10] : starts[11] - 1]
    isa12 = text[starts[11] : starts[12] - 1]
    # ISA11 became the repetition separator in 00501; before that it held the standards id
    # (``U``), and a letter or digit there is never a separator.
    repetition: str | None = None
    if len(isa11) == 1 and not isa11.isalnum() and isa12 >= "00501":
        repetition = isa11
    return Delimiters(sep, component, terminator, repetition), index + 2


# Offsets of the 16 element separators of a well-formed ISA (every element has its fixed width).
_ISA_SEPARATORS = (3, 6, 17, 20, 31, 34, 50, 53, 69, 76, 81, 83, 89, 99, 101, 103)


def _fixed_layout(text: str, start: int, sep: str) -> tuple[Delimiters, int] | None:
    """Delimiters read from the fixed offsets, when the ISA has exactly its fixed layout.

    Reading by offset is what the guide prescribes; it also survives an ISA11 or ISA16 that
    repeats the element separator (reported by ENV-002), where counting separators would not.
    """
    if len(text) < start + 106:
        return None
    if any(text[start + offset] != sep for offset in _ISA_SEPARATORS):
        return None
    isa11 = text[start + 82]
    isa12 = text[start + 84 : start + 89]
    repetition = isa11 if not isa11.isalnum() and isa12 >= "00501" else None
    return Delimiters(sep, text[start + 104], text[start + 105], repetition), start + 105


def _detect_encoding(head: bytes) -> tuple[str, str, bytes]:
    """(name for people, codec to decode with, byte order mark) from the first bytes."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8", "latin-1", codecs.BOM_UTF8
    if head.startswith(codecs.BOM_UTF16_LE):
        return "utf-16-le", "utf-16-le", codecs.BOM_UTF16_LE
    if head.startswith(codecs.BOM_UTF16_BE):
        return "utf-16-be", "utf-16-be", codecs.BOM_UTF16_BE
    # Without a byte order mark, UTF-16 shows itself by the NUL bytes around "ISA".
    little = head.find(b"I\x00S\x00A\x00", 0, 64)
    if little >= 0 and little % 2 == 0:
        return "utf-16-le", "utf-16-le", b""
    big = head.find(b"\x00I\x00S\x00A", 0, 64)
    if big >= 0 and big % 2 == 0:
        return "utf-16-be", "utf-16-be", b""
    return "ascii", "latin-1", b""


class SegmentReader:
    """Iterate over the segments of one X12 byte stream.

    After iteration, :attr:`tail` holds what followed the last segment (usually a line break),
    which the writer needs to reproduce the file exactly.
    """

    def __init__(
        self,
        stream: BinaryIO,
        name: str = "-",
        chunk_size: int = CHUNK_SIZE,
        max_segment_size: int = MAX_SEGMENT_SIZE,
    ) -> None:
        if max_segment_size < 1:
            raise ValueError("max_segment_size must be at least one byte")
        self.stream = stream
        self.name = name
        self.chunk_size = chunk_size
        self.max_segment_size = max_segment_size
        self.encoding = "ascii"
        self.codec = "latin-1"
        self.bom = b""
        self.tail = ""
        self.delimiters: Delimiters | None = None
        self.segments_read = 0
        self._bytes_per_char = 1

    def _byte_offset(self, char_offset: int) -> int:
        return len(self.bom) + char_offset * self._bytes_per_char

    def __iter__(self) -> Iterator[Segment]:
        head = self.stream.read(self.chunk_size)
        while head and len(head) < _DETECT_BYTES:
            data = self.stream.read(self.chunk_size)
            if not data:
                break
            head += data
        if not head:
            raise X12SyntaxError(
                "the file is empty", hint="expected an X12 interchange starting with ISA"
            )
        self.encoding, self.codec, self.bom = _detect_encoding(head)
        if self.codec != "latin-1":
            self._bytes_per_char = 2
        elif b"\x00" in head:
            offset = head.index(b"\x00")
            raise X12SyntaxError(
                "binary data (NUL byte), not an X12 text file",
                byte_offset=offset,
                hint="check that this is an 837 file and not a zip, PDF or image",
            )
        decoder = codecs.getincrementaldecoder(self.codec)(errors="strict")
        try:
            buf = decoder.decode(head[len(self.bom) :])
        except UnicodeDecodeError as exc:
            raise X12SyntaxError(
                f"cannot decode the file as {self.encoding}: {exc.reason}",
                byte_offset=exc.start,
                hint="save it as ASCII, UTF-8 or UTF-16",
            ) from None
        return self._segments(buf, decoder)

    def _segments(self, buf: str, decoder: codecs.IncrementalDecoder) -> Iterator[Segment]:
        stream = self.stream
        chunk_size = self.chunk_size
        eof = False
        base = 0  # file char offset of buf[0]
        pos = 0
        line = 1
        # The last character read was a CR counted as a line break: a LF right after it
        # belongs to the same break (CRLF), wherever the two fall.
        pending = False
        number = 0
        delims: Delimiters | None = None
        term = ""
        find = str.find
        count = str.count
        # The fast path below makes almost every segment of a file. In pure Python it builds
        # them without ``Segment.__init__``, setting the slots itself, which is markedly
        # cheaper; compiled, the constructor is the cheaper way (``DIRECT_INIT``).
        make_segment = new_segment
        direct = DIRECT_INIT
        whitespace = _WHITESPACE
        start = 0  # file layout before the current segment starts here in buf
        limit = self.max_segment_size
        # A batch no longer than the limit cannot hold a segment over it, so the fast path
        # needs no length check of its own.
        batch = min(max(chunk_size // _BATCH_SHARE, 4096), max(limit // self._bytes_per_char, 1))

        def read_chunk(at: int) -> str | None:
            """The next decoded chunk (``at`` is its file char offset), ``None`` at the end."""
            nonlocal eof
            if eof:
                return None
            data = stream.read(chunk_size)
            try:
                decoded = decoder.decode(data, final=not data)
            except UnicodeDecodeError as exc:
                raise X12SyntaxError(
                    f"cannot decode the file as {self.encoding}: {exc.reason}",
                    segment_number=number + 1,
                    byte_offset=self._byte_offset(at),
                    hint="the file is truncated or not X12",
                ) from None
            if not data:
                eof = True
                return decoded or None
            if self.codec == "latin-1" and b"\x00" in data:
                raise X12SyntaxError(
                    "binary data (NUL byte) inside the file",
                    segment_number=number + 1,
                    byte_offset=self._byte_offset(at) + data.index(b"\x00"),
                    hint="the file is corrupt or not X12",
                )
            return decoded

        def compact() -> None:
            # Drop what has been consumed before reading on, so that at most the rest of one
            # chunk, the new raw chunk and its decoded text are alive at once: memory stays
            # bounded by about two chunks plus one segment, whatever the file size.
            nonlocal buf, base, pos, start
            if start:
                buf = buf[start:]
                base += start
                pos -= start
                start = 0

        def more() -> bool:
            nonlocal buf
            compact()
            decoded = read_chunk(base + len(buf))
            if decoded is None:
                return False
            buf += decoded
            return True

        def too_long(what: str, at: int) -> X12SyntaxError:
            return X12SyntaxError(
                f"{what} longer than {limit} bytes",
                segment_number=number + 1,
                byte_offset=self._byte_offset(base + at),
                hint=(
                    "a real segment is far shorter: the segment terminator declared in the ISA "
                    "is missing or the file is not X12"
                ),
            )

        def read_to_terminator() -> int:
            """Read on until the segment at ``pos`` ends; its terminator's index, or -1.

            The new chunks are searched on their own and joined once, so an unterminated
            segment costs time in proportion to its size; reading stops with an error once
            the segment is longer than the limit, which bounds the memory it can take.
            """
            nonlocal buf
            compact()
            pieces = [buf]
            size = len(buf) - pos  # chars of the open segment read so far
            found = -1
            while True:
                decoded = read_chunk(base + pos + size)
                if decoded is None:
                    break
                at = find(decoded, term)
                if at >= 0:
                    if (size + at) * self._bytes_per_char > limit:
                        raise too_long("segment", pos)
                    found = pos + size + at
                    pieces.append(decoded)
                    break
                size += len(decoded)
                if size * self._bytes_per_char > limit:
                    raise too_long("segment without a terminator", pos)
                pieces.append(decoded)
            if len(pieces) > 1:
                buf = "".join(pieces)
            return found

        while True:
            start = pos
            # Line breaks and indentation between segments are layout, not data (ENV-003).
            while True:
                n = len(buf)
                while pos < n and buf[pos] in whitespace:
                    pos += 1
                # Checked whenever the buffer runs out, and once the run ends, so that the
                # result does not depend on the chunk size.
                if (pos - start) * self._bytes_per_char > limit:
                    raise too_long("white space between segments", start)
                if pos < n or not more():
                    break
            if pos >= len(buf):
                if number == 0:
                    raise X12SyntaxError(
                        "the file holds only white space",
                        byte_offset=self._byte_offset(base + pos),
                        hint="expected an X12 interchange starting with ISA",
                    )
                self.tail = buf[start:]
                return
            if buf.startswith("ISA", pos) or delims is None:
                while len(buf) - pos < _ISA_SCAN and more():
                    pass
                if not buf.startswith("ISA", pos):
                    # Name what is there by its segment id only: the rest may be patient data.
                    shape = _SEGMENT_ID.match(buf, pos)
                    found = f" (the first segment is {shape.group(1)})" if shape else ""
                    raise X12SyntaxError(
                        f"the file does not start with an ISA segment{found}",
                        segment_number=number + 1,
                        byte_offset=self._byte_offset(base + pos),
                        hint="an X12 interchange must begin with ISA",
                    )
                found_delims = delimiters_from_isa(buf, pos)
                if found_delims is None:
                    raise X12SyntaxError(
                        "truncated ISA segment: fewer than 16 elements before the end of data",
                        segment_number=number + 1,
                        byte_offset=self._byte_offset(base + pos),
                        hint="the ISA must be complete (106 characters with its terminator)",
                    )
                delims, isa_end = found_delims
                if delims.segment in (delims.element, delims.component) or (
                    delims.element == delims.component
                ):
                    raise X12SyntaxError(
                        "the ISA declares the same character as two different delimiters",
                        segment_number=number + 1,
                        byte_offset=self._byte_offset(base + pos),
                        hint="ISA offset 3, ISA16 and the terminator must be distinct",
                    )
                term = delims.segment
                self.delimiters = delims
                # The ISA ends where its fixed layout says, even if its data holds the
                # terminator character (a delimiter clash that ENV-002 reports).
                end = isa_end
            else:
                end = find(buf, term, pos)
                if end < 0:
                    end = read_to_terminator()
                elif (end - pos) * self._bytes_per_char > limit:
                    raise too_long("segment", pos)
            number += 1
            if start < pos:
                line += _breaks(buf, start, pos) - (pending and buf[start] == "\n")
            pending = False
            if end < 0:
                # The last segment has no terminator: keep it, and keep trailing white space
                # as the file's tail so that the writer can reproduce it.
                rest = buf[pos:]
                lead = buf[start:pos]
                offset = self._byte_offset(base + pos)
                buf = ""  # nothing follows: do not hold the data twice
                text = rest.rstrip(whitespace)
                self.tail = rest[len(text) :]
                del rest
                self.segments_read = number
                yield Segment(text, delims, number, offset, line, lead, "")
                return
            offset = self._byte_offset(base + pos)
            if term == "\n" and end > pos and buf[end - 1] == "\r":
                # A newline terminator in a file with CRLF line ends: the CR is layout, not
                # the last character of the last element.
                seg = Segment(
                    buf[pos : end - 1], delims, number, offset, line, buf[start:pos], "\r\n"
                )
            else:
                seg = Segment(buf[pos:end], delims, number, offset, line, buf[start:pos], term)
            line += _breaks(buf, pos, end + 1)
            pending = term == "\r"
            pos = end + 1
            self.segments_read = number
            yield seg
            if seg.id == "ISA" or pos >= len(buf):
                continue
            # Fast path: every complete segment left in the buffer in one C-level split. It
            # stops before an ISA (whose delimiters may differ) and before anything unusual
            # (an empty segment); the loop above then takes over for that segment. The batch
            # ends before the first "ISA" in it, wherever that is: a segment that starts with
            # it cannot be in the batch, and one that merely contains it is read by the loop.
            isa = find(buf, "ISA", pos, pos + batch)
            stop = pos + batch if isa < 0 else isa
            bytes_per_char = self._bytes_per_char
            origin = len(self.bom) + base * bytes_per_char
            separator = delims.element
            # Whether the batch holds a CR: without one, counting LFs counts every line break.
            has_cr = find(buf, "\r", pos, stop) >= 0
            if buf[pos] == "\n" and term != "\n" and term != "\r" and not has_cr:
                # One segment a line, the usual layout: when every terminator up to the last
                # one in the batch has a line feed right after it, splitting on both leaves
                # each segment's line feed out of its part, and most parts have nothing to
                # strip. Each part's lead starts with the line feed before it, at ``pos``.
                ending = term + "\n"
                cut = buf.rfind(ending, pos, stop)
                lines = buf[pos + 1 : cut].split(ending) if cut > pos else []
                # Every terminator but the last is in a split: none stands alone.
                if lines and count(buf, term, pos, cut) == len(lines) - 1:
                    after = origin + bytes_per_char  # the id's offset after a lone line feed
                    for part in lines:
                        text = part.lstrip(whitespace)
                        if text is part:
                            if not text:
                                break
                            lead = "\n"
                            line += 1
                            offset = after + pos * bytes_per_char
                        elif not text:
                            break
                        else:
                            lead = "\n" + part[: len(part) - len(text)]
                            line += count(lead, "\n")
                            offset = origin + (pos + len(lead)) * bytes_per_char
                        number += 1
                        if direct:
                            seg = Segment(text, delims, number, offset, line, lead, term)
                        else:
                            seg = make_segment(Segment)
                            seg.text = text
                            seg.elements = elements = text.split(separator)
                            seg.id = elements[0]
                            seg.delimiters = delims
                            seg.number = number
                            seg.byte_offset = offset
                            seg.line = line
                            seg.lead = lead
                            seg.term = term
                        if "\n" in text:
                            line += count(text, "\n")
                        pos += len(part) + 2
                        self.segments_read = number
                        yield seg
                    continue
                del lines
            parts = buf[pos:stop].split(term)
            parts.pop()  # not terminated yet: more data will complete it
            if term == "\n":
                # Segments end at line ends: a CR before one belongs to the terminator, and
                # every segment ends its line.
                for part in parts:
                    text = part.lstrip(whitespace)
                    if text is part:
                        if not text:
                            break
                        lead = ""
                    elif not text:
                        break
                    else:
                        lead = part[: len(part) - len(text)]
                        # No LF in a part; a CR before the segment id is a line break.
                        line += count(lead, "\r")
                    number += 1
                    terminator = term
                    if text[-1] == "\r":
                        text = text[:-1]
                        terminator = "\r\n"
                    offset = origin + (pos + len(lead)) * bytes_per_char
                    if direct:
                        seg = Segment(text, delims, number, offset, line, lead, terminator)
                    else:
                        seg = make_segment(Segment)
                        seg.term = terminator
                        seg.text = text
                        seg.elements = elements = text.split(separator)
                        seg.id = elements[0]
                        seg.delimiters = delims
                        seg.number = number
                        seg.byte_offset = offset
                        seg.line = line
                        seg.lead = lead
                    line += 1
                    if has_cr and "\r" in text:
                        line += count(text, "\r")
                    pos += len(part) + 1
                    self.segments_read = number
                    yield seg
                continue
            # A CR terminator is a line break of its own (CR-only files); an LF after it is
            # part of the same break.
            term_cr = term == "\r"
            for part in parts:
                text = part.lstrip(whitespace)
                if text is part:
                    if not text:
                        break
                    lead = ""
                elif not text:
                    break
                else:
                    lead = part[: len(part) - len(text)]
                    # Most often the lead is the one line break after each terminator.
                    if lead == "\n":
                        line += not pending
                    elif lead == "\r\n" or lead == "\r":
                        line += 1
                    else:
                        line += _breaks(lead) - (pending and lead[0] == "\n")
                pending = False
                number += 1
                offset = origin + (pos + len(lead)) * bytes_per_char
                if direct:
                    seg = Segment(text, delims, number, offset, line, lead, term)
                else:
                    seg = make_segment(Segment)
                    seg.text = text
                    seg.elements = elements = text.split(separator)
                    seg.id = elements[0]
                    seg.delimiters = delims
                    seg.number = number
                    seg.byte_offset = offset
                    seg.line = line
                    seg.lead = lead
                    seg.term = term
                if "\n" in text or (has_cr and "\r" in text):
                    line += _breaks(text)
                if term_cr:
                    line += 1
                    pending = True
                pos += len(part) + 1
                self.segments_read = number
                yield seg


def open_source(name: str) -> BinaryIO:
    """Open ``name`` for reading bytes; ``-`` is standard input.

    Raises :class:`X12SyntaxError` with a one-line reason for a missing file, a directory or a
    file that cannot be read, so that the command line never shows a traceback for them.
    """
    if name == "-":
        return sys.stdin.buffer
    path = Path(name)
    if path.is_dir():
        raise X12SyntaxError("is a directory, not a file", hint="name the 837 files inside it")
    try:
        return open(path, "rb")  # noqa: SIM115 - the caller closes it
    except FileNotFoundError:
        raise X12SyntaxError("no such file", hint="check the path") from None
    except PermissionError:
        raise X12SyntaxError("permission denied", hint="check the file's permissions") from None
    except OSError as exc:
        raise X12SyntaxError(f"cannot open: {os.strerror(exc.errno or 0)}") from None


def read_segments(data: bytes | str) -> list[Segment]:
    """All segments of a small in-memory document (tests, rule cases, snippets)."""
    import io

    raw = data.encode("latin-1") if isinstance(data, str) else data
    return list(SegmentReader(io.BytesIO(raw)))

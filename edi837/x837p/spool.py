"""The segments of one oversized claim, kept on disk instead of in memory.

A claim unit carries every segment of its claim so that writers (``fix``, ``split``,
``annotate``, acknowledgements) can reproduce it byte for byte. The guide bounds a claim
(50 service lines, a few segments a loop), but a file need not keep to it: a claim of 100,000
service lines would hold every one of its segments as objects until the claim ends. A
:class:`SegmentSpool` holds the segments of such a claim past :data:`SPILL_AFTER` in an
unnamed temporary file (nothing is left behind even when the process is killed), keeping for
each only what rebuilds it: its text with the white space around it, its ordinal, byte offset
and line, and indexes into small per-claim tables of the delimiters and loop placements in
use. Reading it gives back equal segments in file order, as often as a consumer iterates.

A claim within the guide never reaches the bound, so it never touches the disk. Where no
temporary file can be written (a full or read-only temporary folder), the segments stay in
memory as before: the claim is still read whole, only not in bounded memory.
"""

from __future__ import annotations

import struct
import tempfile
from collections.abc import Iterable, Iterator
from typing import BinaryIO

from edi837.spilled import SpilledSequence
from edi837.x12.segment import Delimiters, Segment, new_segment
from edi837.x837p.tracker import Placement

__all__ = ["SPILL_AFTER", "SegmentSpool"]

Placed = tuple[Segment, Placement]

#: Segments a claim holds in memory before they go to disk; a claim within the guide's
#: limits (50 lines of a few dozen segments each) stays far below it.
SPILL_AFTER = 10_000

# One record per segment: ordinal, byte offset, line, placement index, delimiters index, and
# the UTF-8 lengths of the lead, text and terminator that follow it.
_HEAD = struct.Struct("<QQQIIIII")
_READ_CHUNK = 1 << 20
# Lone surrogates can come from no strict decoder, but must not make the spool fail if they do.
_ERRORS = "surrogatepass"
_PlacementKey = tuple[str, tuple[str, ...], int, int]


class SegmentSpool(SpilledSequence[tuple[Segment, Placement]]):
    """``(segment, placement)`` pairs in file order; past a bound, the earlier ones on disk.

    :meth:`append` collects pairs in memory; :meth:`spill` moves those collected so far to the
    temporary file. Iterating yields the spilled pairs (rebuilt) and then the ones in memory;
    ``spool[0]`` and ``spool[-1]`` are kept at hand, other indexes read through the spool.
    """

    __slots__ = (
        "_memory",
        "_file",
        "_spilled",
        "_unwritable",
        "_first",
        "_last",
        "_placements",
        "_placement_index",
        "_delimiters",
        "_delimiter_index",
    )

    def __init__(self, pairs: Iterable[Placed] = ()) -> None:
        self._memory: list[Placed] = list(pairs)
        self._file: BinaryIO | None = None
        self._spilled = 0
        self._unwritable = False
        self._first: Placed | None = self._memory[0] if self._memory else None
        self._last: Placed | None = None  # the last spilled pair
        self._placements: list[Placement] = []
        # Placements without findings are shared by the tracker or differ only in identity
        # (a slot is kept alive by the placement in the table, so its id stays its own).
        self._placement_index: dict[_PlacementKey, int] = {}
        self._delimiters: list[Delimiters] = []
        self._delimiter_index: dict[Delimiters, int] = {}

    # -- filling

    def append(self, pair: Placed) -> None:
        """Add the next pair in file order."""
        if self._first is None:
            self._first = pair
        self._memory.append(pair)

    def spill(self) -> None:
        """Move the pairs held in memory to the temporary file."""
        memory = self._memory
        if not memory or self._unwritable:
            return
        out = bytearray()
        pack = _HEAD.pack
        for seg, placement in memory:
            lead = seg.lead.encode("utf-8", _ERRORS)
            text = seg.text.encode("utf-8", _ERRORS)
            term = seg.term.encode("utf-8", _ERRORS)
            out += pack(
                seg.number,
                seg.byte_offset,
                seg.line,
                self._placement_of(placement),
                self._delimiters_of(seg.delimiters),
                len(lead),
                len(text),
                len(term),
            )
            out += lead
            out += text
            out += term
        try:
            if self._file is None:
                # Unnamed: removed by the system when closed or when the process ends.
                self._file = tempfile.TemporaryFile(prefix="edi837-claim-")  # noqa: SIM115
            file = self._file
            file.seek(0, 2)
            file.write(out)
            file.flush()
        except OSError:
            # Records are read back by count, so a partly written batch is never read.
            self._unwritable = True
            return
        self._spilled += len(memory)
        self._last = memory[-1]
        memory.clear()

    def close(self) -> None:
        """Drop the temporary file; the spool is empty afterwards."""
        if self._file is not None:
            self._file.close()
            self._file = None
        self._spilled = 0
        self._memory.clear()
        self._first = self._last = None

    def _placement_of(self, placement: Placement) -> int:
        placements = self._placements
        if placement.findings:
            # A placement with findings belongs to its one segment: stored, never looked up.
            placements.append(placement)
            return len(placements) - 1
        key = (placement.loop_id, placement.path, placement.opened, id(placement.slot))
        index = self._placement_index.get(key)
        if index is None:
            index = self._placement_index[key] = len(placements)
            placements.append(placement)
        return index

    def _delimiters_of(self, delimiters: Delimiters) -> int:
        index = self._delimiter_index.get(delimiters)
        if index is None:
            index = self._delimiter_index[delimiters] = len(self._delimiters)
            self._delimiters.append(delimiters)
        return index

    # -- reading

    def __bool__(self) -> bool:
        return self._first is not None

    def _kept(self, index: int) -> Placed | None:
        # The first pair and the last spilled one are kept at hand: no read for these.
        if index == 0:
            return self._first
        if index == self._spilled - 1:
            return self._last
        return None

    def _read_spilled(self) -> Iterator[Placed]:
        """Rebuild the spilled pairs; each pass keeps its own position in the file."""
        file = self._file
        assert file is not None
        placements = self._placements
        delimiters = self._delimiters
        unpack = _HEAD.unpack_from
        head = _HEAD.size
        make_segment = new_segment
        offset = 0
        buffer = b""
        at = 0
        for _ in range(self._spilled):
            if len(buffer) - at < head:
                buffer, at, offset = _refill(file, buffer, at, offset, head)
            number, byte_offset, line, placement, delims, n_lead, n_text, n_term = unpack(
                buffer, at
            )
            size = head + n_lead + n_text + n_term
            if len(buffer) - at < size:
                buffer, at, offset = _refill(file, buffer, at, offset, size)
            start = at + head
            seg: Segment = make_segment(Segment)
            delim = delimiters[delims]
            text = buffer[start + n_lead : start + n_lead + n_text].decode("utf-8", _ERRORS)
            seg.text = text
            seg.delimiters = delim
            seg.elements = elements = text.split(delim.element)
            seg.id = elements[0]
            seg.number = number
            seg.byte_offset = byte_offset
            seg.line = line
            seg.lead = buffer[start : start + n_lead].decode("utf-8", _ERRORS)
            seg.term = buffer[start + n_lead + n_text : start + size - head].decode(
                "utf-8", _ERRORS
            )
            at += size
            yield seg, placements[placement]


def _refill(
    file: BinaryIO, buffer: bytes, at: int, offset: int, need: int
) -> tuple[bytes, int, int]:
    """Keep the unread rest of ``buffer`` and read on until ``need`` bytes are at hand."""
    rest = buffer[at:]
    while len(rest) < need:
        file.seek(offset)
        chunk = file.read(max(_READ_CHUNK, need - len(rest)))
        if not chunk:
            raise OSError("the claim spool ended early")
        offset += len(chunk)
        rest += chunk
    return rest, 0, offset

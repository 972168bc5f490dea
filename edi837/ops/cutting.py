"""One read of a file before it is processed: its sha256, its interchanges, where to cut it.

The ledger asks two questions before a file is checked (same content already done? an
interchange already received from another file?) and the batch wants to share a large file
among workers. All three are answered from one pass over the bytes: the digest, and the
envelope of every interchange found by its fixed-width ISA. Each ISA declares its own
delimiters, so the search for the next ``ISA`` follows the current interchange's segment
terminator.

Only a file that starts with ``ISA`` at its first byte (8-bit data: ASCII, Latin-1 or UTF-8
without a byte order mark) is scanned for interchanges; any other file (UTF-16, a byte order
mark, leading junk) gets ``interchanges=None`` and is read whole by the tokenizer, which
knows those layouts.
"""

from __future__ import annotations

import hashlib
import mmap
import re
from dataclasses import dataclass, field
from pathlib import Path

from edi837.ops.outcome import Interchange
from edi837.x12.reader import delimiters_from_isa

__all__ = ["Layout", "Piece", "pieces", "scan"]

_CHUNK = 1 << 20


@dataclass
class Layout:
    """What one pass over a file found.

    Attributes:
        sha256: hex digest of the bytes.
        size: bytes.
        interchanges: the envelopes in file order, or ``None`` when the file was not scanned.
        starts: the byte offset of each interchange's ``ISA`` (parallel to ``interchanges``).
    """

    sha256: str
    size: int
    interchanges: list[Interchange] | None = None
    starts: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class Piece:
    """A run of whole interchanges of a file: bytes ``[start, end)``.

    ``lines_before`` counts the line feeds before ``start``, to turn the piece's line numbers
    into the file's.
    """

    index: int
    start: int
    end: int
    lines_before: int


def _field(raw: bytes) -> str:
    return raw.decode("latin-1").strip()


def _interchange(data: bytes | mmap.mmap, start: int, end: int) -> tuple[Interchange, str] | None:
    head = bytes(data[start : start + 200]).decode("latin-1")
    found = delimiters_from_isa(head)
    if found is None:
        return None
    delimiters, terminator_at = found
    elements = head[:terminator_at].split(delimiters.element)
    if len(elements) != 17:
        return None
    sep = delimiters.element.encode("latin-1")
    term = delimiters.segment.encode("latin-1")
    # GS06 of every functional group inside this interchange.
    gs = re.compile(re.escape(term) + rb"\s*GS" + re.escape(sep))
    groups: list[str] = []
    for match in gs.finditer(data, start, end):
        stop = data.find(term, match.end(), end)
        gs_elements = bytes(data[match.end() : stop if stop >= 0 else end]).split(sep)
        if len(gs_elements) >= 6:
            groups.append(_field(gs_elements[5]))
    interchange = Interchange(
        sender=f"{elements[5].strip()}:{elements[6].strip()}",
        receiver=f"{elements[7].strip()}:{elements[8].strip()}",
        control=elements[13].strip(),
        date=elements[9].strip(),
        groups=tuple(groups),
    )
    return interchange, delimiters.segment


def scan(path: Path) -> Layout:
    """The digest of ``path`` and, for a file starting with ``ISA``, its interchanges.

    Raises :class:`OSError` when the file cannot be read.
    """
    with open(path, "rb") as handle:
        size = handle.seek(0, 2)
        handle.seek(0)
        if size == 0:
            return Layout(hashlib.sha256().hexdigest(), 0)
        with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
            digest = hashlib.sha256()
            for offset in range(0, size, _CHUNK):
                digest.update(data[offset : offset + _CHUNK])
            layout = Layout(digest.hexdigest(), size)
            if data[:3] == b"ISA":
                _find_interchanges(data, size, layout)
    return layout


def _find_interchanges(data: mmap.mmap, size: int, layout: Layout) -> None:
    starts: list[int] = []
    found: list[Interchange] = []
    start = 0
    while True:
        head = bytes(data[start : start + 200]).decode("latin-1")
        delimiters = delimiters_from_isa(head)
        if delimiters is None:
            return
        sep = delimiters[0].element.encode("latin-1")
        term = delimiters[0].segment.encode("latin-1")
        # The next interchange begins right after a segment terminator (and any line break).
        following = re.compile(re.escape(term) + rb"[\r\n ]*(ISA)" + re.escape(sep))
        match = following.search(data, start + 106)
        end = match.start(1) if match is not None else size
        item = _interchange(data, start, end)
        if item is None:
            return
        starts.append(start)
        found.append(item[0])
        if match is None:
            break
        start = match.start(1)
    layout.interchanges = found
    layout.starts = starts


def pieces(path: Path, layout: Layout, count: int) -> list[Piece]:
    """Cut the file into at most ``count`` runs of whole interchanges of similar size."""
    starts = layout.starts
    if len(starts) < 2 or count < 2:
        return [Piece(0, 0, layout.size, 0)]
    # Each cut goes to the interchange start nearest to an even share of the bytes, so that
    # no worker is left with a long tail while the others wait.
    cuts = [0]
    for share in range(1, count):
        ideal = layout.size * share / count
        nearest = min(starts, key=lambda offset: abs(offset - ideal))
        if nearest > cuts[-1]:
            cuts.append(nearest)
    bounds = [*cuts, layout.size]
    out: list[Piece] = []
    lines = 0
    with open(path, "rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
        for index in range(len(cuts)):
            if index:
                lines += _count_lines(data, bounds[index - 1], bounds[index])
            out.append(Piece(index, bounds[index], bounds[index + 1], lines))
    return out


def _count_lines(data: mmap.mmap, start: int, end: int) -> int:
    total = 0
    for offset in range(start, end, _CHUNK):
        total += data[offset : min(offset + _CHUNK, end)].count(b"\n")
    return total

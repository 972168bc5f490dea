"""``FindingSpool``: a file's findings, all but the latest thousand or so in a temporary file.

A file of a million claims can carry tens of thousands of findings, about a kilobyte each in
memory. ``edi837 check -f json`` and ``-f csv`` write them once, in order, after the file's
counts; holding them all would make memory grow with the file instead of staying bounded by
one claim. The spool keeps the findings of whole claims in memory up to ``keep`` and moves
them, in batches, to an unlinked temporary file, from which iteration reads them back in
order, one batch at a time. Where no temporary file can be written, the findings stay in
memory as before.

The batches are pickled: the file is created unlinked by this process (mode 0600, no name to
open it by) and read back only by the same object, so no data from elsewhere is ever
unpickled. A finding and the cause it points to (``Finding.cause``, per claim) always travel
in the same batch, but each pass over the spool reads new objects: consumers that match
findings by identity across passes (the text report's grouping) are given a plain list.
"""

from __future__ import annotations

import pickle
import tempfile
from collections.abc import Iterable, Iterator
from typing import IO

from edi837.findings import Finding
from edi837.spilled import SpilledSequence

#: Findings kept in memory before a batch moves to disk: about a megabyte at a kilobyte each.
KEEP = 1024


class FindingSpool(SpilledSequence[Finding]):
    """A sequence of findings in file order whose older batches wait on disk."""

    def __init__(self, keep: int = KEEP) -> None:
        self.keep = max(1, keep)
        self._memory: list[Finding] = []
        self._file: IO[bytes] | None = None
        self._spilled = 0
        self._batches = 0
        self._unwritable = False

    def extend(self, findings: Iterable[Finding]) -> None:
        """Add the findings of one claim (or unit); a full buffer then moves to disk whole."""
        self._memory.extend(findings)
        if len(self._memory) >= self.keep:
            self._spill()

    def append(self, finding: Finding) -> None:
        """Add one finding."""
        self.extend((finding,))

    def _spill(self) -> None:
        if self._unwritable:
            return
        try:
            if self._file is None:
                self._file = tempfile.TemporaryFile(prefix="edi837-findings-")
            self._file.seek(0, 2)
            pickle.dump(self._memory, self._file, protocol=pickle.HIGHEST_PROTOCOL)
        except OSError:
            # A full or read-only temporary folder: the findings stay in memory, as the claim
            # spool's segments do. Batches are read back by count, so a partly written one
            # at the end is never read.
            self._unwritable = True
            return
        self._spilled += len(self._memory)
        self._batches += 1
        self._memory = []

    def _read_spilled(self) -> Iterator[Finding]:
        file = self._file
        assert file is not None
        file.flush()
        position = 0
        for _ in range(self._batches):
            file.seek(position)
            batch: list[Finding] = pickle.load(file)  # noqa: S301 (written above)
            position = file.tell()
            yield from batch

    def __eq__(self, other: object) -> bool:
        if isinstance(other, FindingSpool | list | tuple):
            return len(self) == len(other) and all(
                mine == theirs for mine, theirs in zip(self, other, strict=True)
            )
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"FindingSpool({len(self)} findings, {self._spilled} on disk)"

    def close(self) -> None:
        """Drop the temporary file; the spool is empty afterwards."""
        if self._file is not None:
            self._file.close()
            self._file = None
        self._spilled = self._batches = 0
        self._memory = []

"""``FindingSpool``: a file's findings, all but the latest thousand or so in a temporary file.

A file of a million claims can carry tens of thousands of findings, about a kilobyte each in
memory. ``edi837 check -f json`` and ``-f csv`` write them once, in order, after the file's
counts; holding them all would make memory grow with the file instead of staying bounded by
one claim. The spool keeps the findings of whole claims in memory up to ``keep`` and moves
them, in batches, to an unlinked temporary file, from which iteration reads them back in
order, one batch at a time.

The batches are pickled: the file is created unlinked by this process (mode 0600, no name to
open it by) and read back only by the same object, so no data from elsewhere is ever
unpickled. A finding and the cause it points to (``Finding.cause``, per claim) always travel
in the same batch, but each pass over the spool reads new objects: consumers that match
findings by identity across passes (the text report's grouping) are given a plain list.
"""

from __future__ import annotations

import pickle
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from typing import IO, overload

from edi837.findings import Finding

#: Findings kept in memory before a batch moves to disk: about a megabyte at a kilobyte each.
KEEP = 1024


class FindingSpool(Sequence[Finding]):
    """A sequence of findings in file order whose older batches wait on disk."""

    def __init__(self, keep: int = KEEP) -> None:
        self.keep = max(1, keep)
        self._recent: list[Finding] = []
        self._file: IO[bytes] | None = None
        self._spilled = 0
        self._batches = 0

    def extend(self, findings: Iterable[Finding]) -> None:
        """Add the findings of one claim (or unit); a full buffer then moves to disk whole."""
        self._recent.extend(findings)
        if len(self._recent) >= self.keep:
            self._spill()

    def append(self, finding: Finding) -> None:
        """Add one finding."""
        self.extend((finding,))

    def _spill(self) -> None:
        if self._file is None:
            self._file = tempfile.TemporaryFile(prefix="edi837-findings-")
        self._file.seek(0, 2)
        pickle.dump(self._recent, self._file, protocol=pickle.HIGHEST_PROTOCOL)
        self._spilled += len(self._recent)
        self._batches += 1
        self._recent = []

    @property
    def spilled(self) -> int:
        """How many findings wait on disk."""
        return self._spilled

    def __len__(self) -> int:
        return self._spilled + len(self._recent)

    def __iter__(self) -> Iterator[Finding]:
        if self._file is not None:
            self._file.flush()
            position = 0
            for _ in range(self._batches):
                self._file.seek(position)
                batch: list[Finding] = pickle.load(self._file)  # noqa: S301 (written above)
                position = self._file.tell()
                yield from batch
        yield from list(self._recent)

    @overload
    def __getitem__(self, index: int) -> Finding: ...

    @overload
    def __getitem__(self, index: slice) -> list[Finding]: ...

    def __getitem__(self, index: int | slice) -> Finding | list[Finding]:
        """Found by reading the spool through: indexing is for tests and the rare caller."""
        if isinstance(index, slice):
            return list(self)[index]
        size = len(self)
        if index < 0:
            index += size
        if not 0 <= index < size:
            raise IndexError("finding index out of range")
        if index >= self._spilled:
            return self._recent[index - self._spilled]
        for position, finding in enumerate(self):
            if position == index:
                return finding
        raise IndexError("finding index out of range")  # pragma: no cover

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
        """Drop the temporary file now rather than when the spool is collected."""
        if self._file is not None:
            self._file.close()
            self._file = None
            self._spilled = self._batches = 0
            self._recent = []

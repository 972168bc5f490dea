"""``SpilledSequence``: items in file order, the earlier ones waiting in a temporary file.

The reading side shared by the two places that keep memory bounded by moving what they hold
to disk: the segments of an oversized claim (:mod:`edi837.x837p.spool`) and the findings of a
file (:mod:`edi837.finding_spool`). A subclass keeps the items not yet moved in ``_memory``,
counts the moved ones in ``_spilled`` and reads them back, in order, in ``_read_spilled``;
length, iteration and indexing are the same for both.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TypeVar, overload

T = TypeVar("T")


class SpilledSequence(Sequence[T]):
    """A sequence whose first ``_spilled`` items are on disk and the rest in ``_memory``."""

    __slots__ = ()

    _memory: list[T]
    _spilled: int

    def _read_spilled(self) -> Iterator[T]:
        """The items on disk, in order; each pass keeps its own position in the file."""
        raise NotImplementedError

    def _kept(self, index: int) -> T | None:
        """An item on disk that is also kept at hand, else ``None`` (read through the file)."""
        return None

    @property
    def spilled(self) -> int:
        """How many items are on disk."""
        return self._spilled

    def __len__(self) -> int:
        return self._spilled + len(self._memory)

    def __iter__(self) -> Iterator[T]:
        if self._spilled:
            yield from self._read_spilled()
        yield from self._memory

    @overload
    def __getitem__(self, index: int) -> T: ...

    @overload
    def __getitem__(self, index: slice) -> list[T]: ...

    def __getitem__(self, index: int | slice) -> T | list[T]:
        """Items in memory directly; one on disk by reading the file through to it."""
        if isinstance(index, slice):
            return list(self)[index]
        size = len(self)
        if index < 0:
            index += size
        if not 0 <= index < size:
            raise IndexError(f"{type(self).__name__} index out of range")
        if index >= self._spilled:
            return self._memory[index - self._spilled]
        kept = self._kept(index)
        if kept is not None:
            return kept
        for position, item in enumerate(self._read_spilled()):
            if position == index:
                return item
        raise IndexError(f"{type(self).__name__} index out of range")  # pragma: no cover

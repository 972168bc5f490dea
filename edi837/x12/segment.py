"""The X12 segment: delimiters, element references and the :class:`Segment` value type.

A segment keeps the exact text it was read from (``str(segment)``), the white space before it
and the terminator after it, so that writing what was read gives the input back byte for byte.
Elements are addressed 1-based as the implementation guides number them: ``seg[1]`` is the
first element after the segment id, and a reference such as ``SV101-2`` names element 01,
component 2 of an ``SV1`` segment.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache


@dataclass(frozen=True)
class Delimiters:
    """The four X12 delimiters of one interchange, as its ISA segment declares them.

    ``repetition`` is ``None`` before version 00501, where ISA11 was the standards id ``U``
    rather than a separator.
    """

    element: str = "*"
    component: str = ":"
    segment: str = "~"
    repetition: str | None = "^"


_REF = re.compile(r"^([A-Z0-9]{2,3}?)(\d{2})(?:-(\d{1,2}))?$")
# The position part of a reference whose segment id is known: any number of digits, so that a
# finding about element 1000 of a malformed segment can still be located. Seven digits cover
# every position a segment within the reader's size limit can have.
_POSITION = re.compile(r"(\d{2,7})(?:-(\d{1,7}))?")


@dataclass(frozen=True)
class ElementRef:
    """A parsed element reference: ``SV101-2`` is segment SV1, element 1, component 2."""

    segment_id: str
    element: int
    component: int | None = None

    def __str__(self) -> str:
        text = f"{self.segment_id}{self.element:02d}"
        return f"{text}-{self.component}" if self.component else text


@lru_cache(maxsize=1024)
def parse_ref(ref: str, segment_id: str | None = None) -> ElementRef:
    """Parse ``NM109``, ``SV101-2`` or ``CLM05-3`` into an :class:`ElementRef`.

    The element position is always the last two digits before an optional ``-component``,
    which is how ``NM109`` (segment ``NM1``) stays unambiguous. When the segment id is known
    (``segment_id``), everything after it is the position, however long: ``GE1000`` is
    element 1000 of a GE, which only a malformed segment has, but a finding may name it.
    """
    if segment_id is not None and ref.startswith(segment_id):
        found = _POSITION.fullmatch(ref, len(segment_id))
        if found is not None:
            position, part = found.groups()
            return ElementRef(segment_id, int(position), int(part) if part else None)
    match = _REF.match(ref)
    if match is None:
        raise ValueError(f"not an element reference: {ref!r}")
    seg_id, element, component = match.groups()
    return ElementRef(seg_id, int(element), int(component) if component else None)


class Segment:
    r"""One X12 segment with its position in the file.

    Attributes:
        id: the segment identifier (``ISA``, ``CLM``, ``SV1`` ...).
        elements: the text split on the element separator; ``elements[0]`` is the id.
        number: 1-based ordinal of the segment in the file.
        byte_offset: offset of the segment id's first byte in the file.
        line: 1-based line number of the segment id in the file.
        lead: white space (line breaks, indentation) between the previous terminator and the id.
        term: the terminator as it stands in the file: ``~``, ``\n`` when a newline
            terminates segments (``\r`` for CRLF lines, whose ``\n`` starts the next lead),
            or ``""`` for a last segment without one.

    The reader's fast path (:class:`~edi837.x12.reader.SegmentReader`) makes most segments
    without calling ``__init__``, setting every slot itself: a new attribute must be set
    there too.
    """

    __slots__ = (
        "id",
        "elements",
        "text",
        "delimiters",
        "number",
        "byte_offset",
        "line",
        "lead",
        "term",
    )

    def __init__(
        self,
        text: str,
        delimiters: Delimiters,
        number: int = 0,
        byte_offset: int = 0,
        line: int = 0,
        lead: str = "",
        term: str | None = None,
    ) -> None:
        self.text = text
        self.delimiters = delimiters
        self.elements = text.split(delimiters.element)
        self.id = self.elements[0]
        self.number = number
        self.byte_offset = byte_offset
        self.line = line
        self.lead = lead
        self.term = delimiters.segment if term is None else term

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return f"Segment({self.text!r}, number={self.number})"

    def __len__(self) -> int:
        """Number of elements after the id, as present in the text."""
        return len(self.elements) - 1

    def __getitem__(self, key: int | str) -> str:
        """``seg[3]`` is element 03; ``seg["SV101-2"]`` resolves a reference. Absent is ``""``."""
        if isinstance(key, int):
            return self.elements[key] if 0 <= key < len(self.elements) else ""
        return self.value(key)

    @property
    def raw(self) -> str:
        """The segment exactly as it stood in the file: lead, text and terminator."""
        return self.lead + self.text + self.term

    def element(self, position: int) -> str:
        """Element ``position`` (1-based), ``""`` when absent."""
        elements = self.elements
        return elements[position] if 0 < position < len(elements) else ""

    def components(self, position: int) -> list[str]:
        """The components of element ``position`` (a one-item list for a simple element)."""
        elements = self.elements
        value = elements[position] if 0 < position < len(elements) else ""
        return value.split(self.delimiters.component)

    def component(self, position: int, index: int) -> str:
        """Component ``index`` (1-based) of element ``position``, ``""`` when absent."""
        elements = self.elements
        if 0 < position < len(elements):
            parts = elements[position].split(self.delimiters.component)
            if 0 < index <= len(parts):
                return parts[index - 1]
        return ""

    def repetitions(self, position: int) -> list[str]:
        """The repetitions of element ``position``; one item when it does not repeat."""
        value = self.element(position)
        rep = self.delimiters.repetition
        return value.split(rep) if rep else [value]

    def value(self, ref: str) -> str:
        """The value named by a reference such as ``CLM05-3``; the segment id is checked."""
        parsed = parse_ref(ref, self.id)
        if parsed.segment_id != self.id:
            raise KeyError(f"{ref} does not belong to a {self.id} segment")
        if parsed.component is None:
            return self.element(parsed.element)
        return self.component(parsed.element, parsed.component)

    def replaced(self, ref: str, new: str) -> str:
        """The segment text with the element or component named by ``ref`` set to ``new``.

        Missing elements or components are created empty on the way; trailing empty ones are
        not added beyond the target, so the result stays as short as X12 wants it. Trailing
        empty elements the input already had are kept when the edit writes a value, so that an
        edit changes only its own element; emptying an element drops the trailing empties.
        """
        parsed = parse_ref(ref, self.id)
        elements = list(self.elements)
        keep = len(elements) if new else 1
        while len(elements) <= parsed.element:
            elements.append("")
        if parsed.component is None:
            elements[parsed.element] = new
        else:
            parts = elements[parsed.element].split(self.delimiters.component)
            keep_parts = len(parts) if new else 1
            while len(parts) < parsed.component:
                parts.append("")
            parts[parsed.component - 1] = new
            while len(parts) > max(1, keep_parts) and parts[-1] == "":
                parts.pop()
            elements[parsed.element] = self.delimiters.component.join(parts)
        while len(elements) > max(1, keep) and elements[-1] == "":
            elements.pop()
        return self.delimiters.element.join(elements)

    def column_of(self, ref: str) -> tuple[int, int]:
        """Character offset and width of the element or component ``ref`` inside ``text``.

        Used to put a caret under the offending element. An absent element points just past
        the end of the segment with width 1.
        """
        parsed = parse_ref(ref, self.id)
        if parsed.element >= len(self.elements):
            return len(self.text), 1
        offset = sum(len(e) + 1 for e in self.elements[: parsed.element])
        value = self.elements[parsed.element]
        if parsed.component is None:
            return offset, max(len(value), 1)
        parts = value.split(self.delimiters.component)
        if parsed.component > len(parts):
            return offset + len(value), 1
        offset += sum(len(p) + 1 for p in parts[: parsed.component - 1])
        return offset, max(len(parts[parsed.component - 1]), 1)


def _blank_segment(cls: type[Segment]) -> Segment:
    return cls("", _PLAIN)


_PLAIN = Delimiters()

#: Makes a :class:`Segment` whose slots the caller then sets itself (the reader's and the
#: spool's fast paths). In pure Python that is ``object.__new__``, which skips ``__init__``;
#: the optional compiled build (mypyc) allows no instance of a compiled class made that way,
#: so there a blank segment is made through ``__init__``, which is cheap in compiled code.
new_segment: Callable[[type[Segment]], Segment]
#: True in the compiled build, where calling ``Segment(...)`` with the values at hand is
#: cheaper than a blank segment whose slots are set afterwards (the reverse of pure Python).
DIRECT_INIT: bool
try:
    object.__new__(Segment)
except TypeError:
    new_segment = _blank_segment
    DIRECT_INIT = True
else:
    new_segment = object.__new__
    DIRECT_INIT = False

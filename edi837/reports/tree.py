"""``edi837 parse``: the loop tree as JSON, XML or TSV, written while the file streams.

The tracker gives every segment its loop path and the depth from which loops were newly opened;
from that the writers open and close loop nodes as they go, so a tree of any size is written in
the memory of one segment. Loop ids are pyx12's (``ISA_LOOP``, ``GS_LOOP``, ``ST_LOOP``,
``HEADER``, ``1000A``, ``2000A``, ``2010AA`` ... ``2300``, ``2400``, ``2410``).

Bad input (:class:`~edi837.x12.reader.X12SyntaxError`) never leaves a broken document behind:

- when it comes before the first segment, nothing at all is written and the error propagates;
- when it comes later, the JSON and XML writers close every open node, add an ``error`` member
  (JSON: ``"error"`` after ``"children"`` of the root object; XML: an ``<error>`` element,
  last child of ``<x12>``) holding the one-line message, end the document validly, and then
  re-raise the error, so the caller still reports it and exits 2. TSV lines are complete as
  they are written.

ISA elements are never split into components: ISA16 *is* the component separator, and a
split would turn it into two empty components.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterable, Iterator
from typing import BinaryIO, Protocol, TextIO

from lxml import etree

from edi837.reports.stream import text_target
from edi837.x12.reader import X12SyntaxError
from edi837.x12.segment import Segment


class PlacementLike(Protocol):
    """What the tree writers need of a placement: the loop path and where new loops start."""

    @property
    def loop_id(self) -> str:
        """The innermost loop id."""
        ...

    @property
    def path(self) -> tuple[str, ...]:
        """Loop ids from the outermost."""
        ...

    @property
    def opened(self) -> int:
        """The depth from which loop instances were opened by this segment."""
        ...


Placed = tuple[Segment, PlacementLike]

# Characters XML 1.0 cannot carry; X12 data should never hold them, but a damaged file might.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _xml_text(value: str) -> str:
    return _NOT_XML.sub("\ufffd", value)


def _element_values(seg: Segment) -> list[str | list[str]]:
    if seg.id == "ISA":
        return list(seg.elements[1:])  # ISA16 is the component separator itself
    comp = seg.delimiters.component
    return [e.split(comp) if comp in e else e for e in seg.elements[1:]]


class _Guarded:
    """The placed segments, with bad input caught so a writer can close its document first.

    :meth:`first` pulls the first segment before anything is written (an error there
    propagates at once); iterating then yields every segment and stops at an error, which is
    kept in :attr:`error` for the writer to record and re-raise.
    """

    def __init__(self, placed: Iterable[Placed]) -> None:
        self._items = iter(placed)
        self._first: Placed | None = None
        self.error: X12SyntaxError | None = None

    def first(self) -> bool:
        """Read the first segment; False when there is none. Raises on bad input."""
        for item in self._items:
            self._first = item
            return True
        return False

    def __iter__(self) -> Iterator[Placed]:
        if self._first is not None:
            yield self._first
            self._first = None
        try:
            yield from self._items
        except X12SyntaxError as exc:
            self.error = exc


def _common(stack: list[str], placement: PlacementLike) -> int:
    """How many open loops stay open for this segment."""
    keep = min(len(stack), placement.opened, len(placement.path))
    for depth in range(keep):
        if stack[depth] != placement.path[depth]:
            return depth
    return keep


def write_tsv(placed: Iterable[Placed], out: TextIO | BinaryIO) -> None:
    """One line per segment: ordinal, loop id, segment text (a binary ``out`` gets UTF-8)."""
    with text_target(out) as text:
        for seg, placement in placed:
            text.write(f"{seg.number}\t{placement.loop_id}\t{seg.text}\n")


def write_json(placed: Iterable[Placed], out: TextIO | BinaryIO, path: str) -> None:
    """The tree as one JSON object: loops with ordered ``children`` (segments and loops).

    Written as the segments arrive (a binary ``out`` gets UTF-8). See the module docstring
    for what happens on bad input.
    """
    items = _Guarded(placed)
    if not items.first():
        with text_target(out) as text:
            text.write('{"path": ' + json.dumps(path) + ', "children": []}\n')
        return
    with text_target(out) as text:
        _write_json(items, text, path)
    if items.error is not None:
        raise items.error


def _write_json(items: _Guarded, out: TextIO, path: str) -> None:
    out.write('{"path": ' + json.dumps(path) + ', "children": [')
    stack: list[str] = []
    first = [True]  # per depth: is the next child the first of its parent?

    def comma() -> str:
        if first[-1]:
            first[-1] = False
            return "\n"
        return ",\n"

    for seg, placement in items:
        keep = _common(stack, placement)
        while len(stack) > keep:
            stack.pop()
            first.pop()
            out.write("]}")
        for loop_id in placement.path[keep:]:
            out.write(comma() + '{"loop": ' + json.dumps(loop_id) + ', "children": [')
            stack.append(loop_id)
            first.append(True)
        node = {
            "segment": seg.id,
            "number": seg.number,
            "line": seg.line,
            "byte_offset": seg.byte_offset,
            "elements": _element_values(seg),
        }
        out.write(comma() + json.dumps(node))
    out.write("]}" * len(stack))
    if items.error is not None:
        out.write('], "error": ' + json.dumps(items.error.describe(path)) + "}\n")
    else:
        out.write("]}\n")


def write_xml(placed: Iterable[Placed], out: BinaryIO, path: str) -> None:
    """The tree as XML: ``<loop id>`` nodes holding ``<segment>`` and ``<element>`` nodes.

    Written as the segments arrive. See the module docstring for what happens on bad input.
    """
    items = _Guarded(placed)
    has_segments = items.first()
    with etree.xmlfile(out, encoding="utf-8") as xf:
        xf.write_declaration()
        with xf.element("x12", path=_xml_text(path)), contextlib.ExitStack() as loops:
            stack: list[tuple[str, contextlib.ExitStack]] = []
            for seg, placement in items if has_segments else ():
                keep = _common([s for s, _ in stack], placement)
                while len(stack) > keep:
                    stack.pop()[1].close()
                for loop_id in placement.path[keep:]:
                    level = contextlib.ExitStack()
                    level.enter_context(xf.element("loop", id=_xml_text(loop_id)))
                    stack.append((loop_id, level))
                node = etree.Element(
                    "segment", id=_xml_text(seg.id), number=str(seg.number), line=str(seg.line)
                )
                comp = seg.delimiters.component
                for position, value in enumerate(seg.elements[1:], start=1):
                    ref = f"{seg.id}{position:02d}"
                    element = etree.SubElement(node, "element", ref=_xml_text(ref))
                    if comp in value and seg.id != "ISA":
                        for index, part in enumerate(value.split(comp), start=1):
                            sub = etree.SubElement(
                                element, "component", ref=_xml_text(f"{ref}-{index}")
                            )
                            sub.text = _xml_text(part)
                    else:
                        element.text = _xml_text(value)
                xf.write(node)
            while stack:
                stack.pop()[1].close()
            loops.close()
            if items.error is not None:
                error = etree.Element("error")
                error.text = _xml_text(items.error.describe(path))
                xf.write(error)
    if items.error is not None:
        raise items.error

"""Acknowledgement segments and the responder's envelope.

An :class:`Out` is one segment to write: its id and elements, where an element is a string or
a tuple of components (a composite). Trailing empty elements and components are dropped when
the segment is serialised, as X12 requires. The envelope helpers build the responder's ISA,
GS and ST around a body: sender and receiver swapped from the input's ISA/GS, ISA15 (test or
production) kept, ISA14 0 (nobody acknowledges an acknowledgement), control numbers from a
:class:`ControlNumbers` counter and the creation date and time given by the caller.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from edi837.x12.segment import Delimiters, Segment

Element = str | tuple[str, ...]


@dataclass(frozen=True)
class Out:
    """One acknowledgement segment."""

    id: str
    elements: tuple[Element, ...] = ()

    def text(self, delims: Delimiters) -> str:
        """The segment without its terminator.

        Raises :class:`DelimiterClash` when a value holds one of the delimiters (possible only
        with delimiters other than the input's, whose data cannot contain its own).
        """
        values = [_element_text(e, delims.component) for e in self.elements]
        while values and not values[-1]:
            values.pop()
        if self.id != "ISA":
            for element in self.elements:
                parts = (element,) if isinstance(element, str) else element
                for part in parts:
                    if any(c and c in part for c in _separators(delims)):
                        raise DelimiterClash(
                            f"a value of the {self.id} segment contains one of the delimiters; "
                            "choose delimiters that do not occur in the data"
                        )
        return delims.element.join([self.id, *values])


class DelimiterClash(ValueError):
    """A value to write contains a delimiter."""


def _separators(delims: Delimiters) -> tuple[str, ...]:
    return (delims.element, delims.component, delims.segment, delims.repetition or "")


def out(segment_id: str, *elements: Element) -> Out:
    """``out("IK5", "R", "4")`` is ``IK5*R*4``."""
    return Out(segment_id, tuple(elements))


def _element_text(element: Element, separator: str) -> str:
    if isinstance(element, str):
        return element
    parts = list(element)
    while parts and not parts[-1]:
        parts.pop()
    return separator.join(parts)


class ControlNumbers:
    """The responder's interchange and group control numbers, counting up from ``first``."""

    def __init__(self, first: int = 1) -> None:
        if not 1 <= first <= 999_999_999:
            raise ValueError("a control number is 1 to 999999999")
        self.next_number = first

    def take(self) -> int:
        """The next control number (wrapping after nine digits, as ISA13 must)."""
        number = self.next_number
        self.next_number = number + 1 if number < 999_999_999 else 1
        return number


@dataclass(frozen=True)
class Style:
    """How the acknowledgements are written: delimiters and what follows each terminator."""

    delimiters: Delimiters
    line_end: str = "\n"


def isa(source: Segment, control: int, now: datetime, style: Style) -> Out:
    """The responder's ISA for an answer to the interchange whose ISA is ``source``.

    Authorisation and security information (ISA01-ISA04) are the sender's own and are not
    echoed: the answer carries none. ISA14 is 0: an acknowledgement is never acknowledged.
    """
    delims = style.delimiters
    usage = source.element(15) or "P"
    return out(
        "ISA",
        "00",
        " " * 10,
        "00",
        " " * 10,
        source.element(7).strip(),
        source.element(8).strip().ljust(15)[:15],
        source.element(5).strip(),
        source.element(6).strip().ljust(15)[:15],
        now.strftime("%y%m%d"),
        now.strftime("%H%M"),
        delims.repetition or "^",
        "00501",
        f"{control:09d}",
        "0",
        usage,
        delims.component,
    )


def iea(groups: int, control: int) -> Out:
    """The IEA closing an interchange of ``groups`` functional groups."""
    return out("IEA", str(groups), f"{control:09d}")


def gs(source: Segment, functional_id: str, version: str, control: int, now: datetime) -> Out:
    """The responder's GS: application sender and receiver swapped from the input's GS."""
    return out(
        "GS",
        functional_id,
        source.element(3) or "UNKNOWN",
        source.element(2) or "UNKNOWN",
        now.strftime("%Y%m%d"),
        now.strftime("%H%M"),
        str(control),
        "X",
        version,
    )


def ge(transactions: int, control: int) -> Out:
    """The GE closing a group of ``transactions`` transaction sets."""
    return out("GE", str(transactions), str(control))


def transaction(set_id: str, number: int, version: str, body: list[Out]) -> list[Out]:
    """ST, the body and SE with its segment count (ST and SE included)."""
    control = f"{number:04d}"
    return [
        out("ST", set_id, control, version),
        *body,
        out("SE", str(len(body) + 2), control),
    ]

"""The parser's finding codes: what the reader's own checks report, and how a finding is located.

The envelope checker (:mod:`edi837.x12.envelope`) and the 837P layer report problems while the
file streams, below the rules layer that documents them. So that each code has one home, a
parser check is a class named by its code (``ENV005`` is ``ENV-005``) that carries its default
severity and builds its findings; the rule of the same name in :mod:`edi837.rules.structure`
*is* a subclass of it that adds the documentation, so selection, severity overrides and
``edi837 rules`` see the very class the parser reports through. No module of the parser writes
a code as a string.

This module declares the X12 envelope codes (ENV-001 to ENV-009) and :func:`located`, the one
helper that turns a segment (and an element reference) into a finding's location. It also
holds the one ENV-002 check for separators inside data (:func:`delimiters_in`), used by the
envelope checker and by the 837P element checks alike.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, ClassVar

from edi837.findings import QUOTE_LIMIT, Finding, Fix, Severity
from edi837.x12.segment import Delimiters, Segment

_NAME = re.compile(r"^([A-Z]+)(\d{3})$")


class Check:
    """A code the parser reports: subclasses are named by it and may set ``severity``."""

    code: ClassVar[str] = ""
    severity: ClassVar[Severity] = Severity.REJECT

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        match = _NAME.match(cls.__name__)
        if match is not None:
            cls.code = f"{match.group(1)}-{match.group(2)}"

    @classmethod
    def finding(
        cls,
        message: str,
        seg: Segment | None = None,
        element: str | None = None,
        *,
        loop: str | None = None,
        severity: Severity | None = None,
        fix: Fix | None = None,
        interchange: str | None = None,
        transaction: str | None = None,
    ) -> Finding:
        """A finding of this code at ``seg`` (and ``element``), at the code's severity."""
        finding = Finding(
            code=cls.code,
            severity=severity if severity is not None else cls.severity,
            message=message,
            loop=loop,
            interchange=interchange,
            transaction=transaction,
            fix=fix,
        )
        if seg is not None:
            located(finding, seg, element)
        return finding


def located(finding: Finding, seg: Segment, element: str | None = None) -> Finding:
    """Locate ``finding`` at ``seg``: ordinal, byte offset, line, text and element column."""
    sid = seg.id
    # An id is two or three characters; a "segment" with no element separator in a long run
    # of data has that whole run as its id, which no report column should carry.
    finding.segment_id = sid if len(sid) <= QUOTE_LIMIT else f"{sid[:QUOTE_LIMIT]}..."
    finding.segment_number = seg.number
    finding.byte_offset = seg.byte_offset
    finding.line_number = seg.line
    finding.segment_text = seg.text
    finding.element = element
    if element is not None:
        try:
            finding.column, finding.width = seg.column_of(element)
        except (KeyError, ValueError):
            finding.column = finding.width = None
    return finding


def checks() -> list[type[Check]]:
    """Every parser code declared so far (a layer's module must be imported to be seen)."""
    found: list[type[Check]] = []

    def walk(cls: type[Check]) -> None:
        for sub in cls.__subclasses__():
            if sub.__module__.startswith("edi837.x12") or sub.__module__.startswith("edi837.x837p"):
                if sub.code:
                    found.append(sub)
                walk(sub)

    walk(Check)
    return found


# --- ENV-002: a separator inside data --------------------------------------------------------


def described(char: str) -> str:
    """A delimiter for a message: ``a line feed``, ``a space``, or the quoted character."""
    return {"\n": "a line feed", "\r": "a carriage return", " ": "a space"}.get(char, repr(char))


def data_delimiters(
    delimiters: Delimiters, *, component: bool = True, segment: bool = False
) -> tuple[tuple[str, str], ...]:
    """The (name, character) of the separators that may not stand in data at some place.

    The repetition separator never may; the component separator may not in a simple element
    (``component``); the segment terminator only needs looking for where a reader could not
    have cut on it (the fixed-width ISA, ``segment``).
    """
    named: list[tuple[str, str]] = []
    if component:
        named.append(("component separator (ISA16)", delimiters.component))
    if segment:
        named.append(("segment terminator", delimiters.segment))
    if delimiters.repetition:
        named.append(("repetition separator (ISA11)", delimiters.repetition))
    return tuple(named)


def delimiters_in(ref: str, value: str, named: tuple[tuple[str, str], ...]) -> Iterator[str]:
    """ENV-002's message for each separator of ``named`` found in ``value``.

    The message names the element, the separator and where it stands, never the value: the
    value may be a patient's name or id.
    """
    for name, char in named:
        if char and char in value:
            yield (
                f"{ref} contains the {name} {described(char)} at character "
                f"{value.index(char) + 1} of {len(value)}; a delimiter may not occur in data"
            )


# --- the envelope codes ---------------------------------------------------------------------


class ENV001(Check):
    """The file starts with ISA, and the ISA is 106 characters with fixed-width elements."""


class ENV002(Check):
    """The four delimiters are distinct, and none of them appears inside data."""


class ENV003(Check):
    """Line breaks after terminators are consistent (CR, LF or CRLF, not a mix)."""

    severity = Severity.WARNING


class ENV005(Check):
    """ISA13 equals IEA02 (9 digits)."""


class ENV006(Check):
    """GS06 equals GE02."""


class ENV007(Check):
    """ST02 equals SE02, and ST02 is unique within its group."""


class ENV008(Check):
    """SE01 is the number of segments from ST to SE, both counted."""


class ENV009(Check):
    """GE01 counts the transactions of its group; IEA01 counts the groups of its interchange."""


class ENV012(Check):
    """Segments begin with their id: no spaces or tabs before them."""

    severity = Severity.WARNING


class ENV013(Check):
    """The last segment of the file ends with the segment terminator."""

    severity = Severity.WARNING

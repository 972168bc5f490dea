"""Masking patient data in what people read: reports, listings and messages (``redact``).

X12 carries a person's name, identifiers, address, birth date and contact in a few segments;
with ``redact`` a report keeps everything it needs to locate a problem (segment id, qualifiers,
element count and positions, which elements are empty) and shows ``XXXX`` instead of the values
that identify a person:

========  ====================================================================================
NM1       names (NM103-NM107) unless the entity is an organisation (NM102 = 2); the
          identifier NM109 of everyone but the payer (NM101 = PR), whose id routes the claim
          and identifies no person. A provider's NPI is public, but an individual provider is a
          person and the billing NPI links a claim to its patient's practice: it is masked too.
N3        every element (street address).
N4        every element but the location qualifier N405 (city, state, ZIP, country).
DMG       every element but the date format qualifier DMG01 (birth date, gender ...).
REF       REF02 and REF03 when REF01 names a person identifier (:data:`PERSON_REFS`: SSN,
          member id, policy number, medical record number ...); other references (prior
          authorisation, line control numbers) stay.
PER       the name (PER02) and every communication number (PER04, PER06, PER08), not their
          qualifiers.
========  ====================================================================================

Empty elements stay empty (a finding may be about an element being absent), and each masked
component is masked on its own, so the caret of a finding still stands under its element.
A finding's message may quote the value it is about (``NM109 'DOE123' is ...``);
:func:`redact_message` replaces the quoted values of the finding's segment.

The module depends only on :mod:`edi837.findings`, so that every layer (reports, logs of
``fix``, ``batch`` and ``watch``) can mask through it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Protocol

from edi837.findings import Finding


class _Delimiters(Protocol):
    @property
    def element(self) -> str: ...

    @property
    def component(self) -> str: ...


class SegmentLike(Protocol):
    """What masking needs of a segment (:class:`~edi837.x12.segment.Segment` has it)."""

    @property
    def text(self) -> str:
        """The segment's text without its terminator."""
        ...

    @property
    def delimiters(self) -> _Delimiters:
        """The file's separators."""
        ...


#: What a masked value is shown as.
MASK = "XXXX"

#: Segments that can hold patient data.
SENSITIVE = frozenset({"NM1", "N3", "N4", "DMG", "REF", "PER"})

#: REF01 qualifiers whose REF02 identifies a person (005010X222A1 and the X12 code list 128).
PERSON_REFS = frozenset(
    {
        "SY",  # social security number
        "1W",  # member identification number
        "23",  # client number
        "IG",  # insurance policy number
        "EA",  # medical record identification number
        "F6",  # health insurance claim (HIC) number
        "Y4",  # agency claim number (property and casualty: names the claimant)
        "NQ",  # Medicaid recipient identification number
        "SU",  # special processing code used for patient identification by some payers
        "3H",  # case number
    }
)

_ALL = frozenset(range(1, 100))


def masked_positions(segment_id: str, elements: list[str]) -> frozenset[int]:
    """Element positions (1-based) whose values are masked in this segment."""
    if segment_id == "NM1":
        positions: set[int] = set()
        if (elements[2] if len(elements) > 2 else "") != "2":
            positions.update(range(3, 8))
        if (elements[1] if len(elements) > 1 else "") != "PR":
            positions.add(9)
        return frozenset(positions)
    if segment_id == "N3":
        return _ALL
    if segment_id == "N4":
        return _ALL - {5}
    if segment_id == "DMG":
        return _ALL - {1}
    if segment_id == "REF":
        qualifier = elements[1] if len(elements) > 1 else ""
        return frozenset({2, 3}) if qualifier in PERSON_REFS else frozenset()
    if segment_id == "PER":
        return frozenset({2, 4, 6, 8})
    return frozenset()


def _mask(value: str, component: str | None) -> str:
    if not value:
        return value
    if component and component in value:
        return component.join(MASK if part else part for part in value.split(component))
    return MASK


def redact_text(text: str, element: str, component: str | None = None) -> str:
    """Segment text (no terminator) with its patient data masked; other segments unchanged.

    ``element`` and ``component`` are the file's separators; without the component separator
    a composite element is masked as one value.
    """
    if not text or element not in text:
        return text
    elements = text.split(element)
    segment_id = elements[0]
    if segment_id not in SENSITIVE:
        return text
    positions = masked_positions(segment_id, elements)
    if not positions:
        return text
    return element.join(
        _mask(value, component) if index in positions else value
        for index, value in enumerate(elements)
    )


def redact_segment(segment: SegmentLike) -> str:
    """The text of ``segment`` with its patient data masked."""
    delimiters = segment.delimiters
    return redact_text(segment.text, delimiters.element, delimiters.component)


def _separator_of(text: str) -> str | None:
    """The element separator of a segment text: the first character after the segment id."""
    match = re.match(r"[A-Za-z0-9]{2,3}", text)
    if match is None or match.end() >= len(text):
        return None
    return text[match.end()]


def masked_values(text: str, element: str | None = None) -> list[str]:
    """The values that :func:`redact_text` masks in ``text`` (longest first)."""
    sep = element or _separator_of(text)
    if sep is None:
        return []
    elements = text.split(sep)
    positions = masked_positions(elements[0], elements) if elements[0] in SENSITIVE else set()
    values = {elements[i] for i in positions if i < len(elements) and elements[i]}
    return sorted(values, key=len, reverse=True)


def redact_message(message: str, values: Iterable[str]) -> str:
    """``message`` with every quoted or whole-word occurrence of ``values`` masked.

    Rule messages quote values in single quotes (``'DOE'``); a value of three characters or
    more is also masked where it stands as a word, since some messages name it unquoted.
    """
    for value in values:
        message = message.replace(repr(value), repr(MASK))
        message = message.replace(f"'{value}'", f"'{MASK}'")
        if len(value) >= 3:
            message = re.sub(rf"(?<![\w]){re.escape(value)}(?![\w])", MASK, message)
    return message


def redact_finding_message(finding: Finding) -> str:
    """A finding's message with the patient data of its segment masked."""
    if finding.segment_text is None:
        return finding.message
    return redact_message(finding.message, masked_values(finding.segment_text))


def redact_finding_text(finding: Finding) -> tuple[str | None, int | None, int | None]:
    """A finding's segment text masked, with the caret column and width moved to match."""
    text = finding.segment_text
    if text is None:
        return None, finding.column, finding.width
    sep = _separator_of(text)
    if sep is None:
        return text, finding.column, finding.width
    masked = redact_text(text, sep)
    if masked == text or finding.column is None:
        return masked, finding.column, finding.width
    return masked, *moved_column(text, masked, sep, finding.column, finding.width or 1)


def moved_column(original: str, masked: str, sep: str, column: int, width: int) -> tuple[int, int]:
    """The caret of ``original[column:column+width]`` in ``masked`` (same element, same part)."""
    before = original[:column]
    index = before.count(sep)
    start_in_element = column - (before.rfind(sep) + 1)
    old = original.split(sep)
    new = masked.split(sep)
    if index >= len(new):
        return len(masked), 1
    offset = sum(len(e) + 1 for e in new[:index])
    if old[index] == new[index]:
        return offset + start_in_element, width
    return offset, max(len(new[index]), 1)

"""Element checks of the 837P guide: each segment's elements against its slot's definitions.

The loop tracker (:mod:`edi837.x837p.tracker`) decides which guide slot a segment fills; this
module decides what is wrong with the segment's elements in that slot, from the element tables
compiled out of pyx12's map (:mod:`edi837.x837p.guide`):

- ``ELM-001`` a required element or component is missing;
- ``ELM-002`` a value's length is outside the guide's bounds (numeric types count digits only);
- ``ELM-003`` a coded value is not in the element's code list;
- ``ELM-004`` more elements or components than the guide defines, or data in an element the
  guide marks not used;
- ``ELM-005`` a syntax relation between elements broken (paired, required, exclusion,
  conditional, list conditional: ``P0506``, ``R0203``, ``E0405``, ``C1110``, ``L101112``);
- ``ELM-006`` a value not of its X12 data type (``R`` decimal, ``N0``/``N2`` integer, ``DT``
  date, ``TM`` time, and a date whose format a qualifier names: ``D8``, ``RD8``);
- ``ENV-002`` a component or repetition separator inside a simple element's value.

:class:`SlotElements` holds the compiled checks of one slot; :class:`ElementChecker` runs them
for one reader, with a regular expression per slot that accepts a valid segment in one match
and a size-capped memo of results by segment text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import date
from functools import lru_cache

from edi837.x12.checks import ENV002, Check, data_delimiters, delimiters_in
from edi837.x12.segment import Delimiters, Segment
from edi837.x837p.checks import ELM001, ELM002, ELM003, ELM004, ELM005, ELM006
from edi837.x837p.guide import NUMERIC_TYPES, ElementDef, SegmentSlot, SyntaxRule

#: One problem of a segment: (its code, element reference, message).
Problem = tuple[type[Check], str, str]

# A compiled element check: (position, ref, name, usage, numeric, min, max, codes, components,
# data type, identifier)
Compiled = tuple[
    int,
    str,
    str,
    str,
    bool,
    int,
    int,
    "frozenset[str] | None",
    "tuple[Compiled, ...] | None",
    "str | None",
    bool,
]

# The X12 character sets (X12.6). The basic set is upper-case letters, digits, space and
# ! " & ' ( ) * + , - . / : ; ? = ; the extended set adds lower-case letters and
# % ~ @ [ ] _ { } \ | < > # $, and from version 00501 on also ^ and `. The 005010 guides allow
# the extended set, and the tracker reads only 005010 837P transactions, so values are held to
# it: a control character or a character outside ASCII is never X12 data. Delimiters are taken
# out of the set per interchange.
BASIC_CHARACTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 !\"&'()*+,-./:;?=")
EXTENDED_CHARACTERS = BASIC_CHARACTERS | frozenset("abcdefghijklmnopqrstuvwxyz%~@[]_{}\\|<>#$^`")

# X12 data elements that identify something (an id code, a reference, a claim or line id, a
# procedure code or modifier, a phone number): such a value is written with letters and
# digits, so one made only of punctuation (an NM109 of ``!!``) is a placeholder, not an id.
# (HL01 and HL02 are numbers, which HL-001 and HL-002 check.)
_IDENTIFIERS = frozenset(
    {
        "67",  # Identification Code (NM109)
        "127",  # Reference Identification (REF02, and the claim and line references)
        "234",  # Product/Service ID (SV101-2, LIN03)
        "310",  # Location Identifier
        "350",  # Assigned Identification
        "364",  # Communication Number (PER04, PER06, PER08)
        "799",  # Version Identifier and line item control numbers
        "1028",  # Claim Submitter's Identifier (CLM01)
        "1271",  # Industry Code (HI diagnosis codes)
        "1339",  # Procedure Modifier
    }
)

# Element results are memoised per slot by segment text; a cap keeps memory flat on files
# where every segment is different.
MEMO_LIMIT = 1024


def _compile_check(definition: ElementDef) -> Compiled:
    components = None
    if definition.components is not None:
        components = tuple(_compile_check(part) for part in definition.components)
    return (
        definition.component or definition.position,
        definition.ref,
        definition.name,
        definition.usage,
        definition.data_type in NUMERIC_TYPES,
        definition.min_length,
        definition.max_length,
        definition.codes,
        components,
        definition.data_type,
        definition.data_element in _IDENTIFIERS,
    )


class SlotElements:
    """The compiled element checks of one guide slot.

    Attributes:
        slot: the guide slot.
        uid: the slot's index among the tracker's slots (keys the per-reader memo).
        skip: element references a structure rule owns (HL02, HL04, DTP02/03 of DTP*472).
        extra: a check of the same segment text that a structure rule owns and wants
            remembered with these (the DTP*472 service date of STR-005).
    """

    __slots__ = (
        "slot",
        "uid",
        "id",
        "skip",
        "checks",
        "defined",
        "required_after",
        "extra",
        "syntax",
        "relations",
        "dated",
    )

    def __init__(
        self,
        slot: SegmentSlot,
        uid: int,
        skip: frozenset[str],
        extra: Callable[[Segment], list[Problem]] | None = None,
    ) -> None:
        self.slot = slot
        self.uid = uid
        self.id = slot.segment_id
        self.skip = skip
        self.extra = extra
        checks = tuple(_compile_check(e) for e in slot.elements if e.ref not in skip)
        self.checks = checks
        self.defined = len(slot.elements)
        self.syntax = slot.syntax
        # ELM-005 results by which elements are used (see :meth:`problems`).
        self.relations: dict[tuple[bool, ...], tuple[Problem, ...]] = {}
        self.dated = _dated(slot, skip)
        # For a segment with n elements, the required elements after the n-th.
        self.required_after = tuple(
            tuple(c for c in checks if c[3] == "R" and c[0] > n) for n in range(self.defined + 1)
        )


class ElementChecker:
    """Runs the element checks for one reader: fast-path patterns and a memo per slot.

    Both depend on the interchange's separators; :meth:`use` voids them when those change.
    """

    __slots__ = ("memo", "_patterns", "_delimiters")

    def __init__(self, slots: int) -> None:
        self.memo: list[dict[str, tuple[Problem, ...]]] = [{} for _ in range(slots)]
        # Each slot's pattern, compiled on first use (``None``: no pattern can be written).
        self._patterns: dict[int, re.Pattern[str] | None] = {}
        self._delimiters: Delimiters | None = None

    def use(self, delimiters: Delimiters) -> bool:
        """The separators of a new interchange; results learnt under others are dropped.

        Returns whether they changed (and what was learnt was dropped).
        """
        if delimiters == self._delimiters:
            return False
        self._delimiters = delimiters
        for memo in self.memo:
            memo.clear()
        self._patterns = {}
        return True

    def problems(self, seg: Segment, rules: SlotElements) -> tuple[Problem, ...]:
        """The problems of ``seg`` in the slot of ``rules``, remembered by segment text."""
        memo = self.memo[rules.uid]
        text = seg.text
        found = memo.get(text)
        if found is None:
            found = self.check(seg, rules)
            if len(memo) >= MEMO_LIMIT:
                memo.clear()
            memo[text] = found
        return found

    def check(self, seg: Segment, rules: SlotElements) -> tuple[Problem, ...]:
        """The problems of ``seg`` in the slot of ``rules``, without the memo."""
        # The slot's pattern sees each element alone: relations between elements, and what a
        # structure rule adds, are checked apart from it.
        related: Sequence[Problem] = ()
        if rules.syntax:
            # Relations look only at which elements are used, so their outcome is remembered
            # by that shape: a segment of unique values (a name, an id) mostly has a known one.
            shape = tuple(map(bool, seg.elements))
            relations = rules.relations
            found = relations.get(shape)
            if found is None:
                found = tuple(_relation_problems(seg, rules.id, rules.syntax))
                if len(relations) >= MEMO_LIMIT:
                    relations.clear()
                relations[shape] = found
            related = found
        if rules.dated:
            dates = _date_problems(seg, rules.dated)
            if dates:
                related = (*related, *dates)
        if rules.extra is not None:
            extra = rules.extra(seg)
            if extra:
                related = (*related, *extra)
        if related:
            return (*_check_elements(seg, rules), *related)
        try:
            pattern = self._patterns[rules.uid]
        except KeyError:
            pattern = self._patterns[rules.uid] = _valid_pattern(rules, seg.delimiters)
        # The pattern accepts a segment with no element problem in one match.
        if pattern is not None and pattern.fullmatch(seg.text) is not None:
            return ()
        return _check_elements(seg, rules)


def _check_elements(seg: Segment, rules: SlotElements) -> tuple[Problem, ...]:
    """ELM-001..004 (and ENV-002 for separators in data) for one segment against its slot."""
    elements = seg.elements
    present = len(elements) - 1
    problems: list[Problem] = []
    sid = rules.id
    if present > rules.defined:
        ref = f"{sid}{rules.defined + 1:02d}"
        problems.append(
            (
                ELM004,
                ref,
                f"{sid} has {present} elements; the guide defines {rules.defined}",
            )
        )
    separator = seg.delimiters.component
    repetition = seg.delimiters.repetition
    for check in rules.checks:
        position = check[0]
        if position > present:
            break
        value = elements[position]
        if not value:
            if check[3] == "R":
                problems.append(
                    (ELM001, check[1], f"required element {check[1]} ({check[2]}) is missing")
                )
            continue
        if check[3] == "N":
            problems.append(
                (ELM004, check[1], f"{check[1]} ({check[2]}) is not used in the 837P guide")
            )
            continue
        components = check[8]
        if components is None:
            if separator in value or (repetition and repetition in value):
                for message in delimiters_in(check[1], value, data_delimiters(seg.delimiters)):
                    problems.append((ENV002, check[1], message))
            _check_value(value, check, problems)
            continue
        parts = value.split(separator)
        if len(parts) > len(components):
            problems.append(
                (
                    ELM004,
                    f"{check[1]}-{len(components) + 1}",
                    f"{check[1]} has {len(parts)} components; the guide defines {len(components)}",
                )
            )
        for part in components:
            index = part[0]
            text = parts[index - 1] if index <= len(parts) else ""
            if not text:
                if part[3] == "R":
                    problems.append(
                        (ELM001, part[1], f"required component {part[1]} ({part[2]}) is missing")
                    )
                continue
            if part[3] == "N":
                problems.append(
                    (ELM004, part[1], f"{part[1]} ({part[2]}) is not used in the 837P guide")
                )
                continue
            if repetition and repetition in text:
                # A composite's components may not hold the repetition separator.
                only = data_delimiters(seg.delimiters, component=False)
                for message in delimiters_in(part[1], text, only):
                    problems.append((ENV002, part[1], message))
            _check_value(text, part, problems)
    for check in rules.required_after[min(present, rules.defined)]:
        problems.append((ELM001, check[1], f"required element {check[1]} ({check[2]}) is missing"))
    return tuple(problems)


# Date and time elements: (position, ref, name, data type or None, position of the format
# qualifier or 0). A DT or TM element has its type; a date (X12 element 1251) takes the format
# its qualifier (element 1250) names in the same segment, as DTP02 does for DTP03.
Dated = tuple[int, str, str, "str | None", int]

# The formats a 1250 qualifier can name that this module knows how to read.
_DATE_FORMATS = frozenset({"D8", "RD8", "DT", "TM"})


def _dated(slot: SegmentSlot, skip: frozenset[str]) -> tuple[Dated, ...]:
    found: list[Dated] = []
    qualifier = 0
    for definition in slot.elements:
        if definition.components is not None or definition.ref in skip:
            continue
        if definition.data_element == "1250":
            qualifier = definition.position
        elif definition.data_type in ("DT", "TM"):
            found.append(
                (definition.position, definition.ref, definition.name, definition.data_type, 0)
            )
        elif definition.data_element == "1251" and qualifier:
            found.append((definition.position, definition.ref, definition.name, None, qualifier))
    return tuple(found)


def _date_problems(seg: Segment, dated: tuple[Dated, ...]) -> list[Problem]:
    """ELM-006 for dates and times: a real calendar date, a time of day; never quoting them."""
    elements = seg.elements
    count = len(elements)
    problems: list[Problem] = []
    for position, ref, name, data_type, qualifier in dated:
        value = elements[position] if position < count else ""
        if not value:
            continue
        if data_type is None:
            data_type = elements[qualifier] if qualifier < count else ""
            if data_type not in _DATE_FORMATS:
                continue  # an unknown qualifier is ELM-003's finding
        if data_type in ("DT", "D8"):
            if not is_date(value):
                problems.append(
                    (
                        ELM006,
                        ref,
                        f"{ref} ({name}) is not a calendar date ({data_type}: CCYYMMDD)",
                    )
                )
        elif data_type == "RD8":
            start, dash, end = value.partition("-")
            if not dash or not is_date(start) or not is_date(end):
                problems.append(
                    (
                        ELM006,
                        ref,
                        f"{ref} ({name}) is not a range of calendar dates (RD8: CCYYMMDD-CCYYMMDD)",
                    )
                )
        elif not is_time(value):
            problems.append(
                (
                    ELM006,
                    ref,
                    f"{ref} ({name}) is not a time of day (TM: HHMM, HHMMSS, HHMMSSD or HHMMSSDD)",
                )
            )
    return problems


def is_date(value: str, earliest: int = 1800) -> bool:
    """CCYYMMDD, a day that exists; years before 1800 are taken as typing errors, as pyx12 does."""
    # Most dates are plainly real (a day up to 28 exists in every month): one match says so.
    if earliest <= _SURE_EARLIEST and _SURE_DATE.fullmatch(value) is not None:
        return True
    return _is_calendar_date(value, earliest)


# A year from 1800 on, a month, and a day that every month has.
_SURE_DATE = re.compile(r"(?:1[89]|[2-9][0-9])[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|1[0-9]|2[0-8])")
_SURE_EARLIEST = 1800


# Claim after claim carries the same few service and birth dates: their verdicts are kept
# (bounded, so a file of random dates keeps memory flat).
@lru_cache(maxsize=4096)
def _is_calendar_date(value: str, earliest: int) -> bool:
    if len(value) != 8 or _DIGITS.fullmatch(value) is None:
        return False
    year, month, day = int(value[:4]), int(value[4:6]), int(value[6:])
    if year < earliest:
        return False
    try:
        date(year, month, day)
    except ValueError:
        return False
    return True


def is_time(value: str) -> bool:
    """HHMM, HHMMSS, HHMMSSD or HHMMSSDD, a time of day (X12 TM)."""
    if len(value) not in (4, 6, 7, 8) or _DIGITS.fullmatch(value) is None:
        return False
    return value[:2] < "24" and value[2:4] < "60" and (len(value) < 6 or value[4:6] < "60")


def _relation_problems(seg: Segment, sid: str, syntax: tuple[SyntaxRule, ...]) -> list[Problem]:
    """ELM-005: the segment's syntax relations; an element is used when it is not empty."""
    elements = seg.elements
    count = len(elements)
    problems: list[Problem] = []
    for rule in syntax:
        used = [p for p in rule.positions if p < count and elements[p]]
        kind = rule.kind
        positions = rule.positions
        message = ""
        ref = ""
        if kind == "P":
            if used and len(used) < len(positions):
                ref = _ref(sid, next(p for p in positions if p not in used))
                message = f"{_listed(sid, positions, 'and')} must be used together"
        elif kind == "R":
            if not used:
                ref = _ref(sid, positions[0])
                message = f"at least one of {_listed(sid, positions, 'or')} is required"
        elif kind == "E":
            if len(used) > 1:
                ref = _ref(sid, used[1])
                message = f"only one of {_listed(sid, positions, 'or')} may be used"
        elif positions[0] in used:
            others = positions[1:]
            if kind == "C" and len(used) < len(positions):
                ref = _ref(sid, next(p for p in others if p not in used))
                verb = "is" if len(others) == 1 else "are"
                message = (
                    f"{_listed(sid, others, 'and')} {verb} required when "
                    f"{_ref(sid, positions[0])} is used"
                )
            elif kind == "L" and len(used) == 1:
                ref = _ref(sid, others[0])
                message = (
                    f"at least one of {_listed(sid, others, 'or')} is required when "
                    f"{_ref(sid, positions[0])} is used"
                )
        if message:
            problems.append((ELM005, ref, f"{message} ({rule.note})"))
    return problems


def _ref(sid: str, position: int) -> str:
    return f"{sid}{position:02d}"


def _listed(sid: str, positions: tuple[int, ...], word: str) -> str:
    """``PER05 and PER06``, ``FRM02, FRM03 or FRM04``."""
    refs = [_ref(sid, p) for p in positions]
    return refs[0] if len(refs) == 1 else f"{', '.join(refs[:-1])} {word} {refs[-1]}"


# X12.6 numeric forms, ASCII only: R is a decimal with an optional leading minus and at most one
# decimal point (no exponent, no sign other than minus, no NaN or Infinity); Nn is an integer
# with an optional leading minus whose last n digits are implied decimals.
_DECIMAL = re.compile(r"-?(?:[0-9]+(?:\.[0-9]+)?|\.[0-9]+)", re.ASCII)
_INTEGER = re.compile(r"-?[0-9]+", re.ASCII)
_DIGITS = re.compile(r"[0-9]+", re.ASCII)
_ALPHANUMERIC = re.compile(r"[A-Za-z0-9]", re.ASCII)


def count_value(value: str, max_digits: int) -> int | None:
    """A counter read from a file (HL01, SE01 ...): ASCII digits, at most ``max_digits`` long.

    The bound is the guide's maximum length, which also keeps a hostile value away from Python's
    limit on converting long digit strings; ``None`` when the text is no such number.
    """
    if len(value) > max_digits or _DIGITS.fullmatch(value) is None:
        return None
    return int(value)


def _type_problem(value: str, check: Compiled) -> str | None:
    """Why ``value`` is not of the element's X12 data type; ``None`` when it is."""
    data_type = check[9]
    if data_type == "R":
        if _DECIMAL.fullmatch(value) is None:
            return (
                f"{check[1]} ({check[2]}) is not an X12 decimal number (type R: digits with an "
                "optional leading minus and at most one decimal point, no exponent)"
            )
    elif data_type is not None and data_type[0] == "N" and _INTEGER.fullmatch(value) is None:
        places = data_type[1:]
        implied = f", {places} implied decimal places" if places not in ("", "0") else ""
        return (
            f"{check[1]} ({check[2]}) is not an X12 integer (type {data_type}: digits with an "
            f"optional leading minus{implied})"
        )
    return None


def _check_value(value: str, check: Compiled, problems: list[Problem]) -> None:
    if check[4]:
        wrong = _type_problem(value, check)
        if wrong is not None:
            problems.append((ELM006, check[1], wrong))
    elif check[9] in ("AN", "ID") and check[7] is None:
        # A coded value outside its list is ELM-003's finding, whatever its characters.
        outside = next((c for c in value if c not in EXTENDED_CHARACTERS), None)
        if outside is not None:
            problems.append(
                (
                    ELM006,
                    check[1],
                    f"{check[1]} ({check[2]}) holds U+{ord(outside):04X} at character "
                    f"{value.index(outside) + 1}, which is not in the X12 character set",
                )
            )
        elif check[10] and _ALPHANUMERIC.search(value) is None:
            problems.append(
                (
                    ELM006,
                    check[1],
                    f"{check[1]} ({check[2]}) holds no letter or digit; an identifier is "
                    "written with letters and digits",
                )
            )
    # X12 counts only digits in the length of a numeric value: no sign, no decimal point.
    length = len(value.replace("-", "").replace(".", "")) if check[4] else len(value)
    if length < check[5] or length > check[6]:
        bounds = f"{check[5]}" if check[5] == check[6] else f"{check[5]}-{check[6]}"
        problems.append(
            (
                ELM002,
                check[1],
                f"{check[1]} ({check[2]}) has length {length}; the guide allows {bounds}",
            )
        )
    codes = check[7]
    if codes is not None and value not in codes:
        shown = ", ".join(sorted(codes)[:12]) + (" ..." if len(codes) > 12 else "")
        problems.append(
            (
                ELM003,
                check[1],
                f"{check[1]} ({check[2]}) holds a value that is not in the guide's code list "
                f"({shown})",
            )
        )


# --- the fast path ----------------------------------------------------------------------------


def _valid_pattern(rules: SlotElements, delimiters: Delimiters) -> re.Pattern[str] | None:
    """A regular expression that matches only segments with no ELM-* problem in the slot.

    It is exact for the common cases and stricter elsewhere (a decimal with a leading sign and
    no digits, say): whatever it does not match goes through :func:`_check_elements`, which
    decides. ``None`` when no such expression can be written for the slot.
    """
    element = re.escape(delimiters.element)
    component = re.escape(delimiters.component)
    separators = {delimiters.element, delimiters.component, delimiters.repetition or ""}
    # A simple element may hold neither the component nor the repetition separator (ENV-002).
    simple = _characters(separators)
    parts: list[str] = []
    definitions: Sequence[ElementDef] = rules.slot.elements
    for definition in definitions:
        if definition.ref in rules.skip:
            parts.append(f"[^{element}]*")
            continue
        if definition.components is None:
            pattern = _value_pattern(definition, simple)
        else:
            pattern = _composite_pattern(definition, element, component, _characters(separators))
        if pattern is None:
            return None
        parts.append(pattern)
    required = [i for i, d in enumerate(definitions) if d.usage == "R"]
    last = required[-1] + 1 if required else 0
    # Up to the last required element every separator must be there; after it, trailing
    # elements may be left off.
    text = re.escape(rules.id) + "".join(element + p for p in parts[:last])
    tail = ""
    for pattern in reversed(parts[last:]):
        tail = f"(?:{element}{pattern}{tail})?"
    try:
        return re.compile(text + tail)
    except re.error:
        return None


def _characters(excluded: set[str]) -> str:
    """A character class of the X12 extended set without ``excluded`` (the separators)."""
    # Written as ranges of consecutive characters: the class appears in every element of a
    # segment's pattern, and a short class keeps compiling the pattern cheap at start-up.
    codes = sorted(ord(c) for c in EXTENDED_CHARACTERS - excluded)
    ranges: list[str] = []
    start = 0
    while start < len(codes):
        end = start
        while end + 1 < len(codes) and codes[end + 1] == codes[end] + 1:
            end += 1
        low, high = re.escape(chr(codes[start])), re.escape(chr(codes[end]))
        ranges.append(low if end == start else f"{low}-{high}")
        start = end + 1
    return "[" + "".join(ranges) + "]"


def _composite_pattern(
    definition: ElementDef, element: str, component: str, allowed: str
) -> str | None:
    """The pattern of a composite; the separators come escaped for a regular expression."""
    if definition.usage == "N":
        return ""
    assert definition.components is not None
    parts = []
    for part in definition.components:
        pattern = _value_pattern(part, allowed)
        if pattern is None:
            return None
        parts.append(pattern)
    required = [i for i, d in enumerate(definition.components) if d.usage == "R"]
    last = required[-1] + 1 if required else 1
    text = component.join(parts[:last])
    tail = ""
    for pattern in reversed(parts[last:]):
        tail = f"(?:{component}{pattern}{tail})?"
    body = text + tail
    if definition.usage == "R":
        # A required composite must hold something, even when its components are optional.
        return f"(?=[^{element}]){body}"
    return f"(?:{body})?"


def _value_pattern(definition: ElementDef, allowed: str) -> str | None:
    """The pattern of one simple element or component: empty when not used or absent."""
    if definition.usage == "N":
        return ""
    low, high = definition.min_length, definition.max_length
    numeric = definition.data_type in NUMERIC_TYPES
    if definition.codes is not None:
        fitting = [
            code
            for code in definition.codes
            if low <= len(code.replace("-", "").replace(".", "") if numeric else code) <= high
        ]
        if not fitting:
            return None
        value = "(?:" + "|".join(re.escape(c) for c in sorted(fitting, key=len, reverse=True))
        value += ")"
        # The alternatives must not match a prefix of a longer value.
        value += f"(?!{allowed})"
    elif definition.data_type == "R":
        if low > 1:
            return None
        value = (
            f"-?(?:[0-9]{{1,{high}}}(?![0-9.])"
            f"|(?=[0-9.]{{2,{high + 1}}}(?![0-9.]))[0-9]*\\.[0-9]+(?![0-9.]))"
        )
    elif numeric:
        value = f"-?[0-9]{{{max(low, 1)},{high}}}(?![0-9])"
    else:
        value = f"{allowed}{{{max(low, 1)},{high}}}(?!{allowed})"
        if definition.data_element in _IDENTIFIERS:
            # An identifier holds a letter or digit somewhere in it.
            value = f"(?={allowed}*[A-Za-z0-9])" + value
    if definition.usage == "R":
        return value
    return f"(?:{value})?"

"""Envelope checks: ISA/IEA, GS/GE, ST/SE and the 837P transaction header (ENV-001 to ENV-011).

:class:`EnvelopeChecker` is a streaming state machine. It is fed every segment of a file in
order and reports, as :class:`~edi837.findings.Finding` objects, what a clearinghouse front end
or a TA1/999 acknowledgement would reject about the envelopes: a mis-padded ISA, clashing
delimiters, mixed line breaks, the wrong version, control numbers that do not pair up, wrong
counts, missing or stray trailers, and an 837P header without its BHT, submitter or receiver.

It also tells the caller what the current transaction set is (:attr:`~EnvelopeChecker.is_837p`,
:attr:`~EnvelopeChecker.transaction_kind`), so that an 835 or an 837I in the same file can be
reported as skipped rather than as a broken 837P.

The checker holds only the current ISA, GS and ST segments and the ST02 values of the current
group; non-envelope segments cost one dictionary look-up and one counter increment.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from edi837.findings import Applicability, Edit, EditKind, Finding, Fix, Severity
from edi837.x12.segment import Segment

__all__ = ["GUIDE_837P", "ISA_LENGTH", "ISA_WIDTHS", "EnvelopeChecker", "transaction_kind"]

REJECT = Severity.REJECT
WARNING = Severity.WARNING

GUIDE_837P = "005010X222A1"
ISA_LENGTH = 106
# Widths of ISA01..ISA16: every position of every ISA element is filled, which is what makes the
# ISA fixed-length and lets a reader find the delimiters by offset (catalogue §1.1).
ISA_WIDTHS = (2, 10, 2, 10, 2, 15, 2, 15, 6, 4, 1, 5, 9, 1, 1, 1)
# Authorization, security, sender and receiver ids are space-padded, so re-padding them is
# mechanical; it still changes an id a trading partner matches on, hence an unsafe fix only.
_PADDED = frozenset({2, 4, 6, 8})

# Short names of implementation guides by their id in GS08/ST03 (positions 7-10).
_GUIDE_NAMES = {
    "X222": "837P",
    "X098": "837P",
    "X223": "837I",
    "X096": "837I",
    "X224": "837D",
    "X097": "837D",
    "X221": "835",
    "X091": "835",
}

_LOOPS = {
    "ISA": "ISA_LOOP",
    "IEA": "ISA_LOOP",
    "GS": "GS_LOOP",
    "GE": "GS_LOOP",
    "ST": "ST_LOOP",
    "SE": "ST_LOOP",
    "BHT": "HEADER",
}

# The interchange acknowledgment may stand in an interchange outside any transaction set.
_OUTSIDE_TRANSACTIONS = frozenset({"TA1"})

Handler = Callable[[Segment], list[Finding]]


def _guide_id(version: str) -> str:
    """``X222`` from ``005010X222A1``; ``""`` when the version names no implementation guide."""
    return version[6:10] if len(version) >= 10 and version[6] == "X" else ""


def transaction_kind(st01: str, version: str) -> str:
    """A description of a transaction set for people: ``837P (005010X222A1)``, ``835 4010 (..)``."""
    name = _GUIDE_NAMES.get(_guide_id(version), "")
    if not name.startswith(st01) or not st01:
        name = st01 or "unknown transaction set"
    release = version[:6]
    if release.isdecimal() and release != "005010":
        name = f"{name} {release[2:].lstrip('0') or release}"
    return f"{name} ({version})" if version else name


# The longest counts and control numbers the envelope holds: SE01 is N0 1-10, GE01 N0 1-6,
# IEA01 N0 1-5, ISA13 N0 9. Reading no more digits than that keeps a hostile value away from
# Python's limit on converting long digit strings to integers.
_COUNT_DIGITS = 10


def _number(value: str, max_digits: int = _COUNT_DIGITS) -> int | None:
    """A count or control number: ASCII digits, at most ``max_digits``; ``None`` otherwise."""
    if not value or len(value) > max_digits or not value.isascii() or not value.isdigit():
        return None
    return int(value)


def _is_count(value: str, expected: int) -> bool:
    return _number(value) == expected


def _shown(value: str) -> str:
    """A count for a message: quoted when it could be one, else by its length."""
    return repr(value) if len(value) <= _COUNT_DIGITS else f"{len(value)} characters long"


def _valid_date(value: str) -> bool:
    if len(value) != 8 or not value.isascii() or not value.isdigit():
        return False
    try:
        date(int(value[:4]), int(value[4:6]), int(value[6:]))
    except ValueError:
        return False
    return True


def _valid_time(value: str) -> bool:
    # X12 TM: HHMM, HHMMSS, HHMMSSD or HHMMSSDD.
    if len(value) not in (4, 6, 7, 8) or not value.isascii() or not value.isdigit():
        return False
    return int(value[:2]) < 24 and int(value[2:4]) < 60 and (len(value) < 6 or int(value[4:6]) < 60)


def _break_styles(text: str) -> set[str]:
    """The line-break styles (``CRLF``, ``LF``, ``CR``) that occur in ``text``."""
    styles: set[str] = set()
    crlf = text.count("\r\n")
    if crlf:
        styles.add("CRLF")
    if text.count("\n") > crlf:
        styles.add("LF")
    if text.count("\r") > crlf:
        styles.add("CR")
    return styles


def _described(char: str) -> str:
    return {"\n": "a line feed", "\r": "a carriage return", " ": "a space"}.get(char, repr(char))


class EnvelopeChecker:
    """Check the envelopes of one file, segment by segment.

    Call :meth:`feed` with every segment in file order and :meth:`finish` at the end. Findings
    are returned as soon as they are known; each is located on the segment it is about, which
    may be an earlier one (an ISA12 problem is found at the first 837 ST of the interchange).

    The attributes describe the envelope the last fed segment belongs to; a trailer (SE, GE,
    IEA) still belongs to the envelope it closes, so a caller can route it with the rest.

    Attributes:
        interchange: ISA13 of the current interchange (``""`` before the first ISA).
        group: GS06 of the current functional group (``""`` outside one).
        transaction: ST02 of the current transaction set (``""`` outside one).
        transaction_set: ST01 of the current transaction set (``837``, ``835`` ...).
        version: ST03 when present, else GS08.
        is_837p: the current transaction set is an 837 under the 005010X222 guide.
        transaction_kind: what the current transaction set is, for people
            (``837P (005010X222A1)``, ``835 (005010X221A1)``, ``837P 4010 (004010X098A1)``).
        interchanges: ISA segments seen so far.
        groups: GS segments seen so far.
        transactions: ST segments seen so far.
    """

    def __init__(self) -> None:
        self.interchange = ""
        self.group = ""
        self.transaction = ""
        self.transaction_set = ""
        self.version = ""
        self.is_837p = False
        self.transaction_kind = ""
        self.interchanges = 0
        self.groups = 0
        self.transactions = 0

        self._envelope: dict[str, Handler] = {
            "ISA": self._on_isa,
            "IEA": self._on_iea,
            "GS": self._on_gs,
            "GE": self._on_ge,
            "ST": self._on_st,
            "SE": self._on_se,
        }
        # Between an 837P ST and its first HL the header segments are looked at too.
        self._header: dict[str, Handler] = {
            **self._envelope,
            "BHT": self._on_bht,
            "NM1": self._on_nm1,
            "PER": self._on_per,
            "HL": self._on_hl,
        }
        self._handlers = self._envelope

        # Non-envelope segments fed so far (SE01 and stray segments are counted from this).
        self._body = 0
        self._mark = 0
        self._stray: Segment | None = None

        # Layout (ENV-001 first segment, ENV-003 line breaks). ``_lead`` is the lead of the
        # previous segment; ``None`` sends the next segment to :meth:`_layout`.
        self._lead: str | None = None
        self._started = False
        self._newline_terminated = False
        self._pending = ""
        self._style: str | None = None
        self._style_segment: Segment | None = None
        self._mixed_reported = False

        self._isa: Segment | None = None
        self._gs: Segment | None = None
        self._st: Segment | None = None
        self._in_isa = False
        self._in_gs = False
        self._in_st = False
        self._isa_version_checked = False
        self._gs_version_checked = False
        self._gs_count = 0
        self._st_count = 0
        self._st02s: dict[str, int] = {}
        self._body_at_st = 0

        self._bht_seen = False
        self._submitter: Segment | None = None
        self._submitter_per = False
        self._receiver = False

    # -- streaming interface -------------------------------------------------------------

    def feed(self, seg: Segment) -> list[Finding]:
        """Check one segment; return the findings known now (on this or earlier segments)."""
        if seg.id not in self._handlers:
            self._body += 1
            # Same layout as the segment before: nothing to look at (ENV-003 needs a change).
            if seg.lead != self._lead:
                return self._layout(seg)
            return []
        found = self._handlers[seg.id](seg)
        found += self._layout(seg)
        return found

    def finish(self) -> list[Finding]:
        """Findings known only at the end of the file: unclosed envelopes, trailing segments."""
        out: list[Finding] = []
        if not self._started:
            out.append(
                Finding(
                    code="ENV-001",
                    severity=REJECT,
                    message="the file holds no segments; an 837 file must start with ISA",
                    loop="ISA_LOOP",
                )
            )
            return out
        out += self._check_stray(None)
        end = "the file ends first"
        if self._in_st and self._st is not None:
            out.append(self._missing_se(self._st, end))
        if self._in_gs and self._gs is not None:
            out.append(self._missing_ge(self._gs, end))
        if self._in_isa and self._isa is not None:
            out.append(self._missing_iea(self._isa, end))
        self._in_st = self._in_gs = self._in_isa = False
        return out

    # -- finding construction ------------------------------------------------------------

    def _finding(
        self,
        code: str,
        severity: Severity,
        message: str,
        seg: Segment,
        element: str | None = None,
        loop: str | None = None,
        fix: Fix | None = None,
        transaction: str | None = None,
    ) -> Finding:
        column = width = None
        if element is not None:
            column, width = seg.column_of(element)
        return Finding(
            code=code,
            severity=severity,
            message=message,
            segment_id=seg.id,
            segment_number=seg.number,
            byte_offset=seg.byte_offset,
            line_number=seg.line,
            element=element,
            loop=loop if loop is not None else _LOOPS.get(seg.id),
            interchange=self.interchange or None,
            transaction=transaction,
            fix=fix,
            segment_text=seg.text,
            column=column,
            width=width,
        )

    def _in_transaction(self) -> str | None:
        return self.transaction or None

    # -- layout: first segment, line breaks, stray segments --------------------------------

    def _layout(self, seg: Segment) -> list[Finding]:
        out: list[Finding] = []
        term = seg.term
        if not self._started:
            self._started = True
            if seg.id != "ISA":
                out.append(
                    self._finding(
                        "ENV-001",
                        REJECT,
                        f"the file starts with {seg.id!r}, not ISA; an X12 interchange must "
                        "begin with its ISA segment",
                        seg,
                        loop="ISA_LOOP",
                    )
                )
            breaks = ""
        else:
            breaks = self._pending + seg.lead
        if (
            not self._in_st
            and self._stray is None
            and seg.id not in self._envelope
            and seg.id not in _OUTSIDE_TRANSACTIONS
        ):
            self._stray = seg
        if self._newline_terminated:
            # When the terminator is itself a line break, a CR before an LF terminator is the
            # other half of a CRLF line end; a CR terminator followed by LF is a CRLF too.
            if term in ("\n", "\r\n"):
                breaks += term
            self._pending = term if term == "\r" else ""
        if breaks and not self._mixed_reported:
            out += self._check_breaks(seg, breaks)
        self._lead = None if self._newline_terminated or not self._in_st else seg.lead
        return out

    def _check_breaks(self, seg: Segment, breaks: str) -> list[Finding]:
        styles = _break_styles(breaks)
        if not styles:
            return []
        if self._style is None:
            self._style = sorted(styles)[0]
            self._style_segment = seg
        other = styles - {self._style}
        if not other:
            return []
        self._mixed_reported = True
        first = self._style_segment
        where = f" (segment {first.number})" if first is not None else ""
        return [
            self._finding(
                "ENV-003",
                WARNING,
                f"line breaks after segment terminators mix {self._style}{where} and "
                f"{sorted(other)[0]} (here); use one style throughout the file, since some "
                "receivers count a stray CR or LF as data",
                seg,
                transaction=self._in_transaction() if self._in_st else None,
            )
        ]

    def _check_stray(self, before: Segment | None) -> list[Finding]:
        """Segments between a trailer and the next header belong to no transaction set."""
        stray, count = self._stray, self._body - self._mark
        self._stray = None
        self._mark = self._body
        if stray is None or count <= 0 or self.interchanges == 0:
            # Segments before the first ISA are ENV-001's finding.
            return []
        more = f" (and {count - 1} more)" if count > 1 else ""
        name = stray.id if stray.id.isprintable() else repr(stray.id)
        until = f"before {before.id} at segment {before.number}" if before else "at the end"
        return [
            self._finding(
                "ENV-007",
                REJECT,
                f"segment {name}{more} {until} stands outside any transaction set; every "
                "segment after GS must lie between an ST and its SE",
                stray,
                loop=None,
            )
        ]

    # -- missing trailers --------------------------------------------------------------------

    def _missing_se(self, st: Segment, why: str) -> Finding:
        return self._finding(
            "ENV-007",
            REJECT,
            f"transaction set {st[2]!r} (ST at segment {st.number}) has no SE trailer: {why}",
            st,
            transaction=st[2] or None,
        )

    def _missing_ge(self, gs: Segment, why: str) -> Finding:
        return self._finding(
            "ENV-006",
            REJECT,
            f"functional group {gs[6]!r} (GS at segment {gs.number}) has no GE trailer: {why}",
            gs,
        )

    def _missing_iea(self, isa: Segment, why: str) -> Finding:
        return self._finding(
            "ENV-005",
            REJECT,
            f"interchange {isa[13]!r} (ISA at segment {isa.number}) has no IEA trailer: {why}",
            isa,
        )

    def _close_st(self, at: Segment) -> list[Finding]:
        if not self._in_st or self._st is None:
            return []
        found = self._missing_se(self._st, f"{at.id} at segment {at.number} comes first")
        self._end_st()
        return [found]

    def _close_gs(self, at: Segment) -> list[Finding]:
        if not self._in_gs or self._gs is None:
            return []
        self._in_gs = False
        return [self._missing_ge(self._gs, f"{at.id} at segment {at.number} comes first")]

    def _end_st(self) -> None:
        self._in_st = False
        self._handlers = self._envelope
        self._mark = self._body

    def _leave_transaction(self) -> None:
        self.transaction = ""
        self.transaction_set = ""
        self.transaction_kind = ""
        self.is_837p = False
        self.version = self._gs[8] if self._in_gs and self._gs is not None else ""

    # -- delimiters inside data (ENV-002) ------------------------------------------------------

    def _delimiters_in_data(self, seg: Segment) -> list[Finding]:
        """Component or repetition separators inside envelope and header elements.

        These segments have only simple, non-repeating elements, so a component or repetition
        separator in them can only be data that the receiver will split.
        """
        delims = seg.delimiters
        text = seg.text
        clashes = [
            (name, char)
            for name, char in (
                ("component separator (ISA16)", delims.component),
                ("repetition separator (ISA11)", delims.repetition),
            )
            if char and char in text
        ]
        out: list[Finding] = []
        for name, char in clashes:
            for position, value in enumerate(seg.elements[1:], 1):
                if char in value:
                    ref = f"{seg.id}{position:02d}"
                    out.append(
                        self._finding(
                            "ENV-002",
                            REJECT,
                            f"{ref} {value!r} contains the {name} {char!r}; a delimiter may not "
                            "occur in data",
                            seg,
                            element=ref,
                            transaction=self._in_transaction() if self._in_st else None,
                        )
                    )
        return out

    # -- ISA / IEA -------------------------------------------------------------------------------

    def _on_isa(self, seg: Segment) -> list[Finding]:
        out = self._check_stray(seg)
        why = f"ISA at segment {seg.number} comes first"
        out += self._close_st(seg)
        out += self._close_gs(seg)
        if self._in_isa and self._isa is not None:
            out.append(self._missing_iea(self._isa, why))
        self.interchanges += 1
        self._isa = seg
        self._gs = None
        self._in_isa = True
        self._gs_count = 0
        self._isa_version_checked = False
        self.interchange = seg[13]
        self.group = ""
        self._leave_transaction()
        self._newline_terminated = seg.delimiters.segment in "\r\n"
        self._pending = ""
        out += self._check_isa_layout(seg)
        out += self._check_isa_delimiters(seg)
        isa13 = seg[13]
        if isa13 and not _number(isa13, 9):
            out.append(
                self._finding(
                    "ENV-005",
                    REJECT,
                    f"ISA13 is {_shown(isa13)}, must be a positive 9-digit interchange control "
                    "number",
                    seg,
                    element="ISA13",
                )
            )
        self._mark = self._body
        return out

    def _check_isa_layout(self, seg: Segment) -> list[Finding]:
        out: list[Finding] = []
        elements = seg.elements
        if len(elements) != 17:
            out.append(
                self._finding(
                    "ENV-001",
                    REJECT,
                    f"ISA has {len(elements) - 1} elements, must have 16",
                    seg,
                )
            )
        for position, width in enumerate(ISA_WIDTHS, 1):
            if position >= len(elements):
                break
            value = elements[position]
            if len(value) == width:
                continue
            ref = f"ISA{position:02d}"
            fix = None
            if position in _PADDED and len(value.rstrip()) <= width:
                new = value.rstrip().ljust(width)
                fix = Fix(
                    Applicability.UNSAFE,
                    f"pad {ref} with spaces to {width} characters",
                    (Edit(EditKind.REPLACE, seg.number, ref, value, new),),
                )
            out.append(
                self._finding(
                    "ENV-001",
                    REJECT,
                    f"{ref} is {len(value)} characters, must be {width}; every ISA element has "
                    "a fixed width" + (", identifiers padded with spaces" if fix else ""),
                    seg,
                    element=ref,
                    fix=fix,
                )
            )
        length = len(seg.text) + len(seg.term)
        if not out and length != ISA_LENGTH:
            out.append(
                self._finding(
                    "ENV-001",
                    REJECT,
                    f"ISA is {length} characters including its terminator, must be {ISA_LENGTH}",
                    seg,
                )
            )
        return out

    def _check_isa_delimiters(self, seg: Segment) -> list[Finding]:
        out: list[Finding] = []
        delims = seg.delimiters
        isa11 = seg[11]
        named = [
            ("element separator (ISA position 4)", delims.element, None),
            ("component separator (ISA16)", delims.component, "ISA16"),
            ("segment terminator", delims.segment, None),
        ]
        if delims.repetition is not None:
            named.append(("repetition separator (ISA11)", delims.repetition, "ISA11"))
        elif seg[12] >= "00501":
            # A letter such as ``U`` is the 4010 standards id left in place: it is read as "no
            # repetition separator", which loses nothing unless an element repeats, so it is a
            # warning rather than a reason to return the file.
            out.append(
                self._finding(
                    "ENV-002",
                    Severity.WARNING,
                    f"ISA11 is {isa11!r}; from version 00501 on ISA11 is the repetition "
                    "separator and should be a special character that differs from the other "
                    "three delimiters (such as '^')",
                    seg,
                    element="ISA11",
                )
            )
        seen: dict[str, str] = {}
        for name, char, ref in named:
            if char in seen:
                out.append(
                    self._finding(
                        "ENV-002",
                        REJECT,
                        f"the {name} and the {seen[char]} are both {_described(char)}; the "
                        "four delimiters must be distinct characters",
                        seg,
                        element=ref,
                    )
                )
            else:
                seen[char] = name
            if char.isalnum() or char == " ":
                out.append(
                    self._finding(
                        "ENV-002",
                        REJECT,
                        f"the {name} is {_described(char)}, which occurs in ordinary data; "
                        "delimiters must be special characters",
                        seg,
                        element=ref,
                    )
                )
        # ISA01-ISA15 are simple elements: none of the other delimiters may stand in them.
        data_delims = [(name, char) for name, char, _ in named[1:]]
        for position in range(1, min(len(seg.elements), 16)):
            if position == 11:
                continue
            value = seg.elements[position]
            for name, char in data_delims:
                if char in value:
                    ref = f"ISA{position:02d}"
                    out.append(
                        self._finding(
                            "ENV-002",
                            REJECT,
                            f"{ref} {value!r} contains the {name} {_described(char)}; a "
                            "delimiter may not occur in data",
                            seg,
                            element=ref,
                        )
                    )
        return out

    def _on_iea(self, seg: Segment) -> list[Finding]:
        out = self._check_stray(seg)
        out += self._close_st(seg)
        out += self._close_gs(seg)
        self._leave_transaction()
        self.group = ""
        if not self._in_isa or self._isa is None:
            out.append(
                self._finding(
                    "ENV-005",
                    REJECT,
                    "IEA without an open interchange: no ISA since the last IEA",
                    seg,
                )
            )
        else:
            isa13 = self._isa[13]
            if seg[2] != isa13:
                out.append(
                    self._finding(
                        "ENV-005",
                        REJECT,
                        f"IEA02 is {seg[2]!r}, must equal ISA13 {isa13!r} "
                        f"(ISA at segment {self._isa.number})",
                        seg,
                        element="IEA02",
                    )
                )
            if not _is_count(seg[1], self._gs_count):
                out.append(
                    self._finding(
                        "ENV-009",
                        REJECT,
                        f"IEA01 is {_shown(seg[1])}, but the interchange holds {self._gs_count} "
                        "functional group(s); IEA01 must count the GS segments",
                        seg,
                        element="IEA01",
                    )
                )
        self._in_isa = False
        out += self._delimiters_in_data(seg)
        return out

    # -- GS / GE ----------------------------------------------------------------------------------

    def _on_gs(self, seg: Segment) -> list[Finding]:
        out = self._check_stray(seg)
        out += self._close_st(seg)
        out += self._close_gs(seg)
        if not self._in_isa:
            out.append(
                self._finding(
                    "ENV-005",
                    REJECT,
                    "GS outside an interchange: there is no open ISA before it",
                    seg,
                    loop="ISA_LOOP",
                )
            )
        self.groups += 1
        self._gs_count += 1
        self._gs = seg
        self._in_gs = True
        self._st_count = 0
        self._st02s = {}
        self._gs_version_checked = False
        self.group = seg[6]
        self._leave_transaction()
        gs06 = seg[6]
        if _number(gs06, 9) is None:
            out.append(
                self._finding(
                    "ENV-006",
                    REJECT,
                    f"GS06 is {gs06!r}, must be a group control number of 1 to 9 digits",
                    seg,
                    element="GS06",
                )
            )
        out += self._delimiters_in_data(seg)
        return out

    def _on_ge(self, seg: Segment) -> list[Finding]:
        out = self._check_stray(seg)
        out += self._close_st(seg)
        self._leave_transaction()
        if not self._in_gs or self._gs is None:
            out.append(
                self._finding(
                    "ENV-006",
                    REJECT,
                    "GE without an open functional group: no GS since the last GE",
                    seg,
                )
            )
        else:
            gs06 = self._gs[6]
            if seg[2] != gs06:
                out.append(
                    self._finding(
                        "ENV-006",
                        REJECT,
                        f"GE02 is {seg[2]!r}, must equal GS06 {gs06!r} "
                        f"(GS at segment {self._gs.number})",
                        seg,
                        element="GE02",
                    )
                )
            if not _is_count(seg[1], self._st_count):
                out.append(
                    self._finding(
                        "ENV-009",
                        REJECT,
                        f"GE01 is {_shown(seg[1])}, but the group holds {self._st_count} "
                        "transaction set(s); GE01 must count the ST segments",
                        seg,
                        element="GE01",
                    )
                )
        self._in_gs = False
        out += self._delimiters_in_data(seg)
        return out

    # -- ST / SE ----------------------------------------------------------------------------------

    def _on_st(self, seg: Segment) -> list[Finding]:
        out = self._check_stray(seg)
        out += self._close_st(seg)
        st01, st02, st03 = seg[1], seg[2], seg[3]
        self.transactions += 1
        self._st_count += 1
        self.transaction = st02
        self.transaction_set = st01
        gs = self._gs if self._in_gs else None
        gs08 = gs[8] if gs is not None else ""
        self.version = st03 or gs08
        self.is_837p = st01 == "837" and self.version.startswith("005010X222")
        self.transaction_kind = transaction_kind(st01, self.version)
        self._st = seg
        self._in_st = True
        self._body_at_st = self._body

        if gs is None:
            out.append(
                self._finding(
                    "ENV-006",
                    REJECT,
                    "ST outside a functional group: there is no open GS before it",
                    seg,
                    loop="GS_LOOP",
                    transaction=st02 or None,
                )
            )
        if not 4 <= len(st02) <= 9:
            out.append(
                self._finding(
                    "ENV-007",
                    REJECT,
                    f"ST02 is {st02!r}, must be a transaction set control number of 4 to 9 "
                    "characters",
                    seg,
                    element="ST02",
                    transaction=st02 or None,
                )
            )
        first = self._st02s.get(st02)
        if first is not None:
            out.append(
                self._finding(
                    "ENV-007",
                    REJECT,
                    f"ST02 {st02!r} is already used in this functional group (ST at segment "
                    f"{first}); it must be unique within its GS",
                    seg,
                    element="ST02",
                    transaction=st02 or None,
                )
            )
        else:
            self._st02s[st02] = seg.number
        out += self._check_version(seg, gs, gs08)
        out += self._delimiters_in_data(seg)
        if self.is_837p:
            self._handlers = self._header
            self._bht_seen = False
            self._submitter = None
            self._submitter_per = False
            self._receiver = False
        return out

    def _check_version(self, seg: Segment, gs: Segment | None, gs08: str) -> list[Finding]:
        """ENV-004, for transaction sets meant as 837P claims.

        A transaction set is held to the 837P versions when ST01 is 837 and no other guide is
        named (837I, 837D, a 4010 guide), or when GS08 or ST03 names the 837P guide. An 835 or
        an 837I in the same file is another document, which the caller reports as skipped.
        """
        st01, st03 = seg[1], seg[3]
        transaction = seg[2] or None
        named_837p = _guide_id(gs08) == "X222" or _guide_id(st03) == "X222"
        other_guide = _guide_id(self.version) not in ("", "X222")
        if not (named_837p or (st01 == "837" and not other_guide)):
            return []
        out: list[Finding] = []
        if st01 != "837":
            out.append(
                self._finding(
                    "ENV-004",
                    REJECT,
                    f"ST01 is {st01!r}, but the version names the 837P guide; ST01 must be 837",
                    seg,
                    element="ST01",
                    transaction=transaction,
                )
            )
        isa = self._isa if self._in_isa else None
        if isa is not None and not self._isa_version_checked:
            self._isa_version_checked = True
            if isa[12] != "00501":
                out.append(
                    self._finding(
                        "ENV-004",
                        REJECT,
                        f"ISA12 is {isa[12]!r}, must be '00501' for {GUIDE_837P} claims",
                        isa,
                        element="ISA12",
                    )
                )
        if gs is not None and not self._gs_version_checked:
            self._gs_version_checked = True
            if gs[1] != "HC":
                out.append(
                    self._finding(
                        "ENV-004",
                        REJECT,
                        f"GS01 is {gs[1]!r}, must be 'HC' (health care claim) for 837 "
                        "transaction sets",
                        gs,
                        element="GS01",
                    )
                )
            if gs08 != GUIDE_837P:
                out.append(
                    self._finding(
                        "ENV-004",
                        REJECT,
                        f"GS08 is {gs08!r}, must be {GUIDE_837P!r}",
                        gs,
                        element="GS08",
                    )
                )
        if not st03:
            expected = gs08 if gs08 == GUIDE_837P else GUIDE_837P
            out.append(
                self._finding(
                    "ENV-004",
                    WARNING,
                    f"ST03 is absent; it should carry the guide id {expected!r}, the same "
                    "value as GS08",
                    seg,
                    element="ST03",
                    transaction=transaction,
                )
            )
        elif gs is not None and st03 != gs08:
            out.append(
                self._finding(
                    "ENV-004",
                    REJECT,
                    f"ST03 is {st03!r}, must equal GS08 {gs08!r}"
                    + (
                        ""
                        if st03 == GUIDE_837P or gs08 == GUIDE_837P
                        else f" and be {GUIDE_837P!r}"
                    ),
                    seg,
                    element="ST03",
                    transaction=transaction,
                )
            )
        elif gs is None and st03 != GUIDE_837P:
            out.append(
                self._finding(
                    "ENV-004",
                    REJECT,
                    f"ST03 is {st03!r}, must be {GUIDE_837P!r}",
                    seg,
                    element="ST03",
                    transaction=transaction,
                )
            )
        return out

    def _on_se(self, seg: Segment) -> list[Finding]:
        if not self._in_st or self._st is None:
            self._stray = None
            self._mark = self._body
            return [
                self._finding(
                    "ENV-007",
                    REJECT,
                    "SE without an open transaction set: no ST since the last SE",
                    seg,
                    transaction=None,
                )
            ] + self._delimiters_in_data(seg)
        st = self._st
        out: list[Finding] = []
        transaction = self._in_transaction()
        if self._handlers is self._header:
            out += self._end_header(seg)
        if seg[2] != st[2]:
            out.append(
                self._finding(
                    "ENV-007",
                    REJECT,
                    f"SE02 is {seg[2]!r}, must equal ST02 {st[2]!r} (ST at segment {st.number})",
                    seg,
                    element="SE02",
                    transaction=transaction,
                )
            )
        count = self._body - self._body_at_st + 2
        if not _is_count(seg[1], count):
            out.append(
                self._finding(
                    "ENV-008",
                    REJECT,
                    f"SE01 is {_shown(seg[1])}, but the transaction set has {count} segments "
                    "from ST to SE, both included",
                    seg,
                    element="SE01",
                    transaction=transaction,
                )
            )
        out += self._delimiters_in_data(seg)
        self._end_st()
        return out

    # -- 837P header: BHT, 1000A, 1000B (ENV-010, ENV-011) ------------------------------------

    def _on_bht(self, seg: Segment) -> list[Finding]:
        self._body += 1
        out: list[Finding] = []
        transaction = self._in_transaction()

        def bad(ref: str, message: str) -> None:
            out.append(
                self._finding("ENV-010", REJECT, message, seg, element=ref, transaction=transaction)
            )

        if self._bht_seen or self._body - self._body_at_st != 1:
            out.append(
                self._finding(
                    "ENV-010",
                    REJECT,
                    "BHT must be the segment right after ST, once per transaction set",
                    seg,
                    transaction=transaction,
                )
            )
        self._bht_seen = True
        if seg[1] != "0019":
            bad(
                "BHT01",
                f"BHT01 is {seg[1]!r}, must be '0019' (information source, subscriber, dependent)",
            )
        if seg[2] not in ("00", "18"):
            bad("BHT02", f"BHT02 is {seg[2]!r}, must be '00' (original) or '18' (reissue)")
        if not seg[3]:
            bad("BHT03", "BHT03 (originator application transaction id) is empty; it is required")
        if not _valid_date(seg[4]):
            bad("BHT04", f"BHT04 is {seg[4]!r}, must be the creation date as CCYYMMDD")
        if not _valid_time(seg[5]):
            bad(
                "BHT05",
                f"BHT05 is {seg[5]!r}, must be the creation time as HHMM, HHMMSS, "
                "HHMMSSD or HHMMSSDD",
            )
        if seg[6] not in ("CH", "RP"):
            bad("BHT06", f"BHT06 is {seg[6]!r}, must be 'CH' (chargeable) or 'RP' (reporting)")
        out += self._delimiters_in_data(seg)
        return out

    def _on_nm1(self, seg: Segment) -> list[Finding]:
        self._body += 1
        qualifier = seg[1]
        if qualifier == "41":
            self._submitter = seg
            self._submitter_per = False
        elif qualifier == "40":
            self._receiver = True
        return self._delimiters_in_data(seg)

    def _on_per(self, seg: Segment) -> list[Finding]:
        self._body += 1
        # The 1000A PER is the submitter's EDI contact; it belongs to the NM1*41 before it.
        if self._submitter is not None and not self._receiver:
            self._submitter_per = True
        return self._delimiters_in_data(seg)

    def _on_hl(self, seg: Segment) -> list[Finding]:
        self._body += 1
        return self._end_header(seg)

    def _end_header(self, at: Segment) -> list[Finding]:
        """The header ends at the first HL (or SE): BHT, 1000A and 1000B must all be there."""
        self._handlers = self._envelope
        out: list[Finding] = []
        transaction = self._in_transaction()
        where = f"before {at.id} at segment {at.number}"
        if not self._bht_seen:
            out.append(
                self._finding(
                    "ENV-010",
                    REJECT,
                    f"transaction set {self.transaction!r} has no BHT {where}; BHT must follow ST",
                    at,
                    loop="HEADER",
                    transaction=transaction,
                )
            )
        if self._submitter is None:
            out.append(
                self._finding(
                    "ENV-011",
                    REJECT,
                    f"no 1000A submitter name (NM1*41) {where}; the header must name the submitter",
                    at,
                    loop="1000A",
                    transaction=transaction,
                )
            )
        elif not self._submitter_per:
            out.append(
                self._finding(
                    "ENV-011",
                    REJECT,
                    "the 1000A submitter NM1*41 has no PER contact after it; the submitter's "
                    "EDI contact is required",
                    self._submitter,
                    loop="1000A",
                    transaction=transaction,
                )
            )
        if not self._receiver:
            out.append(
                self._finding(
                    "ENV-011",
                    REJECT,
                    f"no 1000B receiver name (NM1*40) {where}; the header must name the receiver",
                    at,
                    loop="1000B",
                    transaction=transaction,
                )
            )
        return out

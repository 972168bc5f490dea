"""Envelope checks: ISA/IEA, GS/GE and ST/SE of any X12 transaction set (ENV-001 to ENV-009).

:class:`EnvelopeChecker` is a streaming state machine. It is fed every segment of a file in
order and reports, as :class:`~edi837.findings.Finding` objects, what a clearinghouse front end
or a TA1/999 acknowledgement would reject about the envelopes: a mis-padded ISA, clashing
delimiters, mixed line breaks, control numbers that do not pair up, wrong counts, missing or
stray trailers. What an 837P adds (its versions, BHT, submitter and receiver: ENV-004, ENV-010,
ENV-011) is checked by :mod:`edi837.x837p.header`. Codes are declared in
:mod:`edi837.x12.checks`.

It also tells the caller what the current transaction set is (:attr:`~EnvelopeChecker.is_837p`,
:attr:`~EnvelopeChecker.transaction_kind`), so that an 835 or an 837I in the same file can be
reported as skipped rather than as a broken 837P.

The checker holds only the current ISA, GS and ST segments and the ST02 values of the current
group; non-envelope segments cost one dictionary look-up and one counter increment.
"""

from __future__ import annotations

from collections.abc import Callable

from edi837.findings import Applicability, Edit, EditKind, Finding, Fix, Severity, quote
from edi837.x12.checks import (
    ENV001,
    ENV002,
    ENV003,
    ENV005,
    ENV006,
    ENV007,
    ENV008,
    ENV009,
    ENV012,
    ENV013,
    Check,
    data_delimiters,
    delimiters_in,
    described,
)
from edi837.x12.segment import Segment

__all__ = ["ISA_LENGTH", "ISA_WIDTHS", "EnvelopeChecker", "guide_id", "transaction_kind"]

WARNING = Severity.WARNING
# The longest run of indented segments one ENV-012 finding covers; a longer run is reported in
# parts, so that a finding (and its fix) stays small whatever the file's size.
_INDENT_RUN = 1000
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


def guide_id(version: str) -> str:
    """``X222`` from ``005010X222A1``; ``""`` when the version names no implementation guide."""
    return version[6:10] if len(version) >= 10 and version[6] == "X" else ""


def transaction_kind(st01: str, version: str) -> str:
    """A description of a transaction set for people: ``837P (005010X222A1)``, ``835 4010 (..)``."""
    name = _GUIDE_NAMES.get(guide_id(version), "")
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
        # Indentation (ENV-012): the current run of consecutive indented segments, reported as
        # one finding when it ends, with an edit per segment.
        self._indent_first: Segment | None = None
        self._indent_edits: list[Edit] = []
        self._indent_transaction: str | None = None

        self._isa: Segment | None = None
        self._gs: Segment | None = None
        self._st: Segment | None = None
        self._in_isa = False
        self._in_gs = False
        self._in_st = False
        self._gs_count = 0
        self._st_count = 0
        self._st02s: dict[str, int] = {}
        self._body_at_st = 0

    # -- streaming interface -------------------------------------------------------------

    def feed(self, seg: Segment) -> list[Finding]:
        """Check one segment; return the findings known now (on this or earlier segments)."""
        if seg.id not in self._handlers:
            self._body += 1
            # Same layout as the segment before: nothing to look at (ENV-003 needs a change).
            if seg.lead != self._lead:
                return self._layout(seg)
            if self._indent_first is not None:
                # The same lead as the segment before, which was indented.
                return self._indented(seg)
            return []
        found = self._handlers[seg.id](seg)
        found += self._layout(seg)
        return found

    def finish(self) -> list[Finding]:
        """Findings known only at the end of the file: unclosed envelopes, trailing segments."""
        out: list[Finding] = []
        if not self._started:
            out.append(
                ENV001.finding(
                    "the file holds no segments; an 837 file must start with ISA", loop="ISA_LOOP"
                )
            )
            return out
        out += self._check_stray(None)
        out += self._flush_indent()
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
        check: type[Check],
        message: str,
        seg: Segment,
        element: str | None = None,
        loop: str | None = None,
        fix: Fix | None = None,
        transaction: str | None = None,
        severity: Severity | None = None,
    ) -> Finding:
        return check.finding(
            message,
            seg,
            element,
            loop=loop if loop is not None else _LOOPS.get(seg.id),
            severity=severity,
            fix=fix,
            interchange=self.interchange or None,
            transaction=transaction,
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
                        ENV001,
                        f"the file starts with {quote(seg.id)}, not ISA; an X12 interchange must "
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
        out += self._check_indent(seg)
        self._lead = None if self._newline_terminated or not self._in_st else seg.lead
        return out

    def _check_indent(self, seg: Segment) -> list[Finding]:
        """ENV-012: spaces or tabs before a segment id; runs of them become one finding."""
        lead = seg.lead
        if " " not in lead and "\t" not in lead:
            return self._flush_indent()
        # A run stays inside one transaction set, so its finding goes with that transaction.
        out = self._flush_indent() if seg.id == "ST" else []
        return out + self._indented(seg)

    def _indented(self, seg: Segment) -> list[Finding]:
        if self._indent_first is None:
            self._indent_first = seg
            self._indent_transaction = self._in_transaction() if self._in_st else None
        lead = seg.lead
        # Line breaks after terminators are layout a reader skips; spaces and tabs before an id
        # are not, so the fix keeps the first and drops the second.
        kept = "".join(c for c in lead if c in "\r\n")
        self._indent_edits.append(Edit(EditKind.REPLACE_LEAD, seg.number, None, lead, kept))
        if len(self._indent_edits) >= _INDENT_RUN:
            return self._flush_indent()
        return []

    def _flush_indent(self) -> list[Finding]:
        first = self._indent_first
        if first is None:
            return []
        edits = tuple(self._indent_edits)
        self._indent_first = None
        self._indent_edits = []
        last = edits[-1].segment_number
        where = (
            f"segment {first.number} is"
            if len(edits) == 1
            else f"segments {first.number} to {last} are"
        )
        return [
            self._finding(
                ENV012,
                f"{where} indented with spaces or tabs before the segment id; a segment "
                "begins with its id, and some receivers read the spaces as part of it",
                first,
                fix=Fix(
                    Applicability.SAFE,
                    "remove the spaces and tabs before the segment ids (line breaks are kept)",
                    edits,
                ),
                transaction=self._indent_transaction,
            )
        ]

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
                ENV003,
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
        name = stray.id if stray.id.isprintable() and len(stray.id) <= 3 else quote(stray.id)
        before_id = (before.id if len(before.id) <= 3 else quote(before.id)) if before else ""
        until = f"before {before_id} at segment {before.number}" if before else "at the end"
        return [
            self._finding(
                ENV007,
                f"segment {name}{more} {until} stands outside any transaction set; every "
                "segment after GS must lie between an ST and its SE",
                stray,
                loop=None,
            )
        ]

    # -- missing trailers --------------------------------------------------------------------

    def _missing_se(self, st: Segment, why: str) -> Finding:
        return self._finding(
            ENV007,
            f"transaction set {quote(st[2])} (ST at segment {st.number}) has no SE trailer: {why}",
            st,
            transaction=st[2] or None,
        )

    def _missing_ge(self, gs: Segment, why: str) -> Finding:
        return self._finding(
            ENV006,
            f"functional group {quote(gs[6])} (GS at segment {gs.number}) has no GE trailer: {why}",
            gs,
        )

    def _missing_iea(self, isa: Segment, why: str) -> Finding:
        return self._finding(
            ENV005,
            f"interchange {quote(isa[13])} (ISA at segment {isa.number}) has no IEA trailer: {why}",
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
        """Component or repetition separators inside envelope elements (ENV-002).

        These segments have only simple, non-repeating elements, so a component or repetition
        separator in them can only be data that the receiver will split.
        """
        named = data_delimiters(seg.delimiters)
        text = seg.text
        if not any(char in text for _, char in named):
            return []
        out: list[Finding] = []
        for position, value in enumerate(seg.elements[1:], 1):
            ref = f"{seg.id}{position:02d}"
            for message in delimiters_in(ref, value, named):
                out.append(
                    self._finding(
                        ENV002,
                        message,
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
                    ENV005,
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
                    ENV001,
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
                    ENV001,
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
                    ENV001,
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
                    ENV002,
                    f"ISA11 is {quote(isa11)}; from version 00501 on ISA11 is the repetition "
                    "separator and should be a special character that differs from the other "
                    "three delimiters (such as '^')",
                    seg,
                    element="ISA11",
                    severity=WARNING,
                )
            )
        seen: dict[str, str] = {}
        for name, char, ref in named:
            if char in seen:
                out.append(
                    self._finding(
                        ENV002,
                        f"the {name} and the {seen[char]} are both {described(char)}; the "
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
                        ENV002,
                        f"the {name} is {described(char)}, which occurs in ordinary data; "
                        "delimiters must be special characters",
                        seg,
                        element=ref,
                    )
                )
        # ISA01-ISA15 are simple elements: none of the other delimiters may stand in them.
        data = data_delimiters(delims, segment=True)
        for position in range(1, min(len(seg.elements), 16)):
            if position == 11:
                continue
            ref = f"ISA{position:02d}"
            for message in delimiters_in(ref, seg.elements[position], data):
                out.append(self._finding(ENV002, message, seg, element=ref))
        return out

    def _on_iea(self, seg: Segment) -> list[Finding]:
        out = self._check_stray(seg)
        if not seg.term and seg.delimiters.segment not in "\r\n":
            # Only the last segment of a file can lack its terminator. Where the terminator is
            # a line break, a file that simply ends is read the same; elsewhere a reader that
            # cuts segments at the terminator never sees the interchange trailer.
            out.append(
                self._finding(
                    ENV013,
                    f"IEA, the last segment of the file, has no segment terminator "
                    f"({described(seg.delimiters.segment)}); a receiver that reads up to the "
                    "terminator misses the interchange trailer",
                    seg,
                )
            )
        out += self._close_st(seg)
        out += self._close_gs(seg)
        self._leave_transaction()
        self.group = ""
        if not self._in_isa or self._isa is None:
            out.append(
                self._finding(
                    ENV005,
                    "IEA without an open interchange: no ISA since the last IEA",
                    seg,
                )
            )
        else:
            isa13 = self._isa[13]
            if seg[2] != isa13:
                out.append(
                    self._finding(
                        ENV005,
                        f"IEA02 is {quote(seg[2])}, must equal ISA13 {quote(isa13)} "
                        f"(ISA at segment {self._isa.number})",
                        seg,
                        element="IEA02",
                    )
                )
            if not _is_count(seg[1], self._gs_count):
                out.append(
                    self._finding(
                        ENV009,
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
                    ENV005,
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
        self.group = seg[6]
        self._leave_transaction()
        gs06 = seg[6]
        if _number(gs06, 9) is None:
            out.append(
                self._finding(
                    ENV006,
                    f"GS06 is {quote(gs06)}, must be a group control number of 1 to 9 digits",
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
                    ENV006,
                    "GE without an open functional group: no GS since the last GE",
                    seg,
                )
            )
        else:
            gs06 = self._gs[6]
            if seg[2] != gs06:
                out.append(
                    self._finding(
                        ENV006,
                        f"GE02 is {quote(seg[2])}, must equal GS06 {quote(gs06)} "
                        f"(GS at segment {self._gs.number})",
                        seg,
                        element="GE02",
                    )
                )
            if not _is_count(seg[1], self._st_count):
                out.append(
                    self._finding(
                        ENV009,
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
                    ENV006,
                    "ST outside a functional group: there is no open GS before it",
                    seg,
                    loop="GS_LOOP",
                    transaction=st02 or None,
                )
            )
        if not 4 <= len(st02) <= 9:
            out.append(
                self._finding(
                    ENV007,
                    f"ST02 is {quote(st02)}, must be a transaction set control number of 4 to 9 "
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
                    ENV007,
                    f"ST02 {quote(st02)} is already used in this functional group (ST at segment "
                    f"{first}); it must be unique within its GS",
                    seg,
                    element="ST02",
                    transaction=st02 or None,
                )
            )
        else:
            self._st02s[st02] = seg.number
        out += self._delimiters_in_data(seg)
        return out

    def _on_se(self, seg: Segment) -> list[Finding]:
        if not self._in_st or self._st is None:
            self._stray = None
            self._mark = self._body
            return [
                self._finding(
                    ENV007,
                    "SE without an open transaction set: no ST since the last SE",
                    seg,
                    transaction=None,
                )
            ] + self._delimiters_in_data(seg)
        st = self._st
        out: list[Finding] = []
        transaction = self._in_transaction()
        if seg[2] != st[2]:
            out.append(
                self._finding(
                    ENV007,
                    f"SE02 is {quote(seg[2])}, must equal ST02 {quote(st[2])} "
                    f"(ST at segment {st.number})",
                    seg,
                    element="SE02",
                    transaction=transaction,
                )
            )
        count = self._body - self._body_at_st + 2
        if not _is_count(seg[1], count):
            out.append(
                self._finding(
                    ENV008,
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

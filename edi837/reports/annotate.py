r"""``edi837 annotate``: the input listed one segment per line, findings written under them.

The listing is for people reading a file with its problems in place. Every segment is written
exactly as it stands in the input (its leading white space, text and terminator) and starts a
line; after a segment that has findings come annotation lines, each starting with ``#``: a
caret line under the offending element with the code, severity and message, then the fix. A
header of ``#`` lines gives the file's totals.

How to get the input back (a line break is a LF; a CRLF counts as one, ending in its LF):

- Where the input follows a segment's terminator with a line break (``~`` + LF, ``~`` + CRLF,
  or a terminator that is itself LF), that break is the input's own and ends the segment's
  line. Where it does not (a file on one line, a last segment with nothing after it), the
  listing adds one LF right after the terminator. Nothing else is added to the input's text.
- So: when every segment is followed by a line break, dropping the ``#`` lines gives back the
  input byte for byte; when none is, dropping the ``#`` lines and the LF after every segment
  does. The header's last line says which case a listing is in (``AnnotateSummary.restore``),
  including a one-line file that ends with a line break, and a file whose last segment is not
  followed by one.
- Annotation lines end like the segment line they follow (CRLF in a CRLF file), so that
  dropping them keeps the input's line breaks as they were.
- No input line can start with ``#``: a segment id is letters and digits, and white space is
  all that stands between segments. A file where a line would start with ``#`` is not X12 and
  is refused (:class:`~edi837.x12.reader.X12SyntaxError`) before anything is written.

Control characters and patient data:

- Annotation lines are ASCII and show every control character of the data they quote (an
  ESC in a claim id, a LF in ST02, a file name) as a visible escape (``\x1b``,
  :func:`~edi837.reports.escape.escape_text`), so they can neither drive a terminal nor
  forge a line.
- Segment lines are the input's own characters, because the round trip above must hold: a
  control character inside a segment is written as it is. Where the listing is for a screen
  rather than a file (``escape_controls``), segment text is written with those escapes too;
  the header then says how many segments were changed that way and that the round trip no
  longer holds for them.
- With ``redact``, the values of NM1, N3, N4, DMG, PER and person-identifier REF segments are
  masked (:mod:`edi837.redaction`) in segment lines and in annotation lines; the header says
  so, and such a listing does not give the input back.
- A UTF-8 byte order mark is written at the start of the first segment line, not before the
  header, so that dropping the ``#`` lines gives the input back byte for byte; the header
  says where it is. A UTF-16 or UTF-32 listing starts with its byte order mark, which the
  whole listing needs to be decoded.

The file is read twice: a first pass counts segments, claims and findings for the header (and
finds bad input before any output), the second writes the listing as the claim units arrive.
Memory is bounded by two claim units, whatever the file size; standard input that cannot seek
is spooled to a temporary file first.
"""

from __future__ import annotations

import codecs
import io
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import BinaryIO, TextIO

from edi837.causes import by_cause
from edi837.engine import Engine
from edi837.findings import Finding, Severity
from edi837.redaction import masked_values as _masked_values
from edi837.redaction import (
    moved_column,
    redact_finding_message,
    redact_finding_text,
    redact_message,
    redact_segment,
)
from edi837.reports.escape import escape_text, escaped_column, has_controls
from edi837.source import Source, UnitStream
from edi837.version import __version__
from edi837.x12.reader import X12SyntaxError
from edi837.x12.segment import Segment
from edi837.x837p.builder import Unit

#: The first character of every annotation line.
MARK = "#"

# Typographic characters that rule texts use, written as ASCII so that annotation lines stay
# ASCII in a listing whose data keeps the input's own bytes.
_ASCII = str.maketrans(
    {
        "\u2026": "...",
        "\u2013": "-",
        "\u2014": "--",
        "\u2018": "'",
        "\u2019": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u2192": "->",
        "\u2264": "<=",
        "\u2265": ">=",
        "\u00a7": "sec. ",
        "\u00d7": "x",
    }
)


def _ascii(text: str) -> str:
    """Annotation text on one line and in ASCII: control characters and the rest escaped."""
    return escape_text(text.translate(_ASCII)).encode("ascii", "backslashreplace").decode("ascii")


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


@dataclass
class AnnotateSummary:
    """What a listing holds: the file's totals and how its line breaks were laid out.

    Attributes:
        name: the input's name as given (``-`` for standard input).
        encoding: the input's encoding as the reader recognised it.
        segments: segments in the file.
        breaks_added: segments after which the listing added a LF because the input has no
            line break there.
        last_break_added: whether the last segment is one of them.
        newline: the input's first line break after a segment (CRLF or LF), which
            the header's lines end with.
        file_findings: findings that point at no segment (shown in the header).
    """

    name: str
    encoding: str = "ascii"
    segments: int = 0
    interchanges: int = 0
    transactions: int = 0
    claims: int = 0
    service_lines: int = 0
    by_severity: Counter[Severity] = field(default_factory=Counter)
    by_code: Counter[str] = field(default_factory=Counter)
    breaks_added: int = 0
    last_break_added: bool = False
    newline: str = "\n"
    notices: list[str] = field(default_factory=list)
    file_findings: list[Finding] = field(default_factory=list)
    missing_tables: list[str] = field(default_factory=list)
    redacted: bool = False
    escaped_segments: int = 0
    bom_on_first_segment: bool = False

    @property
    def findings(self) -> int:
        """All findings in the file."""
        return sum(self.by_severity.values())

    @property
    def restore(self) -> str:
        """How to get the input back from the listing, in one sentence."""
        drop = f"drop the lines that start with '{MARK}'"
        if self.redacted:
            return (
                "patient data is masked in this listing (NM1, N3, N4, DMG, REF, PER): "
                "it does not give the input back."
            )
        if self.escaped_segments:
            return (
                f"control characters of {_plural(self.escaped_segments, 'segment')} are shown "
                "as \\xNN escapes: this listing does not give the input back."
            )
        if self.breaks_added == 0:
            return f"{drop} to get the input back byte for byte."
        if self.breaks_added == self.segments:
            return f"{drop} and the line break after every segment to get the input back."
        if self.breaks_added == 1 and self.last_break_added:
            return f"{drop} and the line break after the last segment to get the input back."
        if self.breaks_added == self.segments - 1 and not self.last_break_added:
            return (
                f"{drop} and the line break after every segment but the last to get the input back."
            )
        return (
            f"{drop} and the LF added after {self.breaks_added} of the {self.segments} "
            "segments (those the input does not follow with a line break) to get the input back."
        )

    def header(self) -> list[str]:
        """The header lines of the listing (without line breaks)."""
        lines = [
            f"edi837 {__version__} annotated listing of {self.name}",
            f"{_plural(self.segments, 'segment')}, {_plural(self.interchanges, 'interchange')}, "
            f"{_plural(self.transactions, 'transaction')}, {_plural(self.claims, 'claim')}, "
            f"{_plural(self.service_lines, 'service line')}",
        ]
        counts = ", ".join(f"{self.by_severity.get(s, 0)} {s.value}" for s in Severity)
        lines.append(f"{_plural(self.findings, 'finding')}: {counts}")
        if self.by_code:
            ranked = sorted(self.by_code.items(), key=lambda item: (-item[1], item[0]))
            lines.append("by code: " + ", ".join(f"{code} {n}" for code, n in ranked))
        if self.missing_tables:
            lines.append(
                "reference tables not loaded: "
                + ", ".join(self.missing_tables)
                + " (rules that need them stay silent)"
            )
        lines += [f"note: {notice}" for notice in self.notices]
        for finding in self.file_findings:
            message = redact_finding_message(finding) if self.redacted else finding.message
            lines.append(f"file: {finding.code} {finding.severity.value}: {message}")
        if self.bom_on_first_segment:
            lines.append(
                "The input's UTF-8 byte order mark stands at the start of the first segment line."
            )
        lines.append(self.restore[0].upper() + self.restore[1:])
        return [f"{MARK} {_ascii(line)}" for line in lines]


def _line_start(segment: Segment) -> str:
    """The segment's text as its line begins: indentation after the last line break included."""
    return segment.lead.rsplit("\n", 1)[-1] + segment.text + segment.term


def _starts_hash_line(segment: Segment) -> bool:
    """True when writing ``segment`` would start a line with the annotation mark."""
    body = segment.text + segment.term
    return _line_start(segment).startswith(MARK) or f"\n{MARK}" in body


def _hash_error(segment: Segment) -> X12SyntaxError:
    return X12SyntaxError(
        f"a line starts with '{MARK}', which the annotated listing keeps for its annotations",
        segment_number=segment.number,
        byte_offset=segment.byte_offset,
        hint="a segment id is letters and digits; check that this is an X12 file",
    )


def _line_end(segment: Segment, following: str) -> str | None:
    """The input's own end of the segment's line, from ``following`` (the white space after it).

    That is the terminator when it is a line break, else the white space after the terminator
    up to and including its first LF; ``None`` when the input does not end the line there.
    """
    if segment.term.endswith("\n"):
        return ""
    index = following.find("\n")
    return following[: index + 1] if index >= 0 else None


@dataclass(frozen=True)
class _View:
    """How segment text is shown: as it is, masked (``redact``), escaped (``escape``)."""

    redact: bool = False
    escape: bool = False

    def text(self, segment: Segment) -> str:
        text = redact_segment(segment) if self.redact else segment.text
        return escape_text(text) if self.escape else text

    def term(self, segment: Segment) -> str:
        # A line break ends the line as the input does; any other control character used as
        # the terminator is shown when escaping.
        return escape_text(segment.term, keep="\r\n") if self.escape else segment.term

    def place(self, segment: Segment, column: int, width: int) -> tuple[int, int]:
        """The caret's column and width in the shown text, from those in the input's text."""
        text = segment.text
        if self.redact:
            masked = redact_segment(segment)
            if masked != text:
                column, width = moved_column(
                    text, masked, segment.delimiters.element, column, width
                )
                text = masked
        if self.escape:
            column, width = escaped_column(text, column, width)
        return column, width

    def message(self, finding: Finding, segment: Segment | None) -> str:
        if not self.redact:
            return finding.message
        if segment is None:
            return redact_finding_message(finding)
        return redact_message(
            finding.message, _masked_values(segment.text, segment.delimiters.element)
        )


class _Layout:
    """First-pass observer: refuses ``#`` lines and learns where line breaks must be added."""

    def __init__(self, summary: AnnotateSummary, view: _View) -> None:
        self.summary = summary
        self.view = view
        self.previous: Segment | None = None
        self.first_break = True

    def __call__(self, segment: Segment) -> None:
        if _starts_hash_line(segment):
            raise _hash_error(segment)
        summary = self.summary
        if self.view.escape and has_controls(segment.text + segment.term.strip("\r\n")):
            summary.escaped_segments += 1
        previous = self.previous
        if previous is not None:
            end = _line_end(previous, segment.lead)
            if end is None:
                summary.breaks_added += 1
            elif self.first_break:
                self.first_break = False
                if (previous.term + end).endswith("\r\n"):
                    summary.newline = "\r\n"
        self.previous = segment

    def finish(self, tail: str) -> None:
        if self.previous is not None and _line_end(self.previous, tail) is None:
            self.summary.breaks_added += 1
            self.summary.last_break_added = True


def _survey(
    source: Source, engine: Engine, view: _View = _View()
) -> tuple[AnnotateSummary, str, bytes]:
    """First pass: the header's totals, the line-break layout, and the codec and byte order mark.

    Raises:
        X12SyntaxError: bad input, a line that would start with ``#``, or no 837P
            transaction at all (nothing to annotate).
    """
    summary = AnnotateSummary(source.name, redacted=view.redact)
    layout = _Layout(summary, view)
    with source.open() as stream:
        units = source.units(stream, observe=layout)
        for _unit, findings in engine.iter_checked(units):
            for finding in findings:
                summary.by_severity[finding.severity] += 1
                summary.by_code[finding.code] += 1
                if finding.segment_number is None:
                    summary.file_findings.append(finding)
        reader = units.segments
        layout.finish(reader.tail)
        summary.notices = list(units.notices)
        summary.encoding = reader.encoding
        summary.segments = reader.segments_read
        counts = units.summary
        summary.interchanges = counts.interchanges
        summary.transactions = counts.transactions
        summary.claims = counts.claims
        summary.service_lines = counts.service_lines
        summary.missing_tables = list(engine.refdata.missing())
        units.require_837p()
        return summary, reader.codec, reader.bom


class _Listing:
    """Writes segments with their annotations, ending each segment's line as late as needed.

    A segment's line is ended only when what follows it is known (the next segment's leading
    white space, or the file's tail), so that the input's own line break is used where there
    is one; annotation lines go right after that break.
    """

    def __init__(self, out: TextIO, view: _View = _View(), bom: str = "") -> None:
        self.out = out
        self.view = view
        self.bom = bom  # written at the start of the first segment line
        self.open: Segment | None = None
        self.indent = ""
        self.notes: list[str] = []
        self.written = 0  # number of the last segment written

    def lines(self, lines: Iterable[str], eol: str = "\n") -> None:
        for line in lines:
            self.out.write(line + eol)

    def _end_line(self, following: str) -> str:
        """End the open segment's line, write its notes; return the rest of ``following``.

        The notes end as the segment's line does, so a CRLF file stays CRLF throughout.
        """
        if self.open is None:
            return following
        end = _line_end(self.open, following)
        if end is None:
            end = "\n"  # the one thing the listing adds to the input's text
            rest = following
        else:
            rest = following[len(end) :]
        self.out.write(end)
        ended = self.open.term + end
        self.lines(self.notes, "\r\n" if ended.endswith("\r\n") else "\n")
        self.open = None
        self.notes = []
        return rest

    def segment(self, segment: Segment, findings: list[Finding]) -> None:
        if _starts_hash_line(segment):
            raise _hash_error(segment)
        lead = self._end_line(segment.lead)
        if self.bom:
            self.out.write(self.bom)
            self.bom = ""
        self.out.write(lead + self.view.text(segment) + self.view.term(segment))
        self.open = segment
        self.indent = lead.rsplit("\n", 1)[-1]
        self.written = segment.number
        for finding in findings:
            if finding.cause is not None:
                self.notes.extend(_consequence_notes(finding, self.view))
            else:
                self.notes.extend(_notes(finding, segment, self.indent, self.view))

    def attach(self, finding: Finding) -> None:
        """A finding on the open segment, or on one already written (noted as earlier)."""
        if finding.cause is not None:
            self.notes.extend(_consequence_notes(finding, self.view))
        elif self.open is not None and finding.segment_number == self.open.number:
            self.notes.extend(_notes(finding, self.open, self.indent, self.view))
        else:
            self.notes.extend(_earlier_notes(finding, self.view))

    def close(self, tail: str) -> None:
        self.out.write(self._end_line(tail))


def _column(finding: Finding, segment: Segment) -> tuple[int, int] | None:
    """Where the finding's element sits in the segment text (``None``: the whole segment)."""
    if finding.column is not None:
        return finding.column, max(finding.width or 1, 1)
    if finding.element:
        try:
            return segment.column_of(finding.element)
        except (KeyError, ValueError):
            return None
    return None


def _label(finding: Finding) -> str:
    where = finding.element or finding.segment_id or ""
    context = []
    if finding.claim is not None:
        context.append(f"claim {finding.claim}")
    if finding.line is not None:
        context.append(f"line {finding.line}")
    suffix = f" ({', '.join(context)})" if context else ""
    return f"{finding.code} {finding.severity.value} {where}{suffix}".replace("  ", " ")


def _fix_line(finding: Finding) -> str | None:
    fix = finding.fix
    if fix is None:
        return None
    kind = "fix" if fix.concrete else "suggestion"
    return f"{kind} ({fix.applicability.value}): {fix.description}"


def _notes(finding: Finding, segment: Segment, indent: str, view: _View = _View()) -> list[str]:
    """Caret line under the element with code, severity and message, then the fix."""
    place = _column(finding, segment)
    fix = _fix_line(finding)
    message = view.message(finding, segment)
    if place is None:
        notes = [f"{MARK} {_ascii(_label(finding))}: {_ascii(message)}"]
        if fix is not None:
            notes.append(f"{MARK}   {_ascii(fix)}")
        return notes
    column, width = place
    width = min(width, max(len(segment.text) - column, 1))
    column, width = view.place(segment, column, width)
    # The caret lines up with the element on screen: the same indentation (tabs kept), and
    # the text before the element on the element's own line of the segment.
    before = (indent + view.text(segment)[:column]).rsplit("\n", 1)[-1]
    pad = "".join("\t" if c == "\t" else " " for c in before)
    # The mark takes the first column; a tab after it still reaches the same tab stop.
    lead = MARK + (pad[1:] if pad.startswith(" ") else pad)
    notes = [f"{lead}{'^' * width} {_ascii(_label(finding))}: {_ascii(message)}"]
    if fix is not None:
        notes.append(f"{lead}{' ' * width} {_ascii(fix)}")
    return notes


def _earlier_notes(finding: Finding, view: _View = _View()) -> list[str]:
    """A finding on a segment already written: named by its number instead of a caret."""
    text = finding.segment_text
    if text is not None and view.redact:
        text = redact_finding_text(finding)[0]
    text = text or finding.segment_id or "?"
    if len(text) > 60:
        text = text[:57] + "..."
    where = f"segment {finding.segment_number} ({text}), above"
    message = view.message(finding, None)
    notes = [f"{MARK} {_ascii(_label(finding))} at {_ascii(where)}: {_ascii(message)}"]
    fix = _fix_line(finding)
    if fix is not None:
        notes.append(f"{MARK}   {_ascii(fix)}")
    return notes


def _consequence_notes(finding: Finding, view: _View = _View()) -> list[str]:
    """A finding that follows from another: indented under its cause, naming its own segment."""
    cause = finding.cause.code if finding.cause is not None else "?"
    first, *rest = _earlier_notes(finding, view)
    notes = [f"{MARK}     -> follows from {cause}: {first[len(MARK) + 1 :]}"]
    return notes + [f"{MARK}    {line[len(MARK) :]}" for line in rest]


def _anchor(finding: Finding) -> int | None:
    """The segment a finding is listed under: its cause's, when it has one."""
    if finding.cause is not None and finding.cause.segment_number is not None:
        return finding.cause.segment_number
    return finding.segment_number


def _write(
    source: Source,
    engine: Engine,
    summary: AnnotateSummary,
    out: TextIO,
    view: _View = _View(),
    bom: str = "",
) -> None:
    """Second pass: the header, then the segments with their annotations as units arrive."""
    with source.open() as stream:
        units = source.units(stream)
        _list(units, engine, summary, _Listing(out, view, bom))


def _list(
    units: UnitStream,
    engine: Engine,
    summary: AnnotateSummary,
    listing: _Listing,
) -> None:
    listing.lines(summary.header(), summary.newline)
    waiting: dict[int, list[Finding]] = {}

    def write(unit: Unit | None) -> None:
        # From the unit itself, not from a copy of every segment read: an oversized claim's
        # segments are then read back from disk rather than all held here.
        if unit is not None:
            for segment, _ in unit.segments:
                listing.segment(segment, waiting.pop(segment.number, []))

    # Segments are written one unit late: a finding may point back into the unit before (a
    # loop instance that this unit closes), and holding one unit lets it still stand under
    # its own segment. Findings that point further back (HL04, settled only at the next HL)
    # are written where they arrive, naming the segment they are about.
    held: Unit | None = None
    for unit, findings in engine.iter_checked(units):
        for finding in by_cause(findings):
            number = _anchor(finding)
            if number is None:
                continue  # in the header
            if number > listing.written:
                waiting.setdefault(number, []).append(finding)
            else:
                listing.attach(finding)
        write(held)
        held = unit
    write(held)
    # Findings on segments that no unit wrote out (none in a well-formed stream).
    for number in sorted(waiting):
        for finding in waiting[number]:
            listing.attach(finding)
    listing.close(units.segments.tail)


def annotate(
    source: Source,
    engine: Engine,
    out: TextIO,
    *,
    redact: bool = False,
    escape_controls: bool = False,
) -> AnnotateSummary:
    """Write the annotated listing of one input to ``out``.

    ``out`` receives the input's characters as the reader decoded them (Latin-1 for 8-bit
    files, so that encoding ``out`` as Latin-1 restores the input's bytes), plus ASCII
    annotation lines; open it with ``newline=""`` so that line breaks are written as given.
    :func:`write_listing` does that for a binary target. ``redact`` and ``escape_controls``
    are those of :func:`write_listing`.

    Raises:
        X12SyntaxError: the input is not X12, has a line that would start with ``#``, or holds
            no 837P transaction; nothing has been written then.
    """
    view = _View(redact, escape_controls)
    summary, _, _ = _survey(source, engine, view)
    _write(source, engine, summary, out, view)
    return summary


def write_listing(
    source: Source,
    engine: Engine,
    out: BinaryIO,
    *,
    redact: bool = False,
    escape_controls: bool = False,
) -> AnnotateSummary:
    r"""Write the listing to a binary target in the input's own encoding (and byte order mark).

    Segment bytes are the input's bytes, so the round trip of the module docstring holds byte
    for byte whatever the encoding. Nothing is written when the input is refused.

    Args:
        source: the X12 input (read twice; a pipe is spooled once).
        engine: the rules to run.
        out: the binary target.
        redact: mask patient data in segment and annotation lines (no round trip then).
        escape_controls: show control characters inside segments as ``\xNN`` (for a
            terminal; the header counts the segments this changed, and no round trip then).
    """
    view = _View(redact, escape_controls)
    summary, codec, bom = _survey(source, engine, view)
    first_line_bom = ""
    if bom == codecs.BOM_UTF8:
        # An 8-bit listing is read line by line as bytes: the mark goes where the input has
        # it, before the first segment, so that dropping the header gives it back.
        first_line_bom = bom.decode(codec)
        summary.bom_on_first_segment = True
    elif bom:
        out.write(bom)
    text = io.TextIOWrapper(out, encoding=codec, errors="strict", newline="")
    try:
        _write(source, engine, summary, text, view, first_line_bom)
        text.flush()
    finally:
        text.detach()
    return summary

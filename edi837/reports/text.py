r"""``check -f text``: findings for people, grouped by file, claim and service line.

Each finding shows its code, severity, message and position, then the segment text with a
caret under the offending element, the way compilers point at a column. Colour is added with
ANSI styles; the command line strips them when the output is not a terminal.

Everything taken from a file (its name, element values, segment text, error messages) goes
through :func:`~edi837.reports.escape.escape_text`: a control character shows as ``\x1b``
and can neither drive the terminal nor start a line of its own. With ``redact``, patient data
is masked in segment text and messages (:mod:`edi837.redaction`).

A file whose reading stopped on bad input (status ``error``) shows its error line and then
the findings made before the error: the summary counts them, so they are shown.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import BinaryIO

from edi837.causes import consequences
from edi837.engine import FileResult
from edi837.findings import Finding, Severity
from edi837.redaction import redact_finding_message, redact_finding_text
from edi837.reports.escape import escape_text, escaped_column
from edi837.reports.summary import Totals, add_result

COLOURS = {Severity.REJECT: "red", Severity.DENY_RISK: "yellow", Severity.WARNING: "cyan"}
_ANSI = {"red": 31, "green": 32, "yellow": 33, "cyan": 36}


def style(text: str, fg: str | None = None, bold: bool = False, underline: bool = False) -> str:
    """Wrap ``text`` in ANSI codes (stripped by the command line when not on a terminal)."""
    codes = [str(_ANSI[fg])] if fg else []
    codes += ["1"] if bold else []
    codes += ["4"] if underline else []
    return f"\x1b[{';'.join(codes)}m{text}\x1b[0m" if codes else text


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _finding_lines(finding: Finding, indent: str, redact: bool = False) -> Iterator[str]:
    severity = style(f"{finding.severity.value:<9}", fg=COLOURS[finding.severity], bold=True)
    where = f"segment {finding.segment_number}" if finding.segment_number else "file"
    if finding.element:
        where += f" {finding.element}"
    elif finding.segment_id:
        where += f" {finding.segment_id}"
    if finding.line_number:
        where += f" (file line {finding.line_number})"
    message = redact_finding_message(finding) if redact else finding.message
    yield f"{indent}{style(finding.code, bold=True)} {severity} {escape_text(message)}"
    loop = f", loop {escape_text(finding.loop)}" if finding.loop else ""
    yield f"{indent}    at {escape_text(where)}{loop}"
    text, column, width = finding.segment_text, finding.column, finding.width
    if redact:
        text, column, width = redact_finding_text(finding)
    if text is not None:
        if len(text) > 120:
            text = text[:117] + "..."
        shown = escape_text(text)
        yield f"{indent}    | {shown}"
        if column is not None and column < len(text) + 1:
            width = min(width or 1, max(len(text) - column, 1))
            column, width = escaped_column(text, column, width)
            marker = style("^" * width, fg=COLOURS[finding.severity], bold=True)
            yield f"{indent}    | {' ' * column}{marker}"
    if finding.fix is not None:
        kind = "fix" if finding.fix.concrete else "suggestion"
        label = f"{kind} ({finding.fix.applicability.value})"
        description = escape_text(finding.fix.description)
        yield f"{indent}    {style(label, fg='green')}: {description}"


def file_lines(result: FileResult, redact: bool = False) -> Iterator[str]:
    """The lines for one file: its header, then its findings grouped by claim and line."""
    head = style(escape_text(result.path), bold=True, underline=True)
    if result.status == "error":
        yield f"{head}: {style('error', fg='red', bold=True)}: {escape_text(result.error or '')}"
        if result.findings:
            made = _plural(len(result.findings), "finding")
            yield f"  {made} before the error:"
    else:
        counts = (
            f"{_plural(result.claims, 'claim')}, {_plural(result.service_lines, 'service line')}"
        )
        yield f"{head} ({counts}): " + (
            _plural(len(result.findings), "finding") if result.findings else "no findings"
        )
    for notice in result.notices:
        yield f"  note: {escape_text(notice)}"
    group: tuple[str | None, str | None] | None = None
    line: int | None = None
    # One pass's objects: consequences are matched to their cause by identity.
    findings = list(result.findings)
    under = consequences(findings)
    for finding in findings:
        if finding.cause is not None and id(finding.cause) in under:
            continue  # shown under its cause
        key = (finding.transaction, finding.claim)
        if key != group:
            group = key
            line = None
            transaction = escape_text(finding.transaction or "")
            if finding.claim is not None:
                yield f"  claim {escape_text(finding.claim)} (transaction {transaction})"
            else:
                yield f"  transaction {transaction}" if transaction else "  envelope"
        if finding.line is not None and finding.line != line:
            line = finding.line
            yield f"    line {line}"
        indent = "      " if finding.line is not None else "    "
        yield from _finding_lines(finding, indent, redact)
        for consequence in under.get(id(finding), ()):
            # Indented under the finding that made it inevitable: one fault, one entry.
            yield f"{indent}    ↳ follows from {finding.code}:"
            yield from _finding_lines(consequence, indent + "      ", redact)


def summary_line(total: Totals) -> str:
    """The last line: counts per severity and how many findings ``edi837 fix`` can repair."""
    if total.findings == 0:
        checked = f"{_plural(total.files, 'file')}, {_plural(total.claims, 'claim')}"
        errors = f"; {_plural(total.errors, 'file')} unreadable" if total.errors else ""
        return f"No findings ({checked} checked){errors}."
    parts = [f"{total.by_severity.get(s, 0)} {s.value}" for s in Severity]
    text = f"Found {_plural(total.findings, 'finding')}"
    if total.causes != total.findings:
        text += f" ({_plural(total.causes, 'root cause')})"
    text += f": {', '.join(parts)}"
    text += f"; {total.safe_fixes} fixable with `edi837 fix`"
    if total.unsafe_fixes:
        text += f" ({total.unsafe_fixes} more with `--unsafe-fixes`)"
    if total.errors:
        text += f"; {_plural(total.errors, 'file')} unreadable"
    return text + "."


def write_text(results: Iterable[FileResult], *, redact: bool = False) -> Iterator[str]:
    """Every file's lines, a blank line between files, then the summary line.

    ``results`` may be a generator: each file's lines come as soon as it is checked, and only
    the totals are kept.
    """
    total = Totals()
    for result in results:
        add_result(total, result)
        yield from file_lines(result, redact)
        yield ""
    yield summary_line(total)


def write_text_to(
    results: Iterable[FileResult], out: BinaryIO, *, redact: bool = False, colour: bool = False
) -> None:
    """Write the text report to a binary file as UTF-8, line by line (no ANSI unless ``colour``)."""
    for line in write_text(results, redact=redact):
        out.write(((line if colour else strip_styles(line)) + "\n").encode("utf-8"))


_STYLE = re.compile("\x1b\\[[0-9;]*m")


def strip_styles(line: str) -> str:
    """``line`` without the ANSI styles of :func:`style` (data escapes are not styles)."""
    return _STYLE.sub("", line)

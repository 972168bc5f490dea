"""``check -f text``: findings for people, grouped by file, claim and service line.

Each finding shows its code, severity, message and position, then the segment text with a
caret under the offending element, the way compilers point at a column. Colour is added with
ANSI styles; the command line strips them when the output is not a terminal.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from edi837.engine import FileResult
from edi837.findings import Finding, Severity
from edi837.reports.summary import Totals, totals

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


def _finding_lines(finding: Finding, indent: str) -> Iterator[str]:
    severity = style(f"{finding.severity.value:<9}", fg=COLOURS[finding.severity], bold=True)
    where = f"segment {finding.segment_number}" if finding.segment_number else "file"
    if finding.element:
        where += f" {finding.element}"
    elif finding.segment_id:
        where += f" {finding.segment_id}"
    if finding.line_number:
        where += f" (file line {finding.line_number})"
    yield f"{indent}{style(finding.code, bold=True)} {severity} {finding.message}"
    yield f"{indent}    at {where}" + (f", loop {finding.loop}" if finding.loop else "")
    if finding.segment_text is not None:
        text = finding.segment_text
        if len(text) > 120:
            text = text[:117] + "..."
        yield f"{indent}    | {text}"
        if finding.column is not None and finding.column < len(text) + 1:
            width = min(finding.width or 1, max(len(text) - finding.column, 1))
            marker = style("^" * width, fg=COLOURS[finding.severity], bold=True)
            yield f"{indent}    | {' ' * finding.column}{marker}"
    if finding.fix is not None:
        kind = "fix" if finding.fix.concrete else "suggestion"
        label = f"{kind} ({finding.fix.applicability.value})"
        yield f"{indent}    {style(label, fg='green')}: {finding.fix.description}"


def file_lines(result: FileResult) -> Iterator[str]:
    """The lines for one file: its header, then its findings grouped by claim and line."""
    head = style(result.path, bold=True, underline=True)
    if result.status == "error":
        yield f"{head}: {style('error', fg='red', bold=True)}: {result.error}"
        return
    counts = f"{_plural(result.claims, 'claim')}, {_plural(result.service_lines, 'service line')}"
    yield f"{head} ({counts}): " + (
        _plural(len(result.findings), "finding") if result.findings else "no findings"
    )
    for notice in result.notices:
        yield f"  note: {notice}"
    group: tuple[str | None, str | None] | None = None
    line: int | None = None
    for finding in result.findings:
        key = (finding.transaction, finding.claim)
        if key != group:
            group = key
            line = None
            if finding.claim is not None:
                yield f"  claim {finding.claim} (transaction {finding.transaction})"
            else:
                where = f"transaction {finding.transaction}" if finding.transaction else "envelope"
                yield f"  {where}"
        if finding.line is not None and finding.line != line:
            line = finding.line
            yield f"    line {line}"
        indent = "      " if finding.line is not None else "    "
        yield from _finding_lines(finding, indent)


def summary_line(total: Totals) -> str:
    """The last line: counts per severity and how many findings ``edi837 fix`` can repair."""
    if total.findings == 0:
        checked = f"{_plural(total.files, 'file')}, {_plural(total.claims, 'claim')}"
        errors = f"; {_plural(total.errors, 'file')} unreadable" if total.errors else ""
        return f"No findings ({checked} checked){errors}."
    parts = [f"{total.by_severity.get(s, 0)} {s.value}" for s in Severity]
    text = f"Found {_plural(total.findings, 'finding')}: {', '.join(parts)}"
    text += f"; {total.safe_fixes} fixable with `edi837 fix`"
    if total.unsafe_fixes:
        text += f" ({total.unsafe_fixes} more with `--unsafe-fixes`)"
    if total.errors:
        text += f"; {_plural(total.errors, 'file')} unreadable"
    return text + "."


def write_text(results: Sequence[FileResult]) -> Iterator[str]:
    """Every file's lines, a blank line between files, then the summary line."""
    for result in results:
        yield from file_lines(result)
        yield ""
    yield summary_line(totals(results))

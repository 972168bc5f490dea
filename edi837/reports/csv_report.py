r"""``check -f csv``: one row per finding (and one per unreadable file), for spreadsheets.

A cell is data, never a formula or a row break, whatever the claim file holds:

- **formula injection**: a spreadsheet runs a cell that starts with ``=``, ``+``, ``-`` or
  ``@`` (and, in some, after a TAB or CR) as a formula, so ``CLM01 = =HYPERLINK(...)`` would
  become a live link. As OWASP recommends, such a cell is written with a leading ``'``, which
  spreadsheets show as text. File names in the ``path`` column get the same treatment.
- **row injection and terminal escapes**: control characters (CR, LF, ESC ...) in values are
  written as visible escapes (``\x0d``) by :func:`~edi837.reports.escape.escape_text`, and
  every cell holding the delimiter, a quote, CR or LF is quoted, so one finding is one row.

With ``redact``, segment-derived patient data in messages is masked as in every report
(:mod:`edi837.redaction`).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from typing import BinaryIO, TextIO

from edi837.engine import FileResult
from edi837.redaction import redact_finding_message
from edi837.reports.escape import escape_text
from edi837.reports.stream import text_target

COLUMNS = [
    "path",
    "code",
    "severity",
    "message",
    "interchange",
    "transaction",
    "claim",
    "line",
    "loop",
    "segment",
    "segment_number",
    "byte_offset",
    "element",
    "fix",
    "fix_description",
]

#: First characters that make a spreadsheet read a cell as a formula (OWASP CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutral_cell(value: object) -> str:
    """One cell as text that a spreadsheet shows as text: no formula, no control character."""
    if value is None:
        return ""
    if isinstance(value, int):
        return str(value)
    text = str(value)
    risky = text.lstrip(" ").startswith(FORMULA_STARTS)
    text = escape_text(text)
    return "'" + text if risky else text


def _rows(results: Iterable[FileResult], redact: bool) -> Iterable[Sequence[object]]:
    yield COLUMNS
    for result in results:
        if result.status == "error":
            yield [result.path, "", "error", result.error] + [""] * (len(COLUMNS) - 4)
        for finding in result.findings:
            data = finding.to_dict()
            if redact:
                data["message"] = redact_finding_message(finding)
            fix = finding.fix
            row = [result.path] + [data[c] for c in COLUMNS[1:13]]
            row += [fix.applicability.value if fix else "", fix.description if fix else ""]
            yield row


def write_csv(
    results: Iterable[FileResult], out: TextIO | BinaryIO, *, redact: bool = False
) -> None:
    """Write a header row, then the findings of every file in order, row by row.

    ``results`` may be a generator: each file's rows are written as it arrives. ``out`` may
    be a binary file (written as UTF-8).
    """
    with text_target(out) as text:
        writer = csv.writer(text, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
        for row in _rows(results, redact):
            writer.writerow([neutral_cell(cell) for cell in row])

"""``check -f csv``: one row per finding (and one per unreadable file), for spreadsheets."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from typing import TextIO

from edi837.engine import FileResult

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


def write_csv(results: Sequence[FileResult], out: TextIO) -> None:
    """Write a header row, then the findings of every file in order."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for result in results:
        if result.status == "error":
            writer.writerow([result.path, "", "error", result.error] + [""] * (len(COLUMNS) - 4))
        for finding in result.findings:
            data = finding.to_dict()
            fix = finding.fix
            row = [result.path] + ["" if data[c] is None else data[c] for c in COLUMNS[1:13]]
            row += [fix.applicability.value if fix else "", fix.description if fix else ""]
            writer.writerow(row)

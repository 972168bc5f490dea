"""``check -f json``: the findings document of ``architecture.md`` §3, exactly."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, TextIO

from edi837.engine import FileResult
from edi837.findings import Severity
from edi837.reports.summary import totals


def document(results: Sequence[FileResult]) -> dict[str, Any]:
    """The JSON object: version, one item per file, and the summary."""
    total = totals(results)
    return {
        "version": 2,
        "files": [r.to_dict() for r in results],
        "summary": {
            "files": total.files,
            "claims": total.claims,
            "findings": {s.value: total.by_severity.get(s, 0) for s in Severity},
        },
    }


def write_json(results: Sequence[FileResult], out: TextIO) -> None:
    """Write the document, indented for people, with a final newline."""
    json.dump(document(results), out, indent=2)
    out.write("\n")

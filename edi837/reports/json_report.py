"""``check -f json``: the findings document of ``architecture.md`` §3, exactly.

The document is written file by file as results arrive (:func:`write_json` takes an iterable,
which may be a generator), so its size is not held in memory: only the running totals for
``summary`` are kept. The bytes are those of ``json.dump(document(results), indent=2)``.
With ``redact``, patient data quoted in finding messages is masked (:mod:`edi837.redaction`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Any, BinaryIO, TextIO

from edi837.engine import FileResult
from edi837.findings import Severity
from edi837.redaction import redact_finding_message
from edi837.reports.stream import text_target
from edi837.reports.summary import Totals, add_result, totals

#: The contract's version (``architecture.md`` §3): 2 added ``display`` fix applicability.
VERSION = 2


def file_object(result: FileResult, redact: bool = False) -> dict[str, Any]:
    """One item of ``files``; with ``redact``, messages carry no patient data."""
    data = result.to_dict()
    if redact:
        findings: list[dict[str, Any]] = data["findings"]  # type: ignore[assignment]
        for item, finding in zip(findings, result.findings, strict=True):
            item["message"] = redact_finding_message(finding)
    return data


def _summary(total: Totals) -> dict[str, Any]:
    return {
        "files": total.files,
        "claims": total.claims,
        "findings": {s.value: total.by_severity.get(s, 0) for s in Severity},
    }


def document(results: Sequence[FileResult], redact: bool = False) -> dict[str, Any]:
    """The JSON object: version, one item per file, and the summary."""
    return {
        "version": VERSION,
        "files": [file_object(r, redact) for r in results],
        "summary": _summary(totals(results)),
    }


def _indented(value: Any, depth: int) -> str:
    """``value`` as ``json.dump(..., indent=2)`` writes it ``depth`` levels deep."""
    pad = "  " * depth
    return json.dumps(value, indent=2).replace("\n", "\n" + pad)


_SLOT = "\x00findings\x00"


def _write_file_object(out: TextIO, result: FileResult, redact: bool) -> None:
    """One item of ``files`` at depth 2, its findings written one at a time.

    A file of a million findings is never one list of dictionaries: the object is rendered
    with a placeholder for ``findings``, and the findings go where the placeholder stood.
    """
    head = replace(result, findings=[]).to_dict()
    head["findings"] = _SLOT
    before, after = _indented(head, 2).split(json.dumps(_SLOT), 1)
    out.write(before)
    if not result.findings:
        out.write("[]")
    else:
        out.write("[")
        for index, finding in enumerate(result.findings):
            item = finding.to_dict()
            if redact:
                item["message"] = redact_finding_message(finding)
            out.write(("\n" if index == 0 else ",\n") + "        " + _indented(item, 4))
        out.write("\n      ]")
    out.write(after)


def write_json(
    results: Iterable[FileResult], out: TextIO | BinaryIO, *, redact: bool = False
) -> None:
    """Write the document, indented for people, with a final newline, one file at a time."""
    total = Totals()
    with text_target(out) as text:
        text.write('{\n  "version": ' + json.dumps(VERSION) + ',\n  "files": [')
        first = True
        for result in results:
            add_result(total, result)
            text.write(("\n" if first else ",\n") + "    ")
            _write_file_object(text, result, redact)
            first = False
        text.write("]" if first else "\n  ]")
        text.write(',\n  "summary": ' + _indented(_summary(total), 1) + "\n}\n")

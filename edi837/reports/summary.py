"""Totals across files: findings per severity and how many ``edi837 fix`` can repair."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from edi837.engine import FileResult
from edi837.findings import Applicability, Severity


@dataclass
class Totals:
    """Counts over a run, for the last line of the text report and the JSON ``summary``."""

    files: int = 0
    errors: int = 0
    claims: int = 0
    service_lines: int = 0
    by_severity: Counter[Severity] = field(default_factory=Counter)
    by_code: Counter[str] = field(default_factory=Counter)
    safe_fixes: int = 0
    unsafe_fixes: int = 0
    causes: int = 0  # findings that are not the consequence of another (root causes)

    @property
    def findings(self) -> int:
        """All findings."""
        return sum(self.by_severity.values())


def totals(results: Iterable[FileResult]) -> Totals:
    """Add up a run's results."""
    out = Totals()
    for result in results:
        add_result(out, result)
    return out


def add_result(out: Totals, result: FileResult) -> None:
    """Add one file's result to running totals (for reports written while files stream)."""
    out.files += 1
    out.errors += result.status == "error"
    out.claims += result.claims
    out.service_lines += result.service_lines
    for finding in result.findings:
        out.by_severity[finding.severity] += 1
        out.by_code[finding.code] += 1
        out.causes += finding.caused_by is None
        fix = finding.fix
        if fix is not None and fix.concrete:
            if fix.applicability is Applicability.SAFE:
                out.safe_fixes += 1
            else:
                out.unsafe_fixes += 1

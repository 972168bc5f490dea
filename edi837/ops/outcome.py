"""What processing one file produced: the record that the ledger stores and the logs print.

An :class:`Outcome` carries counts, rule codes, control numbers and output paths, never an
element value of a party segment (NM1, N3, N4, DMG, REF, PER): it is written to logs and to
the ledger, which operators read without the right to see patient data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edi837.engine import FileResult
from edi837.findings import Severity

#: Statuses of a processed file (``skipped``: already ``done`` in the ledger, not redone).
DONE = "done"
ERROR = "error"
DUPLICATE = "duplicate"
SKIPPED = "skipped"
IN_PROGRESS = "in-progress"


@dataclass(frozen=True)
class Interchange:
    """The envelope of one interchange: who sent it to whom, under which control numbers.

    ``sender`` and ``receiver`` are ``qualifier:id`` (ISA05:ISA06, ISA07:ISA08) with the
    padding of the fixed-width ISA removed; ``groups`` the GS06 group control numbers.
    """

    sender: str
    receiver: str
    control: str
    date: str = ""
    groups: tuple[str, ...] = ()

    def key(self, *, with_receiver: bool = False) -> tuple[str, ...]:
        """The duplicate key: sender and ISA13 (and the receiver when asked)."""
        if with_receiver:
            return (self.sender, self.receiver, self.control)
        return (self.sender, self.control)

    def to_dict(self) -> dict[str, Any]:
        """The interchange as JSON for logs and ``batch.json``."""
        return {
            "sender": self.sender,
            "receiver": self.receiver,
            "control": self.control,
            "date": self.date,
            "groups": list(self.groups),
        }


@dataclass(frozen=True)
class ClaimRow:
    """One claim as the ledger records it (CLM01 and CLM02 are claim data, not party data).

    ``payer_control`` is the payer claim control number assigned when the claim was accepted
    and acknowledged (the 277CA's REF*1K); ``None`` when no 277CA was written for it.
    """

    ordinal: int
    claim_id: str
    charge: str
    profile: str
    status: str  # accepted | rejected
    reject: int = 0
    deny_risk: int = 0
    warning: int = 0
    payer_control: str | None = None


@dataclass
class Outcome:
    """The result of :func:`edi837.ops.process.process_file` for one file.

    Attributes:
        status: ``done``, ``error``, ``duplicate`` or ``skipped``.
        sha256: the hex digest of the file's bytes.
        path: the file as it was given.
        name: the base name of its outputs (``OUTDIR/NAME.report.json`` ...).
        claims: claims read.
        findings_by_severity: findings per severity (every severity present, 0 when none).
        codes: findings per rule code.
        seconds: wall time spent on the file.
        outputs: the files written, in the order they were published.
        error: why the file could not be processed (one line, no patient data).
        duplicate_of: for a duplicate, the name of the file first processed with the same
            content or interchange.
        interchanges: the file's interchanges (sender, receiver, ISA13, GS06s).
        claim_rows: the claims as the ledger records them.
        result: the check result (findings in file order), when the file was checked.
    """

    status: str
    sha256: str
    path: Path
    name: str = ""
    size: int = 0
    claims: int = 0
    transactions: int = 0
    service_lines: int = 0
    findings_by_severity: dict[str, int] = field(default_factory=dict)
    codes: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    outputs: list[Path] = field(default_factory=list)
    error: str | None = None
    duplicate_of: str | None = None
    interchanges: list[Interchange] = field(default_factory=list)
    claim_rows: list[ClaimRow] = field(default_factory=list)
    result: FileResult | None = field(default=None, repr=False)

    @property
    def fails(self) -> bool:
        """True when the file is a duplicate or an error (the batch's exit code 1 or 2)."""
        return self.status in (ERROR, DUPLICATE)

    def fails_at(self, threshold: Severity) -> bool:
        """True when a finding is at or above ``threshold``."""
        return any(
            count and Severity(sev).at_least(threshold)
            for sev, count in self.findings_by_severity.items()
        )

    def to_dict(self) -> dict[str, Any]:
        """The outcome as one JSON object (a log line, an item of ``batch.json``)."""
        return {
            "file": str(self.path),
            "name": self.name,
            "sha256": self.sha256,
            "status": self.status,
            "claims": self.claims,
            "findings": dict(self.findings_by_severity),
            "codes": dict(self.codes),
            "seconds": round(self.seconds, 3),
            "outputs": [str(p) for p in self.outputs],
            "error": self.error,
            "duplicate_of": self.duplicate_of,
            "interchanges": [i.to_dict() for i in self.interchanges],
        }


def severity_counts(result: FileResult) -> tuple[dict[str, int], dict[str, int]]:
    """Findings of ``result`` per severity (all three present) and per rule code."""
    by_severity = {s.value: 0 for s in Severity}
    codes: dict[str, int] = {}
    for finding in result.findings:
        by_severity[finding.severity.value] += 1
        codes[finding.code] = codes.get(finding.code, 0) + 1
    return by_severity, dict(sorted(codes.items()))

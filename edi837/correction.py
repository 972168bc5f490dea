"""``edi837 fix``: check, apply the allowed fixes, re-check, until nothing changes.

Each pass streams the current version of the file twice: once to check it and plan the edits
(only the edits are kept in memory), once to write the corrected version to a temporary file
beside the target. Passes stop when a check plans no edit, or after :data:`MAX_PASSES` (a
runaway guard, as in sqlfluff). A file with nothing to fix is copied unchanged; fixing a fixed
file changes nothing. Every applied edit is logged with its rule, claim, line, segment,
element and the old and new values (catalogue R-OUT-004).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edi837.engine import Engine
from edi837.findings import Applicability, Finding
from edi837.fixer import AppliedEdit, apply_plan, plan
from edi837.x12.reader import SegmentReader
from edi837.x12.writer import SegmentWriter
from edi837.x837p.builder import UnitReader

MAX_PASSES = 10


@dataclass
class LoggedEdit:
    """One applied edit, as written to the ``--log`` file."""

    code: str
    claim: str | None
    line: int | None
    segment_number: int
    element: str | None
    kind: str
    old: str | None
    new: str | None
    pass_number: int

    def to_dict(self) -> dict[str, Any]:
        """The JSON object of one log entry."""
        return {
            "code": self.code,
            "claim": self.claim,
            "line": self.line,
            "segment_number": self.segment_number,
            "element": self.element,
            "kind": self.kind,
            "old": self.old,
            "new": self.new,
            "pass": self.pass_number,
        }


@dataclass
class Correction:
    """The outcome of fixing one file."""

    source: Path
    result: Path  # the corrected version (the source itself when nothing changed)
    edits: list[LoggedEdit] = field(default_factory=list)
    fixed_findings: int = 0
    remaining: list[Finding] = field(default_factory=list)
    passes: int = 0

    @property
    def changed(self) -> bool:
        """True when at least one edit was applied."""
        return bool(self.edits)

    def remaining_unsafe(self) -> int:
        """Remaining findings that ``--unsafe-fixes`` could still repair."""
        return sum(
            1
            for f in self.remaining
            if f.fix is not None and f.fix.concrete and f.fix.applicability is Applicability.UNSAFE
        )


class NothingToFixError(ValueError):
    """The file holds no 837P transaction, so there is nothing this tool may correct."""


def _check(engine: Engine, path: Path) -> list[Finding]:
    with open(path, "rb") as stream:
        found: list[Finding] = []
        units = UnitReader(SegmentReader(stream, str(path)))
        notices: list[str] = []
        for unit, findings in engine.iter_checked(units):
            found.extend(findings)
            if unit.notice:
                notices.append(unit.notice)
        if units.summary.transactions == 0 and units.summary.skipped:
            raise NothingToFixError(f"no 837P transaction in the file ({'; '.join(notices)})")
        return found


def correct_file(
    engine: Engine, source: Path, workdir: Path, unsafe: bool = False, name: str | None = None
) -> Correction:
    """Fix ``source`` pass by pass; temporary versions go to ``workdir``.

    Raises :class:`~edi837.x12.reader.X12SyntaxError` for input that cannot be read at all.
    """
    label = name or str(source)
    correction = Correction(source, source)
    current = source
    for number in range(1, MAX_PASSES + 1):
        findings = _check(engine, current)
        edits = plan(findings, unsafe)
        correction.remaining = findings
        if not edits:
            break
        correction.passes = number
        fd, tmp = tempfile.mkstemp(prefix=".edi837-fix.", suffix=".837", dir=workdir)
        with open(current, "rb") as stream, os.fdopen(fd, "wb") as out:
            reader = SegmentReader(stream, label)
            segments = iter(reader)  # reads the first chunk: encoding and byte order mark
            writer = SegmentWriter(out, reader.codec, reader.bom)
            for seg in apply_plan(segments, edits):
                writer.write(seg)
            writer.close(reader.tail)
        correction.edits.extend(_logged(applied, number) for applied in edits.applied)
        correction.fixed_findings += len({id(a.finding) for a in edits.applied})
        if current != source:
            os.unlink(current)
        current = Path(tmp)
    correction.result = current
    return correction


def _logged(applied: AppliedEdit, pass_number: int) -> LoggedEdit:
    finding, edit = applied.finding, applied.edit
    return LoggedEdit(
        code=finding.code,
        claim=finding.claim,
        line=finding.line,
        segment_number=edit.segment_number,
        element=edit.element,
        kind=edit.kind.value,
        old=edit.old,
        new=edit.new,
        pass_number=pass_number,
    )


def segment_diff(before: Path, after: Path, name: str) -> Iterator[str]:
    """A unified diff of the two versions, one segment per line (``--diff``)."""
    import difflib

    def lines(path: Path) -> list[str]:
        with open(path, "rb") as stream:
            return [seg.text for seg in SegmentReader(stream, name)]

    yield from difflib.unified_diff(
        lines(before), lines(after), f"{name}", f"{name} (fixed)", lineterm=""
    )
